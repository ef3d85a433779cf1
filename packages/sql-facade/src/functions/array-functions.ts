/**
 * Array functions and the value operations behind the array operators, with PostgreSQL's
 * polymorphic typing: `anycompatiblearray`/`anycompatible` arguments are promoted to one
 * common element type (`array_append(ARRAY[1.5], 2)` is numeric[]), `anyarray` arguments
 * must already be arrays (42804 for an untyped literal there), and an untyped literal
 * among anycompatible arguments takes its type from the others (text when all are untyped).
 *
 * Shapes follow PostgreSQL: concatenation keeps the first array's lower bound, appends
 * and prepends work on one-dimensional arrays only, searches flatten nothing (0A000 on
 * multidimensional input), and results never alias their inputs.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_ITEMS, SqlArray, tooManyItems } from '../types/array.js'
import { compareValues } from '../types/compare.js'
import { arrayOf, commonType, elementType, T, type SqlType } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'
import { textChars } from '../types/text-chars.js'


/** How a parameter of a polymorphic function relates to the common element type. */
type Role = 'array' | 'element' | SqlType

function isUnknown(t: SqlType): boolean {
  return t.id === 'unknown' && !t.array
}

/**
 * Resolves `anycompatiblearray`/`anycompatible` parameters against the argument types:
 * the coerced argument types and the common element type, or null when no common type
 * exists (the function then does not exist for these arguments: 42883).
 */
export function resolvePolymorphic(ts: SqlType[], roles: Role[]): { args: SqlType[]; element: SqlType } | null {
  if (ts.length !== roles.length) return null
  let element: SqlType | null = null
  for (let i = 0; i < ts.length; i++) {
    const role = roles[i]!
    const t = ts[i]!
    if (typeof role !== 'string' || isUnknown(t)) continue
    let el: SqlType
    if (role === 'array') {
      if (!t.array) return null
      el = elementType(t)
    } else {
      if (t.array) return null
      el = t
    }
    if (element === null) element = el
    else {
      const c = commonType(element, el)
      if (!c) return null
      element = c
    }
  }
  // Only untyped literals: anycompatible resolves them as text, as PostgreSQL does.
  const el = element ?? T.text
  return { element: el, args: roles.map((r) => (r === 'array' ? arrayOf(el) : r === 'element' ? el : r)) }
}

function concatError(detail: string): SqlError {
  return new SqlError(SqlState.arraySubscriptError, 'cannot concatenate incompatible arrays', { detail })
}

function oneDimensional(a: SqlArray): void {
  if (a.ndims > 1) throw new SqlError(SqlState.dataException, 'argument must be empty or one-dimensional array')
}

function withItems(dims: number[], lbounds: number[], items: RtValue[]): SqlArray {
  if (items.length > MAX_ITEMS) throw tooManyItems()
  return new SqlArray(dims, lbounds, items)
}

/** array_cat / `array || array`: NULL and empty operands give the other one. */
export function arrayCat(a: SqlArray | null, b: SqlArray | null): SqlArray | null {
  if (a === null) return b
  if (b === null) return a
  if (a.ndims === 0) return b
  if (b.ndims === 0) return a
  const items = [...a.items, ...b.items]
  if (a.ndims === b.ndims) {
    for (let d = 1; d < a.ndims; d++) {
      if (a.dims[d] !== b.dims[d] || a.lbounds[d] !== b.lbounds[d]) throw concatError('Arrays with differing element dimensions are not compatible for concatenation.')
    }
    return withItems([a.dims[0]! + b.dims[0]!, ...a.dims.slice(1)], a.lbounds.slice(), items)
  }
  const [big, small] = a.ndims > b.ndims ? [a, b] : [b, a]
  if (big.ndims !== small.ndims + 1) throw concatError(`Arrays of ${a.ndims} and ${b.ndims} dimensions are not compatible for concatenation.`)
  for (let d = 0; d < small.ndims; d++) {
    if (small.dims[d] !== big.dims[d + 1] || small.lbounds[d] !== big.lbounds[d + 1]) throw concatError('Arrays with differing dimensions are not compatible for concatenation.')
  }
  return withItems([big.dims[0]! + 1, ...big.dims.slice(1)], big.lbounds.slice(), items)
}

