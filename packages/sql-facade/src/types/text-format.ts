/**
 * Conversions between runtime values and PostgreSQL's text representation: `formatText`
 * is PostgreSQL's output function for each type (what psql prints and what the wire
 * protocol sends in text format); `parseText` is its input function.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatDate, formatTimestamp, formatTime, TIMESTAMP_END_MICROS, timestampOutOfRange, USEC_PER_SEC } from './datetime.js'
import { readDate, readTime, readTimestamp, readTimeTz } from './datetime-input.js'
import { Decimal, applyNumericTypmod } from './decimal.js'
import { Interval, formatIntervalStyle, parseInterval, restrictInterval } from './interval.js'
import { DEFAULT_DATETIME_STYLE, type DateTimeStyle } from './datetime-style.js'
import { parseEnum } from './enum-type.js'
import { formatRow, parseRowText, rowItems, RowValue } from './row-type.js'
import { normalizeJsonb, parseJsonText } from './json.js'
import { SqlArray } from './array.js'
import { formatArrayText, parseArrayText } from './array-text.js'
import { elementType, type SqlType } from './sql-type.js'
import { formatTimeTz, packTimeTz, unpackTimeTz } from './timetz.js'
import { parseGeometry } from './geometry.js'
import { formatMoney, parseMoney } from './money.js'
import { formatInet, inetKey, parseInet } from './inet.js'
import type { RtValue } from './value.js'
import { formatFloat } from './float-text.js'
import { codePointLength, sliceChars } from './text-chars.js'

export const INT2_MIN = -32768
export const INT2_MAX = 32767
export const INT4_MIN = -2147483648
export const INT4_MAX = 2147483647
export const INT8_MIN = -(2n ** 63n)
export const INT8_MAX = 2n ** 63n - 1n

export function outOfRange(t: SqlType): SqlError {
  const name = t.id === 'int2' ? 'smallint' : t.id === 'int4' ? 'integer' : t.id === 'int8' ? 'bigint' : t.id
  return new SqlError(SqlState.numericValueOutOfRange, `${name} out of range`)
}

export function checkInt(v: number, t: SqlType): number {
  if (t.id === 'int2' ? v < INT2_MIN || v > INT2_MAX : v < INT4_MIN || v > INT4_MAX) throw outOfRange(t)
  return v
}

export function checkInt8(v: bigint): bigint {
  if (v < INT8_MIN || v > INT8_MAX) throw outOfRange({ id: 'int8' })
  return v
}

function badInput(t: SqlType, text: string): SqlError {
  const name = t.id === 'int2' ? 'smallint' : t.id === 'int4' ? 'integer' : t.id === 'int8' ? 'bigint' : t.id === 'float8' ? 'double precision' : t.id === 'float4' ? 'real' : t.id === 'bool' ? 'boolean' : t.id
  return new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${name}: "${text}"`)
}

export { formatFloat } from './float-text.js'

function hex(bytes: Uint8Array): string {
  let s = '\\x'
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** The type a value of an untyped row field prints as (a row read without its type). */
function guessType(v: RtValue): SqlType {
  if (typeof v === 'boolean') return { id: 'bool' }
  if (typeof v === 'bigint') return { id: 'int8' }
  if (v instanceof Uint8Array) return { id: 'bytea' }
  return { id: 'text' }
}

/**
 * A value's text in PostgreSQL's output function for its type. Dates, timestamps and
 * intervals print in `style` (DateStyle, IntervalStyle); the default is the one stored
 * and replicated text uses.
 */
