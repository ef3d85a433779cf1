/**
 * The configuration parameters Concord knows: type, scope, default and validation. Pure
 * definitions; who holds a value and when it changes is `settings.ts`.
 *
 * Every parameter has one scope (shown by pg_settings.scope and SHOW ALL):
 * - 'session': PostgreSQL's own parameters; one client connection's value, transactional.
 * - 'node': configures the node it is set on (node_id, master_nodes) and persists there.
 * - 'cluster': replicated through the catalog; every node shows and applies one value.
 * Read-only parameters (server_version ..) describe the node and report scope 'node'.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseMasterNodes } from '../cluster/publisher-connector.js'
import { normalizeDateStyle } from './date-style-setting.js'
import { ownEntry } from '../parser/own-entry.js'

type Kind = 'bool' | 'int' | 'string' | 'enum' | 'duration' | 'memory'
export type SettingScope = 'session' | 'node' | 'cluster'

export interface ParameterDef {
  kind: Kind
  scope: SettingScope
  /** Cannot be changed (SET raises 55P02). */
  readonly?: boolean
  default: string
  values?: string[]
  description: string
  /** A credential: SHOW, current_setting and pg_settings print a mask instead of the value. */
  secret?: boolean
}

/** PostgreSQL's isolation levels; Concord runs READ COMMITTED and refuses the two stronger ones (`refuseStrongerIsolation`). */
const ISOLATION_LEVELS = ['serializable', 'repeatable read', 'read committed', 'read uncommitted']

const session = (kind: Kind, def: string, description: string, values?: string[]): ParameterDef => ({ kind, scope: 'session', default: def, description, ...(values ? { values } : {}) })
const cluster = (kind: Kind, def: string, description: string, values?: string[]): ParameterDef => ({ kind, scope: 'cluster', default: def, description, ...(values ? { values } : {}) })
const node = (kind: Kind, def: string, description: string): ParameterDef => ({ kind, scope: 'node', default: def, description })
const fixed = (kind: Kind, def: string, description: string): ParameterDef => ({ kind, scope: 'node', readonly: true, default: def, description })

