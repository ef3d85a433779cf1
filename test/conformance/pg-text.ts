/**
 * PostgreSQL's text output for JavaScript values, used when Concord's query API hands
 * back native values (numbers, booleans, Dates, objects) instead of text.
 *
 * Strings pass through unchanged: an engine that returns strings is trusted to return
 * PostgreSQL's text already (exact decimals, timestamps, intervals have no faithful JS
 * type). The column type, when the engine reports one, decides between float and
 * integer output and between the date/time forms.
 */

/** Normalized column type families the formatter distinguishes. */
type Family = 'float4' | 'float8' | 'int' | 'numeric' | 'date' | 'timestamp' | 'timestamptz' | 'json' | 'other'

const TYPE_FAMILIES: Record<string, Family> = {
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  double: 'float8',
  float: 'float8',
  int2: 'int',
  int4: 'int',
  int8: 'int',
  smallint: 'int',
  integer: 'int',
  int: 'int',
  bigint: 'int',
  serial: 'int',
  bigserial: 'int',
  numeric: 'numeric',
  decimal: 'numeric',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  json: 'json',
  jsonb: 'json',
}

/** Well-known PostgreSQL type OIDs, for engines that report `type` as a number. */
const OID_FAMILIES: Record<number, Family> = {
  700: 'float4',
  701: 'float8',
  20: 'int',
  21: 'int',
  23: 'int',
  1700: 'numeric',
  1082: 'date',
  1114: 'timestamp',
  1184: 'timestamptz',
  114: 'json',
  3802: 'json',
}

export function typeFamily(type: unknown): Family {
  if (typeof type === 'number') return OID_FAMILIES[type] ?? 'other'
  if (typeof type === 'string') {
    const t = type.toLowerCase().replace(/\(.*\)/, '').trim()
    return TYPE_FAMILIES[t] ?? 'other'
  }
  if (type !== null && typeof type === 'object') {
    const o = type as { name?: unknown; oid?: unknown }
    if (o.name !== undefined) return typeFamily(o.name)
    if (o.oid !== undefined) return typeFamily(o.oid)
  }
  return 'other'
}

/**
 * Shortest round-trip digits in PostgreSQL's layout (PostgreSQL 12+, extra_float_digits
 * = 1): plain notation for decimal exponents -4 .. precision-1, otherwise `d.ddde+XX`
 * with at least two exponent digits. Precision is 15 for float8 and 6 for float4.
 */
export function floatText(n: number, family: 'float4' | 'float8'): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (n === 0) return Object.is(n, -0) ? '-0' : '0'
  let exp: string
  if (family === 'float4') {
    const f = Math.fround(n)
    exp = f.toExponential()
    for (let p = 1; p <= 9; p++) {
      const candidate = f.toExponential(p - 1)
      if (Math.fround(Number(candidate)) === f) {
        exp = candidate
        break
      }
    }
  } else {
    exp = n.toExponential()
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)
  if (m === null) return String(n)
  const sign = m[1]!
  const digits = m[2]! + (m[3] ?? '')
  const e = Number(m[4])
  const precision = family === 'float4' ? 6 : 15
  if (e < -4 || e >= precision) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const absE = Math.abs(e)
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${absE < 10 ? '0' : ''}${absE}`
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
  if (digits.length <= e + 1) return `${sign}${digits}${'0'.repeat(e + 1 - digits.length)}`
  return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function dateText(d: Date, family: 'date' | 'timestamp' | 'timestamptz'): string {
  const year = d.getUTCFullYear()
  const y = year <= 0 ? `${pad(1 - year, 4)}` : pad(year, 4)
  const bc = year <= 0 ? ' BC' : ''
  const date = `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
  if (family === 'date') return date + bc
  const ms = d.getUTCMilliseconds()
  const frac = ms === 0 ? '' : `.${pad(ms, 3).replace(/0+$/, '')}`
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}${frac}`
  return `${date} ${time}${family === 'timestamptz' ? '+00' : ''}${bc}`
}

/** jsonb's text output: keys ordered by length then bytes, `": "` and `", "` separators. */
export function jsonbText(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort((a, b) => {
      const la = Buffer.byteLength(a)
      const lb = Buffer.byteLength(b)
      if (la !== lb) return la - lb
      return Buffer.compare(Buffer.from(a), Buffer.from(b))
    })
    const body = keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`)
    return `{${body.join(', ')}}`
  }
  return String(value)
}

function arrayElementText(v: unknown, type: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  const s = pgText(v, type) ?? 'NULL'
  if (Array.isArray(v)) return s
  if (s === '' || /[{},"\\\s]/.test(s) || s.toUpperCase() === 'NULL') {
    return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  }
  return s
}

/** PostgreSQL's text output of `value`, a column of type `type` (name, OID or unknown). */
export function pgText(value: unknown, type?: unknown): string | null {
  if (value === null || value === undefined) return null
  const family = typeFamily(type)
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') {
    if (family === 'float4' || family === 'float8') return floatText(value, family)
    if (family === 'int' || family === 'numeric') return Number.isInteger(value) ? value.toFixed(0) : String(value)
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : floatText(value, 'float8')
  }
  if (value instanceof Date) {
    return dateText(value, family === 'date' || family === 'timestamptz' ? family : 'timestamp')
  }
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`
  if (family === 'json') return jsonbText(value)
  if (Array.isArray(value)) return `{${value.map((v) => arrayElementText(v, type)).join(',')}}`
  if (typeof value === 'object') {
    const o = value as { toPostgres?: () => unknown; toString?: () => string }
    if (typeof o.toPostgres === 'function') return pgText(o.toPostgres(), type)
    if (o.toString !== Object.prototype.toString && typeof o.toString === 'function') return o.toString()
    return jsonbText(value)
  }
  return String(value)
}
