/**
 * One session's view of the configuration parameters (SET, SET LOCAL, RESET, SHOW, ALTER
 * SYSTEM), with PostgreSQL's transactional semantics for every scope (parameters.ts):
 * - session parameters live here; SET inside a transaction block is undone by ROLLBACK
 *   or ROLLBACK TO SAVEPOINT, SET LOCAL lasts until the block ends.
 * - node parameters persist as catalog objects `('node-setting', '<node id>/<name>')`,
 *   read by every session of that node; ALTER SYSTEM SET of a session parameter sets
 *   this node's default for it the same way.
 * - cluster parameters are catalog objects `('setting', name)`, the same on every node.
 *
 * Invariants: node and cluster values change only through catalog writes, and a SET in
 * a transaction block writes nothing until COMMIT, where its writes join the block's
 * own core transaction (a rolled-back block writes nothing, anywhere). Until then this
 * session alone sees the pending value. SET LOCAL cannot apply a node or cluster value to
 * one transaction, so it raises 55P02 for those.
 */
import type { Json, Replica } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { CONNECTION_TIMEOUTS, durationMillis, normalizeValue, parameterDef, PARAMETERS, type ParameterDef, type SettingScope } from './parameters.js'
import { nextTermWrites, PRIMARY_TERM_KIND } from '../cluster/primary-term.js'
import { mayBePrimary } from '../cluster/node-role.js'

export const CLUSTER_SETTING_KIND = 'setting'
/** Node settings persist as catalog objects named `<node id>/<setting>`. */
export const NODE_SETTING_KIND = 'node-setting'

/** What SHOW, current_setting and pg_settings print for a credential that is set. */
export const SECRET_MASK = '********'

export { DISPLAY_NAMES, type SettingScope } from './parameters.js'

export interface CatalogWrite {
  kind: string
  name: string
  value: Json | null
}

/** One row of pg_settings / SHOW ALL. */
export interface SettingRow {
  name: string
  setting: string
  scope: SettingScope
  /** PostgreSQL's pg_settings.context: user, sighup, superuser or internal. */
  context: string
  /** Where the value comes from: default, session, node or cluster. */
  source: string
  vartype: string
  description: string
  boot: string
  /** What RESET gives: this node's ALTER SYSTEM value for session parameters, else the default. */
  reset: string
}

/** Session-visible state a transaction block or savepoint can restore. */
interface Snapshot {
  session: Map<string, string>
  local: Map<string, string>
  /** Node and cluster values SET in the open block, keyed by catalog kind and name; null = RESET. */
  pending: Map<string, CatalogWrite>
}

/** Catalog values `stored` keeps at once, at most (custom placeholders make the names open-ended). */
const MAX_STORED_VALUES = 256

/** Answers `show` keeps at once, at most (the same open-ended names). */
const MAX_SHOWN_VALUES = 256

export class Settings {
  private session = new Map<string, string>()
  /** SET LOCAL values, dropped when the transaction block ends. */
  private local = new Map<string, string>()
  private pending = new Map<string, CatalogWrite>()
  /** Snapshots at BEGIN (index 0) and at each open savepoint; null outside a block. */
  private stack: Snapshot[] | null = null
  /** Node and cluster values read from the catalog at `storedVersion` (the catalog version). */
  private readonly storedValues = new Map<string, string | undefined>()
  private storedVersion = -1
  /**
   * `show`'s answers while neither the catalog version nor the session's own values moved:
   * every statement reads several parameters (DateStyle, IntervalStyle, statement_timeout,
   * search_path, the ParameterStatus set ..), and each answer otherwise walks the
   * definitions, the block's values and the catalog. Read-only parameters are not kept
   * (the session and the node's role decide them, see setDynamic).
   */
  private readonly shown = new Map<string, string>()
  private shownVersion = -1
  private shownChanges = -1
  /** Bumped by every change of the session's own values (SET, RESET, block end, rollback), so `shown` is dropped. */
  private changes = 0
  /** Read-only parameters the session decides (transaction_read_only ..), see setDynamic. */
  private dynamic: ((key: string) => string | undefined) | null = null

  private readonly replica: Replica
  /** The role the session authenticated as. */
  readonly loginUser: string
  /** Values of read-only parameters that the server decides (max_connections): see `Database.setServerParameter`. */
  private readonly server: ReadonlyMap<string, string>

  /** Whether the session is a client's connection, which the connection timeouts can close (CONNECTION_TIMEOUTS). */
  connection = false

  constructor(replica: Replica, user = 'concord', server: ReadonlyMap<string, string> = new Map()) {
    this.replica = replica
    this.loginUser = user
    this.server = server
  }

