/**
 * The holder's side of a pushed-down filter (placement/pushdown-filter.ts): the filter text a
 * federated read carries, compiled against the table's columns into a predicate over
 * stored rows (core `Replica.setRowFilter`). The text comes from a peer, so only plain
 * terms are accepted: AND of comparisons between columns and constants; anything else
 * (a function, a subquery) is refused and every row is sent instead.
 */
import type { Row, TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import type { ExecCtx } from '../runtime/context.js'
import { rootPlanCtx } from './plan-root.js'
import { compilePredicate } from '../expr/compile.js'
import { Scope } from '../relation/scope.js'
import { parseScript } from '../parser/parse.js'
import { makeCompileCtx } from '../plan/plan-context.js'

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

/** A predicate over `table`'s stored rows for `filter`; null when the filter is not plain SQL of the allowed shape. */
export function compileRowFilter(ctx: ExecCtx, table: TableInfo, filter: string): ((row: Row) => boolean) | null {
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