export const PARAMETERS: Record<string, ParameterDef> = {
  multi_master_enabled: cluster('bool', 'off', 'Nodes join the masters listed in master_nodes.'),
  master_nodes: { kind: 'string', scope: 'node', default: '', description: 'PostgreSQL addresses of the masters this node joins.' },
  conflict_resolution_policy: cluster('enum', 'last_write_wins', 'Default policy for concurrent writes of one column.', ['last_write_wins', 'first_write_wins', 'custom_function']),
  conflict_resolution_function: cluster('string', 'resolve_conflict', 'SQL function used by the custom_function policy.'),
  high_availability_mode: cluster('enum', 'multi_master', 'multi_master: every node takes writes; active_passive: one primary takes writes, standbys serve reads.', [
    'multi_master', 'active_passive', 'active_active',
  ]),
  auto_failover: cluster('bool', 'off', 'In active_passive mode, promote the most caught-up standby when the primary is silent past failover_timeout.'),
  failover_timeout: cluster('duration', '30s', 'How long the primary may be silent before it is considered failed (active_passive).'),
  failure_detection_method: cluster('enum', 'heartbeat', 'How a silent primary is detected: heartbeat (silence past failover_timeout) or phi_accrual.', ['heartbeat', 'phi_accrual']),
  wal_level: cluster('enum', 'replica', 'Declared WAL level (replication is always on).', ['minimal', 'replica', 'logical']),
  max_wal_senders: cluster('int', '10', 'Declared number of WAL senders.'),
  wal_keep_size: cluster('memory', '0', 'Replication history a peer may lag behind before pg_replication_slots reports it lost.'),
  wal_buffers: cluster('memory', '4MB', 'Declared WAL buffer size.'),
  node_id: { kind: 'string', scope: 'node', default: '', description: 'This node\'s label in pg_nodes (defaults to its node id).' },
  conflict_history_limit: { kind: 'int', scope: 'node', default: '10000', description: 'Conflicts concord_conflicts keeps on this node (oldest dropped first), 1 to 1000000.' },
  // Backups (docs/backup.md): the node they are set on takes the scheduled backups and uses its S3 settings.
  backup_schedule: node('duration', '0', 'How often this node backs up to backup_target (0: no schedule; disaster_recovery_config.rpo_minutes else).'),
  backup_chain_length: node('int', '0', 'A scheduled backup starts a new chain (a full backup) once the latest chain at backup_target holds this many (0: one chain).'),
  backup_retention_chains: node('int', '0', 'After a scheduled backup, keep only the newest this many chains at backup_target (0: keep all).'),
  backup_retention_age: node('duration', '0', 'After a scheduled backup, delete the chains at backup_target last written longer ago than this (0: keep all; never the newest).'),
  backup_target: node('string', '', 'URL (file:// or s3://) this node\'s scheduled backups go to.'),
  backup_s3_endpoint: node('string', '', 'S3-compatible server for s3:// backup URLs (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).'),
  backup_s3_region: node('string', '', 'Region of the bucket for s3:// backup URLs (else AWS_REGION).'),
  backup_s3_access_key_id: node('string', '', 'Access key id for s3:// backup URLs (else AWS_ACCESS_KEY_ID).'),
  backup_s3_secret_access_key: { ...node('string', '', 'Secret access key for s3:// backup URLs (else AWS_SECRET_ACCESS_KEY); never shown.'), secret: true },
  backup_s3_force_path_style: node('bool', 'off', 'Path-style S3 requests (most S3-compatible servers; else CONCORD_S3_FORCE_PATH_STYLE=1).'),
  application_name: session('string', '', 'Sets the application name.'),
  client_encoding: session('string', 'UTF8', 'Sets the client\'s character set encoding.'),
  datestyle: session('string', 'ISO, MDY', 'Sets the display format for date and time values.'),
  timezone: session('string', 'UTC', 'Sets the time zone for displaying and interpreting time stamps.'),
  intervalstyle: session('enum', 'postgres', 'Sets the display format for interval values.', ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']),
  search_path: session('string', '"$user", public', 'Sets the schema search order.'),
  statement_timeout: session('duration', '0', 'Sets the maximum allowed duration of any statement.'),
  offload_after: session('duration', '50ms', 'How long a read-only statement runs on the event loop before it moves to a worker thread of the node server and other clients are served meanwhile (0: never; docs/decisions/0031-statement-offload.md).'),
  plpgsql_hold_timeout: node('duration', '10s', 'How long a statement may hold the node\'s event loop (every other client waiting) once it runs a PL/pgSQL loop that cannot pause: called per row, from a trigger or inside an expression; past it 57014 (0: no bound; docs/decisions/0039-pausable-plpgsql.md).'),
  statement_mem: session('memory', '256MB', 'Sets the most memory (estimated) one statement may hold in rows it materializes (joins, sorts, groups, results); 0: no bound. Past it the statement fails with 53200.'),
  query_result_cache_ttl: session('duration', '0', 'How old a federated read kept in this node\'s query_result_cache may be to answer again instead of a holder (0: never).'),
  lock_timeout: session('duration', '0', 'Sets the maximum allowed duration of any wait for a lock.'),
  idle_in_transaction_session_timeout: session('duration', '0', 'Sets the maximum allowed idle time between queries, when in a transaction.'),
  idle_session_timeout: session('duration', '0', 'Sets the maximum allowed idle time between queries, when not in a transaction.'),
  extra_float_digits: session('int', '1', 'Sets the number of digits displayed for floating-point values.'),
  client_min_messages: session('string', 'notice', 'Sets the message levels that are sent to the client.'),
  standard_conforming_strings: session('bool', 'on', 'Causes \'...\' strings to treat backslashes literally.'),
  transaction_isolation: session('enum', 'read committed', 'Sets the current transaction\'s isolation level.', ISOLATION_LEVELS),
  default_transaction_isolation: session('enum', 'read committed', 'Sets the transaction isolation level of each new transaction.', ISOLATION_LEVELS),
  synchronous_commit: session('string', 'on', 'Sets the current transaction\'s synchronization level.'),
  row_security: session('bool', 'on', 'Enable row security.'),
  session_authorization: session('string', 'concord', 'Sets the session user name.'),
  role: session('string', 'none', 'Sets the current role.'),
  work_mem: session('memory', '4MB', 'Sets the maximum memory to be used for query workspaces.'),
  maintenance_work_mem: session('memory', '64MB', 'Sets the maximum memory to be used for maintenance operations.'),
  temp_buffers: session('memory', '8MB', 'Sets the maximum number of temporary buffers used by each session.'),
  effective_cache_size: session('memory', '4GB', 'Sets the planner\'s assumption about the total size of the data caches.'),
  random_page_cost: session('string', '4', 'Sets the planner\'s estimate of the cost of a nonsequentially fetched disk page.'),
  enable_seqscan: session('bool', 'on', 'Enables the planner\'s use of sequential-scan plans.'),
  enable_indexscan: session('bool', 'on', 'Enables the planner\'s use of index-scan plans.'),
  enable_bitmapscan: session('bool', 'on', 'Enables the planner\'s use of bitmap-scan plans.'),
  enable_hashjoin: session('bool', 'on', 'Enables the planner\'s use of hash join plans.'),
  enable_mergejoin: session('bool', 'on', 'Enables the planner\'s use of merge join plans.'),
  enable_nestloop: session('bool', 'on', 'Enables the planner\'s use of nested-loop join plans.'),
  enable_sort: session('bool', 'on', 'Enables the planner\'s use of explicit sort steps.'),
  // Planner choices of PostgreSQL that change plans, never results: Concord's planner has
  // no such alternatives, so these are kept, shown and reset like PostgreSQL's.
  enable_hashagg: session('bool', 'on', 'Enables the planner\'s use of hashed aggregation plans.'),
  enable_indexonlyscan: session('bool', 'on', 'Enables the planner\'s use of index-only-scan plans.'),
  enable_material: session('bool', 'on', 'Enables the planner\'s use of materialization.'),
  enable_memoize: session('bool', 'on', 'Enables the planner\'s use of memoization.'),
  enable_incremental_sort: session('bool', 'on', 'Enables the planner\'s use of incremental sort steps.'),
  enable_partitionwise_join: session('bool', 'off', 'Enables partitionwise join.'),
  enable_partitionwise_aggregate: session('bool', 'off', 'Enables partitionwise aggregation and grouping.'),
  enable_partition_pruning: session('bool', 'on', 'Enables plan-time and execution-time partition pruning.'),
  enable_parallel_append: session('bool', 'on', 'Enables the planner\'s use of parallel append plans.'),
  enable_parallel_hash: session('bool', 'on', 'Enables the planner\'s use of parallel hash plans.'),
  enable_gathermerge: session('bool', 'on', 'Enables the planner\'s use of gather merge plans.'),
  enable_tidscan: session('bool', 'on', 'Enables the planner\'s use of TID scan plans.'),
  max_parallel_workers_per_gather: session('int', '2', 'Sets the maximum number of parallel processes per executor node.'),
  parallel_setup_cost: session('string', '1000', 'Sets the planner\'s estimate of the cost of starting up worker processes for parallel query.'),
  parallel_tuple_cost: session('string', '0.1', 'Sets the planner\'s estimate of the cost of passing each tuple (row) from worker to leader backend.'),
  min_parallel_table_scan_size: session('memory', '8MB', 'Sets the minimum amount of table data for a parallel scan.'),
  jit_above_cost: session('string', '100000', 'Perform JIT compilation if query is more expensive.'),
  geqo: session('bool', 'on', 'Enables genetic query optimization.'),
  constraint_exclusion: session('enum', 'partition', 'Enables the planner to use constraints to optimize queries.', ['on', 'off', 'partition']),
  server_version: fixed('string', '17.0', 'Shows the server version.'),
  server_version_num: fixed('string', '170000', 'Shows the server version as an integer.'),
  server_encoding: fixed('string', 'UTF8', 'Shows the server (database) character set encoding.'),
  integer_datetimes: fixed('bool', 'on', 'Shows whether datetimes are integer based.'),
  max_connections: fixed('int', '100', 'Sets the maximum number of concurrent connections.'),
  is_superuser: fixed('bool', 'on', 'Shows whether the current user is a superuser.'),
  // psql's \password reads it to hash the new password on the client; only SCRAM verifiers are kept (auth/scram-verifier.ts).
  password_encryption: session('enum', 'scram-sha-256', 'Chooses the algorithm for encrypting passwords.', ['scram-sha-256']),
  // Decided by the session and the node's role (a standby is read-only): see Settings.setDynamic.
  transaction_read_only: fixed('bool', 'off', 'Shows whether the current transaction is read-only (always on a standby).'),
  default_transaction_read_only: fixed('bool', 'off', 'Shows whether new transactions are read-only (always on a standby).'),
  in_hot_standby: fixed('bool', 'off', 'Shows whether this node is a standby (active_passive mode).'),
}

/** Names SHOW prints in PostgreSQL's own capitalization. */
export const DISPLAY_NAMES: Record<string, string> = { datestyle: 'DateStyle', timezone: 'TimeZone', intervalstyle: 'IntervalStyle' }

/** A parameter's definition; names with a dot are session-scoped custom placeholders. Null if unknown. */
export function parameterDef(name: string): ParameterDef | null {
  const d = ownEntry(PARAMETERS, name)
  if (d) return d
  if (name.includes('.')) return session('string', '', 'Custom placeholder.')
  return null
}

/** A value as SET stores it, or 22023 with PostgreSQL's message; `current` is the value it replaces. */
export function normalizeValue(name: string, def: ParameterDef, raw: string, current = def.default): string {
  const v = raw.trim()
  const bad = () => new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": "${raw}"`)
  switch (def.kind) {
    case 'bool': {
      const s = v.toLowerCase()
      if (['on', 'true', 'yes', '1', 't', 'y'].includes(s)) return 'on'
      if (['off', 'false', 'no', '0', 'f', 'n'].includes(s)) return 'off'
      throw new SqlError(SqlState.invalidParameterValue, `parameter "${name}" requires a Boolean value`)
    }
    case 'int':
      if (!/^[+-]?\d+$/.test(v)) throw bad()
      if ((name === 'backup_chain_length' || name === 'backup_retention_chains') && (Number(v) < 0 || Number(v) > 100_000)) {
        throw new SqlError(SqlState.invalidParameterValue, `${v} is outside the valid range for parameter "${name}" (0 .. 100000)`)
      }
      if (name === 'extra_float_digits' && (Number(v) < -15 || Number(v) > 3)) {
        throw new SqlError(SqlState.invalidParameterValue, `${v} is outside the valid range for parameter "${name}" (-15 .. 3)`)
      }
      if (name === 'conflict_history_limit' && (Number(v) < 1 || Number(v) > 1_000_000)) {
        throw new SqlError(SqlState.invalidParameterValue, `${v} is outside the valid range for parameter "${name}" (1 .. 1000000)`)
      }
      return String(Number(v))
    case 'enum':
      // The older name of multi_master.
      if (name === 'high_availability_mode' && v.toLowerCase() === 'active_active') return 'multi_master'
      if (def.values && !def.values.includes(v.toLowerCase()) && !(name === 'conflict_resolution_policy' && /^custom:\w+$/i.test(v))) {
        throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": "${raw}"`, { hint: `Available values: ${def.values.join(', ')}.` })
      }
      if (name === 'transaction_isolation' || name === 'default_transaction_isolation') refuseStrongerIsolation(v.toLowerCase())
      return v.toLowerCase()
    case 'duration':
      if (!/^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$/i.test(v)) throw bad()
      if ((name === 'backup_schedule' || name === 'backup_retention_age') && durationMillis(v) !== 0 && durationMillis(v) < 1000) {
        throw new SqlError(SqlState.invalidParameterValue, `${v} is outside the valid range for parameter "${name}" (0 (off), or 1s .. ): give a unit, as in '15 min'`)
      }
      if (name === 'failover_timeout' && durationMillis(v) < 100) {
        throw new SqlError(SqlState.invalidParameterValue, `${v} is outside the valid range for parameter "${name}" (100ms .. )`)
      }
      return v
    case 'memory':
      if (!/^-?\d+\s*(B|kB|MB|GB|TB)?$/.test(v)) throw bad()
      return v
    default:
      if (name === 'timezone') return utcOnly(validTimeZone(v, raw), raw)
      if (name === 'datestyle') {
        const style = normalizeDateStyle(v, current)
        if (style === null) throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "DateStyle": "${raw}"`)
        return style
      }
      if (name === 'master_nodes') parseMasterNodes(v)
      if (name === 'backup_target' && v !== '' && !/^(file|s3):\/\/./.test(v)) {
        throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": "${raw}"`, { hint: "A file:// or s3:// URL, as in 's3://backups/prod'." })
      }
      if (name === 'node_id' && (v === '' || v.length > 64 || /[\u0000-\u001f/]/.test(v))) throw bad()
      return v
  }
}

