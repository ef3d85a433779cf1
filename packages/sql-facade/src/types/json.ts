/**
 * JSON and JSONB values, kept as text. JSONB text is normalized the way PostgreSQL prints
 * jsonb: keys sorted by length then bytes, duplicates resolved to the last, `", "` and
 * `": "` separators.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }

export function parseJsonText(text: string, type = 'json'): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${type}`, { detail: `Token "${text.slice(0, 20)}" is invalid.` })
  }
}

function compareKeys(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length
  return a < b ? -1 : a > b ? 1 : 0
}

export function formatJsonb(v: JsonValue): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return '[' + v.map(formatJsonb).join(', ') + ']'
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareKeys)
    return '{' + keys.map((k) => JSON.stringify(k) + ': ' + formatJsonb(v[k]!)).join(', ') + '}'
  }
  return JSON.stringify(v)
}

export function normalizeJsonb(text: string): string {
  return formatJsonb(parseJsonText(text, 'jsonb'))
}

/** `->` / `->>` step: by key for objects, by index (negative from the end) for arrays. */
export function jsonGet(v: JsonValue, key: string | number): JsonValue | undefined {
  if (typeof key === 'number') {
    if (!Array.isArray(v)) return undefined
    const i = key < 0 ? v.length + key : key
    return v[i]
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined
  return Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined
}

/** Text of a JSON value as `->>` returns it: strings unquoted, null as SQL NULL. */
export function jsonAsText(v: JsonValue | undefined): string | null {
  if (v === undefined || v === null) return null
  if (typeof v === 'string') return v
  return formatJsonb(v)
}
