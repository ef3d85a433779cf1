/**
 * SEARCH and CYCLE clauses of a recursive CTE: the columns they add and how each row's
 * values of those columns follow from the row that produced it.
 *
 * - `SEARCH DEPTH FIRST BY c.. SET seq`: seq is the path of `ROW(c..)` values from the
 *   non-recursive row down to this one (`record[]`); ordering by it lists rows depth first.
 * - `SEARCH BREADTH FIRST BY c.. SET seq`: seq is `ROW(depth, c..)` (depth a bigint from 0);
 *   ordering by it lists rows level by level.
 * - `CYCLE c.. SET mark [TO v DEFAULT d] USING path`: path is the `ROW(c..)` path as above;
 *   a row whose `ROW(c..)` already is in its parent's path gets mark = v (else d) and is
 *   not expanded further, so a cyclic graph ends.
 *
 * The added columns follow the CTE's own columns (seq, then mark and path). Inside the
 * recursive term they can be named but `*` does not list them, as in PostgreSQL.
 *
 * Invariants: the clause is validated against the CTE's column list with PostgreSQL's
 * SQLSTATEs before anything runs; `extend` never changes the CTE's own columns.
 */
import type { CTECycleClause, CTESearchClause, Node, SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr, unify } from '../expr/compile.js'
import { Scope, type ColumnBinding } from '../relation/scope.js'
import { nameList } from '../parser/name-list.js'
import { SqlArray } from '../types/array.js'
import { compareValues } from '../types/compare.js'
import { RowValue } from '../types/row-type.js'
import { arrayOf, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'

/** What the clauses add to a recursive CTE's rows. */
export interface SearchCycle {
  /** The added columns, in output order. */
  columns: ColumnBinding[]
  /** Added values of a row of the non-recursive term (its own columns only). */
  start(row: RtValue[]): RtValue[]
  /** Added values of a row the recursive term produced from `parent` (a full row). */
  next(parent: RtValue[], row: RtValue[]): RtValue[]
  /** Whether the recursive term runs over this (full) row: not when it closes a cycle. */
  expands(row: RtValue[]): boolean
}

/** PostgreSQL's shape rules for a recursive query carrying SEARCH or CYCLE (0A000). */
export function checkSearchCycleShape(sel: SelectStmt, name: string): void {
  if (sel.larg?.op && sel.larg.op !== 'SETOP_NONE') {
    throw new SqlError(SqlState.featureNotSupported, 'with a SEARCH or CYCLE clause, the left side of the UNION must be a SELECT')
  }
  const r = sel.rarg
  if (r?.op && r.op !== 'SETOP_NONE') throw new SqlError(SqlState.syntaxError, 'with a SEARCH or CYCLE clause, the right side of the UNION must be a SELECT')
  const shadowed = (r?.withClause?.ctes ?? []).some((c) => 'CommonTableExpr' in c && c.CommonTableExpr.ctename === name)
  if (shadowed || !(r?.fromClause ?? []).some((item) => topLevelReference(item, name))) {
    throw new SqlError(SqlState.featureNotSupported, `with a SEARCH or CYCLE clause, the recursive reference to WITH query "${name}" must be at the top level of its right-hand SELECT`)
  }
}

function topLevelReference(item: Node, name: string): boolean {
  if ('RangeVar' in item) return item.RangeVar.relname === name && !item.RangeVar.schemaname
  if ('JoinExpr' in item) {
    const j = item.JoinExpr
    return (!!j.larg && topLevelReference(j.larg, name)) || (!!j.rarg && topLevelReference(j.rarg, name))
  }
  return false
}

/** Positions of the named columns in `cols`, with the clause's errors for unknown and repeated names. */
function positions(list: Node[] | undefined, cols: string[], what: 'search' | 'cycle'): number[] {
  const out: number[] = []
  for (const n of nameList(list)) {
    const i = cols.indexOf(n)
    if (i < 0) throw new SqlError(SqlState.syntaxError, `${what} column "${n}" not in WITH query column list`)
    if (out.includes(i)) throw new SqlError(SqlState.duplicateColumn, `${what} column "${n}" specified more than once`)
    out.push(i)
  }
  return out
}

function rowType(cols: ColumnBinding[], at: number[], lead: SqlType[] = []): SqlType {
  const types = [...lead, ...at.map((i) => cols[i]!.type)]
  return { id: 'record', fields: types.map((type, k) => ({ name: `f${k + 1}`, type })) }
}

function append(path: RtValue, item: RowValue): SqlArray {
  const items = path instanceof SqlArray ? path.items : []
  return new SqlArray([items.length + 1], [1], [...items, item])
}

/** record_eq: true when every field is equal and none is NULL. */
function sameRow(a: RowValue, b: RowValue): boolean {
  for (let i = 0; i < a.items.length; i++) {
    const x = a.items[i] as RtValue
    const y = b.items[i] as RtValue
    if (x === null || y === null || compareValues(x, y) !== 0) return false
  }
  return true
}

/**
 * The added columns of `search`/`cycle` over a CTE whose own columns are `cols`;
 * null when the CTE has neither clause.
 */
export function planSearchCycle(search: CTESearchClause | undefined, cycle: CTECycleClause | undefined, cols: ColumnBinding[], p: PlanCtx, parent: Scope | null): SearchCycle | null {
  if (!search && !cycle) return null
  const names = cols.map((c) => c.name)
  const table = cols[0]?.table ?? null
  const extra: ColumnBinding[] = []
  const width = cols.length
  let searchAt: number[] = []
  const breadth = !!search?.search_breadth_first
  if (search) {
    searchAt = positions(search.search_col_list, names, 'search')
    const seq = search.search_seq_column!
    if (names.includes(seq)) throw new SqlError(SqlState.syntaxError, `search sequence column name "${seq}" already used in WITH query column list`)
    const t = breadth ? rowType(cols, searchAt, [T.int8]) : arrayOf(rowType(cols, searchAt))
    extra.push({ name: seq, table, type: t })
  }
  let cycleAt: number[] = []
  let mark: RtValue = null
  let unmarked: RtValue = null
  if (cycle) {
    cycleAt = positions(cycle.cycle_col_list, names, 'cycle')
    const markName = cycle.cycle_mark_column!
    const pathName = cycle.cycle_path_column!
    if (names.includes(markName)) throw new SqlError(SqlState.syntaxError, `cycle mark column name "${markName}" already used in WITH query column list`)
    if (names.includes(pathName)) throw new SqlError(SqlState.syntaxError, `cycle path column name "${pathName}" already used in WITH query column list`)
    if (markName === pathName) throw new SqlError(SqlState.syntaxError, 'cycle mark column name and cycle path column name are the same')
    if (search?.search_seq_column === markName) throw new SqlError(SqlState.syntaxError, 'search sequence column name and cycle mark column name are the same')
    if (search?.search_seq_column === pathName) throw new SqlError(SqlState.syntaxError, 'search sequence column name and cycle path column name are the same')
    const cctx = makeCompileCtx(p, new Scope([], parent))
    const v = compileExpr(cycle.cycle_mark_value!, cctx)
    const d = compileExpr(cycle.cycle_mark_default!, cctx)
    const t = unify([v.type, d.type], 'CYCLE')
    const env = { row: [], outer: null }
    mark = coerce(v, t, 'implicit', p.exec.nowMicros).eval(env)
    unmarked = coerce(d, t, 'implicit', p.exec.nowMicros).eval(env)
    extra.push({ name: markName, table, type: t }, { name: pathName, table, type: arrayOf(rowType(cols, cycleAt)) })
  }
  const pick = (row: RtValue[], at: number[]) => new RowValue(at.map((i) => row[i]!) as RowValue['items'])
  const seqAt = width
  const markAt = width + (search ? 1 : 0)
  return {
    columns: extra,
    start: (row) => {
      const out: RtValue[] = []
      if (search) out.push(breadth ? new RowValue([0n, ...pick(row, searchAt).items]) : append(null, pick(row, searchAt)))
      if (cycle) out.push(unmarked, append(null, pick(row, cycleAt)))
      return out
    },
    next: (parentRow, row) => {
      const out: RtValue[] = []
      if (search) {
        const prev = parentRow[seqAt]
        const key = pick(row, searchAt)
        out.push(breadth ? new RowValue([((prev as RowValue).items[0] as bigint) + 1n, ...key.items]) : append(prev!, key))
      }
      if (cycle) {
        const path = parentRow[markAt + 1]!
        const key = pick(row, cycleAt)
        const closes = path instanceof SqlArray && path.items.some((x) => x instanceof RowValue && sameRow(x, key))
        out.push(closes ? mark : unmarked, append(path, key))
      }
      return out
    },
    // PostgreSQL adds `mark <> v` to the recursive term: a NULL either side stops the row too.
    expands: (row) => !cycle || (row[markAt] !== null && mark !== null && compareValues(row[markAt]!, mark) !== 0),
  }
}
