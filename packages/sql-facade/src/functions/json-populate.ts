/**
 * json[b]_populate_record(base, json) and json[b]_populate_recordset(base, json): a
 * composite-typed row (or one per element of a JSON array) from a JSON object, as
 * PostgreSQL's populate_record: each field takes the object's key of its name, converted
 * to the field's type, or keeps `base`'s value (NULL when `base` is NULL).
 *
 * Conversion of a key's value to a field's type: JSON null is NULL; a string is the
 * type's text input; a number or boolean its text; an array becomes an SQL array (nested
 * arrays are dimensions and must be rectangular: 22P02) of an array-typed field, an
 * object a row of a composite field; for json/jsonb fields the value itself. A field of
 * a domain with constraints is refused (0A000) rather than filled unchecked.
 *
 * In FROM with a column definition list (`AS x(a int, b text)`), json[b]_to_record[set]
 * and the populate functions over `null::record` read rows of the list's row type.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { SqlArray } from '../types/array.js'
import { formatJsonb, parseJsonText, stringifyJson, type JsonValue } from '../types/json.js'
import { RowValue, rowItems } from '../types/row-type.js'
import { elementType, T, typeName, type SqlType } from '../types/sql-type.js'
import { parseText } from '../types/text-format.js'
import { castValue } from '../types/cast.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'
import type { ExecCtx } from '../runtime/context.js'
import { ownEntry } from '../parser/own-entry.js'

type JsonKind = 'json' | 'jsonb'

/** A set-returning implementation (set-returning.ts's SetFunctionImpl, which registers these). */
interface RowsImpl {
  args: SqlType[]
  result: SqlType
  rows(args: RtValue[], ctx: ExecCtx): RtValue[]
}

/** A JSON value's text as a non-JSON field reads it. */
function jsonText(v: JsonValue, kind: JsonKind): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  return kind === 'jsonb' ? formatJsonb(v) : stringifyJson(v)
}

/** The dimensions of nested JSON arrays (22P02 when sub-arrays differ in shape). */
function arrayItems(v: JsonValue[], key: string): { dims: number[]; items: JsonValue[] } {
  const malformed = (): SqlError => new SqlError(SqlState.invalidTextRepresentation, 'malformed JSON array', {
    detail: 'Multidimensional arrays must have sub-arrays with matching dimensions.',
  })
  if (v.length === 0) return { dims: [], items: [] }
  const nested = v.map((x) => Array.isArray(x))
  if (nested.some((n) => n !== nested[0])) throw malformed()
  if (!nested[0]) return { dims: [v.length], items: v }
  const subs = v.map((x) => arrayItems(x as JsonValue[], key))
  // Sub-arrays that are all empty make an empty array, as PostgreSQL reads `[[], []]`.
  if (subs.every((s) => s.items.length === 0)) return { dims: [], items: [] }
  const d = subs[0]!.dims
  if (d.length === 0 || subs.some((s) => s.dims.join(',') !== d.join(','))) throw malformed()
  return { dims: [v.length, ...d], items: subs.flatMap((s) => s.items) }
}

/** A domain field's NOT NULL; its CHECK constraints cannot be evaluated here, so a value for one is refused. */
function domainNull(v: RtValue, t: SqlType): RtValue {
  if (v === null && t.domain?.notNull) throw new SqlError(SqlState.notNullViolation, `domain ${t.domain.name} does not allow null values`)
  return v
}

