/**
 * The part of a statement's WHERE clause a federated read can send to the holder, as SQL
 * text over the table's columns (`"col" op literal AND ..`), so the holder sends only the
 * rows that can matter (exec/row-filter.ts applies it there).
 *
 * Only where it is plainly safe: a single SELECT (no set operation) that names the table
 * exactly once, as an item of its own FROM list (not in a join, a subquery or a view), and
 * only top-level AND terms comparing one of the table's columns with a constant
 * (=, <>, <, <=, >, >=). Every row the WHERE clause keeps meets each such term, and the
 * rows read are used by that one FROM item only, so a narrower read changes no answer:
 * the whole WHERE clause still runs here. Anything else sends no filter ('').
 */
import type { TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { nameList } from '../parser/name-list.js'

const OPERATORS = new Set(['=', '<>', '!=', '<', '<=', '>', '>='])
const FLIPPED: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' }

/** How often a RangeVar names `table` anywhere in `node`. */
function mentions(node: unknown, table: string): number {
  if (!node || typeof node !== 'object') return 0
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + mentions(x, table), 0)
  const o = node as Record<string, unknown>
  const rv = o['RangeVar'] as { relname?: string } | undefined
  let n = rv?.relname === table ? 1 : 0
  for (const v of Object.values(o)) n += mentions(v, table)
  return n
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** A constant as SQL text; null for NULL and anything not a plain literal. */
function literal(node: Node): string | null {
  if (!('A_Const' in node)) return null
  const c = node.A_Const
  if (c.isnull) return null
  if (c.ival !== undefined) return String(c.ival.ival ?? 0)
  if (c.fval !== undefined) return c.fval.fval !== undefined && /^-?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$/.test(c.fval.fval) ? c.fval.fval : null
  if (c.sval !== undefined) return `'${(c.sval.sval ?? '').replace(/'/g, "''")}'`
  if (c.boolval !== undefined) return c.boolval.boolval ? 'true' : 'false'
  return null
}

/** The filter to send with a federated read of `info` for statement `node` ('' for none). */
export function pushdownFilter(node: Node, info: TableInfo): string {
  if (!('SelectStmt' in node)) return ''
  const s = node.SelectStmt
  if ((s.op !== undefined && s.op !== 'SETOP_NONE') || !s.whereClause || mentions(node, info.name) !== 1) return ''
  const from = s.fromClause ?? []
  const item = from.find((f) => 'RangeVar' in f && f.RangeVar.relname === info.name)
  if (item === undefined || !('RangeVar' in item)) return ''
  const rv = item.RangeVar
  if (rv.schemaname !== undefined && rv.schemaname !== 'public') return ''
  const qualifier = rv.alias?.aliasname ?? info.name
  const columns = new Set(info.columns.map((c) => c.name))
  /** The table's column a reference names; null when it is not plainly one. */
  const column = (n: Node): string | null => {
    if (!('ColumnRef' in n)) return null
    const names = nameList(n.ColumnRef.fields)
    if (names.length === 2 && names[0] === qualifier && columns.has(names[1]!)) return names[1]!
    // Unqualified: only when the table is the statement's one FROM item.
    if (names.length === 1 && from.length === 1 && columns.has(names[0]!)) return names[0]!
    return null
  }
  const where = s.whereClause
  const terms = 'BoolExpr' in where && where.BoolExpr.boolop === 'AND_EXPR' ? (where.BoolExpr.args ?? []) : [where]
  const out: string[] = []
  for (const t of terms) {
    if (!('A_Expr' in t) || t.A_Expr.kind !== 'AEXPR_OP' || !t.A_Expr.lexpr || !t.A_Expr.rexpr) continue
    const op = nameList(t.A_Expr.name).join('.')
    if (!OPERATORS.has(op)) continue
    const l = t.A_Expr.lexpr
    const r = t.A_Expr.rexpr
    const lc = column(l)
    const rc = column(r)
    if (lc !== null && rc === null) {
      const v = literal(r)
      if (v !== null) out.push(`${quoteIdent(lc)} ${op} ${v}`)
    } else if (rc !== null && lc === null) {
      const v = literal(l)
      if (v !== null) out.push(`${quoteIdent(rc)} ${FLIPPED[op] ?? op} ${v}`)
    }
  }
  return out.join(' AND ')
}
