/**
 * PostgreSQL's binary format (typsend/typreceive) for the types Concord serves, converted
 * from and to their text form: results reach the wire as PostgreSQL text, and parameters
 * are bound as text typed by context, so binary is a second spelling of the same text.
 *
 *   bool 1 byte · int2/int4/int8/oid big-endian · float4/float8 IEEE · text-like UTF-8 ·
 *   jsonb version byte 1 + UTF-8 · bytea raw · uuid 16 bytes · numeric int16 ndigits,
 *   weight, sign, dscale + base-10000 digits · date int32 days since 2000-01-01 ·
 *   timestamp[tz] int64 microseconds since 2000-01-01 00:00 UTC · time int64 microseconds ·
 *   interval int64 microseconds, int32 days, int32 months ·
 *   arrays int32 ndim, int32 has-nulls, uint32 element OID, (int32 length, int32 lower
 *   bound) per dimension, then per element int32 byte length (-1 NULL) and its bytes.
 *
 * Decoding is defensive: every length, count, flag and element OID from the client is
 * checked against the bytes actually present before anything is allocated (22P03
 * invalid_binary_representation, 42804 for a mismatched element type, 54000 for too many
 * dimensions or elements); trailing bytes are rejected.
 */
import { SqlError, SqlState } from '@concord/sql-facade'
import { formatArrayLiteral, parseArrayLiteral } from '@concord/sql-facade'
import { arrayElementOid, OID } from './pg-types.js'

/** Bounds on a decoded array, as the SQL layer enforces them (MAXDIM; Concord's element limit). */
const MAX_DIMS = 6
const MAX_ITEMS = 16_777_216

const PG_EPOCH_DAYS = 10957 // 2000-01-01 in days since 1970-01-01
const USEC_PER_DAY = 86_400_000_000n
const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

function bad(message: string): SqlError {
  return new SqlError(SqlState.invalidBinaryRepresentation, message)
}

/** Date/time text the binary encoder cannot read: printed in a DateStyle or IntervalStyle other than ISO / postgres. */
function notIsoText(kind: string, text: string): SqlError {
  return new SqlError(SqlState.featureNotSupported, `binary format for ${kind} "${text}" needs DateStyle ISO and IntervalStyle postgres`, {
    hint: "SET DateStyle = 'ISO' and IntervalStyle = 'postgres', or read the column in text format.",
  })
}

function unsupported(oid: number): SqlError {
  return new SqlError(SqlState.featureNotSupported, `binary format for type with OID ${oid} is not supported`)
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8Strict.decode(b)
  } catch {
    throw new SqlError(SqlState.characterNotInRepertoire, 'invalid byte sequence for encoding "UTF8"')
  }
}

/** Whether values of this OID (or arrays of it) can be sent and received in binary here. */
export function supportsBinary(oid: number): boolean {
  const el = arrayElementOid(oid)
  return SCALARS.has(el ?? oid)
}

const SCALARS = new Set<number>([
  OID.bool, OID.bytea, OID.char, OID.name, OID.int8, OID.int2, OID.int4, OID.text, OID.oid, OID.json,
  OID.float4, OID.float8, OID.unknown, OID.bpchar, OID.varchar, OID.date, OID.time, OID.timestamp,
  OID.timestamptz, OID.interval, OID.numeric, OID.uuid, OID.jsonb,
])

// --- text to binary (results) ------------------------------------------------------------

/** The binary form of a value given in PostgreSQL's text output for `oid`. */
export function encodeBinary(text: string, oid: number): Uint8Array {
  const el = arrayElementOid(oid)
  if (el !== null) return encodeArray(text, el)
  return encodeScalar(text, oid)
}

function fixed(n: number, write: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(n)
  write(new DataView(b.buffer))
  return b
}

