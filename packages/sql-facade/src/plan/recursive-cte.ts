/**
 * WITH RECURSIVE: a CTE whose query is `non-recursive term UNION [ALL] recursive term`
 * and whose recursive term reads the CTE itself, evaluated as PostgreSQL does. The working
 * table starts as the non-recursive rows; each round runs the recursive term over the
 * previous round's new rows until a round yields none (UNION also drops rows already
 * produced). Columns take the non-recursive term's types.
 *
 * Rows come out lazily (`Relation.stream`), round by round, so a query that needs only
 * the first rows (`SELECT .. FROM cte LIMIT n`) stops an unbounded recursion, as
 * PostgreSQL's demand-driven executor does. With SEARCH or CYCLE (cte-search-cycle.ts) the
 * recursive term runs once per working row, so each new row knows the row it came from.
 *
 * Invariants: the recursive term always reads exactly the working table of the round it
 * runs for (set just before it runs, so an interleaved read of the same CTE cannot leak
 * into it); a runaway recursion stops at MAX_RECURSIVE_ROWS (54001) or the statement
 * budget, whichever comes first.
 */
import type { CommonTableExpr, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import type { ColumnBinding, Env, Scope } from '../relation/scope.js'
import { rowKey } from '../types/compare.js'
import type { RtValue } from '../types/value.js'
import { checkSearchCycleShape, planSearchCycle } from './cte-search-cycle.js'
import { checkRecursiveColumnTypes, checkRecursiveQuery } from './recursive-term-check.js'
import type { Relation } from '../relation/relation.js'
import type { CteEntry, CteMap, PlanCtx } from './plan-context.js'

/** Rows one recursive CTE may produce before the statement is stopped (runaway recursion). */
const MAX_RECURSIVE_ROWS = 10_000_000

/** Whether a parse tree reads a relation called `name` (a self-reference of a recursive CTE). */
export function referencesName(node: unknown, name: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => referencesName(x, name))
  const o = node as Record<string, unknown>
  const rv = o.RangeVar as { relname?: string; schemaname?: string } | undefined
  if (rv && rv.relname === name && !rv.schemaname) return true
  return Object.values(o).some((v) => referencesName(v, name))
}

export function planRecursive(cte: CommonTableExpr, sel: SelectStmt, names: string[], p: PlanCtx, parent: Scope | null): Relation {
  const name = cte.ctename!
  if (sel.op !== 'SETOP_UNION' || !sel.larg || !sel.rarg) {
    throw new SqlError(SqlState.invalidRecursion, `recursive query "${name}" does not have the form non-recursive-term UNION [ALL] recursive-term`)
  }
  if (referencesName(sel.larg, name)) throw new SqlError(SqlState.invalidRecursion, `recursive reference to query "${name}" must not appear within its non-recursive term`)
  if (cte.search_clause || cte.cycle_clause) checkSearchCycleShape(sel, name)
  checkRecursiveQuery(sel, name)
  const base = p.sub.select(sel.larg, p, parent)
  const own: ColumnBinding[] = base.columns.map((c, i) => ({ ...c, name: names[i] ?? c.name, table: name }))
  const extras = planSearchCycle(cte.search_clause, cte.cycle_clause, own, p, parent)
  const columns = extras ? [...own, ...extras.columns] : own
  let working: RtValue[][] = []
  // Inside the recursive term the added columns can be named but `*` skips them.
  const self: Relation = { columns: extras ? [...own, ...extras.columns.map((c) => ({ ...c, hidden: true }))] : own, rows: () => working }
  const ctes = new Map<string, CteEntry>(p.ctes)
  ctes.set(name, { relation: self, recursiveSelf: true })
  const step = p.sub.select(sel.rarg, { ...p, ctes }, parent)
  if (step.columns.length !== own.length) throw new SqlError(SqlState.syntaxError, 'each UNION query must have the same number of columns')
  checkRecursiveColumnTypes(name, own.map((c) => c.type), step.columns.map((c) => c.type))
  const conv = step.columns.map((c, i) => coerce({ type: c.type, eval: (env: Env) => env.row[i]! }, own[i]!.type, 'assignment', p.exec.nowMicros).eval)
  const all = !!sel.all
  const budget = p.exec.budget

  /** One round: the rows the recursive term makes from `rows`, converted to the CTE's types, with their added columns. */
  const round = (rows: RtValue[][], outer: Env | null): RtValue[][] => {
    const convert = (row: RtValue[]) => conv.map((f) => f({ row, outer: null }))
    if (!extras) {
      working = rows
      return step.rows(outer).map(convert)
    }
    const out: RtValue[][] = []
    for (const from of rows) {
      if (!extras.expands(from)) continue
      working = [from]
      for (const r of step.rows(outer)) {
        const row = convert(r)
        out.push([...row, ...extras.next(from, row)])
      }
    }
    return out
  }

  function* stream(outer: Env | null): Generator<RtValue[]> {
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
    let current = keep(extras ? base.rows(outer).map((r) => [...r, ...extras.start(r)]) : base.rows(outer))
    let produced = current.length
    yield* current
    while (current.length > 0) {
      budget.spend(current.length)
      budget.hold(current.length, current[0]?.length ?? 0)
      const next = keep(round(current, outer))
      produced += next.length
      if (produced > MAX_RECURSIVE_ROWS) throw new SqlError(SqlState.statementTooComplex, `recursive query "${name}" produced more than ${MAX_RECURSIVE_ROWS} rows`)
      yield* next
      current = next
    }
    working = []
  }

  // Nested in another recursive CTE's recursive term and reading it: new rows every round.
  if ([...p.ctes].some(([n, e]) => e.recursiveSelf && n !== name && referencesName(sel, n))) return { columns, rows: (outer) => [...stream(outer)], stream }
  // Inside a subquery (a LATERAL one may read the enclosing row): computed once per enclosing row.
  if (parent) {
    const perOuter = new WeakMap<Env, RtValue[][]>()
    let top: RtValue[][] | null = null
    return { columns, stream, rows: (outer) => {
      if (!outer) return (top ??= [...stream(outer)])
      let rows = perOuter.get(outer)
      if (!rows) perOuter.set(outer, (rows = [...stream(outer)]))
      return rows
    } }
  }
  let memo: RtValue[][] | null = null
  return { columns, rows: (outer) => (memo ??= [...stream(outer)]), stream }
}
