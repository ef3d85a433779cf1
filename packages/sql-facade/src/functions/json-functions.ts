/**
 * The scalar JSON functions beyond construction, with PostgreSQL's semantics and errors:
 *
 *   json[b]_extract_path[_text](from, VARIADIC path)   `#>` / `#>>` as functions
 *   json[b]_array_length, json[b]_strip_nulls, jsonb_pretty
 *   jsonb_contains / jsonb_contained                   `@>` / `<@`
 *   jsonb_exists / _any / _all                         `?` / `?|` / `?&`
 *   jsonb_delete(jsonb, text | VARIADIC text[]), jsonb_delete_path   `-` / `#-`
 *   json[b]_object(text[]) and (keys text[], values text[])
 *   jsonb_set_lax(target, path, value [, create [, null_value_treatment]])
 *
 * json results are cut from the input text (json-source.ts), so they keep its spelling;
 * jsonb results are normalized (json.ts).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { SqlArray } from '../types/array.js'
import { formatJsonb, jsonAsText, jsonGet, parseJsonText, type JsonValue } from '../types/json.js'
import { jsonPathQuery } from './jsonpath.js'
import { jsonSourceGet, jsonSourceText, parseJsonSource, type JsonNode } from '../types/json-source.js'
import { arrayOf, category, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { JSONB_SET_FUNCTIONS } from './jsonb-set.js'
import type { ScalarResolver } from './scalar-impl.js'

type Kind = 'json' | 'jsonb'

const textLike = (t: SqlType): boolean => !t.array && (t.id === 'unknown' || category(t) === 'S')

/** `a @> b` for jsonb: objects by their keys, arrays by each element of b found in a, a scalar in an array. */
export function jsonbContains(a: JsonValue, b: JsonValue): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((y) => a.some((x) => jsonbContains(x, y)))
    return a.some((x) => jsonbContains(x, b))
  }
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false
    return Object.keys(b).every((k) => Object.prototype.hasOwnProperty.call(a, k) && jsonbContains(a[k]!, b[k]!))
  }
  return a === b
}

/** `j ? key`: a top-level object key, or a string element of a top-level array (or the string itself). */
export function jsonbExists(v: JsonValue, key: string): boolean {
  if (Array.isArray(v)) return v.includes(key)
  if (v !== null && typeof v === 'object') return Object.prototype.hasOwnProperty.call(v, key)
  return v === key
}

/** `?|` (any) and `?&` (all) over the non-NULL keys of a text[]. */
export function jsonbExistsKeys(v: JsonValue, keys: SqlArray, all: boolean): boolean {
  const present = keys.items.filter((k): k is string => k !== null)
  return all ? present.every((k) => jsonbExists(v, k)) : present.some((k) => jsonbExists(v, k))
}

/** `jsonb - text[]`: every listed key (or string array element) removed. */
export function jsonbDeleteKeys(v: JsonValue, keys: readonly RtValue[]): JsonValue {
  const drop = new Set(keys.filter((k): k is string => k !== null))
  if (Array.isArray(v)) return v.filter((x) => typeof x !== 'string' || !drop.has(x))
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !drop.has(k)))
  throw new SqlError(SqlState.invalidParameterValue, 'cannot delete from scalar')
}

/** `jsonb #- text[]`: the element at the path removed; a path that leads nowhere changes nothing. */
export function jsonbDeletePath(v: JsonValue, path: SqlArray): JsonValue {
  const steps = path.items
  const nullAt = steps.indexOf(null)
  if (nullAt >= 0) throw new SqlError(SqlState.nullValueNotAllowed, `path element at position ${nullAt + 1} is null`)
  if (v === null || typeof v !== 'object') throw new SqlError(SqlState.invalidParameterValue, 'cannot delete path in scalar')
  const walk = (node: JsonValue, at: number): JsonValue => {
    const step = steps[at] as string
    const last = at === steps.length - 1
    if (Array.isArray(node)) {
      if (!/^\s*[+-]?\d+\s*$/.test(step)) {
        throw new SqlError(SqlState.invalidTextRepresentation, `path element at position ${at + 1} is not an integer: "${step}"`)
      }
      const i = Number(step) < 0 ? node.length + Number(step) : Number(step)
      if (i < 0 || i >= node.length) return node
      return last ? node.filter((_x, k) => k !== i) : node.map((x, k) => (k === i ? walk(x, at + 1) : x))
    }
    if (node !== null && typeof node === 'object') {
      if (!Object.prototype.hasOwnProperty.call(node, step)) return node
      if (!last) return { ...node, [step]: walk(node[step]!, at + 1) }
      const out = { ...node }
      delete out[step]
      return out
    }
    return node
  }
  return steps.length === 0 ? v : walk(v, 0)
}

function stripNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(stripNulls)
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, stripNulls(x)]))
  }
  return v
}

/** json_strip_nulls on the written text: fields with null values dropped, written compactly, duplicates kept. */
function stripNullsSource(n: JsonNode): string {
  if (n.kind === 'array') return `[${n.items.map(stripNullsSource).join(',')}]`
  if (n.kind === 'object') {
    return `{${n.entries.filter((e) => e.value.kind !== 'null').map((e) => `${JSON.stringify(e.key)}:${stripNullsSource(e.value)}`).join(',')}}`
  }
  return n.text
}

/** jsonb_pretty: four spaces per level, every element and field on its own line. */
function pretty(v: JsonValue, indent: string): string {
  const inner = indent + '    '
  if (Array.isArray(v)) {
    return `[\n${v.map((x) => inner + pretty(x, inner)).join(',\n')}${v.length ? '\n' : ''}${indent}]`
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(formatJsonbOrder(v))
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pretty(v[k]!, inner)}`).join(',\n')}${keys.length ? '\n' : ''}${indent}}`
  }
  return formatJsonb(v)
}

/** An object with its keys in jsonb's order (by length, then bytes). */
function formatJsonbOrder(v: { [k: string]: JsonValue }): { [k: string]: JsonValue } {
  return JSON.parse(formatJsonb(v)) as { [k: string]: JsonValue }
}

function extractPath(kind: Kind, asText: boolean): ScalarResolver {
  return (ts) => {
    if (ts.length < 1 || (ts[0]!.id !== kind && ts[0]!.id !== 'unknown')) return null
    if (!ts.slice(1).every(textLike)) return null
    const jt = kind === 'json' ? T.json : T.jsonb
    return { args: [jt, ...ts.slice(1).map(() => T.text)], result: asText ? T.text : jt, fn: (a) => {
      const path = a.slice(1) as string[]
      if (kind === 'json') {
        let n: JsonNode | undefined = parseJsonSource(a[0] as string)
        for (const p of path) {
          if (n === undefined) break
          n = jsonSourceGet(n, n.kind === 'array' ? (/^\s*-?\d+\s*$/.test(p) ? Number(p) : -Infinity) : p)
        }
        return asText ? jsonSourceText(n) : n?.text ?? null
      }
      let v: JsonValue | undefined = parseJsonText(a[0] as string, 'jsonb')
      for (const p of path) {
        if (v === undefined) break
        v = jsonGet(v, Array.isArray(v) && /^\s*-?\d+\s*$/.test(p) ? Number(p) : p)
      }
      return asText ? jsonAsText(v) : v === undefined ? null : formatJsonb(v)
    } }
  }
}

function onJsonb(arity: number, rest: SqlType[], result: SqlType, fn: (v: JsonValue, a: RtValue[]) => RtValue): ScalarResolver {
  return (ts) => (ts.length === arity ? { args: [T.jsonb, ...rest], result, fn: (a) => fn(parseJsonText(a[0] as string, 'jsonb'), a) } : null)
}

const objectError = (message: string): SqlError => new SqlError(SqlState.arraySubscriptError, message)

