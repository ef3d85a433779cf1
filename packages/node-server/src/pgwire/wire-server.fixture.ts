/**
 * A PostgreSQL wire server over a real SQL engine, for one test file: `wireServer()`
 * registers the file's beforeAll (open the engine, listen on a port the system picks on
 * 127.0.0.1) and afterAll (end every client it handed out, close the server, then the
 * engine), so a test file states only what its tests do.
 */
import { afterAll, beforeAll } from 'vitest'
import pg from 'pg'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'

export interface WireServer {
  /** The engine behind the server; open from the file's first beforeAll on. */
  readonly engine: SqlEngine
  /** The port the server listens on; set from the file's first beforeAll on. */
  readonly port: number
  /** A connected node-postgres client (user and database `concord`), ended after the file's tests. */
  client(extra?: Partial<pg.ClientConfig>): Promise<pg.Client>
  /** The same client before it connects (a test of the startup itself). */
  unconnected(extra?: Partial<pg.ClientConfig>): pg.Client
}

export function wireServer(nodeId: string, region = 'r1'): WireServer {
  let engine: SqlEngine | undefined
  let server: PgServer | undefined
  let port = 0
  const clients: pg.Client[] = []
  beforeAll(async () => {
    const opened = await openSqlEngine({ nodeId, region })
    engine = opened
    server = new PgServer({ session: (info) => opened.session(info), port: 0 })
    port = await server.listen()
  }, 30_000)
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => {})
    await server?.close()
    await engine?.close()
  })
  return {
    get engine(): SqlEngine {
      if (engine === undefined) throw new Error('wireServer: the engine opens in the test file\'s beforeAll')
      return engine
    },
    get port(): number {
      return port
    },
    async client(extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
      const c = this.unconnected(extra)
      await c.connect()
      return c
    },
    unconnected(extra: Partial<pg.ClientConfig> = {}): pg.Client {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord', ...extra })
      clients.push(c)
      return c
    },
  }
}