export function formatText(v: RtValue, t: SqlType, style: DateTimeStyle = DEFAULT_DATETIME_STYLE): string | null {
  if (v === null) return null
  if (v instanceof SqlArray) {
    const el = elementType(t)
    return formatArrayText(v, (x) => formatText(x, el, style)!, el.id === 'box' ? ';' : ',')
  }
  if (v instanceof RowValue) return formatRow(rowItems(v).map((x, i) => formatText(x, t.fields?.[i]?.type ?? guessType(x), style)))
  switch (t.id) {
    case 'bool': return v ? 't' : 'f'
    case 'float4': return formatFloat(v as number, true)
    case 'float8': return formatFloat(v as number, false)
    case 'date': return formatDate(v as number, style)
    case 'timestamp': return formatTimestamp(v as number, false, style)
    case 'timestamptz': return formatTimestamp(v as number, true, style)
    case 'interval': return v instanceof Interval ? formatIntervalStyle(v, style.interval) : String(v)
    case 'time': {
      const us = v as number
      return formatTime(Math.floor(us / 3_600_000_000), Math.floor(us / 60_000_000) % 60, Math.floor(us / USEC_PER_SEC) % 60, us % USEC_PER_SEC)
    }
    case 'timetz': return formatTimeTz(v as bigint)
    case 'money': return formatMoney(v as bigint)
    case 'inet': case 'cidr': return formatInet(v as string, t.id === 'cidr')
    case 'bytea': return hex(v as Uint8Array)
    default:
      if (v instanceof Uint8Array) return hex(v)
      return String(v)
  }
}

const TRUE_WORDS = ['t', 'true', 'y', 'yes', 'on', '1']
const FALSE_WORDS = ['f', 'false', 'n', 'no', 'off', '0']

export function parseBool(text: string): boolean {
  const s = text.trim().toLowerCase()
  if (s.length > 0) {
    if (TRUE_WORDS.includes(s) || (s.length > 1 && 'true'.startsWith(s)) || (s.length > 1 && 'yes'.startsWith(s))) return true
    if (FALSE_WORDS.includes(s) || (s.length > 1 && 'false'.startsWith(s)) || (s.length > 1 && 'off'.startsWith(s))) return false
  }
  throw badInput({ id: 'bool' }, text)
}

export function parseIntText(text: string, t: SqlType): number | bigint {
  const trimmed = text.trim()
  // An underscore only between two digits (PostgreSQL 16's rule): '1_000', not '1__0', '_1' or '1_'.
  if (!/^[+-]?\d+(?:_\d+)*$/.test(trimmed)) throw badInput(t, text)
  const s = trimmed.includes('_') ? trimmed.replace(/_/g, '') : trimmed
  if (t.id === 'int8') return checkInt8(BigInt(s))
  const n = Number(s)
  return checkInt(n, t)
}

export function parseFloatText(text: string, t: SqlType): number {
  const s = text.trim().toLowerCase()
  if (s === 'nan') return NaN
  if (s === 'infinity' || s === '+infinity' || s === 'inf' || s === '+inf') return Infinity
  if (s === '-infinity' || s === '-inf') return -Infinity
  const m = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.exec(s)
  if (!m) throw badInput(t, text)
  const d = Number(s)
  const v = t.id === 'float4' ? Math.fround(d) : d
  // Out of range: too large for the type, or a non-zero mantissa that rounds to zero.
  if (!Number.isFinite(v) || (v === 0 && /[1-9]/.test(m[1]!))) {
    throw new SqlError(SqlState.numericValueOutOfRange, `"${text}" is out of range for type ${t.id === 'float4' ? 'real' : 'double precision'}`)
  }
  return v
}

/** OID input: -2147483648 .. 4294967295, negatives read as their unsigned 32-bit value. */
function parseOid(text: string): number {
  const s = text.trim()
  if (!/^[+-]?\d+$/.test(s)) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type oid: "${text}"`)
  const n = Number(s)
  if (n < -2147483648 || n > 4294967295) throw new SqlError(SqlState.numericValueOutOfRange, `value "${text}" is out of range for type oid`)
  return n < 0 ? n + 4294967296 : n
}

const UUID_RE = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i

export function parseUuid(text: string): string {
  const t = text.trim()
  const inner = t.startsWith('{') && t.endsWith('}') ? t.slice(1, -1) : t
  const groupsOk = inner.split('-').every((g) => g.length % 4 === 0 && g.length > 0)
  const m = groupsOk ? UUID_RE.exec(inner.replace(/-/g, '')) : null
  if (!m) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type uuid: "${text}"`)
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase()
}

