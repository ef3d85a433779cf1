/**
 * Set-returning functions: each resolves its argument types at plan time, like a scalar
 * function, and yields a list of values (one per row) for evaluated arguments. They run
 * in FROM (plan/function-scan.ts: ROWS FROM, WITH ORDINALITY, multi-argument unnest) and
 * in the select list (expr/project-set.ts), with PostgreSQL's rules for each.
 *
 *   unnest(anyarray)                          elements in storage order, NULLs kept
 *   generate_series(start, stop [, step])     int4, int8, numeric; timestamp[tz] by interval
 *   generate_subscripts(anyarray, dim [, reverse])
 *   string_to_table(text, delimiter [, null_string])
 *   regexp_matches, regexp_split_to_table (regexp-functions.ts)
 *   pg_partition_ancestors(regclass)          the relation, then the tables it is a partition of
 *   concord_changes(table, since)             a table's changes on this node (table-changes.ts)
 *   concord_rebalance_plan(table)             where REBALANCE SHARDS would move shards (rebalance-functions.ts)
 *
 * Strict: a NULL argument gives no rows.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { addInterval } from '../types/interval.js'
import { SqlArray } from '../types/array.js'
import { Decimal } from '../types/decimal.js'
import { Interval } from '../types/interval.js'
import { commonType, elementType, isNumericType, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { splitText } from './array-functions.js'
import { JSON_POPULATE_SET_FUNCTIONS } from './json-populate.js'
import { JSON_SET_FUNCTIONS } from './json-sets.js'
import { TABLE_CHANGE_SET_FUNCTIONS } from './table-changes.js'
import { REBALANCE_SET_FUNCTIONS } from './rebalance-functions.js'
import { REGEXP_SET_FUNCTIONS } from './regexp-functions.js'
import { inheritedName } from '../parser/own-entry.js'

export interface SetFunctionImpl {
  /** Types the arguments are coerced to (implicit cast). */
  args: SqlType[]
  /** Type of the values it yields. */
  result: SqlType
  /** The values, one per row, for non-NULL arguments. */
  rows(args: RtValue[], ctx: ExecCtx): RtValue[]
  /** The column's name in FROM when not the function's (PostgreSQL's OUT parameter name). */
  column?: string
}

type Resolver = (types: SqlType[]) => SetFunctionImpl | null

/**
 * Rows one set-returning function call may produce. PostgreSQL streams them; here they
 * are materialized as one array, so `count(*) FROM generate_series(1, 1e9)` would exhaust
 * the heap and end the process. Past this bound the statement fails with 53200 instead.
 * Checked as rows are made, after the statement budget's tick: a statement_timeout that
 * expires first still ends it with 57014, as it did before the bound.
 */
export const MAX_SET_FUNCTION_ROWS = 2 ** 24

function tooManyRows(name: string): SqlError {
  return new SqlError(
    SqlState.outOfMemory,
    `out of memory: ${name} would return more than ${MAX_SET_FUNCTION_ROWS} rows (Concord holds a set-returning function's rows in memory)`,
  )
}

function zeroStep(): SqlError {
  return new SqlError(SqlState.invalidParameterValue, 'step size cannot equal zero')
}

function intSeries(t: SqlType, n: number): SetFunctionImpl {
  const big = t.id === 'int8'
  return { args: new Array<SqlType>(n).fill(t), result: t, rows: (a, ctx) => {
    const start = BigInt(a[0] as number | bigint)
    const stop = BigInt(a[1] as number | bigint)
    const step = a.length > 2 ? BigInt(a[2] as number | bigint) : 1n
    if (step === 0n) throw zeroStep()
    const out: RtValue[] = []
    for (let v = start; step > 0n ? v <= stop : v >= stop; v += step) {
      ctx.budget.tick()
      if (out.length >= MAX_SET_FUNCTION_ROWS) throw tooManyRows('generate_series')
      out.push(big ? v : Number(v))
    }
    return out
  } }
}

function numericSeries(n: number): SetFunctionImpl {
  return { args: new Array<SqlType>(n).fill(T.numeric), result: T.numeric, rows: (a, ctx) => {
    const start = a[0] as Decimal
    const stop = a[1] as Decimal
    const step = a.length > 2 ? (a[2] as Decimal) : new Decimal(1n, 0)
    // A NaN or infinite bound never ends the series: PostgreSQL refuses it (22023).
    for (const [v, what] of [[start, 'start value'], [stop, 'stop value'], [step, 'step size']] as const) {
      if (!v.isFinite()) throw new SqlError(SqlState.invalidParameterValue, `${what} cannot be ${v.isNaN() ? 'NaN' : 'infinity'}`)
    }
    if (step.isZero()) throw zeroStep()
    const up = step.sign() > 0
    const out: RtValue[] = []
    for (let v = start; up ? v.compare(stop) <= 0 : v.compare(stop) >= 0; v = v.add(step)) {
      ctx.budget.tick()
      if (out.length >= MAX_SET_FUNCTION_ROWS) throw tooManyRows('generate_series')
      out.push(v)
    }
    return out
  } }
}