  /**
   * The role statements run as (current_user): SET ROLE's role, else SET SESSION
   * AUTHORIZATION's, else the login role. Both are session parameters, so a SET rolled
   * back with its transaction block is undone.
   */
  get user(): string {
    const role = this.show('role')
    return role !== null && role !== 'none' ? role : this.sessionUser
  }

  /** session_user: SET SESSION AUTHORIZATION's role, else the login role. */
  get sessionUser(): string {
    return this.show('session_authorization') ?? this.loginUser
  }

  /**
   * Where read-only parameters that depend on the session and the node's role are read
   * (transaction_read_only, default_transaction_read_only, in_hot_standby); undefined
   * from `fn` falls back to the server's value or the default.
   */
  setDynamic(fn: (key: string) => string | undefined): void {
    this.dynamic = fn
  }

  private def(name: string): ParameterDef {
    const d = parameterDef(name)
    if (d === null) throw unrecognized(name)
    return d
  }

  private catalogName(kind: string, key: string): string {
    return kind === NODE_SETTING_KIND ? `${this.replica.nodeId}/${key}` : key
  }

  /** A node or cluster value as this session sees it: its own pending write, else the catalog. */
  private stored(kind: string, key: string): string | null | undefined {
    const name = this.catalogName(kind, key)
    const p = this.pending.get(`${kind}\u0000${name}`)
    if (p !== undefined) return typeof p.value === 'string' ? p.value : null
    // Read per statement (statement_timeout, search_path ..): kept until the catalog moves.
    const version = this.replica.catalogVersion
    if (version !== this.storedVersion || this.storedValues.size >= MAX_STORED_VALUES) {
      this.storedValues.clear()
      this.storedVersion = version
    }
    const cacheKey = `${kind}\u0000${name}`
    if (this.storedValues.has(cacheKey)) return this.storedValues.get(cacheKey)
    const v = this.replica.getCatalog(kind, name)
    const value = typeof v === 'string' ? v : undefined
    this.storedValues.set(cacheKey, value)
    return value
  }

  private source(key: string, d: ParameterDef): string {
    if (this.local.has(key) || this.session.has(key)) return 'session'
    if (d.readonly) return this.server.has(key) ? 'command line' : 'default'
    if (d.scope === 'cluster') return typeof this.stored(CLUSTER_SETTING_KIND, key) === 'string' ? 'cluster' : 'default'
    return typeof this.stored(NODE_SETTING_KIND, key) === 'string' ? 'node' : 'default'
  }

  show(name: string, missingOk = false): string | null {
    const version = this.replica.catalogVersion
    if (version !== this.shownVersion || this.changes !== this.shownChanges || this.shown.size >= MAX_SHOWN_VALUES) {
      this.shown.clear()
      this.shownVersion = version
      this.shownChanges = this.changes
    }
    const hit = this.shown.get(name)
    if (hit !== undefined) return hit
    const value = this.lookup(name, missingOk)
    if (value !== null && parameterDef(name.toLowerCase())?.readonly !== true) this.shown.set(name, value)
    return value
  }

  /** A parameter's value as the session sees it now (`show` without its memo). */
  private lookup(name: string, missingOk: boolean): string | null {
    const key = name.toLowerCase()
    if (key === 'all') return null
    const d = parameterDef(key)
    if (d === null) {
      if (missingOk) return null
      throw unrecognized(name)
    }
    if (d.scope === 'cluster') return this.stored(CLUSTER_SETTING_KIND, key) ?? d.default
    if (d.secret === true) return (this.stored(NODE_SETTING_KIND, key) ?? '') === '' ? '' : SECRET_MASK
    if (this.local.has(key)) return this.local.get(key)!
    if (this.session.has(key)) return this.session.get(key)!
    if (d.readonly) return this.dynamic?.(key) ?? this.server.get(key) ?? d.default
    if (key === 'session_authorization') return this.loginUser
    const node = this.stored(NODE_SETTING_KIND, key)
    if (typeof node === 'string') return node
    if (key === 'node_id') return this.replica.nodeId
    if (key.includes('.')) {
      // A custom placeholder exists only once set.
      if (missingOk) return null
      throw unrecognized(name)
    }
    return d.default
  }

