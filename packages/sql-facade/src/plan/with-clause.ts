/**
 * WITH: common table expressions for SELECT, INSERT, UPDATE and DELETE.
 *
 * - A plain CTE is planned once and its rows computed at most once per statement.
 * - WITH RECURSIVE: a CTE whose query is `non-recursive term UNION [ALL] recursive term`
 *   and whose recursive term reads the CTE itself is evaluated as PostgreSQL does: the
 *   working table starts as the non-recursive rows and each round runs the recursive term
 *   over the previous round's new rows until a round yields none (UNION also drops rows
 *   already produced). Columns take the non-recursive term's types.
 * - A data-modifying CTE (INSERT/UPDATE/DELETE .. RETURNING) runs exactly once, when the
 *   statement is planned, whether or not it is referenced; its RETURNING rows are the
 *   CTE's rows. Unlike PostgreSQL, the main query sees the CTE's writes (there are no
 *   snapshots inside one core transaction).
 */
import type { SelectStmt, WithClause } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { nameList } from '../parser/name-list.js'
import type { ColumnBinding, Env, Scope } from '../relation/scope.js'
import { rowKey } from '../types/compare.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'
import type { CteMap, PlanCtx } from './plan-context.js'

/** Rows one recursive CTE may produce before the statement is stopped (runaway recursion). */
const MAX_RECURSIVE_ROWS = 10_000_000

export function planWithClause(w: WithClause, p: PlanCtx, parent: Scope | null): PlanCtx {
  const ctes: CteMap = new Map(p.ctes)
  const seen = new Set<string>()
  for (const c of w.ctes ?? []) {
    if (!('CommonTableExpr' in c)) continue
    const cte = c.CommonTableExpr
    const name = cte.ctename!
    if (seen.has(name)) throw new SqlError(SqlState.duplicateAlias, `WITH query name "${name}" specified more than once`)
    seen.add(name)
    const q = cte.ctequery
    const inner: PlanCtx = { ...p, ctes }
    const names = nameList(cte.aliascolnames)
    const label = (rel: Relation): ColumnBinding[] => rel.columns.map((col, i) => ({ ...col, name: names[i] ?? col.name, table: name }))
    if (q && ('InsertStmt' in q || 'UpdateStmt' in q || 'DeleteStmt' in q)) {
      const result = inner.sub.modify(q, inner)
      const rel: Relation = { columns: result.columns, rows: () => result.rows }
      ctes.set(name, { relation: { columns: label(rel), rows: () => result.rows }, noReturning: result.columns.length === 0 })
      continue
    }
    if (!q || !('SelectStmt' in q)) throw new SqlError(SqlState.featureNotSupported, 'this statement is not supported in WITH')
    const sel = q.SelectStmt
    if (w.recursive && referencesName(sel, name)) {
      ctes.set(name, { relation: planRecursive(sel, name, names, inner, parent) })
      continue
    }
    const rel = inner.sub.select(sel, inner, parent)
    let memo: RtValue[][] | null = null
    ctes.set(name, { relation: { columns: label(rel), rows: (outer) => (memo ??= rel.rows(outer)) } })
  }
  return { ...p, ctes }
}

/** Whether a parse tree reads a relation called `name` (a self-reference of a recursive CTE). */
function referencesName(node: unknown, name: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => referencesName(x, name))
  const o = node as Record<string, unknown>
  const rv = o.RangeVar as { relname?: string; schemaname?: string } | undefined
  if (rv && rv.relname === name && !rv.schemaname) return true
  return Object.values(o).some((v) => referencesName(v, name))
}

function planRecursive(sel: SelectStmt, name: string, names: string[], p: PlanCtx, parent: Scope | null): Relation {
  if (sel.op !== 'SETOP_UNION' || !sel.larg || !sel.rarg) {
    throw new SqlError(SqlState.invalidRecursion, `recursive query "${name}" does not have the form non-recursive-term UNION [ALL] recursive-term`)
  }
  if (referencesName(sel.larg, name)) throw new SqlError(SqlState.invalidRecursion, `recursive reference to query "${name}" must not appear within its non-recursive term`)
  const base = p.sub.select(sel.larg, p, parent)
  const columns: ColumnBinding[] = base.columns.map((c, i) => ({ ...c, name: names[i] ?? c.name, table: name }))
  let working: RtValue[][] = []
  const self: Relation = { columns, rows: () => working }
  const ctes: CteMap = new Map(p.ctes)
  ctes.set(name, { relation: self })
  const step = p.sub.select(sel.rarg, { ...p, ctes }, parent)
  if (step.columns.length !== columns.length) throw new SqlError(SqlState.syntaxError, 'each UNION query must have the same number of columns')
  const conv = step.columns.map((c, i) => coerce({ type: c.type, eval: (env: Env) => env.row[i]! }, columns[i]!.type, 'assignment', p.exec.nowMicros).eval)
  const all = !!sel.all
  let memo: RtValue[][] | null = null
  const run = (outer: Env | null): RtValue[][] => {
    const out: RtValue[][] = []
    const seen = new Set<string>()
    const keep = (rows: RtValue[][]): RtValue[][] => {
      if (all) return rows
      return rows.filter((r) => {
        const k = rowKey(r)
        if (seen.has(k)) return false
        seen.add(k)
        return true
      })
    }
    working = keep(base.rows(outer))
    out.push(...working)
    while (working.length > 0) {
      p.exec.budget.spend(working.length)
      const next = keep(step.rows(outer).map((row) => conv.map((f) => f({ row, outer: null }))))
      if (out.length + next.length > MAX_RECURSIVE_ROWS) throw new SqlError(SqlState.statementTooComplex, `recursive query "${name}" produced more than ${MAX_RECURSIVE_ROWS} rows`)
      out.push(...next)
      working = next
    }
    return out
  }
  return { columns, rows: (outer) => (memo ??= run(outer)) }
}

