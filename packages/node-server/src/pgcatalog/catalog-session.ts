/**
 * A `SqlSession` wrapper that answers psql's catalog queries (psql-queries.ts) before the
 * SQL layer sees them. Other clients' catalog probes that the SQL layer cannot run
 * (a pg_catalog table or function it lacks) get an empty result instead of an error, so
 * a GUI's start-up probing does not abort its connection; any other error passes through.
 */
import type { QueryResult, SqlSession } from '../pgwire/sql-session.js'
import { answerCatalogQuery, type CatalogContext } from './psql-queries.js'

const MISSING_CATALOG_OBJECT = new Set(['42P01', '42883', '42704'])

export function catalogSession(inner: SqlSession, ctx: CatalogContext): SqlSession {
  const session: SqlSession = {
    async query(sql, params) {
      const answer = answerCatalogQuery(sql, ctx)
      if (answer) return answer
      try {
        return await inner.query(sql, params)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (typeof code === 'string' && MISSING_CATALOG_OBJECT.has(code) && /^\s*select\b/i.test(sql) && /\bpg_catalog\.pg_\w+/i.test(sql) && !inTransaction(inner)) {
          return { command: 'SELECT', rowCount: 0, fields: [], rows: [] } satisfies QueryResult
        }
        throw err
      }
    },
    close: () => inner.close?.(),
  }
  if (inner.transactionState) session.transactionState = () => inner.transactionState!()
  return session
}

/** Inside a transaction block the error has already aborted it; hiding it would lie about that. */
function inTransaction(inner: SqlSession): boolean {
  const s = inner.transactionState?.()
  return s === 'transaction' || s === 'failed'
}