function toField(v: JsonValue, t: SqlType, key: string, kind: JsonKind, now: number): RtValue {
  if (v === null) return domainNull(null, t)
  if (t.domain && t.domain.checks.length > 0) {
    throw new SqlError(SqlState.featureNotSupported, `populating a field of domain ${t.domain.name} (it has CHECK constraints) from JSON is not supported`)
  }
  // A json field from jsonb input is written as jsonb writes it.
  if (!t.array && (t.id === 'json' || t.id === 'jsonb')) return t.id === 'jsonb' || kind === 'jsonb' ? formatJsonb(v) : stringifyJson(v)
  if (t.array) {
    if (typeof v === 'string') return parseText(v, t, now)
    if (!Array.isArray(v)) throw new SqlError(SqlState.invalidTextRepresentation, 'expected JSON array', { hint: `See the value of key "${key}".` })
    const el = elementType(t)
    // Elements of a json[] / jsonb[] field are JSON values themselves: nested arrays are elements, not dimensions.
    if (el.id === 'json' || el.id === 'jsonb') return new SqlArray(v.length ? [v.length] : [], v.length ? [1] : [], v.map((x) => (x === null ? null : toField(x, el, key, kind, now))))
    const { dims, items } = arrayItems(v, key)
    return new SqlArray(dims, dims.map(() => 1), items.map((x) => toField(x, el, key, kind, now)))
  }
  if (t.id === 'record' && t.fields) {
    if (typeof v === 'string') return parseText(v, t, now)
    return populate(t, null, v, kind, now)
  }
  // As the type's input with its modifier: char(n) pads, a longer value is 22001.
  return castValue(jsonText(v, kind), T.unknown, t, now)
}

/** The row of type `t` from `base` and the JSON object `v`. */
function populate(t: SqlType, base: RowValue | null, v: JsonValue, kind: JsonKind, now: number): RowValue {
  if (Array.isArray(v)) throw new SqlError(SqlState.invalidParameterValue, 'cannot call populate_composite on an array')
  if (v === null || typeof v !== 'object') throw new SqlError(SqlState.invalidParameterValue, 'cannot call populate_composite on a scalar')
  const fields = t.fields!
  const old = base ? rowItems(base) : null
  return new RowValue(fields.map((f, i) => (Object.prototype.hasOwnProperty.call(v, f.name) ? toField(v[f.name]!, f.type, f.name, kind, now) : domainNull(old?.[i] ?? null, f.type))))
}

function compositeArg(t: SqlType | undefined): boolean {
  return t !== undefined && t.id === 'record' && !t.array && t.fields !== undefined
}

function noRowType(name: string): SqlError {
  return new SqlError(SqlState.featureNotSupported, `could not determine row type for result of ${name}`, {
    hint: 'Provide a non-null record argument, or call the function in the FROM clause using a column definition list.',
  })
}

function populateRecord(kind: JsonKind, name: string): ScalarResolver {
  return (ts) => {
    if (ts.length !== 2 || (ts[1]!.id !== kind && ts[1]!.id !== 'unknown')) return null
    if (!compositeArg(ts[0])) {
      if (ts[0]!.id === 'record' || ts[0]!.id === 'unknown') throw noRowType(name)
      return null
    }
    const t = ts[0]!
    const jt = kind === 'json' ? T.json : T.jsonb
    return { args: [t, jt], result: t, nonStrict: true, fn: (a, ctx) => {
      const base = a[0] as RowValue | null
      if (a[1] === null) return base
      return populate(t, base, parseJsonText(a[1] as string, kind), kind, ctx.nowMicros)
    } }
  }
}

function populateRecordset(kind: JsonKind, name: string): (ts: SqlType[]) => RowsImpl | null {
  return (ts) => {
    if (ts.length !== 2 || (ts[1]!.id !== kind && ts[1]!.id !== 'unknown')) return null
    if (!compositeArg(ts[0])) {
      if (ts[0]!.id === 'record' || ts[0]!.id === 'unknown') throw noRowType(name)
      return null
    }
    const t = ts[0]!
    return { args: [t, kind === 'json' ? T.json : T.jsonb], result: t, rows: (a, ctx) => {
      if (a[1] === null) return []
      const v = parseJsonText(a[1] as string, kind)
      if (!Array.isArray(v)) throw new SqlError(SqlState.invalidParameterValue, 'cannot call json_populate_recordset on an object')
      return v.map((x) => {
        ctx.budget.tick()
        return populate(t, a[0] as RowValue | null, x, kind, ctx.nowMicros)
      })
    } }
  }
}

