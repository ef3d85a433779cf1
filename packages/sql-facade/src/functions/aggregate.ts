/**
 * Aggregate functions: count, sum, avg, min, max, bool_and/or, every, string_agg,
 * array_agg, with PostgreSQL's result types (sum(int) is bigint, sum(bigint) and
 * avg(integer) are numeric, ...). NULL inputs are skipped; an empty group gives NULL
 * (0 for count).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_BUILT_TEXT } from '../types/text-chars.js'
import { compareValues } from '../types/compare.js'
import { Decimal } from '../types/decimal.js'
import { numericSqrtToScale } from './numeric-math.js'
import { Interval } from '../types/interval.js'
import { accumulateArrays, SqlArray } from '../types/array.js'
import { formatJsonb, type JsonValue } from '../types/json.js'
import { sqlToJson } from './scalar.js'
import { jsonArrayText, jsonText } from './json-text.js'
import { arrayOf, isNumericType, T, typeName, type SqlType } from '../types/sql-type.js'
import { checkInt8, formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import { checkMoney } from '../types/money.js'

export interface AggState {
  acc: RtValue | Decimal | bigint | number
  n: number
  items?: RtValue[]
}

export interface AggregateImpl {
  /** Types the arguments are coerced to. */
  args: SqlType[]
  result: SqlType
  step(s: AggState, args: RtValue[]): void
  final(s: AggState): RtValue
}

/**
 * The longest text string_agg builds (UTF-16 units). PostgreSQL stops at 1 GB with 54000
 * "out of memory"; here concatenating toward the JS engine's string limit (512 Mi units)
 * across millions of rows could exhaust the heap and end the process, so the bound is
 * lower and the error the same.
 */
const MAX_AGGREGATE_TEXT = MAX_BUILT_TEXT

function aggregateTextTooLong(have: number): SqlError {
  return new SqlError(SqlState.programLimitExceeded, 'out of memory', {
    detail: `Cannot enlarge string buffer containing ${have} characters: string_agg results are limited to ${MAX_AGGREGATE_TEXT}.`,
  })
}

const AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'stddev', 'variance', 'stddev_samp', 'var_samp', 'stddev_pop', 'var_pop', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg'])

/** sum() of int2/int4 values: a number until the sum leaves the safe integers, a bigint (checked against int8) after. */
function sumSmallInts(s: AggState, args: RtValue[]): void {
  const v = args[0] as number
  const acc = s.acc
  if (acc === null || typeof acc === 'number') {
    const x = (acc ?? 0) + v
    s.acc = Number.isSafeInteger(x) ? x : checkInt8(BigInt(acc ?? 0) + BigInt(v))
  } else {
    s.acc = checkInt8((acc as bigint) + BigInt(v))
  }
  s.n++
}

export function isAggregate(name: string): boolean {
  return AGGREGATES.has(name) || ORDERED_SET_AGGREGATES.has(name)
}

function noAgg(name: string, ts: SqlType[]): SqlError {
  return new SqlError(SqlState.undefinedFunction, `function ${name}(${ts.map(typeName).join(', ')}) does not exist`, { hint: 'No function matches the given name and argument types. You might need to add explicit type casts.' })
}

