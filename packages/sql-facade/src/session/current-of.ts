/**
 * `UPDATE / DELETE .. WHERE CURRENT OF cursor` for cursors over one table.
 *
 * A cursor's rows are computed when it is declared (cursors.ts). When its query is a
 * plain scan of one table (one table in FROM; no GROUP BY, HAVING, DISTINCT, set
 * operation or window clause), DECLARE also selects the table's row key (its primary key,
 * else the hidden `_rowid`) next to each row, and keeps it beside the visible columns.
 * `WHERE CURRENT OF c` then becomes `key = <key of c's current row>`, so the statement
 * updates or deletes exactly that row, or nothing when it is gone (PostgreSQL does the
 * same: a second DELETE of the row is a no-op).
 *
 * Invariants: the rewritten statement is a new tree (a cached or prepared one is never
 * changed); every refusal is PostgreSQL's 24000 or 34000: no such cursor, a cursor held
 * over from an earlier transaction, one not on a row, or one that is not a plain scan of
 * the statement's table. A primary key changed by an earlier UPDATE through the cursor
 * is not followed (the row is then not found), unlike PostgreSQL, which follows the row.
 */
import type { Node, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseScript } from '../parser/parse.js'
import type { Statement } from '../parser/statement.js'
import type { StatementResult } from '../runtime/result.js'
import { typeName, type SqlType } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'

/** The table a cursor scans and the row key of each of its rows. */
export interface CursorScan {
  table: string
  keyColumns: string[]
  keyTypes: SqlType[]
  keys: RtValue[][]
}

/** The one table a SELECT plainly scans: its name and the name its columns are qualified by. */
function scannedTable(s: SelectStmt): { table: string; ref: string } | null {
  if (s.op !== undefined && s.op !== 'SETOP_NONE') return null
  if (s.groupClause?.length || s.havingClause || s.distinctClause || s.windowClause?.length || s.valuesLists?.length) return null
  if (s.fromClause?.length !== 1) return null
  const from = s.fromClause[0]!
  if (!('RangeVar' in from)) return null
  const rv = from.RangeVar
  if (!rv.relname) return null
  return { table: rv.relname, ref: rv.alias?.aliasname ?? rv.relname }
}

/**
 * The cursor query with the scanned table's key columns appended to its select list, or
 * null when the query is not a plain scan of one table. `keyOf` names a table's key columns.
 */
export function keyedCursorQuery(query: Node, keyOf: (table: string) => string[] | null): { node: Node; table: string; keyColumns: string[] } | null {
  if (!('SelectStmt' in query)) return null
  const s = query.SelectStmt
  const scanned = scannedTable(s)
  if (!scanned) return null
  const keyColumns = keyOf(scanned.table)
  if (!keyColumns || keyColumns.length === 0) return null
  const extra: Node[] = keyColumns.map((k) => ({
    ResTarget: { val: { ColumnRef: { fields: [{ String: { sval: scanned.ref } }, { String: { sval: k } }] } } },
  }))
  return { node: { SelectStmt: { ...s, targetList: [...(s.targetList ?? []), ...extra] } }, table: scanned.table, keyColumns }
}

/** Splits a keyed query's result into the cursor's own columns and rows and its scan. */
export function splitKeyedResult(result: StatementResult, table: string, keyColumns: string[]): { result: StatementResult; scan: CursorScan } {
  const n = result.columns.length - keyColumns.length
  return {
    result: { ...result, columns: result.columns.slice(0, n), rows: result.rows.map((r) => r.slice(0, n)) },
    scan: { table, keyColumns, keyTypes: result.columns.slice(n).map((c) => c.type), keys: result.rows.map((r) => r.slice(n)) },
  }
}

/** What WHERE CURRENT OF needs to know of a cursor (cursors.ts's Cursor). */
export interface CurrentOfCursor {
  pos: number
  rowCount: number
  heldFromEarlierTransaction: boolean
  scan: CursorScan | null
}

function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"'
}

function quoteLiteral(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'"
}

/**
 * `stmt` with its `WHERE CURRENT OF c` replaced by its current row's key, or `stmt`
 * itself when it has none.
 */
export function resolveCurrentOf(stmt: Statement, cursorNamed: (name: string) => CurrentOfCursor | undefined): Statement {
  if (stmt.kind !== 'pg') return stmt
  const node = stmt.node
  const dml = 'UpdateStmt' in node ? node.UpdateStmt : 'DeleteStmt' in node ? node.DeleteStmt : null
  const where = dml?.whereClause
  if (!dml || !where || !('CurrentOfExpr' in where)) return stmt
  const name = where.CurrentOfExpr.cursor_name ?? ''
  const table = dml.relation?.relname ?? ''
  const c = cursorNamed(name)
  if (!c) throw new SqlError(SqlState.invalidCursorName, `cursor "${name}" does not exist`)
  if (c.heldFromEarlierTransaction) throw new SqlError(SqlState.invalidCursorState, `cursor "${name}" is held from a previous transaction`)
  if (!c.scan || c.scan.table !== table) throw new SqlError(SqlState.invalidCursorState, `cursor "${name}" is not a simply updatable scan of table "${table}"`)
  if (c.pos < 1 || c.pos > c.rowCount) throw new SqlError(SqlState.invalidCursorState, `cursor "${name}" is not positioned on a row`)
  const scan = c.scan
  const key = scan.keys[c.pos - 1]!
  // The key as literals in the default text styles, which read back the same in every DateStyle order.
  const cond = scan.keyColumns.map((k, i) => `${quoteIdent(k)} = ${quoteLiteral(formatText(key[i]!, scan.keyTypes[i]!)!)}::${typeName(scan.keyTypes[i]!)}`).join(' AND ')
  const parsed = parseScript(`SELECT 1 WHERE ${cond}`)[0]
  if (!parsed || parsed.kind !== 'pg' || !('SelectStmt' in parsed.node)) throw new SqlError(SqlState.internalError, 'internal error: WHERE CURRENT OF key did not parse')
  const whereClause = parsed.node.SelectStmt.whereClause!
  const rewritten: Node = 'UpdateStmt' in node ? { UpdateStmt: { ...node.UpdateStmt, whereClause } } : { DeleteStmt: { ...dml, whereClause } }
  return { ...stmt, node: rewritten }
}
