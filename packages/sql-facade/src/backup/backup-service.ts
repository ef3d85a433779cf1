/**
 * BACKUP DATABASE and RESTORE DATABASE on one node: opens the store a URL names (through
 * the opener the node server installs: file://, s3://), runs core's backup or restore,
 * and keeps this node's history of backups for the concord_backups view.
 *
 * Invariants: without an opener (a database in memory, in the browser, in the simulator)
 * both statements fail with 0A000; a URL scheme the opener does not know fails with 0A000
 * too. A restore checks every object before it applies anything (core's planRestore).
 */
import {
  listChains, manifestBytes, planRestore, pruneChains, restoreIntoReplica, runBackup, type BackupProgress, type BackupStore, type Replica, type Retention,
} from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { backupStoreSettings, type BackupStoreSettings } from './backup-store-settings.js'

/** One backup this node ran (or is running), as concord_backups lists it. */
export interface BackupRecord {
  url: string
  id: string | null
  /** Milliseconds since the epoch. */
  started: number
  finished: number | null
  bytes: number
  kind: 'full' | 'incremental' | null
  status: 'running' | 'succeeded' | 'failed'
  /** What started it: a BACKUP DATABASE statement (or `concord backup`) or this node's schedule. */
  trigger: 'statement' | 'schedule'
  /** While running: where it is (pg_stat_progress_backup). */
  progress: BackupProgress | null
}

/** Opens the store a backup URL names, with this node's S3 settings; throws featureNotSupported for a scheme it lacks. */
export type BackupStoreOpener = (url: string, settings: BackupStoreSettings) => BackupStore

/** This node's backup schedule as the scheduler (backup-scheduler.ts) last planned it: concord_backup_schedule. */
export interface BackupScheduleStatus {
  /** Where the interval comes from; null: no schedule on this node. */
  source: 'backup_schedule' | 'disaster_recovery_config' | null
  intervalMs: number | null
  target: string | null
  /** Milliseconds since the epoch of the next run, when one is planned. */
  nextRun: number | null
  /** Why no backup is planned, or why the last scheduled one failed; null when all is well. */
  problem: string | null
  /** A scheduled run (choosing full or incremental, the backup, retention) is under way. */
  running: boolean
}

/** Entries kept in the history (oldest dropped first). */
export const MAX_BACKUP_HISTORY = 1000

export class BackupService {
  /** Installed by the node server; null: BACKUP and RESTORE fail with 0A000. */
  openStore: BackupStoreOpener | null = null
  /** Progress lines (the node logs them). */
  log: (line: string) => void = () => {}
  readonly history: BackupRecord[] = []
  /** Set by the scheduler each time it plans. */
  schedule: BackupScheduleStatus = { source: null, intervalMs: null, target: null, nextRun: null, problem: null, running: false }
  private readonly replica: Replica

  constructor(replica: Replica) {
    this.replica = replica
  }

  private store(url: string, what: string): BackupStore {
    if (this.openStore === null) throw new SqlError(SqlState.featureNotSupported, `${what} needs a node server (concord start): this database has no backup storage`)
    return this.openStore(url, backupStoreSettings(this.replica))
  }

  /** `full`: start a new chain even when the prefix holds one. */
  async backup(url: string, trigger: BackupRecord['trigger'] = 'statement', full = false): Promise<StatementResult> {
    const rec: BackupRecord = { url, id: null, started: this.replica.now(), finished: null, bytes: 0, kind: null, status: 'running', trigger, progress: null }
    this.history.push(rec)
    if (this.history.length > MAX_BACKUP_HISTORY) this.history.shift()
    try {
      // Inside: a store that cannot be opened is a failed backup in concord_backups too.
      const store = this.store(url, 'BACKUP DATABASE')
      const m = await runBackup(this.replica, store, {
        full,
        progress: (line) => this.log(line),
        onProgress: (p) => {
          rec.id = p.id
          rec.bytes = p.bytesDone
          rec.progress = p
        },
      })
      Object.assign(rec, { id: m.id, started: m.started, finished: m.finished, bytes: manifestBytes(m), kind: m.kind, status: 'succeeded', progress: null })
      return utility('BACKUP', [`backup ${m.id} (${m.kind}${m.parent === null ? '' : `, parent ${m.parent}`}): ${m.shards.length} shards, ${rec.bytes} bytes`])
    } catch (err) {
      Object.assign(rec, { finished: this.replica.now(), status: 'failed', progress: null })
      this.log(`backup to ${url} failed: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
  }

  /** How many backups the newest chain at `url` holds (0: none). */
  async latestChainLength(url: string): Promise<number> {
    const chains = await listChains(this.store(url, 'BACKUP DATABASE'))
    return chains[chains.length - 1]?.length ?? 0
  }

  /** Deletes the chains at `url` that retention lets go (core's pruneChains); logs and resolves to the ids deleted. */
  async prune(url: string, retention: Omit<Retention, 'now'>): Promise<string[]> {
    const deleted = await pruneChains(this.store(url, 'BACKUP DATABASE'), { ...retention, now: this.replica.now() })
    if (deleted.length > 0) this.log(`backup retention at ${url}: deleted ${deleted.length} backups (${deleted[0]} .. ${deleted[deleted.length - 1]})`)
    return deleted
  }

  /** The last backup that succeeded, if any (for the age metric). */
  lastSucceeded(): BackupRecord | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i]!.status === 'succeeded') return this.history[i]
    return undefined
  }

  async restore(url: string, asOf: string | null): Promise<StatementResult> {
    const store = this.store(url, 'RESTORE DATABASE')
    if (this.replica.tables().length > 0) {
      throw new SqlError(SqlState.objectNotInPrerequisiteState, 'RESTORE DATABASE needs a node holding no user table: restore into a new node')
    }
    const plan = await planRestore(store, asOf ?? undefined)
    restoreIntoReplica(plan, this.replica)
    this.log(`restored backup ${plan.backup.id} from ${url}: ${plan.chain.length} backups in the chain, ${plan.bytes} bytes`)
    return utility('RESTORE', [`restored backup ${plan.backup.id} (${plan.chain.length} in its chain, ${plan.shards.length} shards)`])
  }
}
