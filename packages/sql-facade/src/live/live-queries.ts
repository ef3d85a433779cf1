/**
 * The live queries of one database (`Database.live`): hands every settled row change
 * and every change to the shape of tables to each of them (live-query.ts decides which
 * re-run). Local writes, writes replicated from peers and rows a merge changed all reach
 * here the same way: through the replica's `change` event, once per operation.
 *
 * Only a single SELECT (or VALUES, or WITH .. SELECT without writes) can be live: a live
 * query runs on a read-only session, so a data-modifying CTE fails (25006).
 */
import type { CatalogChange, Replica } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseScript } from '../parser/parse.js'
import { LiveQuery, type LiveQueryHost, type LiveQueryOptions, type LiveRowsListener } from './live-query.js'

/** Live queries one database follows at once. */
const MAX_LIVE_QUERIES = 10_000

/** Catalog kinds whose change may change what a query reads or may read. */
const SHAPE_KINDS = new Set(['table', 'index', 'view', 'function', 'policy', 'domain', 'composite', 'enum', 'role', 'role_member', 'table_grant', 'table_owner', 'schema_grant'])

/** Stops a live query: no call of its listener follows. */
export type Unsubscribe = () => void

export class LiveQueries {
  private readonly host: LiveQueryHost
  private readonly queries = new Set<LiveQuery>()
  private readonly stops: Array<() => void>

  constructor(replica: Replica, host: LiveQueryHost) {
    this.host = host
    this.stops = [
      replica.on('change', (changes) => {
        for (const q of this.queries) {
          // A query ends itself when it finds it reads a table held elsewhere.
          if (q.isStopped) this.queries.delete(q)
          else q.onChanges(changes)
        }
      }),
      replica.on('catalog', (changes) => this.onCatalog(changes)),
    ]
  }

  /** Starts a live query; resolves once its first rows were handed to `onRows`. */
  async live(sql: string, params: unknown[], onRows: LiveRowsListener, options: LiveQueryOptions = {}): Promise<Unsubscribe> {
    const stmts = parseScript(sql)
    const node = stmts.length === 1 && stmts[0]!.kind === 'pg' ? stmts[0]!.node : null
    if (node === null || !('SelectStmt' in node) || node.SelectStmt.intoClause) {
      throw new SqlError(SqlState.featureNotSupported, 'a live query is a single SELECT')
    }
    if (this.queries.size >= MAX_LIVE_QUERIES) throw new SqlError(SqlState.programLimitExceeded, `too many live queries (at most ${MAX_LIVE_QUERIES})`)
    const q = new LiveQuery(this.host, sql, params, onRows, options, node.SelectStmt as unknown as Record<string, unknown>)
    this.queries.add(q)
    try {
      await q.start()
    } catch (err) {
      this.queries.delete(q)
      q.stop()
      throw err
    }
    return () => {
      this.queries.delete(q)
      q.stop()
    }
  }

  close(): void {
    for (const s of this.stops) s()
    for (const q of this.queries) q.stop()
    this.queries.clear()
  }

  private onCatalog(changes: readonly CatalogChange[]): void {
    if (!changes.some((c) => SHAPE_KINDS.has(c.kind))) return
    for (const q of this.queries) {
      if (q.isStopped) this.queries.delete(q)
      else q.onShapeChange()
    }
  }
}
