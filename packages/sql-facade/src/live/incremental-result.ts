/**
 * A live query's result kept row by row, for queries where each result row is one row of
 * one table: `SELECT <columns> FROM t [WHERE ..] [ORDER BY <columns>]`. A change to some
 * rows of `t` is then handed on by running the query over only the changed rows (the
 * session sees nothing else of `t`, RowRestriction) and putting what comes back in place
 * of what those rows gave before, instead of running the query over the whole table.
 *
 * Which queries (`incrementalPlan`): one table (not partitioned, not a view), targets that
 * are plain columns (or `*`) including the whole primary key, a WHERE without subqueries
 * or function calls (so no volatile function and no read of another table), ORDER BY
 * plain columns of the table; no DISTINCT, GROUP BY, HAVING, window, set operation, WITH
 * or locking clause. Anything else re-runs whole (live-query.ts).
 *
 * `ORDER BY .. LIMIT n [OFFSET m]` (n and m constants or parameters): every row the query
 * would give without LIMIT/OFFSET is kept (`window.sql`, the query's text cut before
 * them, is what runs), and the result is the slice [m, m + n) of them, so a row that
 * leaves the page is replaced by the next one without a whole run.
 *
 * Invariants: `entries` is sorted by the ORDER BY columns (the database's comparison,
 * compare.ts; NULLS as PostgreSQL defaults them), ties by row key; each row key appears
 * at most once. Rows that tie under ORDER BY (or every row, without one) may therefore
 * come in another order than a fresh run's, which SQL leaves open too.
 */
import { encodeRowKey, type Replica, type Row, type RowChange, type TableInfo, type Value } from '@concord/core'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import type { ColumnBinding } from '../relation/scope.js'
import { toJs, type Int8Output, type JsValue, type QueryResult } from '../result-format.js'
import { compareValues } from '../types/compare.js'
import type { RtValue } from '../types/value.js'

/** Functions and values that make a WHERE clause more than a function of the row. */
const NOT_A_ROW_FILTER = ['SubLink', 'FuncCall', 'SQLValueFunction', 'CurrentOfExpr', 'RangeFunction', 'GroupingFunc']

export interface IncrementalPlan {
  table: string
  /** For each primary key column: its index in the table's columns, and in the output. */
  keyColumns: Array<{ col: number; out: number }>
  /** ORDER BY: table column index, descending, nulls first. */
  order: Array<{ col: number; desc: boolean; nullsFirst: boolean }>
  /** LIMIT/OFFSET: the query without them (run instead), and where its rows are sliced. */
  window: { sql: string; count: Bound | null; offset: Bound | null } | null
}

/** A LIMIT or OFFSET value: a constant, or the n-th parameter. */
type Bound = { value: number } | { param: number }

interface Entry {
  rk: string
  sort: RtValue[]
  row: Record<string, JsValue>
  arr: JsValue[]
}

type Json = Record<string, unknown>

/** The plan of a parsed SELECT (libpg_query's JSON), or null when it must re-run whole. */
export function incrementalPlan(select: Json, replica: Replica, sql = ''): IncrementalPlan | null {
  for (const k of ['distinctClause', 'groupClause', 'havingClause', 'windowClause', 'lockingClause', 'valuesLists', 'withClause', 'intoClause', 'larg', 'rarg']) {
    if (select[k] !== undefined) return null
  }
  if (select.op !== undefined && select.op !== 'SETOP_NONE') return null
  const from = select.fromClause as Json[] | undefined
  if (from?.length !== 1) return null
  const rv = from[0]!.RangeVar as Json | undefined
  if (rv === undefined || (rv.schemaname !== undefined && rv.schemaname !== 'public') || rv.inh === false) return null
  const info: TableInfo | undefined = replica.table(String(rv.relname))
  if (info === undefined || info.partitioning !== null || info.primaryKey.length === 0) return null
  const cols = tableColumns(info, info.name)
  const colIndex = (ref: Json): number => {
    const fields = (ref.fields as Json[]).map((f) => (f.String as Json | undefined)?.sval)
    const name = fields[fields.length - 1]
    if (typeof name !== 'string' || fields.length > 2) return -1
    return cols.findIndex((c) => c.name === name && !c.hidden)
  }
  // Output columns as table column indexes.
  const out: number[] = []
  for (const t of (select.targetList as Json[] | undefined) ?? []) {
    const val = (t.ResTarget as Json).val as Json
    const ref = val.ColumnRef as Json | undefined
    if (ref === undefined) return null
    const fields = ref.fields as Json[]
    if ('A_Star' in fields[fields.length - 1]!) {
      cols.forEach((c, i) => {
        if (!c.hidden) out.push(i)
      })
      continue
    }
    const i = colIndex(ref)
    if (i < 0) return null
    out.push(i)
  }
  const keyColumns: IncrementalPlan['keyColumns'] = []
  for (const k of info.primaryKey) {
    const col = cols.findIndex((c) => c.name === k)
    const o = out.indexOf(col)
    if (col < 0 || o < 0) return null
    keyColumns.push({ col, out: o })
  }
  if (select.whereClause !== undefined && mentionsAny(select.whereClause, NOT_A_ROW_FILTER)) return null
  const order: IncrementalPlan['order'] = []
  for (const s of (select.sortClause as Json[] | undefined) ?? []) {
    const sb = s.SortBy as Json
    const ref = (sb.node as Json).ColumnRef as Json | undefined
    if (ref === undefined || sb.sortby_dir === 'SORTBY_USING') return null
    const col = colIndex(ref)
    if (col < 0) return null
    const desc = sb.sortby_dir === 'SORTBY_DESC'
    order.push({ col, desc, nullsFirst: sb.sortby_nulls === 'SORTBY_NULLS_DEFAULT' ? desc : sb.sortby_nulls === 'SORTBY_NULLS_FIRST' })
  }
  let window: IncrementalPlan['window'] = null
  if (select.limitCount !== undefined || select.limitOffset !== undefined) {
    window = limitWindow(select, sql)
    if (window === null || order.length === 0) return null
  }
  return { table: info.name, keyColumns, order, window }
}