export function resolveAggregate(name: string, ts: SqlType[], star: boolean): AggregateImpl {
  if (name === 'count') {
    // count() is not count(*): PostgreSQL refuses it (it counted every row here).
    if (!star && ts.length === 0) throw new SqlError(SqlState.wrongObjectType, 'count(*) must be used to call a parameterless aggregate function')
    if (ts.length > 1) throw noAgg(name, ts)
    return { args: star ? [] : ts.map((t) => (t.id === 'unknown' ? T.text : t)), result: T.int8, step: (s) => { s.n++ }, final: (s) => BigInt(s.n) }
  }
  const t0 = ts[0]
  if (!t0) throw noAgg(name, ts)
  const t = t0.id === 'unknown' ? T.text : t0
  switch (name) {
    case 'sum': {
      // The running sum stays a number while it is a safe integer (exact, and no bigint per row), then a bigint.
      if (t.id === 'int2' || t.id === 'int4') return { args: [t], result: T.int8, step: sumSmallInts, final: (s) => (s.n ? (typeof s.acc === 'number' ? BigInt(s.acc) : s.acc) : null) }
      if (t.id === 'int8' || t.id === 'numeric') return { args: [T.numeric], result: T.numeric, step: (s, [v]) => { s.acc = s.n ? (s.acc as Decimal).add(v as Decimal) : (v as Decimal); s.n++ }, final: (s) => (s.n ? s.acc : null) }
      if (t.id === 'float4' || t.id === 'float8') return { args: [t], result: t, step: (s, [v]) => { s.acc = s.n ? (s.acc as number) + (v as number) : (v as number); s.n++ }, final: (s) => (s.n ? s.acc : null) }
      if (t.id === 'interval') return { args: [t], result: t, step: (s, [v]) => { s.acc = s.n ? (s.acc as Interval).add(v as Interval) : v; s.n++ }, final: (s) => (s.n ? s.acc : null) }
      if (t.id === 'money') return { args: [t], result: t, step: (s, [v]) => { s.acc = checkMoney((s.n ? (s.acc as bigint) : 0n) + (v as bigint)); s.n++ }, final: (s) => (s.n ? s.acc : null) }
      throw noAgg(name, ts)
    }
    case 'avg': {
      if (t.id === 'float4' || t.id === 'float8') return { args: [T.float8], result: T.float8, step: (s, [v]) => { s.acc = (s.n ? (s.acc as number) : 0) + (v as number); s.n++ }, final: (s) => (s.n ? (s.acc as number) / s.n : null) }
      if (isNumericType(t)) return { args: [T.numeric], result: T.numeric, step: (s, [v]) => { s.acc = s.n ? (s.acc as Decimal).add(v as Decimal) : (v as Decimal); s.n++ }, final: (s) => (s.n ? (s.acc as Decimal).div(new Decimal(BigInt(s.n), 0)) : null) }
      if (t.id === 'interval') return { args: [t], result: t, step: (s, [v]) => { s.acc = s.n ? (s.acc as Interval).add(v as Interval) : v; s.n++ }, final: (s) => (s.n ? (s.acc as Interval).divide(s.n) : null) }
      throw noAgg(name, ts)
    }
    case 'min': case 'max': {
      if (t.id === 'json' || t.id === 'bool') throw noAgg(name, ts)
      const sign = name === 'min' ? -1 : 1
      return { args: [t], result: t, step: (s, [v]) => {
        if (!s.n || compareValues(v!, s.acc as RtValue) * sign > 0) s.acc = v!
        s.n++
      }, final: (s) => (s.n ? (s.acc as RtValue) : null) }
    }
    case 'bool_and': case 'every': case 'bool_or': {
      if (t.id !== 'bool') throw noAgg(name, ts)
      const and = name !== 'bool_or'
      return { args: [T.bool], result: T.bool, step: (s, [v]) => { s.acc = s.n ? (and ? (s.acc as boolean) && (v as boolean) : (s.acc as boolean) || (v as boolean)) : v!; s.n++ }, final: (s) => (s.n ? s.acc : null) }
    }
    case 'string_agg': {
      return { args: [T.text, T.text], result: T.text, step: (s, [v, sep]) => {
        const next = s.n ? (s.acc as string).length + ((sep ?? '') as string).length + (v as string).length : (v as string).length
        if (next > MAX_AGGREGATE_TEXT) throw aggregateTextTooLong((s.acc as string).length)
        s.acc = s.n ? (s.acc as string) + (sep ?? '') + (v as string) : (v as string)
        s.n++
      }, final: (s) => (s.n ? s.acc : null) }
    }
    case 'array_agg': {
      // Of scalars: a one-dimensional array keeping NULLs; of arrays: one more dimension.
      const build = t.array ? accumulateArrays : SqlArray.of
      return { args: [t], result: arrayOf(t), step: (s, [v]) => { (s.items ??= []).push(v!); s.n++ }, final: (s) => (s.n ? build(s.items!.slice()) : null) }
    }
    case 'json_agg': case 'jsonb_agg': {
      // json_agg puts a line break before each non-NULL array or row after the first, as PostgreSQL.
      const structured = t.array || (t.id === 'record' && t.fields !== undefined)
      return { args: [t], result: name === 'json_agg' ? T.json : T.jsonb, step: (s, [v]) => {
        const text = v === null ? 'null'
          : name === 'json_agg' ? (structured && s.n > 0 ? '\n ' : '') + jsonText(v, t)
            : structured ? formatJsonb(sqlToJson(v, t)) : isNumericType(t) || t.id === 'bool' || t.id === 'json' || t.id === 'jsonb' ? formatText(v, t) : formatJsonb(sqlToJson(v, t))
        ;(s.items ??= []).push(text)
        s.n++
      }, final: (s) => (s.n ? jsonArrayText(s.items as string[]) : null) }
    }
    case 'json_object_agg': case 'jsonb_object_agg': {
      // json keeps every pair in input order ({ "k" : v, .. }); jsonb keeps the last value of a key.
      const vt = ts[1]?.id === 'unknown' ? T.text : ts[1]
      if (!vt || ts.length !== 2) throw noAgg(name, ts)
      const json = name === 'json_object_agg'
      return { args: [t, vt], result: json ? T.json : T.jsonb, step: (s, [k, v]) => {
        if (k === null) throw new SqlError(SqlState.invalidParameterValue, 'field name must not be null')
        ;(s.items ??= []).push([formatText(k, t)!, json ? (v === null ? 'null' : jsonText(v, vt)) : sqlToJson(v ?? null, vt)] as unknown as RtValue)
        s.n++
      }, final: (s) => {
        if (!s.n) return null
        const pairs = s.items as unknown as Array<[string, unknown]>
        if (json) return `{ ${pairs.map(([k, v]) => `${JSON.stringify(k)} : ${v as string}`).join(', ')} }`
        return formatJsonb(Object.fromEntries(pairs) as Record<string, JsonValue>)
      } }
    }
    case 'stddev': case 'variance': case 'stddev_samp': case 'var_samp': case 'stddev_pop': case 'var_pop': {
      const pop = name.endsWith('_pop')
      const isVar = name === 'variance' || name.startsWith('var_')
      // Integer and numeric inputs are computed exactly in numeric, as PostgreSQL does.
      if (isNumericType(t) && t.id !== 'float4' && t.id !== 'float8') {
        return { args: [T.numeric], result: T.numeric, step: (s, [v]) => { (s.items ??= []).push(v!); s.n++ }, final: (s) => numericVariance((s.items ?? []) as Decimal[], pop, !isVar) }
      }
      return { args: [T.float8], result: T.float8, step: (s, [v]) => { (s.items ??= []).push(v!); s.n++ }, final: (s) => {
        if (s.n < (pop ? 1 : 2)) return null
        const xs = s.items as number[]
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length
        const vr = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - (pop ? 0 : 1))
        return isVar ? vr : Math.sqrt(vr)
      } }
    }
  }
  throw noAgg(name, ts)
}