/** array_append / `array || element`. */
export function arrayAppend(a: SqlArray | null, v: RtValue): SqlArray {
  if (a === null || a.ndims === 0) return SqlArray.of([v])
  oneDimensional(a)
  return withItems([a.dims[0]! + 1], [a.lbounds[0]!], [...a.items, v])
}

/** array_prepend / `element || array` (the lower bound stays, as in PostgreSQL). */
export function arrayPrepend(v: RtValue, a: SqlArray | null): SqlArray {
  if (a === null || a.ndims === 0) return SqlArray.of([v])
  oneDimensional(a)
  return withItems([a.dims[0]! + 1], [a.lbounds[0]!], [v, ...a.items])
}

function equalNonNull(x: RtValue, y: RtValue): boolean {
  return x !== null && y !== null && compareValues(x, y) === 0
}

/** `a @> b`: every element of b is in a; a NULL in b is never found. */
export function arrayContains(a: SqlArray, b: SqlArray): boolean {
  for (const y of b.items) {
    if (y === null) return false
    if (!a.items.some((x) => equalNonNull(x, y))) return false
  }
  return true
}

/** `a && b`: some non-NULL element is in both. */
export function arrayOverlaps(a: SqlArray, b: SqlArray): boolean {
  return b.items.some((y) => y !== null && a.items.some((x) => equalNonNull(x, y)))
}

/** NULL matches NULL (IS NOT DISTINCT FROM), as array_position and array_remove compare. */
function notDistinct(x: RtValue, y: RtValue): boolean {
  if (x === null || y === null) return x === y
  return compareValues(x, y) === 0
}

/** Splits text as string_to_array / string_to_table do. */
export function splitText(s: string, delim: string | null, nullStr: string | null): Array<string | null> {
  let parts: string[]
  if (s === '') parts = []
  else if (delim === null) parts = textChars(s)
  else if (delim === '') parts = [s]
  else {
    // At most one element past an array's bound is made before it is refused.
    parts = s.split(delim, MAX_ITEMS + 1)
    if (parts.length > MAX_ITEMS) throw tooManyItems()
  }
  return nullStr === null ? parts : parts.map((x) => (x === nullStr ? null : x))
}

function anyArray(ts: SqlType[], i: number): SqlType | null {
  const t = ts[i]!
  if (isUnknown(t)) throw new SqlError(SqlState.datatypeMismatch, 'could not determine polymorphic type because input has type unknown')
  return t.array ? t : null
}

function intArray(a: SqlArray, what: 'dimension' | 'low bound'): number[] {
  if (a.ndims > 1) {
    throw new SqlError(SqlState.arraySubscriptError, 'wrong number of array subscripts', { detail: what === 'dimension' ? 'Dimension array must be one dimensional.' : 'Low bound array must be one dimensional.' })
  }
  return a.items.map((v) => {
    if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, 'dimension values cannot be null')
    return v as number
  })
}

function arrayFill(value: RtValue, dimsA: SqlArray | null, lbsA: SqlArray | null | undefined): SqlArray {
  if (dimsA === null || lbsA === null) throw new SqlError(SqlState.nullValueNotAllowed, 'dimension array or low bound array cannot be null')
  const dims = intArray(dimsA, 'dimension')
  const lbs = lbsA === undefined ? dims.map(() => 1) : intArray(lbsA, 'low bound')
  if (lbs.length !== dims.length) throw new SqlError(SqlState.arraySubscriptError, 'wrong number of array subscripts', { detail: 'Low bound array has different size than dimensions array.' })
  if (dims.length === 0) return SqlArray.EMPTY
  let n = 1
  for (const d of dims) {
    if (d < 0) throw tooManyItems()
    n *= d
    if (n > MAX_ITEMS) throw tooManyItems()
  }
  if (n === 0) return SqlArray.EMPTY
  return new SqlArray(dims, lbs, new Array<RtValue>(n).fill(value))
}