/**
 * Timeouts that close a client's connection (node-server pgwire/connection-limits.ts): a
 * session with no connection (one opened in-process, `Database.session`) cannot honour
 * them, so there any value but 0 (off, the default) is refused rather than ignored.
 */
export const CONNECTION_TIMEOUTS: ReadonlySet<string> = new Set(['idle_in_transaction_session_timeout', 'idle_session_timeout'])

const DURATION_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** A duration value as SET stores it ('100ms', '1.5s', '250': milliseconds by default) in milliseconds. */
export function durationMillis(value: string): number {
  // Read before every statement (statement_timeout, lock_timeout): the few values a node sees are remembered.
  const known = durationMemo.get(value)
  if (known !== undefined) return known
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?$/i.exec(value.trim())
  const ms = m ? Number(m[1]) * DURATION_UNIT_MS[(m[2] ?? 'ms').toLowerCase()]! : 0
  return remember(durationMemo, value, ms)
}

/** Values parsed by durationMillis and memoryBytes (pure functions of their text), at most MEMO_ENTRIES each. */
const MEMO_ENTRIES = 64
const durationMemo = new Map<string, number>()
const memoryMemo = new Map<string, number>()

function remember(memo: Map<string, number>, key: string, value: number): number {
  if (memo.size >= MEMO_ENTRIES) memo.clear()
  memo.set(key, value)
  return value
}