/**
 * Variance or standard deviation of numerics, PostgreSQL's way (numeric_stddev_internal):
 * (N * sum(x^2) - sum(x)^2) / (N * (N - 1)) (N * N for the population), at the division
 * scale of those two numbers; the square root at the same scale. NULL for too few inputs.
 */
function numericVariance(xs: Decimal[], pop: boolean, stddev: boolean): Decimal | null {
  const n = xs.length
  if (n < (pop ? 1 : 2)) return null
  let sum = Decimal.ZERO
  let sum2 = Decimal.ZERO
  for (const x of xs) {
    sum = sum.add(x)
    sum2 = sum2.add(x.mul(x))
  }
  if (!sum.isFinite() || !sum2.isFinite()) return Decimal.NAN
  const num = new Decimal(BigInt(n), 0).mul(sum2).sub(sum.mul(sum))
  if (num.sign() <= 0) return Decimal.ZERO
  const den = new Decimal(BigInt(n) * BigInt(pop ? n : n - 1), 0)
  const rscale = num.divisionScale(den)
  const variance = num.divToScale(den, rscale)
  return stddev ? numericSqrtToScale(variance, rscale) : variance
}

/** Aggregates that see NULL inputs (array_agg keeps them; count(*) has none). */
export function aggregateSeesNulls(name: string): boolean {
  return name === 'array_agg' || name === 'json_agg' || name === 'jsonb_agg' || name === 'json_object_agg' || name === 'jsonb_object_agg'
}

