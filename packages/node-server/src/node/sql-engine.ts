/**
 * The SQL layer a node serves: a @concord/sql-facade `Database` over the node's replica
 * (LMDB storage, libp2p transport), and one facade `Session` per client connection, so
 * each connection has its own settings, transaction block and identity (user, database).
 * This file only adapts shapes: the facade answers every statement, catalog queries and
 * SHOW included.
 *
 * Results reach the wire already in PostgreSQL's text format (`formatPgText`) with the
 * facade's type OIDs, modifiers and command tags. The facade acknowledges a statement
 * only after `replica.durable()` (every statement outside a block, and COMMIT), so a
 * client's CommandComplete means the write is on disk.
 */
import type { Replica, ReplicaOptions } from '@concord/core'
import { Database, formatPgText, parseScramVerifier, roleVerifier, SqlError, SqlState, VERIFIER_ELSEWHERE, type ChangeJournalStore, type PreparedStatement, type QueryResult as FacadeResult, type Session } from '@concord/sql-facade'
import type { PreparedQuery, QueryField, QueryResult, SessionInfo, SqlSession } from '../pgwire/sql-session.js'
import type { LoginDirectory } from '../pgwire/client-authentication.js'
import { StatementWorkerPool, type StatementWorkerPoolOptions } from '../offload/statement-worker-pool.js'

export interface SqlEngine {
  /** A session for one client connection (default identity: user and database 'concord'). */
  session(info?: Pick<SessionInfo, 'user' | 'database' | 'settings' | 'processId'>): SqlSession
  readonly replica: Replica
  readonly database: Database
  /** The catalog's roles, as the wire server authenticates them. */
  readonly logins: LoginDirectory
  /** The worker threads long read-only statements move to (offload/); null when off. */
  readonly offload: StatementWorkerPool | null
  /** What `SHOW server_version` answers; sent to clients at startup too. */
  serverVersion(): Promise<string>
  close(): Promise<void>
}

/**
 * `offload`: the worker pool's options (workers start on first use); null: every statement
 * runs on the event loop. Default: one worker.
 */
export async function openSqlEngine(options: ReplicaOptions & { changeJournal?: ChangeJournalStore; offload?: StatementWorkerPoolOptions | null }): Promise<SqlEngine> {
  const { offload: offloadOptions, ...replicaOptions } = options
  const db = await Database.open({ ...replicaOptions, nodeId: options.nodeId })
  const offload = offloadOptions === null ? null : new StatementWorkerPool(offloadOptions ?? {})
  return {
    offload,
    session: (info) => {
      const s = db.session({
        user: info?.user, database: info?.database, lenientCatalogProbes: true, processId: info?.processId, connection: true,
        ...(offload !== null ? { offloader: offload } : {}),
      })
      // A bad value refuses the connection (the factory throws), as PostgreSQL does; so does
      // a node or cluster setting, whose change is a catalog write a session start makes none of.
      for (const [name, value] of Object.entries(info?.settings ?? {})) {
        if (name.toLowerCase() === 'default_transaction_read_only') {
          s.setDefaultReadOnly(value)
          continue
        }
        if (s.settings.set(name, value).writes.length > 0) {
          throw new SqlError(SqlState.cantChangeRuntimeParam, `parameter "${name}" cannot be set when a connection starts`, {
            hint: 'It is a setting of the node or the cluster: set it with SET or ALTER SYSTEM SET once connected.',
          })
        }
      }
      return wireSession(s)
    },
    replica: db.replica,
    database: db,
    logins: {
      rolesEnforced: () => db.roles().loginRolesExist,
      role: (name) => {
        const r = db.roles().role(name)
        if (r === undefined) return undefined
        // A verifier that does not parse (a broken peer's) refuses every password, as one not arrived yet.
        const verifier = roleVerifier(db.replica, r)
        return { login: r.login, superuser: r.superuser, scram: verifier === null ? null : parseScramVerifier(verifier) ?? parseScramVerifier(VERIFIER_ELSEWHERE) }
      },
    },
    serverVersion: async () => {
      const r = await db.query('SHOW server_version')
      const v = r.rowArrays[0]?.[0]
      return typeof v === 'string' ? v : '17.0'
    },
    close: async () => {
      await offload?.close()
      await db.close()
    },
  }
}

