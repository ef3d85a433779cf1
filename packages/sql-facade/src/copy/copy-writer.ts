/**
 * Writes COPY TO data: one line per row, in text format (backslash escapes, the NULL
 * string for NULL) or CSV (fields quoted when they hold the delimiter, the quote, a
 * newline, or equal the NULL string), with an optional header line of column names.
 * Values arrive as PostgreSQL's text output (null for NULL).
 */
import type { CopyOptions } from './copy-options.js'
import { escapeChars } from '../types/text-chars.js'

export function copyHeader(names: string[], o: CopyOptions): string {
  return o.format === 'csv' ? names.map((n) => csvValue(n, o, true)).join(o.delimiter) + '\n' : names.map(textValue).join(o.delimiter) + '\n'
}

export function copyLine(values: Array<string | null>, o: CopyOptions): string {
  if (o.format === 'csv') return values.map((v) => (v === null ? o.null : csvValue(v, o, false))).join(o.delimiter) + '\n'
  return values.map((v) => (v === null ? o.null : textValue(v))).join(o.delimiter) + '\n'
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '\v': '\\v' }

function textValue(v: string): string {
  return escapeChars(v, '\\\n\r\t\b\f\v', (c) => COPY_ESCAPES[c]!)
}

function csvValue(v: string, o: CopyOptions, header: boolean): string {
  const needs = v.includes(o.delimiter) || v.includes(o.quote) || v.includes('\n') || v.includes('\r') || (!header && v === o.null) || v === '\\.'
  if (!needs) return v
  let out = o.quote
  for (const c of v) out += c === o.quote || c === o.escape ? o.escape + c : c
  return out + o.quote
}
