/**
 * Set-returning JSON functions, one row per member:
 *
 *   json[b]_each(obj)            (key text, value json[b]) for each field
 *   json[b]_each_text(obj)       (key text, value text)    strings unescaped, null as NULL
 *   json[b]_array_elements(arr)  value json[b]              each element
 *   json[b]_array_elements_text  value text
 *   json[b]_object_keys(obj)     text                       each key
 *
 * json reads its written text (json-source.ts): duplicate keys each give a row, in input
 * order, and values keep their spelling. jsonb gives its normalized members (keys sorted,
 * duplicates resolved). Calling one on the wrong kind of value is 22023, as in PostgreSQL.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatJsonb, jsonAsText, parseJsonText, type JsonValue } from '../types/json.js'
import { jsonSourceText, parseJsonSource, type JsonNode } from '../types/json-source.js'
import { RowValue } from '../types/row-type.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ExecCtx } from '../runtime/context.js'

type Kind = 'json' | 'jsonb'

/** A set-returning implementation (set-returning.ts's SetFunctionImpl, which registers these). */
interface RowsImpl {
  args: SqlType[]
  result: SqlType
  rows(args: RtValue[], ctx: ExecCtx): RtValue[]
  column?: string
}

/** A member of an object or array, as either kind reads it. */
interface Member {
  key: string
  /** The value as json[b] text. */
  json: string
  /** The value as `->>` gives it. */
  text: string | null
}

function kindOf(v: JsonValue): string {
  return v === null || typeof v !== 'object' ? 'scalar' : Array.isArray(v) ? 'array' : 'object'
}

function sourceKind(n: JsonNode): string {
  return n.kind === 'object' || n.kind === 'array' ? n.kind : 'scalar'
}

/** The object's fields (want 'object') or the array's elements (want 'array'), or the error PostgreSQL gives. */
function members(kind: Kind, text: string, want: 'object' | 'array', name: string): Member[] {
  const wrong = (found: string): SqlError => new SqlError(SqlState.invalidParameterValue, want === 'array'
    ? (found === 'object' ? 'cannot extract elements from an object' : 'cannot extract elements from a scalar')
    : `cannot call ${name} on ${found === 'array' ? 'an array' : 'a scalar'}`)
  if (kind === 'json') {
    const n = parseJsonSource(text)
    if (n.kind === 'object' && want === 'object') return n.entries.map((e) => ({ key: e.key, json: e.value.text, text: jsonSourceText(e.value) }))
    if (n.kind === 'array' && want === 'array') return n.items.map((x) => ({ key: '', json: x.text, text: jsonSourceText(x) }))
    throw wrong(sourceKind(n))
  }
  const v = parseJsonText(text, 'jsonb')
  if (kindOf(v) !== want) throw wrong(kindOf(v))
  const entries: Array<[string, JsonValue]> = Array.isArray(v) ? v.map((x) => ['', x]) : Object.entries(JSON.parse(formatJsonb(v)) as Record<string, JsonValue>)
  return entries.map(([key, x]) => ({ key, json: formatJsonb(x), text: jsonAsText(x) }))
}

function each(kind: Kind, asText: boolean): (ts: SqlType[]) => RowsImpl | null {
  const name = `${kind}_each${asText ? '_text' : ''}`
  const jt = kind === 'json' ? T.json : T.jsonb
  const result: SqlType = { id: 'record', fields: [{ name: 'key', type: T.text }, { name: 'value', type: asText ? T.text : jt }] }
  return (ts) => (ts.length === 1 ? { args: [jt], result, rows: (a, ctx) => members(kind, a[0] as string, 'object', name).map((m) => {
    ctx.budget.tick()
    return new RowValue([m.key, asText ? m.text : m.json])
  }) } : null)
}

function elements(kind: Kind, asText: boolean): (ts: SqlType[]) => RowsImpl | null {
  const name = `${kind}_array_elements${asText ? '_text' : ''}`
  const jt = kind === 'json' ? T.json : T.jsonb
  return (ts) => (ts.length === 1 ? { args: [jt], result: asText ? T.text : jt, column: 'value', rows: (a) => members(kind, a[0] as string, 'array', name).map((m) => (asText ? m.text : m.json)) } : null)
}

function objectKeys(kind: Kind): (ts: SqlType[]) => RowsImpl | null {
  const name = `${kind}_object_keys`
  return (ts) => (ts.length === 1 ? { args: [kind === 'json' ? T.json : T.jsonb], result: T.text, rows: (a) => members(kind, a[0] as string, 'object', name).map((m) => m.key) } : null)
}

export const JSON_SET_FUNCTIONS: Record<string, (ts: SqlType[]) => RowsImpl | null> = {
  json_each: each('json', false),
  json_each_text: each('json', true),
  jsonb_each: each('jsonb', false),
  jsonb_each_text: each('jsonb', true),
  json_array_elements: elements('json', false),
  json_array_elements_text: elements('json', true),
  jsonb_array_elements: elements('jsonb', false),
  jsonb_array_elements_text: elements('jsonb', true),
  json_object_keys: objectKeys('json'),
  jsonb_object_keys: objectKeys('jsonb'),
}
