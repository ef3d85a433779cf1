/**
 * What the operator console (`GET /`, console-page.ts) shows, as JSON (`GET /console/state`):
 * the node's /health and /metrics, and rows of the system views an operator reads in
 * psql (pg_nodes, pg_regions, pg_stat_replication, pg_stat_concord_shards, pg_shards,
 * concord_conflicts, concord_failover_history, concord_backups, pg_stat_progress_backup),
 * read as the bootstrap superuser on a session of the node's own database, with the
 * node's failover role and catch-up state (shards a connected peer has confirmed).
 *
 * Exposure follows /health (docs/security.md, "HTTP"): on a listener beyond loopback the
 * state is the public /health fields and the /metrics values only (no node ids,
 * addresses, tables or row values); the views are read only for a loopback listener.
 * Every list is bounded (MAX_ROWS rows).
 */
import type { Database, QueryResult } from '@concord/sql-facade'
import type { Metric } from './prometheus-text.js'

/** Rows of each list the console shows. */
const MAX_ROWS = 200

export interface ConsoleSources {
  database: Database
  health(): Record<string, unknown>
  metrics(): Metric[]
  /** Whether the listener is on loopback: only then are views read. */
  detail: boolean
}

type Rows = QueryResult['rows']

export interface ConsoleState {
  at: number
  detail: boolean
  health: Record<string, unknown>
  metrics: Record<string, number>
  nodes?: Rows
  regions?: Rows
  replication?: Rows
  shards?: Rows
  tables?: Rows
  conflicts?: { total: number; recent: Rows }
  /** This node's high-availability role (master, primary, standby) and the mode's history. */
  role?: string
  failover?: Rows
  backups?: Rows
  backupProgress?: Rows
  /** Catch-up: shards this node holds, how many a connected peer confirmed, peers (core syncState). */
  sync?: { peers: number; shards: number; confirmed: number }
}

const QUERIES = {
  nodes: 'SELECT node_id, node_name, region, status, last_heartbeat, lag_bytes, lag::text AS lag, round(extract(epoch FROM lag) * 1000) AS lag_ms, epoch FROM pg_nodes ORDER BY node_id',
  regions: 'SELECT region_name, status, node_count FROM pg_regions ORDER BY region_name',
  replication: 'SELECT application_name AS peer, state, sent_lsn, replay_lsn, replay_lag::text AS replay_lag FROM pg_stat_replication ORDER BY application_name',
  shards: 'SELECT table_name, partition, generation, live_rows, entries, overlays, builder FROM pg_stat_concord_shards ORDER BY table_name, partition',
  tables: 'SELECT table_name, partition_of, shard_location FROM pg_shards ORDER BY table_name',
  failover: 'SELECT epoch, node_id, reason, recorded_at, current FROM concord_failover_history ORDER BY epoch DESC',
  backups: 'SELECT id, kind, status, started, finished, bytes FROM concord_backups ORDER BY started DESC',
  backupProgress: 'SELECT id, phase, shards_done, shards_total, bytes_done FROM pg_stat_progress_backup ORDER BY started',
} as const

export async function consoleState(sources: ConsoleSources): Promise<ConsoleState> {
  const metrics: Record<string, number> = {}
  for (const m of sources.metrics()) {
    const key = m.labels === undefined ? m.name : `${m.name}{${Object.entries(m.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`
    metrics[key] = m.value
  }
  const state: ConsoleState = { at: Date.now(), detail: sources.detail, health: sources.health(), metrics }
  if (!sources.detail) return state
  const session = sources.database.session({ user: 'concord' })
  try {
    const read = async (sql: string): Promise<Rows> => (await session.query(`${sql} LIMIT ${MAX_ROWS}`)).rows
    state.nodes = await read(QUERIES.nodes)
    state.regions = await read(QUERIES.regions)
    state.replication = await read(QUERIES.replication)
    state.shards = await read(QUERIES.shards)
    state.tables = await read(QUERIES.tables)
    state.failover = await read(QUERIES.failover)
    state.backups = await read(QUERIES.backups)
    state.backupProgress = await read(QUERIES.backupProgress)
    state.role = sources.database.failover.role()
    state.sync = sources.database.replica.syncState()
    const total = Number((await session.query('SELECT count(*) AS n FROM concord_conflicts')).rows[0]!.n)
    const recent = await read('SELECT resolved_at, table_name, key, column_name, kind, policy, winning_node FROM concord_conflicts ORDER BY resolved_at DESC')
    state.conflicts = { total, recent }
  } finally {
    await session.close()
  }
  return state
}