function trimArray(a: SqlArray, n: number): SqlArray {
  const len = a.ndims === 0 ? 0 : a.dims[0]!
  if (n < 0 || n > len) throw new SqlError(SqlState.arraySubscriptError, `number of elements to trim must be between 0 and ${len}`)
  if (n === len) return SqlArray.EMPTY
  if (n === 0) return new SqlArray(a.dims, a.dims.map(() => 1), a.items)
  const keep = len - n
  const inner = a.items.length / len
  const dims = [keep, ...a.dims.slice(1)]
  return new SqlArray(dims, dims.map(() => 1), a.items.slice(0, keep * inner))
}

function widthBucketArray(x: RtValue, t: SqlArray): number {
  if (t.ndims > 1) throw new SqlError(SqlState.arraySubscriptError, 'thresholds must be one-dimensional array')
  if (t.items.some((v) => v === null)) throw new SqlError(SqlState.nullValueNotAllowed, 'thresholds array must not contain NULLs')
  let lo = 0
  let hi = t.items.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (compareValues(x, t.items[mid]!) >= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

function dimension(a: SqlArray, d: number): number | null {
  return d >= 1 && d <= a.ndims ? d - 1 : null
}

function searchable(a: SqlArray): void {
  if (a.ndims > 1) throw new SqlError(SqlState.featureNotSupported, 'searching for elements in multidimensional arrays is not supported')
}

const arr = (v: RtValue) => v as SqlArray

export const ARRAY_FUNCTIONS: Record<string, ScalarResolver> = {
  array_length: (ts) => (ts.length === 2 && anyArray(ts, 0) ? { args: [ts[0]!, T.int4], result: T.int4, fn: (a) => {
    const d = dimension(arr(a[0]!), a[1] as number)
    return d === null ? null : arr(a[0]!).dims[d]!
  } } : null),
  array_lower: (ts) => (ts.length === 2 && anyArray(ts, 0) ? { args: [ts[0]!, T.int4], result: T.int4, fn: (a) => {
    const d = dimension(arr(a[0]!), a[1] as number)
    return d === null ? null : arr(a[0]!).lbounds[d]!
  } } : null),
  array_upper: (ts) => (ts.length === 2 && anyArray(ts, 0) ? { args: [ts[0]!, T.int4], result: T.int4, fn: (a) => {
    const d = dimension(arr(a[0]!), a[1] as number)
    return d === null ? null : arr(a[0]!).upper(d)
  } } : null),
  array_ndims: (ts) => (ts.length === 1 && anyArray(ts, 0) ? { args: [ts[0]!], result: T.int4, fn: (a) => (arr(a[0]!).ndims || null) } : null),
  array_dims: (ts) => (ts.length === 1 && anyArray(ts, 0) ? { args: [ts[0]!], result: T.text, fn: (a) => (arr(a[0]!).ndims ? arr(a[0]!).dimsText() : null) } : null),
  cardinality: (ts) => (ts.length === 1 && anyArray(ts, 0) ? { args: [ts[0]!], result: T.int4, fn: (a) => arr(a[0]!).items.length } : null),
  array_append: (ts) => {
    const r = resolvePolymorphic(ts, ['array', 'element'])
    return r && { args: r.args, result: r.args[0]!, nonStrict: true, fn: (a) => arrayAppend(a[0] as SqlArray | null, a[1]!) }
  },
  array_prepend: (ts) => {
    const r = resolvePolymorphic(ts, ['element', 'array'])
    return r && { args: r.args, result: r.args[1]!, nonStrict: true, fn: (a) => arrayPrepend(a[0]!, a[1] as SqlArray | null) }
  },
  array_cat: (ts) => {
    const r = resolvePolymorphic(ts, ['array', 'array'])
    return r && { args: r.args, result: r.args[0]!, nonStrict: true, fn: (a) => arrayCat(a[0] as SqlArray | null, a[1] as SqlArray | null) }
  },
  array_position: (ts) => {
    const r = resolvePolymorphic(ts, ts.length === 3 ? ['array', 'element', T.int4] : ['array', 'element'])
    return r && { args: r.args, result: T.int4, nonStrict: true, fn: (a) => {
      if (a[0] === null) return null
      const x = arr(a[0])
      searchable(x)
      if (a.length === 3 && a[2] === null) throw new SqlError(SqlState.nullValueNotAllowed, 'initial position must not be null')
      if (x.ndims === 0) return null
      const lb = x.lbounds[0]!
      const from = a.length === 3 ? Math.max(0, (a[2] as number) - lb) : 0
      for (let k = from; k < x.items.length; k++) if (notDistinct(x.items[k]!, a[1]!)) return lb + k
      return null
    } }
  },
  array_positions: (ts) => {
    const r = resolvePolymorphic(ts, ['array', 'element'])
    return r && { args: r.args, result: arrayOf(T.int4), nonStrict: true, fn: (a) => {
      if (a[0] === null) return null
      const x = arr(a[0])
      searchable(x)
      const out: RtValue[] = []
      const lb = x.lbounds[0] ?? 1
      x.items.forEach((v, k) => {
        if (notDistinct(v, a[1]!)) out.push(lb + k)
      })
      return SqlArray.of(out)
    } }
  },
  array_remove: (ts) => {
    const r = resolvePolymorphic(ts, ['array', 'element'])
    return r && { args: r.args, result: r.args[0]!, nonStrict: true, fn: (a) => {
      if (a[0] === null) return null
      const x = arr(a[0])
      if (x.ndims > 1) throw new SqlError(SqlState.featureNotSupported, 'removing elements from multidimensional arrays is not supported')
      const kept = x.items.filter((v) => !notDistinct(v, a[1]!))
      if (kept.length === x.items.length) return x
      return kept.length === 0 ? SqlArray.EMPTY : new SqlArray([kept.length], [x.lbounds[0]!], kept)
    } }
  },
  array_replace: (ts) => {
    const r = resolvePolymorphic(ts, ['array', 'element', 'element'])
    return r && { args: r.args, result: r.args[0]!, nonStrict: true, fn: (a) => {
      if (a[0] === null) return null
      const x = arr(a[0])
      if (x.ndims === 0) return x
      return new SqlArray(x.dims, x.lbounds, x.items.map((v) => (notDistinct(v, a[1]!) ? a[2]! : v)))
    } }
  },
  array_to_string: (ts) => {
    if (ts.length !== 2 && ts.length !== 3) return null
    const at = anyArray(ts, 0)
    if (!at) return null
    const el = elementType(at)
    return { args: [at, T.text, ...(ts.length === 3 ? [T.text] : [])], result: T.text, nonStrict: true, fn: (a) => {
      if (a[0] === null || a[1] === null) return null
      const nullStr = a.length === 3 ? (a[2] as string | null) : null
      const parts: string[] = []
      for (const v of arr(a[0]).items) {
        if (v === null) {
          if (nullStr !== null) parts.push(nullStr)
        } else parts.push(el.id === 'bool' ? (v ? 't' : 'f') : formatText(v, el)!)
      }
      return parts.join(a[1] as string)
    } }
  },
  string_to_array: (ts) => (ts.length === 2 || ts.length === 3 ? { args: ts.map(() => T.text), result: arrayOf(T.text), nonStrict: true, fn: (a) => {
    if (a[0] === null) return null
    return SqlArray.of(splitText(a[0] as string, a[1] as string | null, (a[2] ?? null) as string | null))
  } } : null),
  array_fill: (ts) => {
    if (ts.length !== 2 && ts.length !== 3) return null
    const el = isUnknown(ts[0]!) ? null : ts[0]!
    if (!el) throw new SqlError(SqlState.datatypeMismatch, 'could not determine polymorphic type because input has type unknown')
    if (el.array) return null
    const ints = arrayOf(T.int4)
    return { args: [el, ...ts.slice(1).map(() => ints)], result: arrayOf(el), nonStrict: true, fn: (a) => arrayFill(a[0]!, a[1] as SqlArray | null, a.length === 3 ? (a[2] as SqlArray | null) : undefined) }
  },
  trim_array: (ts) => (ts.length === 2 && anyArray(ts, 0) ? { args: [ts[0]!, T.int4], result: ts[0]!, fn: (a) => trimArray(arr(a[0]!), a[1] as number) } : null),
  width_bucket: (ts) => {
    if (ts.length !== 2) return null
    const r = resolvePolymorphic(ts, ['element', 'array'])
    return r && { args: r.args, result: T.int4, fn: (a) => widthBucketArray(a[0]!, arr(a[1]!)) }
  },
}
