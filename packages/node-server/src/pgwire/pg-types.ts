/**
 * PostgreSQL type OIDs and the text output format of values, as clients expect them in
 * RowDescription and DataRow. The SQL layer names column types as SQL does
 * ('integer', 'varchar(20)', 'timestamp with time zone', 'int4[]'); this module maps
 * those names to pg_type OIDs (arrays to their array type OIDs: int4[] is 1007) and
 * renders JS values the way PostgreSQL prints them. The binary format is binary-format.ts.
 */

export const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  unknown: 705,
  money: 790,
  inet: 869,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  regclass: 2205,
  uuid: 2950,
  jsonb: 3802,
} as const

/** Array type OID of each element type that has one here. */
const ARRAY_OID: Record<number, number> = {
  16: 1000, 17: 1001, 18: 1002, 19: 1003, 20: 1016, 21: 1005, 23: 1007, 25: 1009, 26: 1028, 114: 199,
  700: 1021, 701: 1022, 1042: 1014, 1043: 1015, 1082: 1182, 1083: 1183, 1114: 1115, 1184: 1185,
  1186: 1187, 1700: 1231, 2950: 2951, 3802: 3807,
}

const ALIASES: Record<string, keyof typeof OID> = {
  boolean: 'bool',
  bool: 'bool',
  bytea: 'bytea',
  '"char"': 'char',
  char: 'bpchar',
  character: 'bpchar',
  bpchar: 'bpchar',
  name: 'name',
  bigint: 'int8',
  int8: 'int8',
  bigserial: 'int8',
  serial8: 'int8',
  smallint: 'int2',
  int2: 'int2',
  smallserial: 'int2',
  serial2: 'int2',
  integer: 'int4',
  int: 'int4',
  int4: 'int4',
  serial: 'int4',
  serial4: 'int4',
  text: 'text',
  string: 'text',
  oid: 'oid',
  regproc: 'regproc',
  regclass: 'regclass',
  json: 'json',
  jsonb: 'jsonb',
  xml: 'xml',
  real: 'float4',
  float4: 'float4',
  'double precision': 'float8',
  double: 'float8',
  float: 'float8',
  float8: 'float8',
  money: 'money',
  inet: 'inet',
  varchar: 'varchar',
  'character varying': 'varchar',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  'time with time zone': 'timetz',
  timetz: 'timetz',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamptz',
  timestamptz: 'timestamptz',
  interval: 'interval',
  numeric: 'numeric',
  decimal: 'numeric',
  uuid: 'uuid',
  unknown: 'unknown',
}

/** Column type (SQL name or OID) to OID; anything unknown is reported as text. */
export function typeOid(type: unknown): number {
  if (typeof type === 'number' && Number.isInteger(type) && type > 0) return type
  if (typeof type !== 'string') return OID.text
  let t = type.trim().toLowerCase()
  let array = false
  if (t.endsWith('[]')) {
    array = true
    t = t.slice(0, -2).trim()
  } else if (t.startsWith('_')) {
    array = true
    t = t.slice(1)
  }
  t = t.replace(/^pg_catalog\./, '').replace(/\s*\(.*\)\s*/, ' ').trim() // varchar(20), numeric(10,2)
  t = t.replace(/\s+/g, ' ')
  const key = ALIASES[t]
  const oid = key ? OID[key] : OID.text
  return array ? (ARRAY_OID[oid] ?? 1009) : oid
}

/** Byte length PostgreSQL reports in RowDescription for fixed-size types; -1 otherwise. */
export function typeSize(oid: number): number {
  switch (oid) {
    case OID.bool:
    case OID.char:
      return 1
    case OID.int2:
      return 2
    case OID.int4:
    case OID.oid:
    case OID.float4:
    case OID.date:
    case OID.regproc:
    case OID.regclass:
      return 4
    case OID.int8:
    case OID.float8:
    case OID.time:
    case OID.timestamp:
    case OID.timestamptz:
    case OID.money:
      return 8
    case OID.timetz:
      return 12
    case OID.interval:
    case OID.uuid:
      return 16
    case OID.name:
      return 64
    default:
      return -1
  }
}

/** PostgreSQL's text output of a value, or null for SQL NULL. */
export function textValue(value: unknown, oid: number): string | null {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
      return value
    case 'boolean':
      return value ? 't' : 'f'
    case 'bigint':
      return value.toString()
    case 'number':
      return numberText(value, oid)
    case 'object':
      if (value instanceof Uint8Array) return oid === OID.bytea || oid === 1001 ? byteaText(value) : new TextDecoder().decode(value)
      if (value instanceof Date) return dateText(value, oid)
      if (Array.isArray(value) && oid !== OID.json && oid !== OID.jsonb) return arrayText(value, elementOid(oid))
      return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
    default:
      return String(value)
  }
}

function numberText(n: number, oid: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  if (oid === OID.bool) return n ? 't' : 'f'
  return String(n)
}

function byteaText(bytes: Uint8Array): string {
  return '\\x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

function dateText(d: Date, oid: number): string {
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
  if (oid === OID.date) return date
  const ms = d.getUTCMilliseconds()
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ms ? '.' + pad(ms, 3).replace(/0+$/, '') : ''}`
  if (oid === OID.timestamp) return `${date} ${time}`
  return `${date} ${time}+00`
}

const ELEMENT_OID = new Map<number, number>(Object.entries(ARRAY_OID).map(([el, arr]) => [arr, Number(el)]))

/** The element type OID of an array type OID (1007 int4[] -> 23), or null for a non-array OID. */
export function arrayElementOid(oid: number): number | null {
  return ELEMENT_OID.get(oid) ?? null
}

function elementOid(arrayOid: number): number {
  return ELEMENT_OID.get(arrayOid) ?? OID.text
}

function arrayText(values: unknown[], oid: number): string {
  const parts = values.map((v) => {
    if (Array.isArray(v)) return arrayText(v, oid)
    const t = textValue(v, oid)
    if (t === null) return 'NULL'
    return t === '' || /[{},"\\\s]/.test(t) || t.toUpperCase() === 'NULL' ? `"${t.replace(/[\\"]/g, (c) => '\\' + c)}"` : t
  })
  return `{${parts.join(',')}}`
}
