/**
 * Reading a stored value as a column of the table's current definition. After DDL merge
 * (core catalog/definition-merge.ts) some rows were written under another definition:
 * the losing side of two concurrent CREATE TABLEs, or a node that inserted while another
 * concurrently added a column or SET NOT NULL. They are read under the winning one:
 *
 * - a value stored with another type's representation is converted as an assignment
 *   cast would convert it ('5' into an integer column reads 5); one that does not
 *   convert ('abc') reads as NULL;
 * - a NULL in a NOT NULL column (the writer's definition lacked the column, or let it be
 *   NULL) reads as the column's DEFAULT when that is a constant, as PostgreSQL fills
 *   existing rows on ADD COLUMN .. DEFAULT. With no constant default it reads NULL.
 *
 * `tableColumns` and `decodeRow` read whole rows that way for the executor.
 *
 * Nothing is rewritten: the stored value stays, so a later definition change reads it
 * again. Pure functions of (stored value, column definition): every replica reads alike.
 */
import type { ColumnInfo, Row, TableInfo, Value } from '@concord/core'
import type { Node } from 'libpg-query'
import type { ColumnBinding } from '../relation/scope.js'
import { castValue } from '../types/cast.js'
import { Decimal } from '../types/decimal.js'
import { Interval } from '../types/interval.js'
import { T, typeFromTypeName, type SqlType } from '../types/sql-type.js'
import { decodeUntyped, decodeValue } from '../types/storage-codec.js'
import type { RtValue } from '../types/value.js'
import { sharedColumnMeta } from './table-meta.js'

const fills = new WeakMap<ColumnInfo, RtValue | undefined>()

/** What a NULL of this column reads as: its constant DEFAULT if it is NOT NULL and has one. */
export function columnFill(c: ColumnInfo): RtValue | undefined {
  if (fills.has(c)) return fills.get(c)
  const m = sharedColumnMeta(c)
  let fill: RtValue | undefined
  if (m.notNull && !m.serial && m.generated === undefined && m.default !== undefined) {
    try {
      const k = constantOf(m.default as unknown as Node)
      if (k !== null && k.v !== null) fill = castValue(k.v, k.t, m.t, 0)
    } catch {
      fill = undefined
    }
  }
  fills.set(c, fill)
  return fill
}

/** A constant expression tree's value and type; null for anything that depends on time or state. */
function constantOf(node: Node): { v: RtValue; t: SqlType } | null {
  if ('A_Const' in node) {
    const c = node.A_Const
    if (c.isnull) return { v: null, t: T.unknown }
    if (c.ival !== undefined) return { v: c.ival.ival ?? 0, t: T.int4 }
    if (c.fval !== undefined) return { v: Decimal.parse(c.fval.fval ?? '0'), t: T.numeric }
    if (c.boolval !== undefined) return { v: c.boolval.boolval ?? false, t: T.bool }
    if (c.sval !== undefined) {
      const s = c.sval.sval ?? ''
      // 'now', 'today' .. are read when a row is written, not once.
      return /^\s*(now|today|tomorrow|yesterday)\s*$/i.test(s) ? null : { v: s, t: T.unknown }
    }
    return null
  }
  if ('TypeCast' in node && node.TypeCast.arg) {
    const inner = constantOf(node.TypeCast.arg)
    if (inner === null) return null
    const to = typeFromTypeName(node.TypeCast.typeName ?? {})
    return { v: castValue(inner.v, inner.t, to, 0, true), t: to }
  }
  return null
}

/** Whether a decoded value has the runtime representation of `t`. */
function fits(v: RtValue, t: SqlType): boolean {
  switch (t.id) {
    case 'int2': case 'int4': return typeof v === 'number' && Number.isInteger(v)
    case 'int8': case 'timetz': case 'money': return typeof v === 'bigint'
    case 'float4': case 'float8': return typeof v === 'number'
    case 'numeric': return v instanceof Decimal
    case 'bool': return typeof v === 'boolean'
    case 'text': case 'varchar': case 'bpchar': case 'name': case 'uuid': case 'json': case 'jsonb': return typeof v === 'string'
    case 'inet': case 'cidr': case 'point': case 'lseg': case 'line': case 'box': case 'path': case 'polygon': case 'circle': return typeof v === 'string'
    case 'date': case 'time': case 'timestamp': case 'timestamptz': return typeof v === 'number'
    case 'interval': return v instanceof Interval
    case 'bytea': return v instanceof Uint8Array
    default: return true
  }
}

/** A stored value read as the column `c` (see the module comment). */
export function readColumn(v: Value | undefined, c: ColumnBinding): RtValue {
  if (v === null || v === undefined) return c.fill ?? null
  if (c.type.array) return decodeValue(v, c.type)
  let out: RtValue
  try {
    out = decodeValue(v, c.type)
    if (fits(out, c.type)) return out
  } catch {
    // Written under another type: converted below.
  }
  try {
    const u = decodeUntyped(v)
    out = castValue(u.value, u.type, c.type, 0)
    return out === null ? (c.fill ?? null) : out
  } catch {
    return c.fill ?? null
  }
}

export function tableColumns(t: TableInfo, alias: string): ColumnBinding[] {
  return t.columns.map((c) => {
    const m = sharedColumnMeta(c)
    const fill = columnFill(c)
    return { name: c.name, table: alias, type: m.t, ...(m.hidden ? { hidden: true } : {}), ...(fill !== undefined ? { fill } : {}) }
  })
}

/** A core row as executor values, read under the table's current definition (catalog/column-read.ts). */
export function decodeRow(row: Row, cols: ColumnBinding[]): RtValue[] {
  const out = new Array<RtValue>(cols.length)
  for (let i = 0; i < cols.length; i++) out[i] = readColumn(row[cols[i]!.name], cols[i]!)
  return out
}

export type ColumnReader = (v: Value | undefined) => RtValue

/**
 * `readColumn` for one column, with a value already in the column's own representation
 * (the common case: written under the current definition) returned without the checks
 * and the try of the general path. Anything else takes the general path.
 */
export function columnReader(c: ColumnBinding): ColumnReader {
  const slow = (v: Value | undefined): RtValue => readColumn(v, c)
  if (c.type.array) return slow
  switch (c.type.id) {
    case 'int2': case 'int4': return (v) => (typeof v === 'number' && Number.isInteger(v) ? v : slow(v))
    case 'int8': return (v) => (typeof v === 'bigint' ? v : slow(v))
    case 'float4': case 'float8': case 'date': case 'time': case 'timestamp': case 'timestamptz': return (v) => (typeof v === 'number' ? v : slow(v))
    case 'bool': return (v) => (typeof v === 'boolean' ? v : slow(v))
    case 'text': case 'varchar': case 'bpchar': case 'name': case 'uuid': case 'json': case 'jsonb':
      return (v) => (typeof v === 'string' && v.charCodeAt(0) !== 0 ? v : slow(v))
    default: return slow
  }
}

/**
 * Like `decodeRow` with each column's `columnReader`; with `read`, only the columns at
 * those positions are read and the others are NULL.
 */
export function decodeColumns(row: Row, cols: ColumnBinding[], readers: ColumnReader[], read: readonly number[] | null): RtValue[] {
  const n = cols.length
  const out = new Array<RtValue>(n)
  if (read === null) {
    for (let i = 0; i < n; i++) out[i] = readers[i]!(row[cols[i]!.name])
    return out
  }
  for (let i = 0; i < n; i++) out[i] = null
  for (let j = 0; j < read.length; j++) {
    const i = read[j]!
    out[i] = readers[i]!(row[cols[i]!.name])
  }
  return out
}
