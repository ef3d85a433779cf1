/**
 * The SQL layer a node serves: a @concord/sql-facade `Database` over the node's replica
 * (LMDB storage, libp2p transport), and one facade `Session` per client connection, so
 * each connection has its own settings and transaction block.
 *
 * Results reach the wire already in PostgreSQL's text format (`formatPgText`) with the
 * facade's type OIDs, modifiers and command tags. The facade acknowledges a statement
 * only after `replica.durable()` (every statement outside a block, and COMMIT), so a
 * client's CommandComplete means the write is on disk.
 */
import type { Replica, ReplicaOptions } from '@concord/core'
import { Database, formatPgText, type QueryResult as FacadeResult, type Session } from '@concord/sql-facade'
import type { QueryResult, SqlSession } from '../pgwire/sql-session.js'

export interface SqlEngine {
  /** A session for one client connection. */
  session(): SqlSession
  readonly replica: Replica
  readonly database: Database
  /** What `SHOW server_version` answers; sent to clients at startup too. */
  serverVersion(): Promise<string>
  close(): Promise<void>
}

export async function openSqlEngine(options: ReplicaOptions): Promise<SqlEngine> {
  const db = await Database.open({ ...options, nodeId: options.nodeId })
  return {
    session: () => wireSession(db.session()),
    replica: db.replica,
    database: db,
    serverVersion: async () => {
      const r = await db.query('SHOW server_version')
      const v = r.rowArrays[0]?.[0]
      return typeof v === 'string' ? v : '17.0'
    },
    close: () => db.close(),
  }
}

function wireSession(s: Session): SqlSession {
  return {
    async query(sql, params) {
      const results = await s.queryAll(sql, params ?? [])
      return results.map(toWire)
    },
    transactionState: () => (s.transactionFailed ? 'failed' : s.inTransaction ? 'transaction' : 'idle'),
  }
}

/** Facade result to wire result: OIDs from the facade, rows as PostgreSQL text in field order. */
export function toWire(r: FacadeResult): QueryResult {
  const fields = r.fields
  return {
    command: r.command,
    commandTag: r.commandTag,
    rowCount: r.rowCount,
    fields: fields.map((f) => ({ name: f.name, type: f.oid, oid: f.oid, typmod: f.typmod, size: f.size })),
    rows: r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, fields[i]!))),
    notices: r.notices,
  }
}