function timestampSeries(t: SqlType): SetFunctionImpl {
  return { args: [t, t, T.interval], result: t, rows: (a, ctx) => {
    const start = a[0] as number
    const stop = a[1] as number
    const step = a[2] as Interval
    const sign = step.compare(new Interval(0, 0, 0))
    if (sign === 0) throw zeroStep()
    const out: RtValue[] = []
    // Each value is the previous one plus the step, as PostgreSQL computes it (so Jan 31 + 1 month + 1 month is Mar 29).
    for (let v = start; sign > 0 ? v <= stop : v >= stop; v = addInterval(v, step)) {
      ctx.budget.tick()
      if (out.length >= MAX_SET_FUNCTION_ROWS) throw tooManyRows('generate_series')
      out.push(v)
    }
    return out
  } }
}

const SET_FUNCTIONS: Record<string, Resolver> = {
  ...JSON_POPULATE_SET_FUNCTIONS,
  ...JSON_SET_FUNCTIONS,
  ...TABLE_CHANGE_SET_FUNCTIONS,
  ...REBALANCE_SET_FUNCTIONS,
  ...REGEXP_SET_FUNCTIONS,
  unnest: (ts) => {
    if (ts.length !== 1) return null
    const t = ts[0]!
    if (t.id === 'unknown' && !t.array) throw new SqlError(SqlState.datatypeMismatch, 'could not determine polymorphic type because input has type unknown')
    if (!t.array) return null
    return { args: [t], result: elementType(t), rows: (a) => [...(a[0] as SqlArray).items] }
  },
  generate_series: (ts) => {
    if (ts.length !== 2 && ts.length !== 3) return null
    const known = ts.filter((t) => t.id !== 'unknown')
    const ends = commonType(ts[0]!, ts[1]!)
    if (ts[2]?.id === 'interval' || (ends && ['timestamp', 'timestamptz', 'date'].includes(ends.id))) {
      if (ts.length !== 3 || (ts[2]!.id !== 'interval' && ts[2]!.id !== 'unknown') || !ends) return null
      if (ends.id === 'timestamp' || ends.id === 'timestamptz') return timestampSeries(ends)
      if (ends.id === 'date') return timestampSeries(T.timestamptz)
      return null
    }
    if (!known.every(isNumericType)) return null
    let t: SqlType = T.int4
    for (const k of known) t = commonType(t, k) ?? t
    if (t.id === 'int2') t = T.int4
    if (t.id === 'int4' || t.id === 'int8') return intSeries(t, ts.length)
    return numericSeries(ts.length)
  },
  generate_subscripts: (ts) => {
    if (ts.length !== 2 && ts.length !== 3) return null
    const t = ts[0]!
    if (t.id === 'unknown' && !t.array) throw new SqlError(SqlState.datatypeMismatch, 'could not determine polymorphic type because input has type unknown')
    if (!t.array) return null
    return { args: [t, T.int4, ...(ts.length === 3 ? [T.bool] : [])], result: T.int4, rows: (a) => {
      const arr = a[0] as SqlArray
      const d = (a[1] as number) - 1
      if (d < 0 || d >= arr.ndims) return []
      const out: RtValue[] = []
      for (let i = arr.lbounds[d]!; i <= arr.upper(d); i++) out.push(i)
      return a[2] === true ? out.reverse() : out
    } }
  },
  pg_listening_channels: (ts) => (ts.length === 0 ? { args: [], result: T.text, rows: (_a, ctx) => ctx.listeningChannels() } : null),
  pg_partition_ancestors: (ts) => (ts.length === 1 ? {
    args: [T.regclass],
    result: T.regclass,
    column: 'relid',
    rows: ([oid], ctx) => {
      const m = ctx.catalog()
      const out: RtValue[] = []
      for (let t = m.table(oid as number); t !== undefined && out.length <= m.tables.length; t = t.partitionOf === null ? undefined : m.tableNamed(t.partitionOf)) out.push(t.oid)
      return out
    },
  } : null),
  string_to_table: (ts) => (ts.length === 2 || ts.length === 3 ? { args: ts.map(() => T.text), result: T.text, rows: (a) => splitText(a[0] as string, a[1] as string | null, (a[2] ?? null) as string | null) } : null),
}

/** Arguments of these functions may be NULL without emptying the result. */
const NULL_ARGS: Record<string, number[]> = { string_to_table: [1, 2], json_populate_recordset: [0], jsonb_populate_recordset: [0] }

/** The implementation for these argument types: undefined for no such function, null for no match. */
export function lookupSetFunction(name: string, types: SqlType[]): SetFunctionImpl | null | undefined {
  if (inheritedName(name)) return undefined
  const r = SET_FUNCTIONS[name]
  if (!r) return undefined
  const impl = r(types)
  if (!impl) return null
  const nullable = NULL_ARGS[name] ?? []
  return {
    ...impl,
    rows: (a, ctx) => (a.some((v, i) => v === null && !nullable.includes(i)) ? [] : impl.rows(a, ctx)),
  }
}

export function isSetFunction(name: string): boolean {
  return name in SET_FUNCTIONS
}
