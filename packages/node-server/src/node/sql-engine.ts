/**
 * The SQL layer a node serves: `openDatabase` from @concord/sql-facade when that package
 * is present, which opens the replica over our storage and transport. Without it, the
 * node still opens the replica (it replicates and stores) and answers only a few
 * statements, so the server, the transport and the storage can run and be tested alone.
 */
import { Replica, type ReplicaOptions } from '@concord/core'
import type { QueryResult, SqlSession } from '../pgwire/sql-session.js'
import type { Logger } from '../log/logger.js'

export interface SqlEngine {
  /** A session for one client connection. */
  session(): SqlSession
  /** The replica, when the engine exposes it (metrics, health). */
  replica?: Replica
  close(): Promise<void>
}

interface FacadeDatabase {
  query(sql: string, params?: unknown[]): Promise<QueryResult | QueryResult[]>
  session?(): SqlSession
  replica?: Replica
  close?(): Promise<void> | void
}

type OpenDatabase = (options: ReplicaOptions) => Promise<FacadeDatabase>

const FACADE = '@concord/sql-facade'

export async function openSqlEngine(options: ReplicaOptions, log: Logger): Promise<SqlEngine> {
  const openDatabase = await loadFacade(log)
  if (openDatabase) {
    const db = await openDatabase(options)
    return {
      // Why: a facade without per-connection sessions shares one; transactions then interleave.
      session: () => (db.session ? db.session() : { query: (sql, params) => db.query(sql, params) }),
      replica: db.replica,
      close: async () => {
        await db.close?.()
      },
    }
  }
  const replica = await Replica.open(options)
  return { session: () => minimalSession(), replica, close: () => replica.close() }
}

async function loadFacade(log: Logger): Promise<OpenDatabase | null> {
  try {
    const specifier: string = FACADE
    const mod = (await import(specifier)) as { openDatabase?: unknown }
    if (typeof mod.openDatabase === 'function') return mod.openDatabase as OpenDatabase
    log.warn(`${FACADE} does not export openDatabase(); serving without SQL`)
  } catch (err) {
    const message = (err as Error).message ?? String(err)
    // Only the facade's own absence counts; an error inside a facade that exists must surface.
    const aboutFacade = message.includes(FACADE) || message.includes('sql-facade/src/index')
    if (!aboutFacade || !/Cannot find|Failed to load|Failed to resolve|Does the file exist|not found/i.test(message)) throw err
    log.warn(`${FACADE} is not available (${message.split('\n')[0]}); serving without SQL`)
  }
  return null
}

function minimalSession(): SqlSession {
  return {
    async query(sql) {
      if (/^\s*select\s+1\s*;?\s*$/i.test(sql)) return { command: 'SELECT', rowCount: 1, fields: [{ name: '?column?', type: 'int4' }], rows: [[1]] }
      throw Object.assign(new Error('this node runs without the SQL layer (@concord/sql-facade is missing)'), { code: '0A000' })
    },
  }
}