/** bytea input: `\\x` hex (whitespace between digit pairs allowed) or the escape format. */
function parseBytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const out: number[] = []
    const h = text.slice(2)
    for (let i = 0; i < h.length; i++) {
      if (/\s/.test(h[i]!)) continue
      const hi = parseInt(h[i]!, 16)
      if (Number.isNaN(hi)) throw new SqlError(SqlState.invalidParameterValue, `invalid hexadecimal digit: "${h[i]}"`)
      if (i + 1 >= h.length) throw new SqlError(SqlState.invalidParameterValue, 'invalid hexadecimal data: odd number of digits')
      const lo = parseInt(h[i + 1]!, 16)
      if (Number.isNaN(lo)) throw new SqlError(SqlState.invalidParameterValue, `invalid hexadecimal digit: "${h[i + 1]}"`)
      out.push(hi * 16 + lo)
      i++
    }
    return new Uint8Array(out)
  }
  // Escape format: \\ is a backslash, \ooo an octal byte; any other backslash is invalid.
  const out: number[] = []
  const encoder = new TextEncoder()
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c !== '\\') {
      const cp = text.codePointAt(i)!
      if (cp < 0x80) out.push(cp)
      else {
        const ch = String.fromCodePoint(cp)
        out.push(...encoder.encode(ch))
        i += ch.length - 1
      }
      continue
    }
    if (text[i + 1] === '\\') {
      out.push(92)
      i++
      continue
    }
    const oct = /^[0-3][0-7]{2}/.exec(text.slice(i + 1, i + 4))
    if (!oct) throw new SqlError(SqlState.invalidTextRepresentation, 'invalid input syntax for type bytea')
    out.push(parseInt(oct[0], 8))
    i += 3
  }
  return new Uint8Array(out)
}

/** Applies VARCHAR(n)/CHAR(n) and NUMERIC(p,s) modifiers on assignment. */
/**
 * A `"char"` value (one byte) from text, as PostgreSQL's charin: `\ooo` is an octal byte,
 * else the first byte. It is kept as its output text (charout): byte 0 is '', bytes from
 * 128 print as `\ooo`. Applying it to its own output gives the same value.
 */
