/**
 * The part of a statement's conditions a federated read can send to the holder of one of
 * its tables, as SQL text over that table's columns (`"a" = 1 AND ("b" IN (2, 3) OR ..)`),
 * so the holder sends only the rows that can matter (exec/row-filter.ts applies it there).
 *
 * Only where it is plainly safe: a single SELECT (no set operation) that names the table
 * exactly once, as a FROM item (alone, or anywhere in a tree of joins; not in a subquery
 * or a view). A condition is sent when it reads no column but the table's and is strict
 * (NULL when every column of the table is NULL): comparisons of its columns with
 * constants or with each other (=, <>, <, <=, >, >=), `IN (constants)`, `BETWEEN`, and
 * AND, OR and NOT of those. It is taken from
 *
 * - the top-level AND terms of WHERE: a table row failing it can only reach a result row
 *   that WHERE drops (joined, or NULL-extended by an outer join: strict terms are then
 *   NULL);
 * - the AND terms of the ON clause of each join above the table that is INNER, or LEFT
 *   (RIGHT) with the table on its right (left) side: the join's output is the same
 *   without the rows that could never meet its ON clause.
 *
 * Every row a condition drops is one the statement drops anyway, and the rows read are
 * used by that one FROM item only, so a narrower read changes no answer: the whole
 * statement still runs here.
 */
import type { TableInfo } from '@concord/core'
import type { Node, RangeVar } from 'libpg-query'
import { nameList } from '../parser/name-list.js'

const OPERATORS = new Set(['=', '<>', '!=', '<', '<=', '>', '>='])
const FLIPPED: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }

/** What a statement pushes down to a read of one table. */
export interface PushedTerms {
  /** The condition as SQL text over the table's columns ('' for none). */
  filter: string
  /** The table is the statement's one FROM item and every top-level WHERE term is in `filter`. */
  whole: boolean
  /** The table's FROM item (null when no condition could be pushed because it was not found). */
  item: RangeVar | null
}

/** Where unqualified column names resolve: the columns of a table (undefined for a name that is not one). */
export type ColumnsOf = (relname: string) => readonly string[] | undefined

/** How often a RangeVar names `table` anywhere in `node`. */
export function mentions(node: unknown, table: string): number {
  if (!node || typeof node !== 'object') return 0
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + mentions(x, table), 0)
  const o = node as Record<string, unknown>
  const rv = o['RangeVar'] as { relname?: string } | undefined
  let n = rv?.relname === table ? 1 : 0
  for (const v of Object.values(o)) n += mentions(v, table)
  return n
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Longest parameter value sent as a literal (a longer one is not pushed: the read is only wider). */
const MAX_PARAM_LITERAL = 1024

/**
 * A constant as SQL text; null for NULL and anything not a plain literal. A parameter
 * (`$1`) is its bound value as a quoted literal: a client's parameter is evaluated here
 * as a constant of unknown type with that text (expr/compile.ts), exactly what the
 * literal is on the holder. Binary values, NULL and long ones are not pushed.
 */
function literal(node: Node, params: readonly unknown[]): string | null {
  if ('ParamRef' in node) {
    const v = params[(node.ParamRef.number ?? 0) - 1]
    return typeof v === 'string' && v.length <= MAX_PARAM_LITERAL ? `'${v.replace(/'/g, "''")}'` : null
  }
  if (!('A_Const' in node)) return null
  const c = node.A_Const
  if (c.isnull) return null
  if (c.ival !== undefined) return String(c.ival.ival ?? 0)
  if (c.fval !== undefined) return c.fval.fval !== undefined && /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(c.fval.fval) ? c.fval.fval : null
  if (c.sval !== undefined) return `'${(c.sval.sval ?? '').replace(/'/g, "''")}'`
  if (c.boolval !== undefined) return c.boolval.boolval ? 'true' : 'false'
  return null
}

type JoinNode = Extract<Node, { JoinExpr: unknown }>['JoinExpr']

/** The AND terms of a condition. */
function andTerms(n: Node | undefined): Node[] {
  if (n === undefined) return []
  return 'BoolExpr' in n && n.BoolExpr.boolop === 'AND_EXPR' ? (n.BoolExpr.args ?? []) : [n]
}

/**
 * The path of joins from a FROM list down to the item naming `table`: the item and, per
 * join above it, whether its ON terms may be pushed (INNER; LEFT/RIGHT from the side
 * NULL-extended). Null when the table is not a FROM item.
 */
function findItem(items: readonly Node[], table: string): { rv: RangeVar; on: Node[] } | null {
  const visit = (n: Node): { rv: RangeVar; on: Node[] } | null => {
    if ('RangeVar' in n) return n.RangeVar.relname === table ? { rv: n.RangeVar, on: [] } : null
    if (!('JoinExpr' in n)) return null
    const j: JoinNode = n.JoinExpr
    for (const [side, child] of [['left', j.larg], ['right', j.rarg]] as const) {
      if (child === undefined) continue
      const found = visit(child)
      if (found === null) continue
      const kind = j.jointype ?? 'JOIN_INNER'
      const pushable = kind === 'JOIN_INNER' || (kind === 'JOIN_LEFT' && side === 'right') || (kind === 'JOIN_RIGHT' && side === 'left')
      if (pushable) found.on.push(...andTerms(j.quals))
      return found
    }
    return null
  }
  for (const item of items) {
    const found = visit(item)
    if (found !== null) return found
  }
  return null
}

