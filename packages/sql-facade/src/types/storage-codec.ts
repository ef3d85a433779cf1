/**
 * How SQL values are stored in core rows. Core stores scalars only and never interprets
 * them, so types whose natural scalar would be ambiguous or misordered carry a one-char
 * tag after a NUL (which no PostgreSQL text value can contain):
 *   numeric  "\0n" + decimal text      interval "\0i" + months,days,micros
 *   array    "\0a" + version "1" + JSON [dims, lower bounds, elements], each element null
 *            or a string whose first char says what follows: n number, b bigint, s string,
 *            t/f boolean, x bytea hex, d numeric, i interval (months,days,micros), e enum
 *            (label id ":" label). The elements describe themselves, so any replica decodes
 *            them without the column (an enum element reads as its label there).
 *   row      "\0r" + version "1" + JSON list of its items, encoded as array elements are,
 *            plus A (an array: its stored form follows) and R (a row: likewise).
 *   enum     "\0e" + label id + ":" + label: the id finds the label under a renamed
 *            name; the label is what a reader without the type sees.
 * Everything else stores as its runtime scalar: integers as number (int2/int4) or bigint
 * (int8), floats as number, text/uuid/json/jsonb as string, dates as days, timestamps as
 * epoch micros, bytea as Uint8Array, money and timetz as bigint, geometric and inet/cidr
 * values as string (their own files say which string). The tags let a custom conflict resolver, which sees
 * core values without their column, recover exact SQL values (`decodeUntyped`).
 */
import type { Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_DIMS, SqlArray } from './array.js'
import { Decimal } from './decimal.js'
import { Interval } from './interval.js'
import { EnumValue, enumById, type EnumLabel } from './enum-type.js'
import { rowItems, RowValue } from './row-type.js'
import { arrayOf, elementType, T, type SqlType } from './sql-type.js'
import { parseText } from './text-format.js'
import type { RtValue } from './value.js'

const NUMERIC_TAG = '\u0000n'
const INTERVAL_TAG = '\u0000i'
const ARRAY_TAG = '\u0000a'
const ENUM_TAG = '\u0000e'
const ROW_TAG = '\u0000r'
const ROW_VERSION = '1'
const ARRAY_VERSION = '1'

export function encodeValue(v: RtValue): Value {
  // Strings, numbers, bigints and booleans are stored as they are: answered before the
  // class checks (every value of every row written comes here).
  if (v === null || typeof v !== 'object') return v
  if (v instanceof Decimal) return NUMERIC_TAG + v.toString()
  if (v instanceof Interval) return `${INTERVAL_TAG}${v.months},${v.days},${v.micros}`
  if (v instanceof EnumValue) return `${ENUM_TAG}${v.id}:${v.label}`
  if (v instanceof RowValue) return ROW_TAG + ROW_VERSION + JSON.stringify(rowItems(v).map(encodeElement))
  if (v instanceof SqlArray) return ARRAY_TAG + ARRAY_VERSION + JSON.stringify([v.dims, v.lbounds, v.items.map(encodeElement)])
  return v
}

function encodeElement(v: RtValue): string | null {
  if (v === null) return null
  if (typeof v === 'number') return 'n' + (Object.is(v, -0) ? '-0' : String(v))
  if (typeof v === 'bigint') return 'b' + v.toString()
  if (typeof v === 'string') return 's' + v
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (v instanceof Uint8Array) {
    let h = 'x'
    for (const b of v) h += b.toString(16).padStart(2, '0')
    return h
  }
  if (v instanceof Decimal) return 'd' + v.toString()
  if (v instanceof Interval) return `i${v.months},${v.days},${v.micros}`
  if (v instanceof EnumValue) return `e${v.id}:${v.label}`
  if (v instanceof RowValue) return 'R' + (encodeValue(v) as string)
  if (v instanceof SqlArray) return 'A' + (encodeValue(v) as string)
  throw new Error('an array element cannot be an array')
}

function corrupt(what: string): SqlError {
  return new SqlError(SqlState.dataCorrupted, `stored array value is corrupt: ${what}`)
}

function decodeElement(e: unknown, labels: readonly EnumLabel[] | undefined): RtValue {
  if (e === null) return null
  if (typeof e !== 'string' || e.length === 0) throw corrupt('element is not a tagged string')
  const body = e.slice(1)
  switch (e[0]) {
    case 'n': return Number(body)
    case 'b':
      if (!/^-?\d+$/.test(body)) throw corrupt('bad bigint element')
      return BigInt(body)
    case 's': return body
    case 't': return true
    case 'f': return false
    case 'x': {
      if (body.length % 2 !== 0 || !/^[0-9a-f]*$/.test(body)) throw corrupt('bad bytea element')
      const out = new Uint8Array(body.length / 2)
      for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(i * 2, i * 2 + 2), 16)
      return out
    }
    case 'd': return Decimal.parse(body)
    case 'i': {
      const parts = body.split(',').map(Number)
      if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw corrupt('bad interval element')
      return new Interval(parts[0]!, parts[1]!, parts[2]!)
    }
    case 'e': return decodeEnum(body, labels)
    case 'A': case 'R': return decodeTagged(body)
  }
  throw corrupt(`unknown element tag ${JSON.stringify(e[0])}`)
}

/**
 * Array columns written before the tagged encoding held either the value's PostgreSQL text
 * (assigned from a literal) or a JSON list of element texts (ARRAY[..]).
 */
