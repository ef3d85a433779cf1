/**
 * The home regions a statement's read of a homed table (home-region-column.ts) can need:
 * when its WHERE clause pins the home column, `region = 'eu-central'`,
 * `region = current_region()` or `region IN ('a', 'b')` as a top-level AND term, only
 * those regions' rows can meet it, so only their shards are read (a node of such a region
 * answers `.. WHERE region = current_region()` from its own rows, with no network).
 *
 * Only where it is plainly safe, as for the pushed-down filter (pushdown-filter.ts): a
 * single SELECT that names the table exactly once, as an item of its own FROM list (or an
 * UPDATE or DELETE naming it once, as its target), read by no view, partition or function
 * body. The whole WHERE clause still runs over the rows
 * read, so this narrows what is read, never the answer. Anything else: every region.
 */
import { homeColumn, type TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { nameList } from '../parser/name-list.js'

/** How often a RangeVar names `table` anywhere in `node` (an UPDATE's or DELETE's bare target is not counted). */
export function mentions(node: unknown, table: string): number {
  if (!node || typeof node !== 'object') return 0
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + mentions(x, table), 0)
  const o = node as Record<string, unknown>
  const rv = o['RangeVar'] as { relname?: string } | undefined
  let n = rv?.relname === table ? 1 : 0
  for (const v of Object.values(o)) n += mentions(v, table)
  return n
}

/** A region a term's side names: a string literal, or `current_region()` (this node's). */
function regionValue(node: Node, here: string): string | null {
  if ('A_Const' in node) return node.A_Const.sval !== undefined && !node.A_Const.isnull ? (node.A_Const.sval.sval ?? '') : null
  if ('TypeCast' in node && node.TypeCast.arg) return regionValue(node.TypeCast.arg, here)
  if ('FuncCall' in node) {
    const f = node.FuncCall
    const name = nameList(f.funcname)
    const plain = (f.args ?? []).length === 0 && !f.agg_star && !f.over && !f.agg_filter
    if (plain && name[name.length - 1] === 'current_region' && (name.length === 1 || name[0] === 'pg_catalog')) return here
  }
  return null
}

/**
 * The home regions `node` reads of homed table `info` (see the module header); undefined
 * for every region (or a table not homed). An UPDATE or DELETE of the table reads (and so
 * writes) only the rows its WHERE clause pins, as a SELECT does, when it names the table
 * once, as its target, and an UPDATE does not set the home column.
 */
export function homeRegionsRead(node: Node, info: TableInfo, here: string): string[] | undefined {
  const col = homeColumn(info)
  if (col === null) return undefined
  // An UPDATE's or DELETE's target is a bare RangeVar (not counted by mentions): it must be the only one.
  const target = dmlTarget(node, col)
  if (target !== undefined) {
    if (target.rv.relname !== info.name || mentions(node, info.name) !== 0) return undefined
    return pinned(target.where, target.rv, info.name, col, target.alone, here)
  }
  if (!('SelectStmt' in node) || mentions(node, info.name) !== 1) return undefined
  const s = node.SelectStmt
  if (s.op !== undefined && s.op !== 'SETOP_NONE') return undefined
  const from = s.fromClause ?? []
  const item = from.find((f) => 'RangeVar' in f && f.RangeVar.relname === info.name)
  if (item === undefined || !('RangeVar' in item)) return undefined
  return pinned(s.whereClause, item.RangeVar, info.name, col, from.length === 1, here)
}

type RangeVarNode = Extract<Node, { RangeVar: unknown }>['RangeVar']

/** The target, WHERE clause and whether the target is the only relation of an UPDATE or DELETE; undefined for other statements (and an UPDATE setting `col`). */
function dmlTarget(node: Node, col: string): { rv: RangeVarNode; where: Node | undefined; alone: boolean } | undefined {
  if ('UpdateStmt' in node) {
    const u = node.UpdateStmt
    if (u.relation === undefined) return undefined
    const sets = (u.targetList ?? []).some((t) => 'ResTarget' in t && t.ResTarget.name === col)
    return sets ? undefined : { rv: u.relation, where: u.whereClause, alone: (u.fromClause ?? []).length === 0 }
  }
  if ('DeleteStmt' in node) {
    const d = node.DeleteStmt
    return d.relation === undefined ? undefined : { rv: d.relation, where: d.whereClause, alone: (d.usingClause ?? []).length === 0 }
  }
  return undefined
}

/** The regions the top-level AND terms of `where` pin the home column `col` of `rv` to; undefined when none do. */
function pinned(where: Node | undefined, rv: RangeVarNode, table: string, col: string, alone: boolean, here: string): string[] | undefined {
  if (where === undefined) return undefined
  if (rv.schemaname !== undefined && rv.schemaname !== 'public') return undefined
  const qualifier = rv.alias?.aliasname ?? table
  const isHome = (n: Node | undefined): boolean => {
    if (n === undefined || !('ColumnRef' in n)) return false
    const names = nameList(n.ColumnRef.fields)
    if (names.length === 2) return names[0] === qualifier && names[1] === col
    return names.length === 1 && alone && names[0] === col
  }
  const terms = 'BoolExpr' in where && where.BoolExpr.boolop === 'AND_EXPR' ? (where.BoolExpr.args ?? []) : [where]
  let out: string[] | undefined
  for (const t of terms) {
    if (!('A_Expr' in t) || nameList(t.A_Expr.name).join('.') !== '=') continue
    const e = t.A_Expr
    let regions: string[] | null = null
    if (e.kind === 'AEXPR_OP' && e.lexpr && e.rexpr) {
      const v = isHome(e.lexpr) ? regionValue(e.rexpr, here) : isHome(e.rexpr) ? regionValue(e.lexpr, here) : null
      if (v !== null) regions = [v]
    } else if (e.kind === 'AEXPR_IN' && isHome(e.lexpr) && e.rexpr && 'List' in e.rexpr) {
      const vs = (e.rexpr.List.items ?? []).map((x) => regionValue(x, here))
      if (vs.every((v) => v !== null)) regions = vs as string[]
    }
    if (regions !== null) out = out === undefined ? regions : out.filter((r) => regions.includes(r))
  }
  return out
}