  /** The catalog writes that set a node or cluster value (null: back to the default). */
  private writesFor(key: string, d: ParameterDef, v: string | null): CatalogWrite[] {
    const kind = d.scope === 'cluster' ? CLUSTER_SETTING_KIND : NODE_SETTING_KIND
    const writes: CatalogWrite[] = [{ kind, name: this.catalogName(kind, key), value: v }]
    if (key === 'conflict_resolution_policy' || key === 'conflict_resolution_function') {
      const policy = key === 'conflict_resolution_policy' ? (v ?? d.default) : this.show('conflict_resolution_policy')!
      const fn = key === 'conflict_resolution_function' ? (v ?? d.default) : this.show('conflict_resolution_function')!
      writes.push({ kind: 'policy', name: 'default', value: policyJson(policy, fn) })
    }
    if (key === 'high_availability_mode' && v === 'active_passive' && this.show(key) !== 'active_passive') {
      // Switching to active_passive: the node that runs it is the primary, with the next epoch.
      if (!mayBePrimary(this.replica.getCatalog('region', this.replica.region))) {
        throw new SqlError(SqlState.objectNotInPrerequisiteState, `node ${this.replica.nodeId} cannot become primary: region "${this.replica.region}" has no PRIMARY role`, {
          hint: 'Switch to active_passive on a node of a region with the PRIMARY role.',
        })
      }
      writes.push(...nextTermWrites(this.replica.listCatalog(PRIMARY_TERM_KIND), this.replica.nodeId, 'mode', this.replica.now()).writes)
    }
    return writes
  }

  /**
   * The session's own values as its statements see them now (SET, SET ROLE, SET SESSION
   * AUTHORIZATION, and in a transaction block SET LOCAL's over them), to be set again on
   * another engine's session outside a block (session/statement-offload.ts).
   */
  sessionValues(): Array<[string, string]> {
    return [...new Map([...this.session, ...this.local])]
  }

  /** Whether the open block SET node or cluster parameters, written at its COMMIT. */
  get pendingWrites(): boolean {
    return this.pending.size > 0
  }

  /**
   * SET / SET LOCAL / RESET of one parameter (value null: DEFAULT). Returns the catalog
   * writes to perform now (node and cluster parameters outside a transaction block; in a
   * block they wait for COMMIT) and a warning, if any.
   */
  set(name: string, value: string | null, isLocal = false): { writes: CatalogWrite[]; warning?: string } {
    const key = name.toLowerCase()
    // Who the session runs as changes only through SET ROLE / SET SESSION AUTHORIZATION,
    // which check the right to (session.ts): never through set_config or startup options.
    if (key === 'role' || key === 'session_authorization') {
      throw new SqlError(SqlState.insufficientPrivilege, `parameter "${name}" can only be changed with SET ROLE or SET SESSION AUTHORIZATION`)
    }
    return this.assign(key, name, value, isLocal)
  }

  /** SET ROLE / SET SESSION AUTHORIZATION, after the session checked the right to (value null: back to the default). */
  setIdentity(key: 'role' | 'session_authorization', value: string | null, isLocal: boolean): { warning?: string } {
    return this.assign(key, key, value, isLocal)
  }

  private assign(key: string, name: string, value: string | null, isLocal: boolean): { writes: CatalogWrite[]; warning?: string } {
    try {
      return this.assignNow(key, name, value, isLocal)
    } finally {
      // After the change: assignNow reads the old value through `show`.
      this.changes++
    }
  }

  private assignNow(key: string, name: string, value: string | null, isLocal: boolean): { writes: CatalogWrite[]; warning?: string } {
    const d = this.def(key)
    if (d.readonly) throw new SqlError(SqlState.cantChangeRuntimeParam, `parameter "${name}" cannot be changed`)
    const v = value === null ? null : normalizeValue(key, d, value, this.show(key, true) ?? d.default)
    if (v !== null && CONNECTION_TIMEOUTS.has(key) && !this.connection && durationMillis(v) > 0) {
      throw new SqlError(SqlState.featureNotSupported, `parameter "${name}" closes idle client connections, and this session has none (it was opened in-process): only 0 (off)`, {
        hint: `SET ${name} = 0`,
      })
    }
    if (isLocal && this.stack === null) return { writes: [], warning: 'SET LOCAL can only be used in transaction blocks' }
    if (d.scope !== 'session') {
      if (isLocal) {
        throw new SqlError(SqlState.cantChangeRuntimeParam, `parameter "${name}" is a ${d.scope} setting and cannot be set for one transaction`, {
          hint: 'Use SET: in a transaction block it takes effect at COMMIT.',
        })
      }
      const writes = this.writesFor(key, d, v)
      if (this.stack === null) return { writes }
      for (const w of writes) this.pending.set(`${w.kind}\u0000${w.name}`, w)
      return { writes: [] }
    }
    if (isLocal) {
      this.local.set(key, v ?? this.nodeDefault(key, d))
      return { writes: [] }
    }
    // A plain SET overrides an earlier SET LOCAL of the same block, as in PostgreSQL.
    this.local.delete(key)
    if (v === null) this.session.delete(key)
    else this.session.set(key, v)
    return { writes: [] }
  }

  /** What a session parameter falls back to: ALTER SYSTEM's value on this node, else the default. */
  private nodeDefault(key: string, d: ParameterDef): string {
    const v = this.stored(NODE_SETTING_KIND, key)
    return typeof v === 'string' ? v : d.default
  }

