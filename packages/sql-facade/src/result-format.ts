/**
 * The public result shape and PostgreSQL text output. `rows` hold JS values: booleans,
 * numbers (smallint, integer, real, double), Uint8Array (bytea), and PostgreSQL's text
 * output as strings for every other type (numeric stays exact, timestamps/intervals/json
 * print as PostgreSQL prints them). bigint (int8) is a decimal string by default, as
 * node-postgres returns it, so `JSON.stringify(rows)` always works; `Int8Output`
 * 'bigint' gives JS bigints instead. `formatPgText` turns any of these into PostgreSQL's
 * text output for the field, as a wire server sends it (identical for both int8 forms).
 */
import type { CopyTransfer } from './copy-transfer.js'
import type { StatementResult } from './runtime/result.js'
import type { ColumnBinding } from './relation/scope.js'
import { typeModifier, typeName, typeOid, typeSize, type SqlType, type TypeId } from './types/sql-type.js'
import { formatFloat, formatText } from './types/text-format.js'
import { activeDateTimeStyle } from './types/datetime-style.js'
import type { RtValue } from './types/value.js'
import { setOwn } from './parser/own-entry.js'

export interface FieldInfo {
  name: string
  /** SQL type name as PostgreSQL's format_type prints it, e.g. `integer`, `numeric(10,2)`. */
  type: string
  /** PostgreSQL type OID (RowDescription). */
  oid: number
  /** PostgreSQL type modifier, -1 if none. */
  typmod: number
  /** PostgreSQL type length, -1 if variable. */
  size: number
  /** Internal type id (int4, numeric, timestamptz ...). */
  typeId: TypeId
  isArray: boolean
  /** float4/float8 fields of a session with extra_float_digits 0 or below: the setting, for `formatPgText`. */
  extraFloatDigits?: number
}

export type JsValue = null | boolean | number | bigint | string | Uint8Array

/** How int8 (bigint, BIGSERIAL, count(*)) values appear in `rows`: 'string' (default) or 'bigint'. */
export type Int8Output = 'string' | 'bigint'

export interface QueryResult {
  command: string
  /** PostgreSQL's CommandComplete tag, e.g. `INSERT 0 3`, `SELECT 2`, `CREATE TABLE`. */
  commandTag: string
  rowCount: number | null
  fields: FieldInfo[]
  rows: Array<Record<string, JsValue>>
  /** The same rows as arrays in field order (columns with duplicate names survive). */
  rowArrays: JsValue[][]
  notices: string[]
  /**
   * Whether the statement returns rows (a query, SHOW, or RETURNING), even none or with
   * no columns: PostgreSQL then describes them (RowDescription); a utility statement
   * or a write without RETURNING does not.
   */
  returnsRows: boolean
  /** COPY FROM STDIN / TO STDOUT: the transfer the caller runs (see copy-transfer.ts). */
  copy?: CopyTransfer
}

export function fieldInfo(c: ColumnBinding): FieldInfo {
  const t: SqlType = c.type
  const info: FieldInfo = { name: c.name, type: typeName(t), oid: typeOid(t), typmod: typeModifier(t), size: typeSize(t), typeId: t.id, isArray: !!t.array }
  // Floats stay numbers in `rows`; the wire prints them later, outside the statement's style scope.
  const extra = activeDateTimeStyle().extraFloatDigits
  if ((t.id === 'float4' || t.id === 'float8') && !t.array && extra <= 0) info.extraFloatDigits = extra
  return info
}

/** A value as `rows` holds it; text output follows the running statement's DateStyle and IntervalStyle. */
export function toJs(v: RtValue, t: SqlType, int8: Int8Output = 'string'): JsValue {
  if (v === null) return null
  if (t.array) return formatText(v, t, activeDateTimeStyle())
  switch (t.id) {
    case 'bool': return v as boolean
    case 'int2': case 'int4': case 'float4': case 'float8': case 'oid': return v as number
    case 'int8': return int8 === 'bigint' ? (v as bigint) : String(v)
    case 'bytea': return v as Uint8Array
    case 'json': case 'jsonb': case 'text': case 'varchar': case 'bpchar': case 'name': case 'char': case 'uuid': case 'unknown': return v as string
    default: return formatText(v, t, activeDateTimeStyle())
  }
}

/** PostgreSQL text output of a value from `rows` for its field (null stays null). */
export function formatPgText(value: JsValue, field: Pick<FieldInfo, 'typeId' | 'extraFloatDigits'> & { isArray?: boolean }): string | null {
  if (value === null) return null
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return formatText(value, { id: 'bytea' })
  if (field.typeId === 'float4' || field.typeId === 'float8') return formatFloat(value, field.typeId === 'float4', field.extraFloatDigits)
  return String(value)
}

export function commandTag(command: string, rowCount: number | null): string {
  if (command === 'INSERT') return `INSERT 0 ${rowCount ?? 0}`
  if (['SELECT', 'UPDATE', 'DELETE', 'MERGE', 'FETCH', 'MOVE', 'COPY'].includes(command)) return `${command} ${rowCount ?? 0}`
  return command
}

/** A statement's result in the public shape. */
export function toQueryResult(r: StatementResult, int8: Int8Output): QueryResult {
  const fields = r.columns.map(fieldInfo)
  const rowArrays = r.rows.map((row) => row.map((v, i) => toJs(v, r.columns[i]!.type, int8)))
  const rows = rowArrays.map((arr) => {
    const o: Record<string, (typeof arr)[number]> = {}
    fields.forEach((f, i) => setOwn(o, f.name, arr[i]!))
    return o
  })
  const returnsRows = r.returnsRows ?? (fields.length > 0 || r.command === 'SELECT' || r.command === 'SHOW')
  return { command: r.command, commandTag: commandTag(r.command, r.rowCount), rowCount: r.rowCount, fields, rows, rowArrays, notices: r.notices ?? [], returnsRows }
}
