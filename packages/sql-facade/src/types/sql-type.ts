/**
 * The SQL types the facade knows: their PostgreSQL names, OIDs and how a type name in
 * the parse tree maps onto them. Typmods (NUMERIC(p,s), VARCHAR(n)) ride along.
 */
import type { Json } from '@concord/core'
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import type { EnumLabel } from './enum-type.js'
import { ownEntry } from '../parser/own-entry.js'

export type TypeId =
  | 'bool' | 'int2' | 'int4' | 'int8' | 'numeric' | 'float4' | 'float8'
  | 'text' | 'varchar' | 'bpchar' | 'name' | 'uuid' | 'json' | 'jsonb' | 'bytea'
  | 'date' | 'time' | 'timetz' | 'timestamp' | 'timestamptz' | 'interval'
  | 'oid' | 'unknown' | 'void' | 'anyelement' | 'record'
  // The catalog's own types: "char" (one byte) and the OID aliases that print as names.
  | 'char' | 'regclass' | 'regtype' | 'regnamespace' | 'regproc' | 'regrole'
  // A user-defined enum type: `name` and `labels` say which (types/enum-type.ts).
  | 'enum'
  // The geometric types (types/geometry.ts).
  | 'point' | 'lseg' | 'line' | 'box' | 'path' | 'polygon' | 'circle'
  // Cents as a bigint (types/money.ts).
  | 'money'
  // Network addresses, as a sort key string (types/inet.ts).
  | 'inet' | 'cidr'

export interface SqlType {
  id: TypeId
  /** NUMERIC precision, or VARCHAR/CHAR length. */
  precision?: number
  scale?: number
  /** An array of this type (any number of dimensions): `id`, precision and scale describe the elements. */
  array?: boolean
  /** A user type's name (enums). */
  name?: string
  /** An enum's labels in sort order, as the type had them when resolved. */
  labels?: EnumLabel[]
  /** A row type's fields (`record`: a composite type when named, else an anonymous row; neither: the pseudo-type). */
  fields?: RowField[]
  /** A domain over this type: its name and constraints (types/domain-type.ts). */
  domain?: DomainInfo
  /** An interval's fields (`interval day to hour`): PostgreSQL's INTERVAL_MASK bits (interval.ts). */
  range?: number
}

/** A field of a composite type (types/row-type.ts). */
export interface RowField {
  name: string
  type: SqlType
}

/** A domain's name and constraints (types/domain-type.ts). */
export interface DomainInfo {
  name: string
  notNull: boolean
  /** The DEFAULT expression's parse tree, or null. */
  default: Json | null
  checks: Array<{ name: string; expr: Json }>
}

/** Copies what names a type besides its id: typmods and a user type's name and labels. */
function withDetails(to: SqlType, t: SqlType): SqlType {
  if (t.precision !== undefined) to.precision = t.precision
  if (t.scale !== undefined) to.scale = t.scale
  if (t.name !== undefined) to.name = t.name
  if (t.labels !== undefined) to.labels = t.labels
  if (t.fields !== undefined) to.fields = t.fields
  if (t.range !== undefined) to.range = t.range
  return to
}

/** Whether two types are one type (an enum's labels may differ between snapshots of it). */
export function sameTypeIdentity(a: SqlType, b: SqlType): boolean {
  return a.id === b.id && !!a.array === !!b.array && a.name === b.name
}

/** The element type of an array type (the type itself for a scalar type). */
export function elementType(t: SqlType): SqlType {
  if (!t.array) return t
  return withDetails({ id: t.id }, t)
}

/** The array type of an element type (arrays of arrays are the same array type, as in PostgreSQL). */
export function arrayOf(t: SqlType): SqlType {
  const id = t.id === 'unknown' ? 'text' : t.id
  return withDetails({ id, array: true }, t)
}

export const OIDS: Record<TypeId, number> = {
  bool: 16, bytea: 17, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114,
  float4: 700, float8: 701, unknown: 705, bpchar: 1042, varchar: 1043, date: 1082, time: 1083, timetz: 1266,
  timestamp: 1114, timestamptz: 1184, interval: 1186, numeric: 1700, uuid: 2950, jsonb: 3802,
  void: 2278, anyelement: 2283, record: 2249,
  char: 18, regproc: 24, regclass: 2205, regtype: 2206, regrole: 4096, regnamespace: 4089,
  // An enum's own OID is a hash of its name (userTypeOid); this is anyenum's.
  enum: 3500,
  inet: 869, cidr: 650, money: 790, point: 600, lseg: 601, path: 602, box: 603, polygon: 604, line: 628, circle: 718,
}