/** json[b]_object's key/value pairs from one text[] (flat, or n×2) or from a keys and a values array. */
function objectPairs(a: RtValue[]): Array<[string, string | null]> {
  const pairs: Array<[string | null, string | null]> = []
  if (a.length === 1) {
    const arr = a[0] as SqlArray
    if (arr.ndims === 1) {
      if (arr.items.length % 2 !== 0) throw objectError('array must have even number of elements')
    } else if (arr.ndims === 2) {
      if (arr.dims[1] !== 2) throw objectError('array must have two columns')
    } else if (arr.ndims !== 0) throw objectError('wrong number of array subscripts')
    for (let i = 0; i + 1 < arr.items.length; i += 2) pairs.push([arr.items[i] as string | null, arr.items[i + 1] as string | null])
  } else {
    const keys = a[0] as SqlArray
    const values = a[1] as SqlArray
    if (keys.ndims > 1 || values.ndims > 1) throw objectError('wrong number of array subscripts')
    if (keys.items.length !== values.items.length) throw objectError('mismatched array dimensions')
    keys.items.forEach((k, i) => pairs.push([k as string | null, values.items[i] as string | null]))
  }
  return pairs.map(([k, v]) => {
    if (k === null) throw new SqlError(SqlState.nullValueNotAllowed, 'null value not allowed for object key')
    return [k, v]
  })
}

function objectFromArrays(kind: Kind): ScalarResolver {
  return (ts) => {
    if (ts.length !== 1 && ts.length !== 2) return null
    return { args: ts.map(() => arrayOf(T.text)), result: kind === 'json' ? T.json : T.jsonb, fn: (a) => {
      const pairs = objectPairs(a)
      if (kind === 'jsonb') return formatJsonb(Object.fromEntries(pairs))
      return `{${pairs.map(([k, v]) => `${JSON.stringify(k)} : ${v === null ? 'null' : JSON.stringify(v)}`).join(', ')}}`
    } }
  }
}

const NULL_TREATMENTS = ['raise_exception', 'use_json_null', 'delete_key', 'return_target']

const setLax: ScalarResolver = (ts) => {
  if (ts.length < 3 || ts.length > 5) return null
  const set = JSONB_SET_FUNCTIONS['jsonb_set']!([T.jsonb, arrayOf(T.text), T.jsonb, T.bool])!
  const args = [T.jsonb, arrayOf(T.text), T.jsonb, T.bool, T.text].slice(0, ts.length)
  return { args, result: T.jsonb, nonStrict: true, fn: (a, ctx) => {
    // Strict in every argument but the new value, as PostgreSQL declares it.
    if (a[0] === null || a[1] === null || (a.length > 3 && a[3] === null) || (a.length > 4 && a[4] === null)) return null
    const create = a.length > 3 ? a[3]! : true
    if (a[2] !== null) return set.fn([a[0], a[1], a[2], create], ctx)
    const treatment = a.length > 4 ? (a[4] as string) : 'use_json_null'
    if (!NULL_TREATMENTS.includes(treatment)) {
      throw new SqlError(SqlState.invalidParameterValue, 'null_value_treatment must be "delete_key", "return_target", "use_json_null", or "raise_exception"')
    }
    switch (treatment) {
      case 'raise_exception': throw new SqlError(SqlState.nullValueNotAllowed, 'JSON value must not be null', {
        detail: 'Exception was raised because null_value_treatment is "raise_exception".',
        hint: 'To avoid, either change the null_value_treatment argument or ensure that an SQL NULL is not passed.',
      })
      case 'delete_key': return formatJsonb(jsonbDeletePath(parseJsonText(a[0] as string, 'jsonb'), a[1] as SqlArray))
      case 'return_target': return a[0]!
      default: return set.fn([a[0], a[1], 'null', create], ctx)
    }
  } }
}

function arrayLength(kind: Kind): ScalarResolver {
  return (ts) => (ts.length === 1 ? { args: [kind === 'json' ? T.json : T.jsonb], result: T.int4, fn: (a) => {
    const n = parseJsonSource(a[0] as string)
    if (n.kind === 'array') return n.items.length
    throw new SqlError(SqlState.invalidParameterValue, n.kind === 'object' ? 'cannot get array length of a non-array' : 'cannot get array length of a scalar')
  } } : null)
}

const deleteKeys: ScalarResolver = (ts) => {
  if (ts.length === 2 && ts[1]!.array) {
    return { args: [T.jsonb, arrayOf(T.text)], result: T.jsonb, fn: (a) => formatJsonb(jsonbDeleteKeys(parseJsonText(a[0] as string, 'jsonb'), (a[1] as SqlArray).items)) }
  }
  if (ts.length < 2 || !ts.slice(1).every(textLike)) return null
  return { args: [T.jsonb, ...ts.slice(1).map(() => T.text)], result: T.jsonb, fn: (a) => formatJsonb(jsonbDeleteKeys(parseJsonText(a[0] as string, 'jsonb'), a.slice(1))) }
}

