/**
 * Configuration parameters: SET / SHOW / RESET / ALTER SYSTEM SET. Three scopes:
 * - cluster settings (the multi-master, failover, WAL and conflict settings the seed
 *   names) are replicated catalog objects (kind 'setting'), so every node shows the same
 *   value; both SET and ALTER SYSTEM SET write them.
 * - node settings (node_id, master_nodes) belong to one database instance and all its
 *   sessions; ALTER SYSTEM persists them in the catalog (kind 'node-setting').
 * - everything else is per session, as in PostgreSQL.
 * Unknown names raise 42704 like PostgreSQL; names with a dot are custom placeholders.
 */
import type { Json, Replica } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseMasterNodes } from '../replication/publisher-connector.js'

type Kind = 'bool' | 'int' | 'string' | 'enum' | 'duration' | 'memory'
type Scope = 'cluster' | 'node' | 'session' | 'readonly'

interface SettingDef {
  kind: Kind
  scope: Scope
  default: string
  values?: string[]
}

const DEFS: Record<string, SettingDef> = {
  multi_master_enabled: { kind: 'bool', scope: 'cluster', default: 'off' },
  master_nodes: { kind: 'string', scope: 'node', default: '' },
  conflict_resolution_policy: { kind: 'enum', scope: 'cluster', default: 'last_write_wins', values: ['last_write_wins', 'first_write_wins', 'custom_function'] },
  conflict_resolution_function: { kind: 'string', scope: 'cluster', default: 'resolve_conflict' },
  high_availability_mode: { kind: 'enum', scope: 'cluster', default: 'active_active', values: ['active_active', 'active_passive'] },
  auto_failover: { kind: 'bool', scope: 'cluster', default: 'off' },
  failover_timeout: { kind: 'duration', scope: 'cluster', default: '30s' },
  failure_detection_method: { kind: 'enum', scope: 'cluster', default: 'heartbeat', values: ['heartbeat'] },
  wal_level: { kind: 'enum', scope: 'cluster', default: 'replica', values: ['minimal', 'replica', 'logical'] },
  max_wal_senders: { kind: 'int', scope: 'cluster', default: '10' },
  wal_keep_size: { kind: 'memory', scope: 'cluster', default: '0' },
  wal_buffers: { kind: 'memory', scope: 'cluster', default: '4MB' },
  node_id: { kind: 'string', scope: 'node', default: '' },
  application_name: { kind: 'string', scope: 'session', default: '' },
  client_encoding: { kind: 'string', scope: 'session', default: 'UTF8' },
  datestyle: { kind: 'string', scope: 'session', default: 'ISO, MDY' },
  timezone: { kind: 'string', scope: 'session', default: 'UTC' },
  intervalstyle: { kind: 'enum', scope: 'session', default: 'postgres', values: ['postgres'] },
  search_path: { kind: 'string', scope: 'session', default: '"$user", public' },
  statement_timeout: { kind: 'duration', scope: 'session', default: '0' },
  lock_timeout: { kind: 'duration', scope: 'session', default: '0' },
  idle_in_transaction_session_timeout: { kind: 'duration', scope: 'session', default: '0' },
  extra_float_digits: { kind: 'int', scope: 'session', default: '1' },
  client_min_messages: { kind: 'string', scope: 'session', default: 'notice' },
  standard_conforming_strings: { kind: 'bool', scope: 'session', default: 'on' },
  transaction_isolation: { kind: 'string', scope: 'session', default: 'read committed' },
  default_transaction_isolation: { kind: 'string', scope: 'session', default: 'read committed' },
  synchronous_commit: { kind: 'string', scope: 'session', default: 'on' },
  row_security: { kind: 'bool', scope: 'session', default: 'on' },
  server_version: { kind: 'string', scope: 'readonly', default: '17.0' },
  server_version_num: { kind: 'string', scope: 'readonly', default: '170000' },
  server_encoding: { kind: 'string', scope: 'readonly', default: 'UTF8' },
  integer_datetimes: { kind: 'bool', scope: 'readonly', default: 'on' },
  max_connections: { kind: 'int', scope: 'readonly', default: '100' },
  is_superuser: { kind: 'bool', scope: 'readonly', default: 'on' },
  session_authorization: { kind: 'string', scope: 'session', default: 'concord' },
  work_mem: { kind: 'memory', scope: 'session', default: '4MB' },
  maintenance_work_mem: { kind: 'memory', scope: 'session', default: '64MB' },
  temp_buffers: { kind: 'memory', scope: 'session', default: '8MB' },
  effective_cache_size: { kind: 'memory', scope: 'session', default: '4GB' },
  random_page_cost: { kind: 'string', scope: 'session', default: '4' },
  enable_seqscan: { kind: 'bool', scope: 'session', default: 'on' },
  enable_indexscan: { kind: 'bool', scope: 'session', default: 'on' },
  enable_bitmapscan: { kind: 'bool', scope: 'session', default: 'on' },
  enable_hashjoin: { kind: 'bool', scope: 'session', default: 'on' },
  enable_mergejoin: { kind: 'bool', scope: 'session', default: 'on' },
  enable_nestloop: { kind: 'bool', scope: 'session', default: 'on' },
  enable_sort: { kind: 'bool', scope: 'session', default: 'on' },
}

/** Names SHOW prints in PostgreSQL's own capitalization. */
export const DISPLAY_NAMES: Record<string, string> = { datestyle: 'DateStyle', timezone: 'TimeZone', intervalstyle: 'IntervalStyle' }

export const CLUSTER_SETTING_KIND = 'setting'
/** Node settings made with ALTER SYSTEM persist as catalog objects named `<node id>/<setting>`. */
export const NODE_SETTING_KIND = 'node-setting'

