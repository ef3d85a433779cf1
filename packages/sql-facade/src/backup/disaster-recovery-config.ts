/**
 * The seed's disaster-recovery table, read for the backup scheduler:
 *
 *   CREATE TABLE disaster_recovery_config (rpo_minutes INT DEFAULT 15, rto_minutes INT DEFAULT 5, backup_region VARCHAR(100))
 *
 * It is an ordinary user table (replicated, written with INSERT/UPDATE); the scheduler
 * reads `rpo_minutes` (the interval) and `backup_region` (which nodes run it) from it.
 * `rto_minutes` is not acted on: no schedule makes a restore faster (docs/backup.md).
 *
 * Invariants: read through a short-lived superuser session of its own, never a client's
 * (so it never joins a client's transaction block); no table, no rows: null.
 */
import type { Replica } from '@concord/core'
import type { DisasterRecoveryRow } from './backup-scheduler.js'

/** What is needed of a session (Database.session()): a query and the end of it. */
export interface QuerySession {
  query(sql: string): Promise<{ rowArrays: unknown[][] }>
  close(): Promise<void>
}

export const DISASTER_RECOVERY_TABLE = 'disaster_recovery_config'
/** More rows than this are not read (the table is meant to hold one). */
const MAX_ROWS = 1000

export async function readDisasterRecoveryConfig(replica: Replica, session: () => QuerySession): Promise<DisasterRecoveryRow[] | null> {
  if (!replica.tables().some((t) => t.name === DISASTER_RECOVERY_TABLE)) return null
  const s = session()
  try {
    const r = await s.query(`SELECT rpo_minutes, backup_region FROM ${DISASTER_RECOVERY_TABLE} LIMIT ${MAX_ROWS}`)
    return r.rowArrays.map((row) => ({
      rpoMinutes: row[0] === null || row[0] === undefined ? null : Number(row[0]),
      backupRegion: row[1] === null || row[1] === undefined ? null : String(row[1]),
    }))
  } finally {
    await s.close()
  }
}
