/**
 * PostgreSQL's well-formedness rules for a recursive CTE, checked before it is planned
 * so that a query PostgreSQL refuses is refused here too (instead of running, or running
 * forever):
 *
 * - no ORDER BY, LIMIT, OFFSET or FOR UPDATE on the recursive query (0A000);
 * - the recursive term reads the CTE exactly once, not inside a subquery expression, on
 *   the nullable side of an outer join, or inside EXCEPT / INTERSECT ALL (42P19);
 * - no aggregate in the recursive term's own select list or HAVING (42P19);
 * - each column of the recursive term has the non-recursive term's type once both are
 *   unified (42804).
 */
import type { Node, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { isAggregate } from '../functions/aggregate.js'
import { nameList } from '../parser/name-list.js'
import { commonType, typeName, type SqlType } from '../types/sql-type.js'

type Context = 'ok' | 'subquery' | 'outer join' | 'EXCEPT' | 'INTERSECT'

/** Checks the recursive query `sel` (already known to be `a UNION [ALL] b`) of CTE `name`. */
export function checkRecursiveQuery(sel: SelectStmt, name: string): void {
  if (sel.sortClause?.length) throw new SqlError(SqlState.featureNotSupported, 'ORDER BY in a recursive query is not implemented')
  if (sel.limitOffset) throw new SqlError(SqlState.featureNotSupported, 'OFFSET in a recursive query is not implemented')
  if (sel.limitCount) throw new SqlError(SqlState.featureNotSupported, 'LIMIT in a recursive query is not implemented')
  if (sel.lockingClause?.length) throw new SqlError(SqlState.featureNotSupported, 'FOR UPDATE/SHARE in a recursive query is not implemented')
  const state = { count: 0 }
  walkSelect(sel.rarg!, name, 'ok', state)
  if (hasOwnAggregate(sel.rarg!)) throw new SqlError(SqlState.invalidRecursion, "aggregate functions are not allowed in a recursive query's recursive term")
}

const WITHIN: Record<Exclude<Context, 'ok'>, string> = { subquery: 'a subquery', 'outer join': 'an outer join', EXCEPT: 'EXCEPT', INTERSECT: 'INTERSECT' }

function selfReference(name: string, context: Context, state: { count: number }): void {
  if (context !== 'ok') throw new SqlError(SqlState.invalidRecursion, `recursive reference to query "${name}" must not appear within ${WITHIN[context]}`)
  if (++state.count > 1) throw new SqlError(SqlState.invalidRecursion, `recursive reference to query "${name}" must not appear more than once`)
}

function walkSelect(s: SelectStmt, name: string, context: Context, state: { count: number }): void {
  // An inner WITH that defines the same name hides the recursive CTE inside it.
  if ((s.withClause?.ctes ?? []).some((c) => 'CommonTableExpr' in c && c.CommonTableExpr.ctename === name)) return
  for (const c of s.withClause?.ctes ?? []) if ('CommonTableExpr' in c) walk(c.CommonTableExpr.ctequery, name, context, state)
  if (s.op && s.op !== 'SETOP_NONE') {
    if (s.op === 'SETOP_UNION') {
      walkSelect(s.larg!, name, context, state)
      walkSelect(s.rarg!, name, context, state)
    } else if (s.op === 'SETOP_INTERSECT') {
      const c: Context = s.all ? 'INTERSECT' : context
      walkSelect(s.larg!, name, c, state)
      walkSelect(s.rarg!, name, c, state)
    } else {
      walkSelect(s.larg!, name, s.all ? 'EXCEPT' : context, state)
      walkSelect(s.rarg!, name, 'EXCEPT', state)
    }
    return
  }
  walk(s.targetList, name, context, state)
  for (const item of s.fromClause ?? []) walkFrom(item, name, context, state)
  walk([s.whereClause, s.groupClause, s.havingClause, s.valuesLists], name, context, state)
}

function walkFrom(item: Node, name: string, context: Context, state: { count: number }): void {
  if ('RangeVar' in item) {
    if (item.RangeVar.relname === name && !item.RangeVar.schemaname) selfReference(name, context, state)
    return
  }
  if ('JoinExpr' in item) {
    const j = item.JoinExpr
    const left: Context = j.jointype === 'JOIN_RIGHT' || j.jointype === 'JOIN_FULL' ? 'outer join' : context
    const right: Context = j.jointype === 'JOIN_LEFT' || j.jointype === 'JOIN_FULL' ? 'outer join' : context
    if (j.larg) walkFrom(j.larg, name, left, state)
    if (j.rarg) walkFrom(j.rarg, name, right, state)
    walk(j.quals, name, context, state)
    return
  }
  if ('RangeSubselect' in item) {
    const q = item.RangeSubselect.subquery
    if (q && 'SelectStmt' in q) walkSelect(q.SelectStmt, name, context, state)
    return
  }
  walk(item, name, context, state)
}

/** Any other node: a subquery expression inside it reads in the 'subquery' context. */
function walk(node: unknown, name: string, context: Context, state: { count: number }): void {
  if (!node || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (const x of node) walk(x, name, context, state)
    return
  }
  const o = node as Record<string, unknown>
  if ('SubLink' in o) {
    const sl = o.SubLink as { testexpr?: Node; subselect?: Node }
    walk(sl.testexpr, name, context, state)
    const q = sl.subselect
    if (q && 'SelectStmt' in q) walkSelect(q.SelectStmt, name, 'subquery', state)
    return
  }
  if ('SelectStmt' in o) {
    walkSelect(o.SelectStmt as SelectStmt, name, context, state)
    return
  }
  if ('RangeVar' in o || 'JoinExpr' in o || 'RangeSubselect' in o) {
    walkFrom(o as Node, name, context, state)
    return
  }
  for (const v of Object.values(o)) walk(v, name, context, state)
}

/** Whether a SELECT's own select list or HAVING calls an aggregate (not counting subqueries or window calls). */
function hasOwnAggregate(s: SelectStmt): boolean {
  const find = (node: unknown): boolean => {
    if (!node || typeof node !== 'object') return false
    if (Array.isArray(node)) return node.some(find)
    const o = node as Record<string, unknown>
    if ('SubLink' in o) return false
    if ('FuncCall' in o) {
      const f = o.FuncCall as { funcname?: Node[]; over?: unknown; args?: Node[] }
      const names = nameList(f.funcname)
      if (!f.over && isAggregate(names[names.length - 1]!.toLowerCase())) return true
    }
    return Object.values(o).some(find)
  }
  if (s.op && s.op !== 'SETOP_NONE') return hasOwnAggregate(s.larg!) || hasOwnAggregate(s.rarg!)
  return find(s.targetList) || find(s.havingClause)
}

/** 42804 when a recursive term's column would widen the non-recursive term's type. */
export function checkRecursiveColumnTypes(name: string, base: SqlType[], step: SqlType[]): void {
  base.forEach((b, i) => {
    const s = step[i]!
    if (typeName(b) === typeName(s)) return
    const overall = commonType(b, s)
    if (!overall) throw new SqlError(SqlState.datatypeMismatch, `UNION types ${typeName(b)} and ${typeName(s)} cannot be matched`)
    if (typeName(overall) !== typeName(b)) {
      throw new SqlError(SqlState.datatypeMismatch, `recursive query "${name}" column ${i + 1} has type ${typeName(b)} in non-recursive term but type ${typeName(overall)} overall`, {
        hint: 'Cast the output of the non-recursive term to the correct type.',
      })
    }
  })
}