function encodeScalar(text: string, oid: number): Uint8Array {
  switch (oid) {
    case OID.bool: return Uint8Array.of(text === 't' || text === 'true' ? 1 : 0)
    case OID.int2: return fixed(2, (v) => v.setInt16(0, Number(text)))
    case OID.int4: return fixed(4, (v) => v.setInt32(0, Number(text)))
    case OID.oid: return fixed(4, (v) => v.setUint32(0, Number(text)))
    case OID.int8: return fixed(8, (v) => v.setBigInt64(0, BigInt(text)))
    case OID.float4: return fixed(4, (v) => v.setFloat32(0, Number(text)))
    case OID.float8: return fixed(8, (v) => v.setFloat64(0, Number(text)))
    case OID.text: case OID.varchar: case OID.bpchar: case OID.name: case OID.char: case OID.json: case OID.unknown:
      return utf8.encode(text)
    case OID.jsonb: {
      const body = utf8.encode(text)
      const b = new Uint8Array(body.length + 1)
      b[0] = 1
      b.set(body, 1)
      return b
    }
    case OID.bytea: return byteaFromText(text)
    case OID.uuid: {
      const hex = text.replace(/-/g, '')
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw bad(`invalid uuid text "${text}"`)
      return hexBytes(hex)
    }
    case OID.numeric: return encodeNumeric(text)
    case OID.date: return fixed(4, (v) => v.setInt32(0, dateFromText(text)))
    case OID.time: return fixed(8, (v) => v.setBigInt64(0, timeFromText(text)))
    case OID.timestamp: case OID.timestamptz: return fixed(8, (v) => v.setBigInt64(0, timestampFromText(text)))
    case OID.interval: {
      const iv = intervalFromText(text)
      return fixed(16, (v) => {
        v.setBigInt64(0, iv.micros)
        v.setInt32(8, iv.days)
        v.setInt32(12, iv.months)
      })
    }
  }
  throw unsupported(oid)
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

function byteaFromText(text: string): Uint8Array {
  if (!text.startsWith('\\x')) return utf8.encode(text)
  const hex = text.slice(2)
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw bad('invalid bytea text')
  return hexBytes(hex)
}

function encodeArray(text: string, elementOid: number): Uint8Array {
  const a = parseArrayLiteral(text)
  const parts = a.items.map((x) => (x === null ? null : encodeScalar(x, elementOid)))
  let size = 12 + 8 * a.dims.length
  for (const p of parts) size += 4 + (p?.length ?? 0)
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  v.setInt32(0, a.dims.length)
  v.setInt32(4, parts.includes(null) ? 1 : 0)
  v.setUint32(8, elementOid)
  let at = 12
  a.dims.forEach((d, i) => {
    v.setInt32(at, d)
    v.setInt32(at + 4, a.lbounds[i]!)
    at += 8
  })
  for (const p of parts) {
    if (p === null) {
      v.setInt32(at, -1)
      at += 4
      continue
    }
    v.setInt32(at, p.length)
    out.set(p, at + 4)
    at += 4 + p.length
  }
  return out
}

/** numeric text (plain or exponent-free decimal) to PostgreSQL's base-10000 digits. */
function encodeNumeric(text: string): Uint8Array {
  const t = text.trim()
  if (t === 'NaN') return fixed(8, (v) => v.setUint16(4, 0xc000))
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t)
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw bad(`invalid numeric text "${text}"`)
  const neg = m[1] === '-'
  const intPart = m[2]!.replace(/^0+/, '')
  const frac = m[3] ?? ''
  const dscale = frac.length
  // Align to groups of four digits around the decimal point.
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0')
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0')
  const groups: number[] = []
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)))
  const intGroups = groups.length
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)))
  let weight = intGroups - 1
  let start = 0
  while (start < groups.length && groups[start] === 0) {
    start++
    weight--
  }
  let end = groups.length
  while (end > start && groups[end - 1] === 0) end--
  const digits = groups.slice(start, end)
  if (digits.length === 0) weight = 0
  return fixed(8 + 2 * digits.length, (v) => {
    v.setInt16(0, digits.length)
    v.setInt16(2, weight)
    v.setUint16(4, neg && digits.length ? 0x4000 : 0)
    v.setInt16(6, dscale)
    digits.forEach((d, i) => v.setInt16(8 + 2 * i, d))
  })
}