export function charIn(s: string): string {
  const byte = /^\\[0-3][0-7]{2}$/.test(s) ? parseInt(s.slice(1), 8) : s.length === 0 ? 0 : new TextEncoder().encode(s)[0]!
  if (byte === 0) return ''
  return byte < 128 ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, '0')}`
}

export function applyTypmod(v: RtValue, t: SqlType, explicit: boolean): RtValue {
  if (v === null) return v
  if (t.id === 'char' && !t.array && typeof v === 'string') return charIn(v)
  if (v instanceof SqlArray) {
    const el = elementType(t)
    return v.map((x) => applyTypmod(x, el, explicit))
  }
  if (t.id === 'numeric' && t.precision !== undefined) return applyNumericTypmod(v as Decimal, t.precision, t.scale ?? 0)
  if (t.id === 'interval' && (t.range !== undefined || t.precision !== undefined)) {
    const iv = t.range !== undefined ? restrictInterval(v as Interval, t.range) : (v as Interval)
    return t.precision === undefined ? iv : new Interval(iv.months, iv.days, roundMicros(iv.micros, t.precision, 'time'))
  }
  if ((t.id === 'timestamp' || t.id === 'timestamptz' || t.id === 'time') && t.precision !== undefined && t.precision < 6) {
    return roundMicros(v as number, t.precision, t.id === 'time' ? 'time' : 'timestamp')
  }
  if (t.id === 'timetz' && t.precision !== undefined && t.precision < 6) {
    const { ofDay, east } = unpackTimeTz(v as bigint)
    return packTimeTz(roundMicros(ofDay, t.precision, 'time'), east)
  }
  if ((t.id === 'varchar' || t.id === 'bpchar') && t.precision !== undefined) {
    const s = v as string
    // Counted without an array of its characters (a huge text spread into one ended the process).
    if (s.length > t.precision && codePointLength(s) > t.precision) {
      if (explicit || /^ *$/.test(sliceChars(s, t.precision))) return sliceChars(s, 0, t.precision)
      throw new SqlError(SqlState.stringDataRightTruncation, `value too long for type ${t.id === 'varchar' ? 'character varying' : 'character'}(${t.precision})`)
    }
    if (t.id === 'bpchar') return s.padEnd(t.precision, ' ')
  }
  return v
}

/** A time or timestamp rounded (half away from zero) to `digits` fractional-second digits; infinities pass. */
function roundMicros(us: number, digits: number, kind: 'time' | 'timestamp'): number {
  if (!Number.isFinite(us)) return us
  const unit = 10 ** (6 - digits)
  const r = us < 0 ? -Math.round(-us / unit) * unit : Math.round(us / unit) * unit
  if (kind === 'timestamp' && r >= TIMESTAMP_END_MICROS) throw timestampOutOfRange()
  return r
}

/**
 * IntervalStyle sql_standard reads `-1 2:03:04` as all negative: a leading minus applies
 * to every field when no other field has a sign of its own (PostgreSQL's DecodeInterval).
 */
function sqlStandardInterval(text: string, range: number | undefined): Interval {
  const fields = text.trim().split(/\s+/)
  if (!fields[0]!.startsWith('-') || fields.slice(1).some((f) => f.startsWith('-') || f.startsWith('+'))) return parseInterval(text, range)
  return parseInterval(text.trim().slice(1), range).neg()
}

/** A value from its text (PostgreSQL's input function); ambiguous dates read in `style`'s field order. */
export function parseText(text: string, t: SqlType, nowMicros: number, style: DateTimeStyle = DEFAULT_DATETIME_STYLE): RtValue {
  if (t.array) {
    const el = elementType(t)
    return parseArrayText(text, (s) => parseText(s, el, nowMicros, style), el.id === 'box' ? ';' : ',')
  }
  switch (t.id) {
    case 'bool': return parseBool(text)
    case 'int2': case 'int4': case 'int8': return parseIntText(text, t)
    // A name given to an OID alias is looked up by the compiler (expr/reg-cast.ts); a number is the OID.
    case 'oid': case 'regclass': case 'regtype': case 'regnamespace': case 'regproc': case 'regrole': return parseOid(text)
    case 'float4': case 'float8': return parseFloatText(text, t)
    case 'numeric': return Decimal.parse(text)
    case 'text': case 'varchar': case 'bpchar': case 'name': case 'char': case 'unknown': return text
    case 'uuid': return parseUuid(text)
    case 'money': return parseMoney(text)
    case 'inet': case 'cidr': return inetKey(parseInet(text, t.id === 'cidr'))
    case 'point': case 'lseg': case 'line': case 'box': case 'path': case 'polygon': case 'circle': return parseGeometry(text, t.id)
    case 'json': parseJsonText(text); return text
    case 'jsonb': return normalizeJsonb(text)
    case 'bytea': return parseBytea(text)
    case 'date': return readDate(text, nowMicros, style.order)
    case 'timestamp': return readTimestamp(text, false, nowMicros, style.order)
    case 'timestamptz': return readTimestamp(text, true, nowMicros, style.order)
    case 'time': return readTime(text, nowMicros)
    case 'timetz': {
      const { ofDay, zone } = readTimeTz(text, nowMicros)
      return packTimeTz(ofDay, zone)
    }
    case 'interval': return style.interval === 'sql_standard' ? sqlStandardInterval(text, t.range) : parseInterval(text, t.range)
    case 'record': {
      if (!t.fields) throw new SqlError(SqlState.featureNotSupported, 'input of anonymous composite types is not implemented')
      const texts = parseRowText(text, t.fields.length)
      return new RowValue(texts.map((s, i) => (s === null ? null : parseText(s, t.fields![i]!.type, nowMicros, style))))
    }
    case 'enum':
      if (!t.labels || t.name === undefined) throw new SqlError(SqlState.featureNotSupported, 'input of anyenum needs a concrete enum type')
      return parseEnum(text, t.name, t.labels)
    default:
      throw new SqlError(SqlState.featureNotSupported, `input of type ${t.id} is not supported`)
  }
}

export { Interval }