function normalize(name: string, def: SettingDef, raw: string): string {
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
      if (!/^[+-]?\d+$/.test(v)) throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": "${raw}"`)
      return String(Number(v))
    case 'enum':
      if (def.values && !def.values.includes(v.toLowerCase()) && !(name === 'conflict_resolution_policy' && /^custom:\w+$/i.test(v))) {
        throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "${name}": "${raw}"`, { hint: `Available values: ${def.values.join(', ')}.` })
      }
      return v.toLowerCase()
    case 'duration':
      if (!/^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?$/i.test(v)) throw bad()
      return v
    case 'memory':
      if (!/^-?\d+\s*(B|kB|MB|GB|TB)?$/.test(v)) throw bad()
      return v
    default:
      if (name === 'timezone') return validTimeZone(v, raw)
      if (name === 'master_nodes') parseMasterNodes(v)
      if (name === 'node_id' && (v === '' || v.length > 64 || /[\u0000-\u001f/]/.test(v))) throw bad()
      return v
  }
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

export class Settings {
  private session = new Map<string, string>()
  /** SET LOCAL values, dropped when the transaction ends. */
  private local = new Map<string, string>()
  /** Session values at BEGIN, restored by ROLLBACK (SET is transactional). */
  private saved: Map<string, string> | null = null

  constructor(
    private readonly replica: Replica,
    private readonly node: Map<string, string>,
    readonly user = 'concord',
  ) {}

  private def(name: string): SettingDef | null {
    const d = DEFS[name.toLowerCase()]
    if (d) return d
    if (name.includes('.')) return { kind: 'string', scope: 'session', default: '' }
    return null
  }

  private unknown(name: string): SqlError {
    return new SqlError(SqlState.undefinedObject, `unrecognized configuration parameter "${name}"`)
  }

  show(name: string, missingOk = false): string | null {
    const key = name.toLowerCase()
    if (key === 'all') return null
    const d = this.def(key)
    if (!d) {
      if (missingOk) return null
      throw this.unknown(name)
    }
    if (this.local.has(key)) return this.local.get(key)!
    if (this.session.has(key)) return this.session.get(key)!
    if (d.scope === 'node') {
      const local = this.node.get(key)
      if (local !== undefined) return local
      const persisted = this.replica.getCatalog(NODE_SETTING_KIND, `${this.replica.nodeId}/${key}`)
      if (typeof persisted === 'string') return persisted
      return key === 'node_id' ? this.replica.nodeId : d.default
    }
    const cluster = this.replica.getCatalog(CLUSTER_SETTING_KIND, key)
    if (typeof cluster === 'string') return cluster
    if (name.includes('.') && !this.session.has(key)) {
      if (missingOk) return null
      throw this.unknown(name)
    }
    return d.default
  }

  /**
   * Applies SET (value null means DEFAULT). Returns the catalog writes a cluster setting
   * needs, which the caller performs inside a core transaction.
   */
  set(name: string, value: string | null, system: boolean, isLocal = false): Array<{ kind: string; name: string; value: Json | null }> {
    const key = name.toLowerCase()
    const d = this.def(key)
    if (!d) throw this.unknown(name)
    if (d.scope === 'readonly') throw new SqlError(SqlState.cantChangeRuntimeParam, `parameter "${name}" cannot be changed`)
    const v = value === null ? null : normalize(key, d, value)
    if (d.scope === 'node') {
      // Takes effect at once for every session of this node; ALTER SYSTEM also persists it.
      if (v === null) this.node.delete(key)
      else this.node.set(key, v)
      return system ? [{ kind: NODE_SETTING_KIND, name: `${this.replica.nodeId}/${key}`, value: v }] : []
    }
    if (d.scope === 'cluster' || system) {
      const writes: Array<{ kind: string; name: string; value: Json | null }> = [{ kind: CLUSTER_SETTING_KIND, name: key, value: v }]
      if (key === 'conflict_resolution_policy' || key === 'conflict_resolution_function') {
        const policy = key === 'conflict_resolution_policy' ? (v ?? d.default) : this.show('conflict_resolution_policy')!
        const fn = key === 'conflict_resolution_function' ? (v ?? d.default) : this.show('conflict_resolution_function')!
        writes.push({ kind: 'policy', name: 'default', value: policyJson(policy, fn) })
      }
      this.session.delete(key)
      return writes
    }
    if (isLocal) {
      if (this.saved === null) return []
      this.local.set(key, v ?? d.default)
      return []
    }
    this.local.delete(key)
    if (v === null) this.session.delete(key)
    else this.session.set(key, v)
    return []
  }

  beginTransaction(): void {
    this.saved = new Map(this.session)
  }

  endTransaction(commit: boolean): void {
    if (!commit && this.saved) this.session = this.saved
    this.saved = null
    this.local.clear()
  }

  resetAll(): void {
    this.session.clear()
    this.local.clear()
  }

  /** Every known setting with its current value (SHOW ALL, pg_settings). */
  all(): Array<[string, string]> {
    return Object.keys(DEFS).sort().map((k) => [k, this.show(k) ?? ''])
  }
}

/**
 * The core policy for a `conflict_resolution_policy` value: 'custom_function' resolves with
 * the SQL function named by `conflict_resolution_function` (default resolve_conflict);
 * 'custom:name' names the function directly.
 */
export function policyJson(policy: string, fn: string): Json {
  if (policy === 'custom_function') return { custom: fn }
  if (policy.startsWith('custom:')) return { custom: policy.slice(7) }
  return policy
}
