/**
 * How SQL values are stored in core rows. Core stores scalars only and never interprets
 * them, so types whose natural scalar would be ambiguous or misordered carry a one-char
 * tag after a NUL (which no PostgreSQL text value can contain):
 *   numeric  "\0n" + decimal text      interval "\0i" + months,days,micros
 * Everything else stores as its runtime scalar: integers as number (int2/int4) or bigint
 * (int8), floats as number, text/uuid/json/jsonb as string, dates as days, timestamps as
 * epoch micros, bytea as Uint8Array. The tags let a custom conflict resolver, which sees
 * core values without their column, recover exact SQL values (`decodeUntyped`).
 */
import type { Value } from '@concord/core'
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
import { T, type SqlType } from './sql-type.js'
import type { RtValue } from './value.js'

const NUMERIC_TAG = '\u0000n'
const INTERVAL_TAG = '\u0000i'

export function encodeValue(v: RtValue): Value {
  if (v === null) return null
  if (v instanceof Decimal) return NUMERIC_TAG + v.toString()
  if (v instanceof Interval) return `${INTERVAL_TAG}${v.months},${v.days},${v.micros}`
  if (Array.isArray(v)) return JSON.stringify(v.map((x) => (x === null ? null : String(x))))
  return v
}

export function decodeValue(v: Value | undefined, t: SqlType): RtValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' && v.charCodeAt(0) === 0) return decodeTagged(v)
  switch (t.id) {
    case 'int8': return typeof v === 'bigint' ? v : BigInt(v as number)
    case 'int2': case 'int4': return typeof v === 'bigint' ? Number(v) : (v as number)
    case 'numeric': return typeof v === 'string' ? Decimal.parse(v) : typeof v === 'bigint' ? new Decimal(v, 0) : Decimal.fromNumber(v as number)
    default: return v as RtValue
  }
}

function decodeTagged(v: string): RtValue {
  if (v.startsWith(NUMERIC_TAG)) return Decimal.parse(v.slice(2))
  if (v.startsWith(INTERVAL_TAG)) {
    const [m, d, us] = v.slice(2).split(',').map(Number) as [number, number, number]
    return new Interval(m, d, us)
  }
  return v
}

/** Decodes a core value without knowing its column, with the SQL type it most likely has. */
export function decodeUntyped(v: Value): { value: RtValue; type: SqlType } {
  if (v === null) return { value: null, type: T.unknown }
  if (typeof v === 'string') {
    if (v.startsWith(NUMERIC_TAG)) return { value: decodeTagged(v), type: T.numeric }
    if (v.startsWith(INTERVAL_TAG)) return { value: decodeTagged(v), type: T.interval }
    return { value: v, type: T.text }
  }
  if (typeof v === 'bigint') return { value: v, type: T.int8 }
  if (typeof v === 'number') return { value: v, type: Number.isInteger(v) && Math.abs(v) <= 2147483647 ? T.int4 : T.float8 }
  if (typeof v === 'boolean') return { value: v, type: T.bool }
  return { value: v, type: T.bytea }
}
