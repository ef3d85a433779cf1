/**
 * COMMENT ON TABLE and COMMENT ON COLUMN: the text is kept in the table's and the column's
 * metadata in the replicated catalog (catalog/table-meta.ts `comment`), so it follows a
 * RENAME and goes with DROP, and `obj_description`, `col_description`, `pg_description`
 * and psql's `\d+` / `\dt+` show it. `IS NULL` (or '') removes it, as in PostgreSQL.
 * Comments on other objects (views, indexes, functions, types ..) are not stored: the
 * statement says so with a NOTICE and is not an error, so migrations and pg_dump scripts
 * carrying them run on (docs/compatibility.md, "Comments").
 */
import type { CommentStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import { columnMeta, metaToJson, tableMeta, tableMetaToJson } from '../catalog/table-meta.js'
import type { ExecCtx } from '../runtime/context.js'
import { utility, type StatementResult } from '../runtime/result.js'

export function execComment(c: CommentStmt, exec: ExecCtx): StatementResult {
  const names = c.object !== undefined && 'List' in c.object ? nameList(c.object.List.items) : []
  if (c.objtype !== 'OBJECT_TABLE' && c.objtype !== 'OBJECT_COLUMN') {
    return utility('COMMENT', [`COMMENT ON ${(c.objtype ?? '').replace(/^OBJECT_/, '').toLowerCase()} is not stored: Concord keeps comments on tables and columns only`])
  }
  const table = c.objtype === 'OBJECT_TABLE' ? names.at(-1) : names.at(-2)
  const t = table === undefined ? undefined : exec.tx.table(table)
  if (t === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${table ?? ''}" does not exist`)
  // IS NULL and IS '' both drop it (PostgreSQL keeps no empty comment).
  const text = c.comment === undefined || c.comment === null || c.comment === '' ? undefined : c.comment
  if (c.objtype === 'OBJECT_TABLE') {
    const { comment: _old, ...meta } = tableMeta(t)
    exec.tx.alterTable(t.name, { meta: tableMetaToJson(text === undefined ? meta : { ...meta, comment: text }) })
    return utility('COMMENT')
  }
  const name = names.at(-1)!
  const col = t.columns.find((x) => x.name === name)
  if (col === undefined || columnMeta(col).hidden === true) throw new SqlError(SqlState.undefinedColumn, `column "${name}" of relation "${t.name}" does not exist`)
  const { comment: _old, ...meta } = columnMeta(col)
  exec.tx.alterColumn(t.name, name, { meta: metaToJson(text === undefined ? meta : { ...meta, comment: text }) })
  return utility('COMMENT')
}