export const JSON_POPULATE_FUNCTIONS: Record<string, ScalarResolver> = {
  json_populate_record: populateRecord('json', 'json_populate_record'),
  jsonb_populate_record: populateRecord('jsonb', 'jsonb_populate_record'),
}

export const JSON_POPULATE_SET_FUNCTIONS: Record<string, (ts: SqlType[]) => RowsImpl | null> = {
  json_populate_recordset: populateRecordset('json', 'json_populate_recordset'),
  jsonb_populate_recordset: populateRecordset('jsonb', 'jsonb_populate_recordset'),
}

const RECORD_FUNCTIONS: Record<string, { kind: JsonKind; set: boolean; base: boolean }> = {
  json_to_record: { kind: 'json', set: false, base: false },
  jsonb_to_record: { kind: 'jsonb', set: false, base: false },
  json_to_recordset: { kind: 'json', set: true, base: false },
  jsonb_to_recordset: { kind: 'jsonb', set: true, base: false },
  json_populate_record: { kind: 'json', set: false, base: true },
  jsonb_populate_record: { kind: 'jsonb', set: false, base: true },
  json_populate_recordset: { kind: 'json', set: true, base: true },
  jsonb_populate_recordset: { kind: 'jsonb', set: true, base: true },
}

/** Whether `name` returns `record` rows shaped by a column definition list in FROM. */
export function isJsonRecordFunction(name: string): boolean {
  return name in RECORD_FUNCTIONS
}

/**
 * json[b]_to_record[set](json) and json[b]_populate_record[set](base, json) in FROM with a
 * column definition list: rows of the anonymous row type `t` the list gives. A non-NULL
 * base must have exactly `t`'s field types (42804, as PostgreSQL's tupledesc_match).
 */
export function jsonRecordRows(name: string, t: SqlType, argTypes: SqlType[]): RowsImpl | null {
  const f = ownEntry(RECORD_FUNCTIONS, name)
  if (!f || argTypes.length !== (f.base ? 2 : 1)) return null
  const jt = f.kind === 'json' ? T.json : T.jsonb
  const fields = t.fields!
  if (f.base) {
    const bt = argTypes[0]!
    if (bt.id === 'record' && bt.fields) {
      if (bt.fields.length !== fields.length) {
        throw mismatch(`Returned row contains ${bt.fields.length} attribute${bt.fields.length === 1 ? '' : 's'}, but query expects ${fields.length}.`)
      }
      bt.fields.forEach((bf, i) => {
        if (bf.type.id !== fields[i]!.type.id) throw mismatch(`Returned type ${typeName(bf.type)} at ordinal position ${i + 1}, but query expects ${typeName(fields[i]!.type)}.`)
      })
    }
  }
  return {
    args: f.base ? [argTypes[0]!.id === 'unknown' ? { id: 'record' } : argTypes[0]!, jt] : [jt],
    result: t,
    rows: (a, ctx) => {
      const text = a[a.length - 1]
      const base = f.base && a[0] instanceof RowValue ? (a[0] as RowValue) : null
      if (text === null || text === undefined) return f.set ? [] : [base ?? new RowValue(fields.map(() => null))]
      const v = parseJsonText(text as string, f.kind)
      if (!f.set) return [populate(t, base, v, f.kind, ctx.nowMicros)]
      if (!Array.isArray(v)) throw new SqlError(SqlState.invalidParameterValue, `cannot call ${name} on an object`)
      return v.map((x) => {
        ctx.budget.tick()
        return populate(t, base, x, f.kind, ctx.nowMicros)
      })
    },
  }
}

function mismatch(detail: string): SqlError {
  return new SqlError(SqlState.datatypeMismatch, 'function return row and query-specified return row do not match', { detail })
}
