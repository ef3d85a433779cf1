/**
 * Binding parameters as PostgreSQL does: every value arrives as text of unknown type (or
 * bytes), and the statement's context decides its type (`$1` compared with a numeric
 * column is read as numeric). JS values are first written as the text node-postgres
 * would send for them.
 */
import type { RtValue } from '../types/value.js'
import { escapeChars } from '../types/text-chars.js'

/**
 * Parameters arrive as JS values and are bound as text of unknown type, like PostgreSQL's.
 * A JS array becomes an array literal as node-postgres writes it (`[1, [2, null]]` is
 * `{"1",{"2",NULL}}`), so `x = ANY($1)` reads it as an array of x's type.
 */
export function bindParam(v: unknown): RtValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (v instanceof Uint8Array) return v
  if (v instanceof Date) return v.toISOString()
  if (Array.isArray(v)) return arrayParam(v)
  return JSON.stringify(v)
}

function arrayParam(items: unknown[]): string {
  const parts = items.map((x): string => {
    if (x === null || x === undefined) return 'NULL'
    if (Array.isArray(x)) return arrayParam(x)
    const b = bindParam(x)
    const text = b instanceof Uint8Array ? '\\x' + Array.from(b, (n) => n.toString(16).padStart(2, '0')).join('') : String(b)
    return '"' + escapeChars(text, '\\"', (c) => '\\' + c) + '"'
  })
  return '{' + parts.join(',') + '}'
}