/**
 * What a session's prepare gives the wire: the facade's statement in a field of its own.
 * Not a WeakMap from these to statements: a session's map lives long enough to be in V8's
 * old generation, and its young collections keep the value of every entry whose key is
 * young (a WeakMap's entries are cleared only by full collections), so each Parse's
 * statement, a node-postgres query's, survived them and was moved to the old
 * generation: ~110 KB promoted per young collection under pgbench's extended protocol,
 * none with the statement in this field (docs/benchmarks.md, "Statements that outlived
 * their turn").
 */
class SessionStatement implements PreparedQuery {
  readonly paramTypes: readonly number[]
  readonly session: Session
  readonly statement: PreparedStatement

  constructor(session: Session, statement: PreparedStatement) {
    this.paramTypes = statement.paramTypes
    this.session = session
    this.statement = statement
  }
}

function wireSession(s: Session): SqlSession {
  const statement = (q: PreparedQuery): PreparedStatement => {
    if (!(q instanceof SessionStatement) || q.session !== s) throw new Error('a prepared query this session did not prepare')
    return q.statement
  }
  const keep = (p: PreparedStatement): PreparedQuery => new SessionStatement(s, p)
  return {
    async query(sql) {
      return wireResults(await s.queryAll(sql))
    },
    queryNow(sql) {
      const results = s.queryAllNow(sql)
      return results instanceof Promise ? results.then(wireResults) : wireResults(results)
    },
    async prepare(sql, paramTypes) {
      return keep(await s.prepare(sql, paramTypes))
    },
    prepareNow(sql, paramTypes) {
      const p = s.prepareNow(sql, paramTypes)
      return p === null ? null : keep(p)
    },
    async describe(q) {
      const fields = await s.describe(statement(q))
      return fields === null ? null : fields.map(toWireField)
    },
    async execute(q, params) {
      const p = statement(q)
      return p.statement === null ? null : toWire(await s.execute(p, params))
    },
    executeNow(q, params) {
      const p = statement(q)
      if (p.statement === null) return null
      const r = s.executeNow(p, params)
      return r instanceof Promise ? r.then(toWire) : toWire(r)
    },
    transactionState: () => (s.transactionFailed ? 'failed' : s.inTransaction ? 'transaction' : 'idle'),
    idleTimeoutMs: () => s.idleTimeoutMs(),
    cancel: () => s.cancel(),
    reportedParameters: () => s.reportedParameters(),
    onNotification: (receiver) => s.onNotification(receiver),
    onNotice: (receiver) => s.onNotice(receiver),
    // Temporary tables end with the connection.
    close: () => s.close(),
  }
}

/** A query string's results for the wire: none for an empty query string. */
function wireResults(results: FacadeResult[]): QueryResult[] {
  return results.length === 1 && results[0]!.command === 'EMPTY' ? [] : results.map(toWire)
}

function toWireField(f: FacadeResult['fields'][number]): QueryField {
  return { name: f.name, type: f.oid, oid: f.oid, typmod: f.typmod, size: f.size }
}

/** Facade result to wire result: OIDs from the facade, rows as PostgreSQL text in field order. */
export function toWire(r: FacadeResult): QueryResult {
  const fields = r.fields
  const out: QueryResult = {
    commandTag: r.commandTag,
    fields: r.returnsRows ? fields.map(toWireField) : null,
    rows: r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, fields[i]!))),
    notices: r.notices,
  }
  // Set, not spread: a spread of a conditional object was a temporary object per statement.
  if (r.copy !== undefined) out.copy = r.copy
  return out
}