function decodeLegacyArray(v: string, t: SqlType): SqlArray {
  const el = elementType(t)
  if (v.startsWith('[') && !/^\[\s*[-+\d]/.test(v)) {
    let parsed: unknown
    try {
      parsed = JSON.parse(v)
    } catch {
      throw corrupt('legacy value is not JSON')
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => x === null || typeof x === 'string')) throw corrupt('legacy value is not a list of texts')
    return SqlArray.of((parsed as Array<string | null>).map((x) => (x === null ? null : parseText(x, el, 0))))
  }
  return parseText(v, t, 0) as SqlArray
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x))
}

function decodeArray(v: string, labels?: readonly EnumLabel[]): SqlArray {
  if (v[2] !== ARRAY_VERSION) throw corrupt(`unknown version ${JSON.stringify(v[2] ?? '')}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(v.slice(3))
  } catch {
    throw corrupt('not JSON')
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw corrupt('not [dims, lower bounds, elements]')
  const [dims, lbounds, items] = parsed as unknown[]
  if (!isIntList(dims) || !isIntList(lbounds) || !Array.isArray(items)) throw corrupt('bad shape')
  if (dims.length > MAX_DIMS || dims.length !== lbounds.length || dims.some((d) => d < 1)) throw corrupt('bad dimensions')
  if (items.length !== (dims.length ? dims.reduce((a, b) => a * b, 1) : 0)) throw corrupt('element count does not match dimensions')
  return new SqlArray(dims, lbounds, items.map((e) => decodeElement(e, labels)))
}

export function decodeValue(v: Value | undefined, t: SqlType): RtValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' && v.charCodeAt(0) === 0) {
    if (t.id === 'enum' && v.startsWith(t.array ? ARRAY_TAG : ENUM_TAG)) return t.array ? decodeArray(v, t.labels) : decodeEnum(v.slice(2), t.labels)
    if (t.id === 'record' && t.fields) return typedRow(decodeTagged(v), t)
    return decodeTagged(v)
  }
  if (t.array) {
    if (typeof v === 'string') return decodeLegacyArray(v, t)
    throw corrupt('a stored array column holds a scalar')
  }
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
  if (v.startsWith(ARRAY_TAG)) return decodeArray(v)
  if (v.startsWith(ENUM_TAG)) return decodeEnum(v.slice(2), undefined)
  if (v.startsWith(ROW_TAG)) return decodeRow(v)
  return v
}

function decodeRow(v: string): RowValue {
  if (v[2] !== ROW_VERSION) throw corrupt(`unknown row version ${JSON.stringify(v[2] ?? '')}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(v.slice(3))
  } catch {
    throw corrupt('row is not JSON')
  }
  if (!Array.isArray(parsed)) throw corrupt('row is not a list')
  return new RowValue(parsed.map((e) => decodeElement(e, undefined)))
}

/**
 * A row (or array of rows) decoded without types, given its type: enum fields read
 * through their labels, nested rows through their fields. Other items decode alike
 * either way.
 */
function typedRow(v: RtValue, t: SqlType): RtValue {
  if (v instanceof SqlArray) return t.array ? v.map((x) => typedRow(x, elementType(t))) : v
  if (!(v instanceof RowValue) || !t.fields || t.array) return v
  return new RowValue(rowItems(v).map((x, i) => {
    const ft = t.fields![i]?.type
    if (!ft || x === null) return x
    if (ft.id === 'enum' && typeof x === 'string' && ft.labels) return ft.labels.some((l) => l.label === x) ? enumById(-1, x, ft.labels) : x
    if (ft.id === 'record') return typedRow(x, ft)
    return x
  }))
}

/** `id:label` as the type's value, or as the label's text without the type. */
function decodeEnum(body: string, labels: readonly EnumLabel[] | undefined): RtValue {
  const colon = body.indexOf(':')
  const id = Number(body.slice(0, colon))
  if (colon < 1 || !Number.isInteger(id)) throw corrupt('bad enum value')
  const label = body.slice(colon + 1)
  return labels ? enumById(id, label, labels) : label
}

/** Decodes a core value without knowing its column, with the SQL type it most likely has. */
export function decodeUntyped(v: Value): { value: RtValue; type: SqlType } {
  if (v === null) return { value: null, type: T.unknown }
  if (typeof v === 'string') {
    if (v.startsWith(NUMERIC_TAG)) return { value: decodeTagged(v), type: T.numeric }
    if (v.startsWith(INTERVAL_TAG)) return { value: decodeTagged(v), type: T.interval }
    if (v.startsWith(ENUM_TAG)) return { value: decodeTagged(v), type: T.text }
    if (v.startsWith(ARRAY_TAG)) {
      const a = decodeArray(v)
      const first = a.items.find((x) => x !== null)
      return { value: a, type: arrayOf(first === undefined ? T.text : scalarType(first)) }
    }
    return { value: v, type: T.text }
  }
  if (typeof v === 'bigint') return { value: v, type: T.int8 }
  if (typeof v === 'number') return { value: v, type: Number.isInteger(v) && Math.abs(v) <= 2147483647 ? T.int4 : T.float8 }
  if (typeof v === 'boolean') return { value: v, type: T.bool }
  return { value: v, type: T.bytea }
}

/** The SQL type a runtime element value most likely has (for values seen without a column). */
function scalarType(v: RtValue): SqlType {
  if (typeof v === 'bigint') return T.int8
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 2147483647 ? T.int4 : T.float8
  if (typeof v === 'boolean') return T.bool
  if (v instanceof Decimal) return T.numeric
  if (v instanceof Interval) return T.interval
  if (v instanceof Uint8Array) return T.bytea
  return T.text
}