/**
 * LIMIT/OFFSET as bounds, and the query's text cut before them (they close a SELECT
 * without a locking clause, so nothing follows them); null for FETCH .. WITH TIES, for
 * bounds other than constants and parameters, or text that does not read as expected.
 */
function limitWindow(select: Json, sql: string): IncrementalPlan['window'] {
  if (select.limitOption !== 'LIMIT_OPTION_COUNT' && select.limitOption !== 'LIMIT_OPTION_DEFAULT') return null
  const bound = (node: Json | undefined): { bound: Bound | null; at: number } | null | undefined => {
    if (node === undefined) return undefined
    const c = node.A_Const as Json | undefined
    if (c !== undefined) {
      if (c.isnull === true) return { bound: null, at: Number(c.location) }
      const ival = c.ival as Json | undefined
      if (ival === undefined) return null
      return { bound: { value: Number(ival.ival ?? 0) }, at: Number(c.location) }
    }
    const p = node.ParamRef as Json | undefined
    if (p !== undefined && typeof p.number === 'number') return { bound: { param: p.number }, at: Number(p.location) }
    return null
  }
  const count = bound(select.limitCount as Json | undefined)
  const offset = bound(select.limitOffset as Json | undefined)
  if (count === null || offset === null) return null
  const first = Math.min(count?.at ?? Infinity, offset?.at ?? Infinity)
  if (!Number.isInteger(first) || first <= 0 || first > sql.length) return null
  const m = /\b(LIMIT|OFFSET)\s+$/i.exec(sql.slice(0, first))
  if (m === null) return null
  return { sql: sql.slice(0, m.index), count: count?.bound ?? null, offset: offset?.bound ?? null }
}

/** A LIMIT/OFFSET bound's value with these parameters; null (no limit) or NaN (not a count: run whole). */
function boundValue(b: Bound | null, params: readonly unknown[]): number | null {
  if (b === null) return null
  const v = 'value' in b ? b.value : params[b.param - 1]
  if (v === null || v === undefined) return null
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : Number.NaN
}

/** The slice [offset, offset + count) a plan's window takes, or null when its bounds are not counts. */
export function windowSlice(plan: IncrementalPlan, params: readonly unknown[]): { start: number; end: number } | null {
  if (plan.window === null) return { start: 0, end: Infinity }
  const count = boundValue(plan.window.count, params)
  const offset = boundValue(plan.window.offset, params)
  if (Number.isNaN(count) || Number.isNaN(offset)) return null
  const start = offset ?? 0
  return { start, end: count === null ? Infinity : start + count }
}

function mentionsAny(node: unknown, kinds: readonly string[]): boolean {
  if (Array.isArray(node)) return node.some((n) => mentionsAny(n, kinds))
  if (node === null || typeof node !== 'object') return false
  for (const [k, v] of Object.entries(node)) if (kinds.includes(k) || mentionsAny(v, kinds)) return true
  return false
}

/** A string equal for equal primary keys as the result shows them. */
function keyString(values: JsValue[]): string {
  return values.map((v) => (v instanceof Uint8Array ? `b${Array.from(v).join(',')}` : v !== null && typeof v === 'object' ? `o${JSON.stringify(v)}` : `${typeof v}:${String(v)}`)).join('\u0000')
}

export class IncrementalResult {
  private readonly plan: IncrementalPlan
  private readonly replica: Replica
  private readonly int8: Int8Output
  private readonly cols: ColumnBinding[]
  private entries: Entry[] = []
  private readonly byKey = new Map<string, Entry>()
  private readonly template: QueryResult