const ARRAY_OIDS: Partial<Record<TypeId, number>> = {
  bool: 1000, bytea: 1001, name: 1003, int2: 1005, int4: 1007, text: 1009, bpchar: 1014, varchar: 1015,
  int8: 1016, float4: 1021, float8: 1022, oid: 1028, numeric: 1231, date: 1182, time: 1183, timetz: 1270,
  timestamp: 1115, timestamptz: 1185, interval: 1187, uuid: 2951, jsonb: 3807, json: 199,
  char: 1002, regproc: 1008, regclass: 2210, regtype: 2211, regrole: 4097, regnamespace: 4090,
  record: 2287,
  inet: 1041, cidr: 651, money: 791, point: 1017, lseg: 1018, path: 1019, box: 1020, polygon: 1027, line: 629, circle: 719,
}

/** The OID aliases: an OID that `::text` and the wire print as the object's name. */
export function isRegType(t: SqlType): boolean {
  return !t.array && (t.id === 'regclass' || t.id === 'regtype' || t.id === 'regnamespace' || t.id === 'regproc' || t.id === 'regrole')
}

/** A user type's OID (and its array type's, the next one): a pure function of its name, as relation OIDs are. */
export function userTypeOid(name: string, array = false): number {
  let h = 0x811c9dc5
  const s = `type\u0000${name}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // Even OIDs in the user range, so the array type's OID (+1) is no other type's.
  const base = 16384 + 2 * (h % ((2 ** 31 - 16384) / 2 - 1))
  return array ? base + 1 : base
}

export function typeOid(t: SqlType): number {
  if (t.domain) return userTypeOid(t.domain.name)
  if ((t.id === 'enum' || t.id === 'record') && t.name !== undefined) return userTypeOid(t.name, !!t.array)
  if (t.array) return ARRAY_OIDS[t.id] ?? 1009
  return OIDS[t.id]
}

/**
 * The type an OID and type modifier name (pg_attribute.atttypid, atttypmod), the inverse
 * of typeOid and typeModifier; undefined for an OID Concord has no type for.
 */
export function typeFromOid(oid: number, typmod: number | null = -1): SqlType | undefined {
  let t: SqlType | undefined
  for (const [id, o] of Object.entries(OIDS)) if (o === oid) t = { id: id as TypeId }
  for (const [id, o] of Object.entries(ARRAY_OIDS)) if (o === oid) t = { id: id as TypeId, array: true }
  if (!t) return undefined
  const mod = typmod ?? -1
  if (t.id === 'numeric' && mod >= 4) {
    t.precision = ((mod - 4) >> 16) & 0xffff
    // 11 bits, signed: PostgreSQL 15 allows scales from -1000 to 1000.
    t.scale = ((((mod - 4) & 0x7ff) ^ 1024) - 1024)
  } else if ((t.id === 'varchar' || t.id === 'bpchar') && mod >= 4) {
    t.precision = mod - 4
  } else if ((t.id === 'timestamp' || t.id === 'timestamptz' || t.id === 'time') && mod >= 0 && mod <= 6) {
    t.precision = mod
  }
  return t
}

/** PostgreSQL's typlen: byte size, or -1 for variable length. */
export function typeSize(t: SqlType): number {
  if (t.array) return -1
  switch (t.id) {
    case 'bool': case 'char': return 1
    case 'int2': return 2
    case 'int4': case 'float4': case 'date': case 'oid':
    case 'regclass': case 'regtype': case 'regnamespace': case 'regproc': case 'regrole': return 4
    case 'int8': case 'money': case 'float8': case 'timestamp': case 'timestamptz': case 'time': return 8
    case 'timetz': return 12
    case 'point': return 16
    case 'line': case 'circle': return 24
    case 'lseg': case 'box': return 32
    case 'interval': case 'uuid': return 16
    case 'name': return 64
    default: return -1
  }
}

/** PostgreSQL's atttypmod for a field: -1 when none. */
export function typeModifier(t: SqlType): number {
  if (t.id === 'numeric' && t.precision !== undefined) return ((t.precision << 16) | ((t.scale ?? 0) & 0x7ff)) + 4
  if ((t.id === 'varchar' || t.id === 'bpchar') && t.precision !== undefined) return t.precision + 4
  if ((t.id === 'timestamp' || t.id === 'timestamptz' || t.id === 'time' || t.id === 'timetz') && t.precision !== undefined) return t.precision
  return -1
}

function secondsPrecision(t: SqlType): string {
  return t.precision !== undefined ? `(${t.precision})` : ''
}

/** Type name as `format_type` prints it, e.g. `numeric(10,2)`, `character varying(100)`. */
export function typeName(t: SqlType): string {
  if (t.domain) return t.domain.name
  const base = ((): string => {
    switch (t.id) {
      case 'bool': return 'boolean'
      case 'int2': return 'smallint'
      case 'int4': return 'integer'
      case 'int8': return 'bigint'
      case 'float4': return 'real'
      case 'float8': return 'double precision'
      case 'numeric': return t.precision !== undefined ? `numeric(${t.precision},${t.scale ?? 0})` : 'numeric'
      case 'varchar': return t.precision !== undefined ? `character varying(${t.precision})` : 'character varying'
      case 'bpchar': return t.precision !== undefined ? `character(${t.precision})` : 'bpchar'
      case 'timestamp': return `timestamp${secondsPrecision(t)} without time zone`
      case 'timestamptz': return `timestamp${secondsPrecision(t)} with time zone`
      case 'time': return `time${secondsPrecision(t)} without time zone`
      case 'timetz': return `time${secondsPrecision(t)} with time zone`
      case 'char': return '"char"'
      case 'enum': return t.name ?? 'anyenum'
      case 'record': return t.name ?? 'record'
      default: return t.id
    }
  })()
  return t.array ? base + '[]' : base
}

export const T = {
  bool: { id: 'bool' } as SqlType,
  int2: { id: 'int2' } as SqlType,
  int4: { id: 'int4' } as SqlType,
  int8: { id: 'int8' } as SqlType,
  numeric: { id: 'numeric' } as SqlType,
  float4: { id: 'float4' } as SqlType,
  float8: { id: 'float8' } as SqlType,
  text: { id: 'text' } as SqlType,
  varchar: { id: 'varchar' } as SqlType,
  uuid: { id: 'uuid' } as SqlType,
  json: { id: 'json' } as SqlType,
  jsonb: { id: 'jsonb' } as SqlType,
  bytea: { id: 'bytea' } as SqlType,
  date: { id: 'date' } as SqlType,
  time: { id: 'time' } as SqlType,
  timetz: { id: 'timetz' } as SqlType,
  timestamp: { id: 'timestamp' } as SqlType,
  timestamptz: { id: 'timestamptz' } as SqlType,
  interval: { id: 'interval' } as SqlType,
  unknown: { id: 'unknown' } as SqlType,
  void: { id: 'void' } as SqlType,
  anyelement: { id: 'anyelement' } as SqlType,
  name: { id: 'name' } as SqlType,
  oid: { id: 'oid' } as SqlType,
  char: { id: 'char' } as SqlType,
  regclass: { id: 'regclass' } as SqlType,
  regtype: { id: 'regtype' } as SqlType,
  regnamespace: { id: 'regnamespace' } as SqlType,
  regproc: { id: 'regproc' } as SqlType,
  regrole: { id: 'regrole' } as SqlType,
  money: { id: 'money' } as SqlType,
  inet: { id: 'inet' } as SqlType,
  cidr: { id: 'cidr' } as SqlType,
  point: { id: 'point' } as SqlType,
  lseg: { id: 'lseg' } as SqlType,
  line: { id: 'line' } as SqlType,
  box: { id: 'box' } as SqlType,
  path: { id: 'path' } as SqlType,
  polygon: { id: 'polygon' } as SqlType,
  circle: { id: 'circle' } as SqlType,
} as const

const NAMES: Record<string, TypeId> = {
  bool: 'bool', boolean: 'bool',
  int2: 'int2', smallint: 'int2', smallserial: 'int2', serial2: 'int2',
  int4: 'int4', int: 'int4', integer: 'int4', serial: 'int4', serial4: 'int4',
  int8: 'int8', bigint: 'int8', bigserial: 'int8', serial8: 'int8',
  numeric: 'numeric', decimal: 'numeric',
  float4: 'float4', real: 'float4',
  float8: 'float8', float: 'float8', 'double precision': 'float8',
  text: 'text', varchar: 'varchar', 'character varying': 'varchar', bpchar: 'bpchar', character: 'bpchar',
  // `char` (unquoted) reaches here as pg_catalog.bpchar: the name char itself is PostgreSQL's one-byte "char".
  char: 'char',
  name: 'name', uuid: 'uuid', json: 'json', jsonb: 'jsonb', bytea: 'bytea',
  date: 'date', time: 'time', timetz: 'timetz', timestamp: 'timestamp', timestamptz: 'timestamptz',
  interval: 'interval', oid: 'oid', void: 'void',
  inet: 'inet', cidr: 'cidr', money: 'money', point: 'point', lseg: 'lseg', line: 'line', box: 'box', path: 'path', polygon: 'polygon', circle: 'circle',
  regclass: 'regclass', regtype: 'regtype', regnamespace: 'regnamespace', regproc: 'regproc', regrole: 'regrole',
  anyelement: 'anyelement', anyenum: 'enum', any: 'anyelement', anycompatible: 'anyelement', record: 'record', unknown: 'unknown',
}

/** Finds a user-defined type (enum, composite, domain) by its one-part name (catalog/user-type.ts). */
export type TypeLookup = (name: string) => SqlType | undefined

/** A user type named by `names` (a `public.` prefix allowed). */
function userType(names: string[], lookup: TypeLookup | undefined): SqlType | undefined {
  if (!lookup) return undefined
  const parts = names[0] === 'public' && names.length === 2 ? names.slice(1) : names
  return parts.length === 1 ? lookup(parts[0]!) : undefined
}

/** The built-in type named `name` (lower case), if any. */
function builtin(name: string): TypeId | undefined {
  return ownEntry(NAMES, name)
}

/** Looks a type up by name (`pg_catalog.` prefix allowed), with typmod integers; user types through `source` (catalog/user-type.ts). */
export function resolveTypeName(names: string[], mods: number[], arrayBounds = false, source?: TypeLookup): SqlType {
  const parts = names.filter((n) => n !== 'pg_catalog')
  let name = parts.join('.').toLowerCase()
  // Built-in names first: pg_catalog leads the search path.
  if (!builtin(name) && !(name.startsWith('_') && builtin(name.slice(1))) && names[0] !== 'pg_catalog') {
    const own = userType(names, source) ?? (names.length === 1 && names[0]!.startsWith('_') ? userType([names[0]!.slice(1)], source) : undefined)
    if (own) return arrayBounds || (own.domain?.name ?? own.name) !== names[names.length - 1] ? arrayOf(own) : own
  }
  // `_int4` is PostgreSQL's internal name of int4[].
  if (!builtin(name) && name.startsWith('_') && builtin(name.slice(1))) {
    name = name.slice(1)
    arrayBounds = true
  }
  const id = builtin(name)
  if (!id) throw new SqlError(SqlState.undefinedObject, `type "${parts.join('.').toLowerCase()}" does not exist`)
  const t: SqlType = { id }
  if (id === 'numeric' && mods.length > 0) {
    const p = mods[0]!
    const s = mods[1] ?? 0
    if (p < 1 || p > 1000) throw new SqlError(SqlState.invalidParameterValue, `NUMERIC precision ${p} must be between 1 and 1000`)
    if (s < -1000 || s > 1000) throw new SqlError(SqlState.invalidParameterValue, `NUMERIC scale ${s} must be between -1000 and 1000`)
    t.precision = p
    t.scale = s
  } else if ((id === 'timestamp' || id === 'timestamptz' || id === 'time' || id === 'timetz') && mods.length > 0) {
    // Fractional-second digits kept: 0..6 (more is reduced to 6, as PostgreSQL does after a warning).
    const p = mods[0]!
    const label = id === 'time' || id === 'timetz' ? 'TIME' : 'TIMESTAMP'
    const zoned = id === 'timestamptz' || id === 'timetz'
    if (p < 0) throw new SqlError(SqlState.invalidParameterValue, `${label}(${p})${zoned ? ' WITH TIME ZONE' : ''} precision must not be negative`)
    t.precision = Math.min(p, 6)
  } else if ((id === 'varchar' || id === 'bpchar') && mods.length > 0) {
    t.precision = mods[0]!
  } else if (id === 'bpchar' && name !== 'bpchar') {
    // `character` alone is character(1); `bpchar` alone has no length, as in PostgreSQL ('ab'::bpchar was 'a').
    t.precision = 1
  }
  if (arrayBounds) t.array = true
  return t
}

/** The type a parse-tree TypeName names (`numeric(10,2)`, `int[]`, `pg_catalog.int4`). */
const INTERVAL_FULL_RANGE = 0x7fff

export function typeFromTypeName(tn: { names?: Node[]; typmods?: Node[]; arrayBounds?: Node[] }, source?: TypeLookup): SqlType {
  const names = nameList(tn.names)
  const mods: number[] = []
  for (const m of tn.typmods ?? []) {
    if ('A_Const' in m && m.A_Const.ival !== undefined) mods.push(m.A_Const.ival.ival ?? 0)
  }
  const isArray = (tn.arrayBounds?.length ?? 0) > 0
  if (names[names.length - 1] === 'interval') {
    // typmods: the field mask (`day to hour`), then a seconds precision; the full range is no restriction.
    const range = mods[0]
    const t: SqlType = range !== undefined && range !== INTERVAL_FULL_RANGE ? { id: 'interval', range } : { id: 'interval' }
    // A seconds precision (0..6) rounds the time part.
    if (mods[1] !== undefined && mods[1] >= 0 && mods[1] < 6) t.precision = mods[1]
    return isArray ? arrayOf(t) : t
  }
  return resolveTypeName(names, mods, isArray, source)
}

/** True for the serial pseudo-types, which mean an integer column with a node-unique id default. */
export function isSerialName(names: string[]): boolean {
  const n = names.filter((x) => x !== 'pg_catalog').join('.').toLowerCase()
  return ['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2'].includes(n)
}

export type TypeCategory = 'B' | 'N' | 'S' | 'D' | 'T' | 'U' | 'X' | 'A' | 'E' | 'C' | 'G' | 'I'

export function category(t: SqlType): TypeCategory {
  if (t.array) return 'A'
  switch (t.id) {
    case 'bool': return 'B'
    case 'int2': case 'int4': case 'int8': case 'numeric': case 'float4': case 'float8': case 'oid': return 'N'
    case 'regclass': case 'regtype': case 'regnamespace': case 'regproc': case 'regrole': case 'money': return 'N'
    case 'text': case 'varchar': case 'bpchar': case 'name': case 'char': return 'S'
    case 'date': case 'time': case 'timetz': case 'timestamp': case 'timestamptz': return 'D'
    case 'interval': return 'T'
    case 'unknown': return 'X'
    case 'enum': return 'E'
    case 'record': return 'C'
    case 'inet': case 'cidr': return 'I'
    case 'point': case 'lseg': case 'line': case 'box': case 'path': case 'polygon': case 'circle': return 'G'
    default: return 'U'
  }
}

const NUMERIC_RANK: Partial<Record<TypeId, number>> = {
  int2: 1, int4: 2, oid: 2, regclass: 2, regtype: 2, regnamespace: 2, regproc: 2, regrole: 2, int8: 3, numeric: 4, float4: 5, float8: 6,
}

export function isNumericType(t: SqlType): boolean {
  return !t.array && NUMERIC_RANK[t.id] !== undefined
}

export function isIntegerType(t: SqlType): boolean {
  return t.id === 'int2' || t.id === 'int4' || t.id === 'int8' || t.id === 'oid'
}

/**
 * The common type two operands are promoted to, following PostgreSQL's preferred-type
 * rules closely enough for the operators the facade implements. Null when incompatible.
 */
export function commonType(a: SqlType, b: SqlType): SqlType | null {
  if (a.id === 'unknown' && !a.array) return b.id === 'unknown' && !b.array ? T.text : b
  if (b.id === 'unknown' && !b.array) return a
  if (!!a.array !== !!b.array) return null
  if (a.array) {
    const el = commonType(elementType(a), elementType(b))
    return el ? arrayOf(el) : null
  }
  if (a.id === 'enum' || b.id === 'enum') return sameTypeIdentity(a, b) ? a : null
  if (a.id === 'record' && b.id === 'record' && !!a.array === !!b.array) {
    if (a.name !== undefined || b.name !== undefined) return a.name === b.name || b.name === undefined ? a : a.name === undefined ? b : null
    return a.fields?.length === b.fields?.length ? a : null
  }
  if (a.id === b.id) return a.array ? a : { id: a.id }
  const ra = NUMERIC_RANK[a.id]
  const rb = NUMERIC_RANK[b.id]
  if (ra !== undefined && rb !== undefined) {
    // int op float4 goes to float8 in PostgreSQL
    if ((a.id === 'float4' || b.id === 'float4') && (a.id !== 'float4' || b.id !== 'float4')) {
      return ra >= 5 && rb >= 5 ? T.float8 : T.float8
    }
    return ra >= rb ? { id: a.id } : { id: b.id }
  }
  const ca = category(a)
  const cb = category(b)
  if (ca === 'S' && cb === 'S') return T.text
  if (ca === 'D' && cb === 'D') {
    if (a.id === 'time' || b.id === 'time' || a.id === 'timetz' || b.id === 'timetz') return null
    if (a.id === 'timestamptz' || b.id === 'timestamptz') return T.timestamptz
    return T.timestamp
  }
  if ((a.id === 'json' && b.id === 'jsonb') || (a.id === 'jsonb' && b.id === 'json')) return T.jsonb
  // cidr converts to inet implicitly.
  if (ca === 'I' && cb === 'I') return T.inet
  return null
}