/** Bytes of a memory setting ('1GB', '64kB'; a bare number in `bareUnit`, MB as for wal_keep_size). */
export function memoryBytes(text: string, bareUnit: 'kB' | 'MB' = 'MB'): number {
  const key = `${bareUnit}:${text}`
  const known = memoryMemo.get(key)
  if (known !== undefined) return known
  const m = /^(-?\d+)\s*(B|kB|MB|GB|TB)?$/.exec(text.trim())
  if (!m) return remember(memoryMemo, key, 0)
  const unit = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[m[2] ?? bareUnit]!
  return remember(memoryMemo, key, Math.max(0, Number(m[1]) * unit))
}

/** Zone names and offsets that are UTC at every instant. */
const UTC_ZONES = new Set(['utc', 'gmt', 'z', 'uct', 'zulu', 'universal', 'etc/utc', 'etc/gmt', 'etc/uct', 'etc/universal', 'etc/zulu', 'gmt0', 'etc/gmt0', 'greenwich', 'etc/greenwich'])

/**
 * Sessions run in UTC: timestamptz input and output, date_trunc and EXTRACT on it all
 * use UTC. Any other zone would be accepted and silently ignored, so it is refused
 * until session time zones are implemented.
 */
function utcOnly(zone: string, raw: string): string {
  const z = zone.toLowerCase()
  if (UTC_ZONES.has(z) || /^[+-]?0{1,2}(:?0{2})?$/.test(z)) return zone
  throw new SqlError(SqlState.featureNotSupported, `time zone "${raw}" is not supported: Concord sessions run in UTC`, { hint: "SET TimeZone = 'UTC'" })
}

function validTimeZone(v: string, raw: string): string {
  if (/^(utc|gmt|z|[+-]?\d{1,2}(:\d{2})?)$/i.test(v)) return v.toUpperCase() === 'Z' ? 'UTC' : v
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v })
    return v
  } catch {
    throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "TimeZone": "${raw}"`)
  }
}

/**
 * Throws 0A000 for an isolation level stronger than READ COMMITTED, which Concord does not
 * give: as `BEGIN ISOLATION LEVEL ..` and `SET TRANSACTION` do (exec/transaction-mode.ts),
 * so a SET of `transaction_isolation` or `default_transaction_isolation` does not promise
 * what the transactions will not do (both were accepted, and the blocks ran READ
 * COMMITTED while SHOW said otherwise).
 */
export function refuseStrongerIsolation(level: string): void {
  if (level !== 'read committed' && level !== 'read uncommitted') {
    throw new SqlError(SqlState.featureNotSupported, `isolation level ${level.toUpperCase()} is not supported; Concord runs transactions READ COMMITTED`)
  }
}