/** Days since 1970-01-01 of a proleptic Gregorian date (year 0 is 1 BC). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp + (mp < 10 ? 3 : -9)
  return [m <= 2 ? era * 400 + yoe + 1 : era * 400 + yoe, m, d]
}

const DATE_RE = /^(\d{4,})-(\d{2})-(\d{2})/

function dateFromText(text: string): number {
  if (text === 'infinity') return 2147483647
  if (text === '-infinity') return -2147483648
  const m = DATE_RE.exec(text)
  if (!m) throw notIsoText('date', text)
  let y = Number(m[1])
  if (text.endsWith(' BC')) y = 1 - y
  return daysFromCivil(y, Number(m[2]), Number(m[3])) - PG_EPOCH_DAYS
}

function microsOfTime(h: string, mi: string, s: string, frac: string | undefined): bigint {
  const us = frac ? BigInt(frac.padEnd(6, '0').slice(0, 6)) : 0n
  return ((BigInt(h) * 60n + BigInt(mi)) * 60n + BigInt(s)) * 1_000_000n + us
}

function timeFromText(text: string): bigint {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text)
  if (!m) throw bad(`invalid time text "${text}"`)
  return microsOfTime(m[1]!, m[2]!, m[3]!, m[4])
}

function timestampFromText(text: string): bigint {
  if (text === 'infinity') return INT64_MAX
  if (text === '-infinity') return INT64_MIN
  const m = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([+-])(\d{2})(?::(\d{2}))?)?( BC)?$/.exec(text)
  if (!m) throw notIsoText('timestamp', text)
  let y = Number(m[1])
  if (m[11]) y = 1 - y
  const days = BigInt(daysFromCivil(y, Number(m[2]), Number(m[3])) - PG_EPOCH_DAYS)
  let us = days * USEC_PER_DAY + microsOfTime(m[4]!, m[5]!, m[6]!, m[7])
  if (m[8]) {
    const off = (BigInt(m[9]!) * 60n + BigInt(m[10] ?? '0')) * 60_000_000n
    us -= m[8] === '-' ? -off : off
  }
  return us
}

const INTERVAL_RE = /^(?:(-?\d+) years? ?)?(?:(-?\d+) mons? ?)?(?:(-?\d+) days? ?)?(?:([+-]?)(\d+):(\d{2}):(\d{2})(?:\.(\d+))?)?$/

/** PostgreSQL's interval output in IntervalStyle postgres (other styles: notIsoText). */
function intervalFromText(text: string): { months: number; days: number; micros: bigint } {
  const m = INTERVAL_RE.exec(text)
  if (!m || text === '') throw notIsoText('interval', text)
  const time = m[5] === undefined ? 0n : microsOfTime(m[5], m[6]!, m[7]!, m[8])
  return {
    months: Number(m[1] ?? 0) * 12 + Number(m[2] ?? 0),
    days: Number(m[3] ?? 0),
    micros: m[4] === '-' ? -time : time,
  }
}

// --- binary to text (parameters) ------------------------------------------------------------

class Cursor {
  private at = 0
  private readonly view: DataView
  private readonly b: Uint8Array

  constructor(b: Uint8Array) {
    this.b = b
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  }

  get left(): number {
    return this.b.length - this.at
  }

  int32(): number {
    if (this.left < 4) throw bad('insufficient data left in message')
    const v = this.view.getInt32(this.at)
    this.at += 4
    return v
  }