  /**
   * Builds the rows of `result`, a whole run just finished, from the table as it is now
   * (call it before any change since the run); null if its rows cannot be told apart by key.
   */
  static build(plan: IncrementalPlan, replica: Replica, int8: Int8Output, result: QueryResult): IncrementalResult | null {
    const info = replica.table(plan.table)
    if (info === undefined) return null
    const r = new IncrementalResult(plan, replica, int8, tableColumns(info, info.name), result)
    const byOutKey = new Map<string, { rk: string; sort: RtValue[] }>()
    for (const row of replica.scan(plan.table)) {
      const values = decodeRow(row, r.cols)
      const rk = encodeRowKey(info.primaryKey.map((k) => row[k]!))
      byOutKey.set(keyString(plan.keyColumns.map((k) => toJs(values[k.col]!, r.cols[k.col]!.type, int8))), { rk, sort: plan.order.map((o) => values[o.col]!) })
    }
    for (let i = 0; i < result.rowArrays.length; i++) {
      const arr = result.rowArrays[i]!
      const found = byOutKey.get(keyString(plan.keyColumns.map((k) => arr[k.out]!)))
      if (found === undefined || r.byKey.has(found.rk)) return null
      const e: Entry = { rk: found.rk, sort: found.sort, row: result.rows[i]!, arr }
      r.entries.push(e)
      r.byKey.set(e.rk, e)
    }
    r.entries.sort((a, b) => r.compare(a, b))
    return r
  }

  private constructor(plan: IncrementalPlan, replica: Replica, int8: Int8Output, cols: ColumnBinding[], template: QueryResult) {
    this.plan = plan
    this.replica = replica
    this.int8 = int8
    this.cols = cols
    this.template = template
  }

  /** The primary keys of changed rows, by row key, for a RowRestriction. */
  keysOf(changes: Iterable<RowChange>): Map<string, Value[]> {
    const info = this.replica.table(this.plan.table)!
    const keys = new Map<string, Value[]>()
    for (const c of changes) keys.set(c.key, info.primaryKey.map((k) => (c.after ?? c.before)![k]!))
    return keys
  }

  /**
   * Replaces what the rows of `keys` gave by `result`, the query run over only those rows;
   * false when a result row is not one of them (the caller runs the query whole).
   */
  apply(keys: ReadonlyMap<string, Value[]>, result: QueryResult): boolean {
    const byOutKey = new Map<string, string>()
    const current = new Map<string, Row | undefined>()
    for (const [rk, key] of keys) {
      const row = this.replica.get(this.plan.table, key)
      current.set(rk, row)
      if (row === undefined) continue
      const values = decodeRow(row, this.cols)
      byOutKey.set(keyString(this.plan.keyColumns.map((k) => toJs(values[k.col]!, this.cols[k.col]!.type, this.int8))), rk)
    }
    const added: Entry[] = []
    for (let i = 0; i < result.rowArrays.length; i++) {
      const arr = result.rowArrays[i]!
      const rk = byOutKey.get(keyString(this.plan.keyColumns.map((k) => arr[k.out]!)))
      if (rk === undefined || added.some((e) => e.rk === rk)) return false
      const values = decodeRow(current.get(rk)!, this.cols)
      added.push({ rk, sort: this.plan.order.map((o) => values[o.col]!), row: result.rows[i]!, arr })
    }
    for (const rk of keys.keys()) {
      const old = this.byKey.get(rk)
      if (old === undefined) continue
      this.entries.splice(this.position(old), 1)
      this.byKey.delete(rk)
    }
    for (const e of added) {
      this.entries.splice(this.position(e), 0, e)
      this.byKey.set(e.rk, e)
    }
    return true
  }

  get size(): number {
    return this.entries.length
  }

  /** The rows now (those of `slice`, for a LIMIT/OFFSET), as a run's result. */
  result(slice: { start: number; end: number } = { start: 0, end: Infinity }): QueryResult {
    const shown = slice.start === 0 && slice.end === Infinity ? this.entries : this.entries.slice(slice.start, slice.end)
    const n = shown.length
    return { ...this.template, rows: shown.map((e) => e.row), rowArrays: shown.map((e) => e.arr), rowCount: n, commandTag: `SELECT ${n}`, notices: [] }
  }

  /** Index of `e` in `entries` if there, else where it goes. */
  private position(e: Entry): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.compare(this.entries[mid]!, e) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private compare(a: Entry, b: Entry): number {
    for (let i = 0; i < this.plan.order.length; i++) {
      const o = this.plan.order[i]!
      const x = a.sort[i]!
      const y = b.sort[i]!
      if (x === null || y === null) {
        if (x === y) continue
        // A null sorts after every value unless NULLS FIRST.
        return (x === null) === o.nullsFirst ? -1 : 1
      }
      const c = compareValues(x, y)
      if (c !== 0) return o.desc ? -c : c
    }
    return a.rk < b.rk ? -1 : a.rk > b.rk ? 1 : 0
  }
}
