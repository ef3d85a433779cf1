/**
 * The holder's side of a pushed-down read (placement/pushdown-read.ts): the request text a
 * federated read carries, compiled against the table's columns (core `Replica.setRowFilter`)
 * into a predicate over stored rows, or, for the `SELECT cols WHERE .. ORDER BY .. LIMIT n`
 * form, a `RowSelection` (columns, order, limit). The text comes from a peer, so only
 * plain shapes are accepted: conditions of comparisons, IN and BETWEEN over columns and
 * constants under AND/OR/NOT; a select list of plain columns (or `*`); ORDER BY plain
 * columns; a constant LIMIT. Anything else (a function, a subquery) is refused and every
 * row and column is sent instead: the reader runs its whole statement again, so what
 * the holder applies only narrows what crosses the network.
 */
import type { Row, RowSelection, TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { decodeRow, readColumn, tableColumns } from '../catalog/column-read.js'
import type { ExecCtx } from '../runtime/context.js'
import { rootPlanCtx } from './plan-root.js'
import { compilePredicate } from '../expr/compile.js'
import { Scope } from '../relation/scope.js'
import { parseScript } from '../parser/parse.js'
import { makeCompileCtx } from '../plan/plan-context.js'
import { nameList } from '../parser/name-list.js'
import { compareValues } from '../types/compare.js'
import { sortNullsFirst } from '../parser/sort-direction.js'

/** Node kinds a filter from a peer may contain. */
const ALLOWED = new Set(['A_Expr', 'BoolExpr', 'ColumnRef', 'A_Const', 'String', 'Integer', 'Float', 'Boolean', 'List'])

function plain(node: unknown): boolean {
  if (!node || typeof node !== 'object') return true
  if (Array.isArray(node)) return node.every(plain)
  return Object.entries(node as Record<string, unknown>).every(([k, v]) => {
    if (/^[A-Z]/.test(k) && !ALLOWED.has(k)) return false
    return plain(v)
  })
}

/** Most rows a pushed limit may ask for. */
const MAX_LIMIT = 1_000_000

/** A predicate over `table`'s stored rows for `filter` (or a selection, for the SELECT form); null when it is not plain SQL of an allowed shape. */
export function compileRowFilter(ctx: ExecCtx, table: TableInfo, filter: string): ((row: Row) => boolean) | RowSelection | null {
  if (/^SELECT\s/i.test(filter)) return compileSelection(ctx, table, filter)
  const stmts = parseScript(`SELECT (${filter})`)
  const stmt = stmts[0]
  if (stmts.length !== 1 || stmt?.kind !== 'pg' || !('SelectStmt' in stmt.node)) return null
  const sel = stmt.node.SelectStmt
  const target = sel.targetList?.[0]
  if (sel.fromClause || sel.whereClause || sel.targetList?.length !== 1 || !target || !('ResTarget' in target) || !target.ResTarget.val) return null
  const expr: Node = target.ResTarget.val
  if (!plain(expr)) return null
  const cols = tableColumns(table, table.name)
  const pred = compilePredicate(expr, makeCompileCtx(rootPlanCtx(ctx), new Scope(cols)), 'WHERE')
  return (row) => pred({ row: decodeRow(row, cols), outer: null })
}

/** `SELECT cols [WHERE cond] [ORDER BY cols] [LIMIT n]` over `table`'s columns; null when it is not of that plain shape. */
function compileSelection(ctx: ExecCtx, table: TableInfo, text: string): RowSelection | null {
  const stmts = parseScript(text)
  const stmt = stmts[0]
  if (stmts.length !== 1 || stmt?.kind !== 'pg' || !('SelectStmt' in stmt.node)) return null
  const sel = stmt.node.SelectStmt
  if (sel.fromClause || sel.groupClause || sel.havingClause || sel.distinctClause || sel.withClause || sel.limitOffset || (sel.op !== undefined && sel.op !== 'SETOP_NONE')) return null
  // A holder applying a plain LIMIT where ties were asked for would send too few rows.
  if (sel.limitOption === 'LIMIT_OPTION_WITH_TIES') return null
  const names = new Set(table.columns.map((c) => c.name))
  const column = (n: Node | undefined): string | null => {
    if (n === undefined || !('ColumnRef' in n)) return null
    const ref = nameList(n.ColumnRef.fields)
    return ref.length === 1 && (n.ColumnRef.fields ?? []).length === 1 && names.has(ref[0]!) ? ref[0]! : null
  }
  let columns: string[] | null = []
  for (const t of sel.targetList ?? []) {
    if (!('ResTarget' in t) || t.ResTarget.name !== undefined || t.ResTarget.val === undefined) return null
    const v = t.ResTarget.val
    if ('ColumnRef' in v && (v.ColumnRef.fields ?? []).length === 1 && 'A_Star' in v.ColumnRef.fields![0]!) columns = null
    else if (columns !== null) {
      const c = column(v)
      if (c === null) return null
      columns.push(c)
    } else return null
  }
  if (columns !== null && columns.length === 0) return null
  const cols = tableColumns(table, table.name)
  let keep: (row: Row) => boolean = () => true
  if (sel.whereClause !== undefined) {
    if (!plain(sel.whereClause)) return null
    const pred = compilePredicate(sel.whereClause, makeCompileCtx(rootPlanCtx(ctx), new Scope(cols)), 'WHERE')
    keep = (row) => pred({ row: decodeRow(row, cols), outer: null })
  }
  let limit: number | null = null
  if (sel.limitCount !== undefined) {
    const l = sel.limitCount
    if (!('A_Const' in l) || l.A_Const.ival === undefined) return null
    limit = l.A_Const.ival.ival ?? 0
    if (limit < 0 || limit > MAX_LIMIT) return null
  }
  const keys: Array<{ at: number; desc: boolean; nullsFirst: boolean }> = []
  for (const item of sel.sortClause ?? []) {
    if (!('SortBy' in item) || item.SortBy.sortby_dir === 'SORTBY_USING') return null
    const c = column(item.SortBy.node)
    if (c === null) return null
    const desc = item.SortBy.sortby_dir === 'SORTBY_DESC'
    keys.push({ at: cols.findIndex((b) => b.name === c), desc, nullsFirst: sortNullsFirst(item.SortBy, desc) })
  }
  // The order a reader's sort uses for plain columns (plan/select.ts sortRows).
  const order = keys.length === 0 ? null : (a: Row, b: Row): number => {
    for (const k of keys) {
      const col = cols[k.at]!
      const x = readColumn(a[col.name], col)
      const y = readColumn(b[col.name], col)
      if (x === null || y === null) {
        if (x === y) continue
        return (x === null) === k.nullsFirst ? -1 : 1
      }
      const c = compareValues(x, y)
      if (c !== 0) return k.desc ? -c : c
    }
    return 0
  }
  return { keep, columns, limit, order }
}