  uint32(): number {
    if (this.left < 4) throw bad('insufficient data left in message')
    const v = this.view.getUint32(this.at)
    this.at += 4
    return v
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || n > this.left) throw bad('insufficient data left in message')
    const out = this.b.subarray(this.at, this.at + n)
    this.at += n
    return out
  }

  done(): void {
    if (this.left !== 0) throw bad('incorrect binary data format')
  }
}

/**
 * A binary parameter as the text the SQL layer binds (typed by context), or the raw bytes
 * for bytea and for types without a binary form here.
 */
export function decodeBinaryParam(value: Uint8Array, oid: number): string | Uint8Array {
  const el = arrayElementOid(oid)
  if (el !== null) return decodeArray(value, el)
  if (oid === OID.bytea || !SCALARS.has(oid)) return value
  return decodeScalar(value, oid)
}

function need(value: Uint8Array, n: number): DataView {
  if (value.length !== n) throw bad(`binary parameter of ${value.length} bytes for a ${n}-byte type`)
  return new DataView(value.buffer, value.byteOffset, value.byteLength)
}

function decodeScalar(value: Uint8Array, oid: number): string {
  switch (oid) {
    case OID.bool: return need(value, 1).getUint8(0) !== 0 ? 't' : 'f'
    case OID.int2: return String(need(value, 2).getInt16(0))
    case OID.int4: return String(need(value, 4).getInt32(0))
    case OID.oid: return String(need(value, 4).getUint32(0))
    case OID.int8: return need(value, 8).getBigInt64(0).toString()
    case OID.float4: return floatText(need(value, 4).getFloat32(0))
    case OID.float8: return floatText(need(value, 8).getFloat64(0))
    case OID.text: case OID.varchar: case OID.bpchar: case OID.name: case OID.char: case OID.json: case OID.unknown:
      return decodeUtf8(value)
    case OID.jsonb:
      if (value[0] !== 1) throw bad(`unsupported jsonb version number ${value[0] ?? 'missing'}`)
      return decodeUtf8(value.subarray(1))
    case OID.bytea: {
      let s = '\\x'
      for (const b of value) s += b.toString(16).padStart(2, '0')
      return s
    }
    case OID.uuid: {
      need(value, 16)
      let h = ''
      for (const b of value) h += b.toString(16).padStart(2, '0')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    }
    case OID.numeric: return decodeNumeric(value)
    case OID.date: return dateText(need(value, 4).getInt32(0))
    case OID.time: return timeText(need(value, 8).getBigInt64(0))
    case OID.timestamp: return timestampText(need(value, 8).getBigInt64(0), false)
    case OID.timestamptz: return timestampText(need(value, 8).getBigInt64(0), true)
    case OID.interval: {
      const v = need(value, 16)
      const micros = v.getBigInt64(0)
      const days = v.getInt32(8)
      const months = v.getInt32(12)
      const neg = micros < 0n
      return `${months} mons ${days} days ${neg ? '-' : ''}${timeText(neg ? -micros : micros)}`
    }
  }
  throw unsupported(oid)
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  return String(v)
}

