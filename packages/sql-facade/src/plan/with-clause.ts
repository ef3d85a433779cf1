/**
 * WITH: common table expressions for SELECT, INSERT, UPDATE and DELETE.
 *
 * - A plain CTE is planned once and its rows computed at most once per statement (per
 *   row of the enclosing query when the WITH is inside a subquery).
 * - WITH RECURSIVE items may name siblings listed after them; they are planned in
 *   dependency order.
 * - WITH RECURSIVE: a CTE that reads itself is evaluated by plan/recursive-cte.ts.
 * - A plain CTE that reads a recursive CTE's working table (inside its recursive term) is
 *   not memoized: the working table changes every round.
 * - A data-modifying CTE (INSERT/UPDATE/DELETE .. RETURNING) runs exactly once, when the
 *   statement is planned, whether or not it is referenced; its RETURNING rows are the
 *   CTE's rows. Unlike PostgreSQL, the main query sees the CTE's writes (there are no
 *   snapshots inside one core transaction).
 */
import type { CommonTableExpr, SelectStmt, WithClause } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import type { ColumnBinding, Env, Scope } from '../relation/scope.js'
import { rowKey } from '../types/compare.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'
import type { CteEntry, CteMap, PlanCtx } from './plan-context.js'
import { planRecursive, referencesName } from './recursive-cte.js'

export function planWithClause(w: WithClause, p: PlanCtx, parent: Scope | null): PlanCtx {
  const ctes = new Map<string, CteEntry>(p.ctes)
  const seen = new Set<string>()
  const list = (w.ctes ?? []).flatMap((c) => ('CommonTableExpr' in c ? [c.CommonTableExpr] : []))
  for (const cte of list) {
    const name = cte.ctename!
    if (seen.has(name)) throw new SqlError(SqlState.duplicateAlias, `WITH query name "${name}" specified more than once`)
    seen.add(name)
  }
  for (const cte of w.recursive ? dependencyOrder(list) : list) {
    const name = cte.ctename!
    const q = cte.ctequery
    let inner: PlanCtx = { ...p, ctes }
    const names = nameList(cte.aliascolnames)
    const label = (rel: Relation): ColumnBinding[] => {
      if (names.length > rel.columns.length) {
        throw new SqlError(SqlState.invalidColumnReference, `WITH query "${name}" has ${rel.columns.length} columns available but ${names.length} columns specified`)
      }
      return rel.columns.map((col, i) => ({ ...col, name: names[i] ?? col.name, table: name }))
    }
    if (q && ('InsertStmt' in q || 'UpdateStmt' in q || 'DeleteStmt' in q)) {
      const result = inner.sub.modify(q, inner)
      const rel: Relation = { columns: result.columns, rows: () => result.rows }
      ctes.set(name, { relation: { columns: label(rel), rows: () => result.rows }, noReturning: result.columns.length === 0 })
      continue
    }
    if (!q || !('SelectStmt' in q)) throw new SqlError(SqlState.featureNotSupported, 'this statement is not supported in WITH')
    let sel = q.SelectStmt
    if (w.recursive && referencesName(sel, name)) {
      // `WITH RECURSIVE t AS (WITH s AS (..) a UNION b)`: s is seen by both terms.
      if (sel.withClause && sel.op && sel.op !== 'SETOP_NONE') {
        inner = planWithClause(sel.withClause, inner, parent)
        sel = { ...sel, withClause: undefined }
      }
      const rel = planRecursive(cte, sel, names, inner, parent)
      label(rel)
      ctes.set(name, { relation: rel, home: { scope: parent } })
      continue
    }
    const rel = inner.sub.select(sel, inner, parent)
    ctes.set(name, { relation: { columns: label(rel), rows: memoized(rel, sel, ctes, parent) }, home: { scope: parent } })
  }
  return { ...p, ctes }
}

/**
 * A plain CTE's rows, computed once per statement; once per row of the enclosing query
 * when the WITH sits in a subquery (it may read that row); every time when it reads a
 * recursive CTE's working table, which changes every round.
 */
function memoized(rel: Relation, sel: SelectStmt, ctes: CteMap, parent: Scope | null): Relation['rows'] {
  if ([...ctes].some(([n, e]) => e.recursiveSelf && referencesName(sel, n))) return rel.rows
  if (parent) {
    const perOuter = new WeakMap<Env, RtValue[][]>()
    let top: RtValue[][] | null = null
    return (outer) => {
      if (!outer) return (top ??= rel.rows(outer))
      let rows = perOuter.get(outer)
      if (!rows) perOuter.set(outer, (rows = rel.rows(outer)))
      return rows
    }
  }
  let memo: RtValue[][] | null = null
  return (outer) => (memo ??= rel.rows(outer))
}

/**
 * WITH RECURSIVE items in an order where each comes after the siblings it reads (a
 * forward reference is allowed there); two items reading each other are refused as
 * PostgreSQL does.
 */
function dependencyOrder(list: CommonTableExpr[]): CommonTableExpr[] {
  const names = list.map((c) => c.ctename!)
  const deps = new Map(list.map((c) => [c.ctename!, names.filter((n) => n !== c.ctename && referencesName(c.ctequery, n))]))
  const out: CommonTableExpr[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (c: CommonTableExpr): void => {
    const name = c.ctename!
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') throw new SqlError(SqlState.featureNotSupported, 'mutual recursion between WITH items is not implemented')
    state.set(name, 'visiting')
    for (const d of deps.get(name)!) visit(list.find((x) => x.ctename === d)!)
    state.set(name, 'done')
    out.push(c)
  }
  for (const c of list) visit(c)
  return out
}
