/**
 * Ordering and grouping identity of runtime values. Text compares by code point (the "C"
 * collation); floats order NaN above every other value and treat it as equal to itself,
 * as PostgreSQL does.
 */
import { SqlArray } from './array.js'
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
import { EnumValue } from './enum-type.js'
import { compareRows, rowItems, RowValue } from './row-type.js'
import type { RtValue } from './value.js'

/** Compares two non-null values of one type. */
export function compareValues(a: RtValue, b: RtValue): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1
    if (Number.isNaN(b)) return -1
    return a < b ? -1 : a > b ? 1 : 0
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  if (a instanceof Decimal && b instanceof Decimal) return a.compare(b)
  if (a instanceof Interval && b instanceof Interval) return a.compare(b)
  if (a instanceof EnumValue && b instanceof EnumValue) return a.compare(b)
  if (a instanceof RowValue && b instanceof RowValue) return compareRows(a, b, compareValues)
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
    return a.length - b.length
  }
  if (a instanceof SqlArray && b instanceof SqlArray) return compareArrays(a, b)
  // Mixed representations of one SQL type (number vs bigint for integers).
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    const x = BigInt(a)
    const y = BigInt(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`)
}

/** A string equal for exactly the values GROUP BY / DISTINCT treat as equal. */
export function groupKey(v: RtValue): string {
  if (v === null) return 'N'
  if (typeof v === 'number') return Number.isNaN(v) ? 'nNaN' : 'n' + (v === 0 ? '0' : String(v))
  if (typeof v === 'bigint') return 'n' + v.toString()
  if (typeof v === 'string') return 's' + v
  if (typeof v === 'boolean') return v ? 'T' : 'F'
  if (v instanceof Decimal) return 'd' + v.normalized().toString()
  if (v instanceof Interval) return 'i' + v.span()
  if (v instanceof Uint8Array) return 'b' + Array.from(v).join(',')
  if (v instanceof EnumValue) return 'e' + v.label
  if (v instanceof RowValue) {
    let r = 'r'
    for (const x of rowItems(v)) {
      const e = groupKey(x)
      r += e.length + ':' + e
    }
    return r
  }
  // Length-prefixed elements: no element text can imitate an element boundary.
  let k = 'a' + v.dimsText()
  for (const x of v.items) {
    const e = groupKey(x)
    k += e.length + ':' + e
  }
  return k
}

/**
 * PostgreSQL's array_cmp: elements in storage order (NULL above every value), then the
 * element count, the number of dimensions, the lengths and the lower bounds, so arrays of
 * different shape are never equal ('[0:1]={1,2}' <> '{1,2}').
 */
function compareArrays(a: SqlArray, b: SqlArray): number {
  const x = a.items
  const y = b.items
  const n = Math.min(x.length, y.length)
  for (let i = 0; i < n; i++) {
    const u = x[i]!
    const v = y[i]!
    if (u === null || v === null) {
      if (u !== v) return u === null ? 1 : -1
      continue
    }
    const c = compareValues(u, v)
    if (c) return c
  }
  if (x.length !== y.length) return x.length < y.length ? -1 : 1
  if (a.ndims !== b.ndims) return a.ndims < b.ndims ? -1 : 1
  for (let d = 0; d < a.ndims; d++) if (a.dims[d] !== b.dims[d]) return a.dims[d]! < b.dims[d]! ? -1 : 1
  for (let d = 0; d < a.ndims; d++) if (a.lbounds[d] !== b.lbounds[d]) return a.lbounds[d]! < b.lbounds[d]! ? -1 : 1
  return 0
}

export function rowKey(values: RtValue[]): string {
  let s = ''
  for (const v of values) s += groupKey(v) + '\u0000'
  return s
}