function decodeNumeric(value: Uint8Array): string {
  if (value.length < 8) throw bad('insufficient data left in message')
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const ndigits = view.getInt16(0)
  const weight = view.getInt16(2)
  const sign = view.getUint16(4)
  const dscale = view.getInt16(6)
  if (ndigits < 0 || ndigits > 1000 || value.length !== 8 + 2 * ndigits) throw bad('invalid length in external "numeric" value')
  if (sign === 0xc000) return 'NaN'
  if (sign !== 0 && sign !== 0x4000) throw bad('invalid sign in external "numeric" value')
  if (dscale < 0 || dscale > 1000) throw bad('invalid scale in external "numeric" value')
  if (weight > 1000 || weight < -1000) throw bad('invalid weight in external "numeric" value')
  const digits: number[] = []
  for (let i = 0; i < ndigits; i++) {
    const d = view.getInt16(8 + 2 * i)
    if (d < 0 || d >= 10000) throw bad('invalid digit in external "numeric" value')
    digits.push(d)
  }
  // Integer part: groups 0..weight; fraction: groups after weight.
  let int = ''
  for (let w = 0; w <= weight; w++) int += String(digits[w] ?? 0).padStart(4, '0')
  int = int.replace(/^0+/, '') || '0'
  let frac = ''
  for (let k = weight + 1; frac.length < dscale; k++) frac += k < 0 ? '0000' : String(digits[k] ?? 0).padStart(4, '0')
  frac = frac.slice(0, dscale)
  return (sign === 0x4000 ? '-' : '') + int + (dscale > 0 ? '.' + frac : '')
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function dateText(days: number): string {
  if (days === 2147483647) return 'infinity'
  if (days === -2147483648) return '-infinity'
  const [y, m, d] = civilFromDays(days + PG_EPOCH_DAYS)
  return y > 0 ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : `${pad(1 - y, 4)}-${pad(m)}-${pad(d)} BC`
}

function timeText(us: bigint): string {
  const s = us / 1_000_000n
  const frac = Number(us % 1_000_000n)
  const t = `${pad(Number(s / 3600n))}:${pad(Number((s / 60n) % 60n))}:${pad(Number(s % 60n))}`
  return frac ? `${t}.${pad(frac, 6)}` : t
}

function timestampText(us: bigint, zone: boolean): string {
  if (us === INT64_MAX) return 'infinity'
  if (us === INT64_MIN) return '-infinity'
  let days = us / USEC_PER_DAY
  let rest = us % USEC_PER_DAY
  if (rest < 0n) {
    rest += USEC_PER_DAY
    days -= 1n
  }
  const date = dateText(Number(days))
  const bc = date.endsWith(' BC')
  return `${bc ? date.slice(0, -3) : date} ${timeText(rest)}${zone ? '+00' : ''}${bc ? ' BC' : ''}`
}

function decodeArray(value: Uint8Array, elementOid: number): string {
  const c = new Cursor(value)
  const ndim = c.int32()
  if (ndim < 0) throw bad(`invalid number of dimensions: ${ndim}`)
  if (ndim > MAX_DIMS) throw new SqlError(SqlState.programLimitExceeded, `number of array dimensions (${ndim}) exceeds the maximum allowed (${MAX_DIMS})`)
  const flags = c.int32()
  if (flags !== 0 && flags !== 1) throw bad('invalid array flags')
  const got = c.uint32()
  if (got !== elementOid) throw new SqlError(SqlState.datatypeMismatch, `binary data has array element type ${got} instead of expected ${elementOid}`)
  const dims: number[] = []
  const lbounds: number[] = []
  let n = ndim ? 1 : 0
  for (let d = 0; d < ndim; d++) {
    const len = c.int32()
    const lb = c.int32()
    if (len < 0) throw bad('invalid array dimension')
    if (lb + len - 1 > 2147483647) throw new SqlError(SqlState.programLimitExceeded, 'array upper bound is too large')
    dims.push(len)
    lbounds.push(lb)
    n *= len
    if (n > MAX_ITEMS) throw new SqlError(SqlState.programLimitExceeded, `array size exceeds the maximum allowed (${MAX_ITEMS})`)
  }
  // Each element needs at least its 4-byte length: reject counts the bytes cannot hold before allocating.
  if (n * 4 > c.left) throw bad('insufficient data left in message')
  const items: Array<string | null> = []
  for (let k = 0; k < n; k++) {
    const len = c.int32()
    if (len === -1) {
      if (flags === 0) throw bad('array element is NULL but the array has no NULLs flag')
      items.push(null)
      continue
    }
    items.push(decodeScalar(c.bytes(len), elementOid))
  }
  c.done()
  // A zero-length dimension holds no elements: PostgreSQL reads that as the empty array.
  if (n === 0) return '{}'
  return formatArrayLiteral({ dims, lbounds, items })
}
