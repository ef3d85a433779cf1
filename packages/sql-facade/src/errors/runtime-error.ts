/**
 * The last line between a JavaScript exception and a SQL client. Errors carrying a
 * SQLSTATE pass unchanged; core's errors (`ConcordError`, a named condition) get their
 * code from the one SQLSTATE table. The JS engine's own resource limits become PostgreSQL's
 * program-limit errors: a stack overflow is 54001 (PostgreSQL's "stack depth limit
 * exceeded"), a string, array or bigint past the engine's size limit is 54000. Anything
 * else is a bug in Concord: it is reported as XX000 with the engine's message, so that it
 * can be found and fixed where it is thrown; bad input must never take this path.
 */
import { ConcordError, RowsHomedElsewhere, RowsPlacedElsewhere } from '@concord/core'
import { SqlError, SqlState, sqlStateOf } from './sql-error.js'

function hasSqlState(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
}

export function asSqlError(e: unknown): unknown {
  if (hasSqlState(e)) return e
  if (e instanceof RowsHomedElsewhere) {
    return new SqlError(sqlStateOf(e.condition), e.message, {
      hint:
        'A write whose rows are all homed in one other region is forwarded there when it runs as a statement of its own, outside a transaction block ' +
        '(it could not commit atomically with the block); write rows of several regions with one statement per region.',
    })
  }
  if (e instanceof RowsPlacedElsewhere) {
    return new SqlError(sqlStateOf(e.condition), e.message, {
      hint:
        'A write whose rows all route to partitions one node holds is forwarded there when it runs as a statement of its own, outside a transaction block ' +
        '(it could not commit atomically with the block); write rows of different placements with one statement per placement.',
    })
  }
  if (e instanceof ConcordError) return new SqlError(sqlStateOf(e.condition), e.message)
  const message = e instanceof Error ? e.message : String(e)
  if (e instanceof RangeError) {
    if (/call stack/i.test(message)) {
      return new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded', { hint: 'The statement nests too deeply for the engine; split it or flatten the expression.' })
    }
    if (/invalid (string|array|typed array) length|bigint.*(size|too big)|allocation failed/i.test(message)) {
      return new SqlError(SqlState.programLimitExceeded, 'out of memory', { detail: `A value exceeded the engine's size limit (${message}).` })
    }
  }
  return new SqlError(SqlState.internalError, `internal error: ${message}`)
}