/** The column names every FROM item provides; null when some item's columns are not known (a subquery, a function, a view). */
function otherColumns(items: readonly Node[], except: RangeVar, columnsOf: ColumnsOf): Set<string> | null {
  const out = new Set<string>()
  const visit = (n: Node): boolean => {
    if ('RangeVar' in n) {
      if (n.RangeVar === except) return true
      if (n.RangeVar.alias?.colnames?.length) return false
      const cols = n.RangeVar.relname === undefined ? undefined : columnsOf(n.RangeVar.relname)
      if (cols === undefined) return false
      for (const c of cols) out.add(c)
      return true
    }
    if ('JoinExpr' in n) {
      const j = n.JoinExpr
      if (j.alias !== undefined) return false
      return (j.larg === undefined || visit(j.larg)) && (j.rarg === undefined || visit(j.rarg))
    }
    return false
  }
  return items.every(visit) ? out : null
}

/**
 * What `node` pushes down to a federated read of `info` (see the header). `params`: the
 * client's bound parameters (text, or bytes), which its `$n` stand for.
 */
export function pushdownTerms(node: Node, info: TableInfo, columnsOf: ColumnsOf, params: readonly unknown[] = []): PushedTerms {
  const none: PushedTerms = { filter: '', whole: false, item: null }
  if (!('SelectStmt' in node)) return none
  const s = node.SelectStmt
  if ((s.op !== undefined && s.op !== 'SETOP_NONE') || mentions(node, info.name) !== 1) return none
  const from = s.fromClause ?? []
  const found = findItem(from, info.name)
  if (found === null) return none
  const rv = found.rv
  if ((rv.schemaname !== undefined && rv.schemaname !== 'public') || rv.alias?.colnames?.length) return none
  const qualifier = rv.alias?.aliasname ?? info.name
  const columns = new Set(info.columns.map((c) => c.name))
  // An unqualified name is the table's only when no other FROM item has a column of that name.
  const others = from.length === 1 && 'RangeVar' in from[0]! ? new Set<string>() : otherColumns(from, rv, columnsOf)
  /** The table's column a reference names; null when it is not plainly one. */
  const column = (n: Node): string | null => {
    if (!('ColumnRef' in n)) return null
    const names = nameList(n.ColumnRef.fields)
    if (names.length !== (n.ColumnRef.fields ?? []).length) return null
    if (names.length === 2 && names[0] === qualifier && columns.has(names[1]!)) return names[1]!
    if (names.length === 1 && columns.has(names[0]!) && others !== null && !others.has(names[0]!)) return names[0]!
    return null
  }
  const operand = (n: Node): string | null => {
    const c = column(n)
    return c !== null ? quoteIdent(c) : literal(n, params)
  }
  /** A strict condition over the table's columns alone, as SQL text; null when it is not one. */
  const render = (n: Node, depth: number): string | null => {
    if (depth > 32) return null
    if ('BoolExpr' in n) {
      const args = (n.BoolExpr.args ?? []).map((a) => render(a, depth + 1))
      if (args.length === 0 || args.some((a) => a === null)) return null
      if (n.BoolExpr.boolop === 'NOT_EXPR') return args.length === 1 ? `(NOT ${args[0]})` : null
      const op = n.BoolExpr.boolop === 'AND_EXPR' ? ' AND ' : n.BoolExpr.boolop === 'OR_EXPR' ? ' OR ' : null
      return op === null ? null : `(${args.join(op)})`
    }
    if (!('A_Expr' in n)) return null
    const e = n.A_Expr
    const op = nameList(e.name).join('.')
    if (e.lexpr === undefined || e.rexpr === undefined) return null
    if (e.kind === 'AEXPR_OP' && OPERATORS.has(op)) {
      const lc = column(e.lexpr)
      const rc = column(e.rexpr)
      if (lc === null && rc === null) return null
      const l = operand(e.lexpr)
      const r = operand(e.rexpr)
      if (l === null || r === null) return null
      return lc === null ? `(${r} ${FLIPPED[op] ?? op} ${l})` : `(${l} ${op} ${r})`
    }
    const c = column(e.lexpr)
    if (c === null || !('List' in e.rexpr)) return null
    const items = (e.rexpr.List.items ?? []).map((i) => literal(i, params))
    if (items.length === 0 || items.some((x) => x === null)) return null
    if (e.kind === 'AEXPR_IN' && (op === '=' || op === '<>')) return `(${quoteIdent(c)} ${op === '=' ? 'IN' : 'NOT IN'} (${items.join(', ')}))`
    if ((e.kind === 'AEXPR_BETWEEN' || e.kind === 'AEXPR_NOT_BETWEEN') && items.length === 2) {
      return `(${quoteIdent(c)} ${e.kind === 'AEXPR_BETWEEN' ? 'BETWEEN' : 'NOT BETWEEN'} ${items[0]} AND ${items[1]})`
    }
    return null
  }
  const where = andTerms(s.whereClause)
  const out: string[] = []
  let whole = from.length === 1 && 'RangeVar' in from[0]!
  for (const t of where) {
    const r = render(t, 0)
    if (r === null) whole = false
    else out.push(r)
  }
  for (const t of found.on) {
    const r = render(t, 0)
    if (r !== null) out.push(r)
  }
  return { filter: out.join(' AND '), whole, item: rv }
}