/**
 * jsonb_path_exists / _match / _query_array / _query_first (target, path [, vars [, silent]]):
 * the path as `@?` and `@@` read it (functions/jsonpath.ts). Variables are refused (0A000)
 * rather than ignored; `silent` turns jsonb_path_match's "not a single boolean" into NULL,
 * the one error lax mode raises here. They were missing (42883) until 2026-12-03.
 */
function jsonPathFunction(result: SqlType, answer: (items: JsonValue[], silent: boolean) => RtValue): ScalarResolver {
  return (ts) => {
    if (ts.length < 2 || ts.length > 4) return null
    return { args: [T.jsonb, T.text, T.jsonb, T.bool].slice(0, ts.length), result, fn: (a) => {
      if (a.length > 2) {
        const vars = parseJsonText(a[2] as string, 'jsonb')
        if (vars === null || typeof vars !== 'object' || Array.isArray(vars) || Object.keys(vars).length > 0) {
          throw new SqlError(SqlState.featureNotSupported, 'jsonpath variables are not supported', { hint: 'Write the values into the path as literals.' })
        }
      }
      const json = parseJsonText(a[0] as string, 'jsonb')
      return answer(jsonPathQuery(json, a[1] as string), a.length > 3 && a[3] === true)
    } }
  }
}

export const JSON_FUNCTIONS: Record<string, ScalarResolver> = {
  jsonb_path_exists: jsonPathFunction(T.bool, (items) => items.length > 0),
  jsonb_path_query_array: jsonPathFunction(T.jsonb, (items) => formatJsonb(items)),
  jsonb_path_query_first: jsonPathFunction(T.jsonb, (items) => (items.length === 0 ? null : formatJsonb(items[0]!))),
  jsonb_path_match: jsonPathFunction(T.bool, (items, silent) => {
    if (items.length === 1 && typeof items[0] === 'boolean') return items[0]
    if (items.length === 1 && items[0] === null) return null
    if (silent) return null
    throw new SqlError(SqlState.singletonSqlJsonItemRequired, 'single boolean result is expected')
  }),
  json_extract_path: extractPath('json', false),
  json_extract_path_text: extractPath('json', true),
  jsonb_extract_path: extractPath('jsonb', false),
  jsonb_extract_path_text: extractPath('jsonb', true),
  json_array_length: arrayLength('json'),
  json_strip_nulls: (ts) => (ts.length === 1 ? { args: [T.json], result: T.json, fn: (a) => stripNullsSource(parseJsonSource(a[0] as string)) } : null),
  jsonb_strip_nulls: onJsonb(1, [], T.jsonb, (v) => formatJsonb(stripNulls(v))),
  jsonb_pretty: onJsonb(1, [], T.text, (v) => pretty(v, '')),
  jsonb_contains: onJsonb(2, [T.jsonb], T.bool, (v, a) => jsonbContains(v, parseJsonText(a[1] as string, 'jsonb'))),
  jsonb_contained: onJsonb(2, [T.jsonb], T.bool, (v, a) => jsonbContains(parseJsonText(a[1] as string, 'jsonb'), v)),
  jsonb_exists: onJsonb(2, [T.text], T.bool, (v, a) => jsonbExists(v, a[1] as string)),
  jsonb_exists_any: onJsonb(2, [arrayOf(T.text)], T.bool, (v, a) => jsonbExistsKeys(v, a[1] as SqlArray, false)),
  jsonb_exists_all: onJsonb(2, [arrayOf(T.text)], T.bool, (v, a) => jsonbExistsKeys(v, a[1] as SqlArray, true)),
  jsonb_delete: deleteKeys,
  jsonb_delete_path: onJsonb(2, [arrayOf(T.text)], T.jsonb, (v, a) => formatJsonb(jsonbDeletePath(v, a[1] as SqlArray))),
  json_object: objectFromArrays('json'),
  jsonb_object: objectFromArrays('jsonb'),
  jsonb_set_lax: setLax,
}
