/**
 * The node server's `PublisherConnector`: reaches another Concord node over PostgreSQL
 * (the address a CREATE SUBSCRIPTION connection string or master_nodes names), asks it
 * who it is, which publications it has and its current LSN, and joins it over libp2p
 * (`ConcordNode.join`, which resolves the PostgreSQL address to libp2p addresses and
 * retries with backoff).
 *
 * The pg client loads on the first describe, not with the node: a start that follows no
 * publisher compiles none of it (start to first query, docs/benchmarks.md wave 8).
 */
import { parseLsn, SqlError, SqlState, type ConnInfo, type PublisherConnector, type PublisherInfo } from '@concord/sql-facade'

const CONNECT_TIMEOUT_MS = 5000

export interface PgConnectorOptions {
  /** Password for nodes that require one, when the connection string gives none. */
  password?: string
  /** Joins the node at host:port (PostgreSQL address). */
  join(pgAddress: string): void
}

export function pgConnector(options: PgConnectorOptions): PublisherConnector {
  const followed = new Set<string>()
  return {
    async describe(conn: ConnInfo): Promise<PublisherInfo> {
      const where = `${conn.host}:${conn.port}`
      const { default: pg } = await import('pg')
      const client = new pg.Client({
        host: conn.host, port: conn.port, database: conn.dbname, user: conn.user ?? 'concord',
        password: conn.password ?? options.password, connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: CONNECT_TIMEOUT_MS, application_name: 'concord-subscriber',
      })
      client.on('error', () => {})
      try {
        await client.connect()
      } catch (err) {
        await client.end().catch(() => {})
        throw new SqlError(SqlState.connectionFailure, `could not connect to the publisher: connection to server at "${where}" failed: ${(err as Error).message || String(err)}`)
      }
      try {
        let nodeId: string
        try {
          const r = await client.query<{ node_id: string }>('SHOW concord.node_id')
          nodeId = String(r.rows[0]?.node_id ?? '')
        } catch {
          throw new SqlError(SqlState.connectionFailure, `could not connect to the publisher: the server at "${where}" is not a Concord node`)
        }
        const pubs = await client.query<{ pubname: string }>('SELECT pubname FROM pg_publication')
        const lsn = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn() AS lsn')
        return { nodeId, publications: pubs.rows.map((r) => String(r.pubname)), lsn: parseLsn(String(lsn.rows[0]?.lsn ?? '0/0')) ?? 0 }
      } catch (err) {
        if (err instanceof SqlError) throw err
        throw new SqlError(SqlState.connectionFailure, `could not receive data from the publisher at "${where}": ${(err as Error).message}`)
      } finally {
        await client.end().catch(() => {})
      }
    },
    follow(conn: ConnInfo): void {
      const addr = `${conn.host.includes(':') ? `[${conn.host}]` : conn.host}:${conn.port}`
      if (followed.has(addr)) return
      followed.add(addr)
      options.join(addr)
    },
  }
}