/** The ordered-set aggregates: `name(direct args) WITHIN GROUP (ORDER BY value)`. */
export const ORDERED_SET_AGGREGATES = new Set(['percentile_cont', 'percentile_disc', 'mode'])

/**
 * percentile_cont, percentile_disc and mode over the values of their WITHIN GROUP's ORDER BY,
 * which reach `step` sorted (the caller sorts them, NULLs left out), as PostgreSQL's
 * definitions say: percentile_cont interpolates linearly between the two values around
 * fraction * (n - 1) (float8 or interval values), percentile_disc takes the first value whose
 * position reaches fraction * n, mode the most frequent value (the first in the order on a
 * tie). An array of fractions gives an array of results. Missing (42883) until 2026-12-03.
 * The impl's arguments: the ordered value, then the direct ones.
 */
export function resolveOrderedSet(name: string, direct: SqlType[], value: SqlType): AggregateImpl {
  const valueType = value.id === 'unknown' ? T.text : value
  if (name === 'mode') {
    if (direct.length !== 0) throw noAgg(name, direct)
    return { args: [valueType], result: valueType, step: orderedStep, final: (s) => {
      const xs = (s.items ?? []) as RtValue[]
      let best: RtValue = null
      let bestRun = 0
      // Equal values are adjacent in sorted input: the longest run, the first of equal runs.
      for (let i = 0; i < xs.length;) {
        let j = i + 1
        while (j < xs.length && compareValues(xs[j]!, xs[i]!) === 0) j++
        if (j - i > bestRun) {
          bestRun = j - i
          best = xs[i]!
        }
        i = j
      }
      return bestRun === 0 ? null : best
    } }
  }
  if ((name !== 'percentile_cont' && name !== 'percentile_disc') || direct.length !== 1) throw noAgg(name, direct)
  const many = direct[0]!.array
  const continuous = name === 'percentile_cont'
  const keyType = continuous ? (valueType.id === 'interval' ? T.interval : T.float8) : valueType
  if (continuous && !isNumericType(valueType) && valueType.id !== 'interval' && valueType.id !== 'unknown') throw noAgg(name, [direct[0]!, valueType])
  const pick = (xs: RtValue[], f: RtValue): RtValue => {
    if (f === null) return null
    const fraction = f as number
    if (!(fraction >= 0 && fraction <= 1)) throw new SqlError(SqlState.numericValueOutOfRange, `percentile value ${fraction} is not between 0 and 1`)
    if (xs.length === 0) return null
    if (!continuous) return xs[Math.max(0, Math.ceil(fraction * xs.length) - 1)]!
    const pos = fraction * (xs.length - 1)
    const lo = Math.floor(pos)
    const hi = Math.ceil(pos)
    const a = xs[lo]!
    const b = xs[hi]!
    if (lo === hi) return a
    if (keyType.id === 'interval') return (a as Interval).add((b as Interval).sub(a as Interval).scale(pos - lo))
    return (a as number) + (pos - lo) * ((b as number) - (a as number))
  }
  return {
    args: [keyType, many ? arrayOf(T.float8) : T.float8],
    result: many ? arrayOf(keyType) : keyType,
    step: (s, v) => {
      orderedStep(s, v)
      s.acc = v[1] ?? null
    },
    final: (s) => {
      const xs = (s.items ?? []) as RtValue[]
      if (xs.length === 0) return null
      if (!many) return pick(xs, s.acc as RtValue)
      const fractions = s.acc as SqlArray | null
      if (fractions === null) return null
      return new SqlArray(fractions.dims, fractions.lbounds, fractions.items.map((f) => pick(xs, f)))
    },
  }
}

function orderedStep(s: AggState, [v]: RtValue[]): void {
  ;(s.items ??= []).push(v!)
  s.n++
}
