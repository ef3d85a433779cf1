/**
 * Ordering and grouping identity of runtime values. Text compares by code point (the "C"
 * collation); floats order NaN above every other value and treat it as equal to itself,
 * as PostgreSQL does.
 */
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
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
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
    return a.length - b.length
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) {
      const x = a[i]!
      const y = b[i]!
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1
        continue
      }
      const c = compareValues(x, y)
      if (c) return c
    }
    return a.length - b.length
  }
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
  return 'a[' + v.map(groupKey).join('\u0001') + ']'
}

export function rowKey(values: RtValue[]): string {
  let s = ''
  for (const v of values) s += groupKey(v) + '\u0000'
  return s
}