  /**
   * ALTER SYSTEM SET / RESET: persists a value on this node (session and node
   * parameters: this node's value for every session that has not SET its own) or for
   * the cluster (cluster parameters). Not allowed in a transaction block (25001).
   */
  alterSystem(name: string, value: string | null): CatalogWrite[] {
    if (this.stack !== null) throw new SqlError(SqlState.activeSqlTransaction, 'ALTER SYSTEM cannot run inside a transaction block')
    const key = name.toLowerCase()
    const d = this.def(key)
    if (d.readonly) throw new SqlError(SqlState.cantChangeRuntimeParam, `parameter "${name}" cannot be changed`)
    const v = value === null ? null : normalizeValue(key, d, value)
    if (d.scope === 'cluster') return this.writesFor(key, d, v)
    return [{ kind: NODE_SETTING_KIND, name: this.catalogName(NODE_SETTING_KIND, key), value: v }]
  }

  /** ALTER SYSTEM RESET ALL: forgets every value persisted on this node. */
  alterSystemResetAll(): CatalogWrite[] {
    if (this.stack !== null) throw new SqlError(SqlState.activeSqlTransaction, 'ALTER SYSTEM cannot run inside a transaction block')
    const prefix = `${this.replica.nodeId}/`
    return this.replica.listCatalog(NODE_SETTING_KIND).filter(([n]) => n.startsWith(prefix)).map(([n]) => ({ kind: NODE_SETTING_KIND, name: n, value: null }))
  }

  /** RESET ALL: session parameters back to their defaults (transactional, like SET); the role and session authorization stay, as in PostgreSQL. */
  resetAll(keepRoles = true): void {
    for (const m of [this.session, this.local]) {
      for (const k of [...m.keys()]) if (!keepRoles || (k !== 'role' && k !== 'session_authorization')) m.delete(k)
    }
    this.changes++
  }

  /** DISCARD ALL: like RESET ALL and SET SESSION AUTHORIZATION DEFAULT, but not in a transaction block. */
  discardAll(): void {
    if (this.stack !== null) throw new SqlError(SqlState.activeSqlTransaction, 'DISCARD ALL cannot run inside a transaction block')
    this.resetAll(false)
  }

  private snapshot(): Snapshot {
    return { session: new Map(this.session), local: new Map(this.local), pending: new Map(this.pending) }
  }

  private restore(s: Snapshot): void {
    this.session = new Map(s.session)
    this.local = new Map(s.local)
    this.pending = new Map(s.pending)
    this.changes++
  }

  beginTransaction(): void {
    this.stack = [this.snapshot()]
  }

  /** SAVEPOINT: later changes can be rolled back to here. */
  savepoint(): void {
    this.stack?.push(this.snapshot())
  }

  /** RELEASE SAVEPOINT of the `index`-th open savepoint (0-based) and every later one. */
  releaseSavepoint(index: number): void {
    if (this.stack !== null) this.stack.length = Math.min(this.stack.length, index + 1)
  }

  /** ROLLBACK TO SAVEPOINT of the `index`-th open savepoint: its state again, the savepoint kept. */
  rollbackToSavepoint(index: number): void {
    const s = this.stack?.[index + 1]
    if (s === undefined) return
    this.restore(s)
    this.stack!.length = index + 2
  }

  /** The node and cluster writes the open block performs at COMMIT. */
  commitWrites(): CatalogWrite[] {
    return [...this.pending.values()]
  }

  /** Ends the block: COMMIT keeps session values (SET LOCAL ones end), ROLLBACK restores BEGIN's. */
  endTransaction(commit: boolean): void {
    if (this.stack !== null && !commit) this.restore(this.stack[0]!)
    this.stack = null
    // A COMMIT changes what `show` answers only by ending SET LOCAL values and pending node
    // or cluster writes: a block with neither keeps the memo (most blocks set nothing).
    if (this.local.size > 0 || this.pending.size > 0) this.changes++
    this.local.clear()
    this.pending.clear()
  }

  /** Every known parameter with its value and scope (SHOW ALL, pg_settings). */
  all(): SettingRow[] {
    return Object.keys(PARAMETERS).sort().map((name) => {
      const d = PARAMETERS[name]!
      return {
        name,
        setting: this.show(name) ?? '',
        scope: d.scope,
        context: d.readonly ? 'internal' : d.scope === 'session' ? 'user' : d.scope === 'node' ? 'sighup' : 'superuser',
        source: this.source(name, d),
        vartype: d.kind === 'duration' || d.kind === 'memory' ? 'string' : d.kind,
        description: d.description,
        boot: d.default,
        reset: d.scope === 'session' && !d.readonly ? this.nodeDefault(name, d) : d.default,
      }
    })
  }
}

function unrecognized(name: string): SqlError {
  return new SqlError(SqlState.undefinedObject, `unrecognized configuration parameter "${name}"`)
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
