/**
 * Composite types (CREATE TYPE name AS (field type, ..)) and row values: `ROW(1, 'a')`,
 * `(1, 'a')::name`, columns of a composite type, field selection `(x).field`.
 *
 * A row's SQL type is `record` with its fields: a named composite type carries its name
 * (catalog object `('composite', name)`, which holds the fields with their types as
 * resolved at CREATE TYPE), an anonymous row (`ROW(..)`) fields named f1, f2 ... A row's
 * text form is PostgreSQL's: `(1,abc)`, a field quoted when it is empty or holds a quote,
 * backslash, parenthesis, comma or white space, NULL as nothing (`(1,)`).
 *
 * Invariants: a `RowValue` has exactly as many items as its type has fields; rows order
 * field by field, NULL after every value (record_cmp), and group by every field.
 */
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { RowField, SqlType } from './sql-type.js'

export type { RowField }
import type { RtValue } from './value.js'
import { RowValue } from './scalar-value.js'

export const COMPOSITE_KIND = 'composite'

/** Fields of a composite type at most (PostgreSQL's MaxTupleAttributeNumber, less a little). */
export const MAX_FIELDS = 1600


export { RowValue }

/** A row's items as runtime values (every item is one: NestedArray describes SqlArray). */
export function rowItems(v: RowValue): RtValue[] {
  return v.items as RtValue[]
}

/** Quotes a field's text as record_out does when it must. */
function quoteField(s: string): string {
  if (s !== '' && !/["\\(),\s]/.test(s)) return s
  return `"${s.replace(/(["\\])/g, '$1$1')}"`
}

/** `(a,b,..)` from the fields' texts (null for NULL). */
export function formatRow(texts: Array<string | null>): string {
  return `(${texts.map((t) => (t === null ? '' : quoteField(t))).join(',')})`
}

function malformed(text: string, detail: string): SqlError {
  return new SqlError(SqlState.invalidTextRepresentation, `malformed record literal: "${text}"`, { detail })
}

/** The fields' texts of a record literal (null for an empty, unquoted field), as record_in reads it. */
export function parseRowText(text: string, fieldCount: number): Array<string | null> {
  let i = 0
  while (i < text.length && /\s/.test(text[i]!)) i++
  if (text[i] !== '(') throw malformed(text, 'Missing left parenthesis.')
  i++
  const out: Array<string | null> = []
  for (let f = 0; f < fieldCount; f++) {
    let s = ''
    let quoted = false
    while (i < text.length && text[i] !== ',' && text[i] !== ')') {
      const c = text[i]!
      if (c === '"') {
        quoted = true
        i++
        for (;;) {
          if (i >= text.length) throw malformed(text, 'Unexpected end of input.')
          const q = text[i]!
          if (q === '\\') {
            if (i + 1 >= text.length) throw malformed(text, 'Unexpected end of input.')
            s += text[i + 1]!
            i += 2
          } else if (q === '"') {
            if (text[i + 1] === '"') {
              s += '"'
              i += 2
            } else {
              i++
              break
            }
          } else {
            s += q
            i++
          }
        }
      } else if (c === '\\') {
        if (i + 1 >= text.length) throw malformed(text, 'Unexpected end of input.')
        s += text[i + 1]!
        i += 2
      } else {
        s += c
        i++
      }
    }
    out.push(s === '' && !quoted ? null : s)
    if (i >= text.length) throw malformed(text, 'Unexpected end of input.')
    if (f < fieldCount - 1) {
      if (text[i] !== ',') throw malformed(text, 'Too few columns.')
      i++
    }
  }
  if (text[i] !== ')') throw malformed(text, 'Too many columns.')
  i++
  while (i < text.length && /\s/.test(text[i]!)) i++
  if (i < text.length) throw malformed(text, 'Junk after right parenthesis.')
  return out
}

/** record_cmp: field by field, a NULL after every value, two NULLs equal. */
export function compareRows(a: RowValue, b: RowValue, cmp: (x: RtValue, y: RtValue) => number): number {
  const xs = rowItems(a)
  const ys = rowItems(b)
  const n = Math.min(xs.length, ys.length)
  for (let i = 0; i < n; i++) {
    const x = xs[i]!
    const y = ys[i]!
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1
      continue
    }
    const c = cmp(x, y)
    if (c) return c
  }
  if (a.items.length !== b.items.length) {
    throw new SqlError(SqlState.datatypeMismatch, 'cannot compare record types with different numbers of columns')
  }
  return 0
}

/** The fields of a stored composite type object; null when malformed. */
export function decodeFields(v: Json | undefined): RowField[] | null {
  const list = typeof v === 'object' && v !== null && !Array.isArray(v) ? v['fields'] : undefined
  if (!Array.isArray(list) || list.length > MAX_FIELDS) return null
  const out: RowField[] = []
  for (const x of list) {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return null
    const t = x['type']
    if (typeof x['name'] !== 'string' || typeof t !== 'object' || t === null || Array.isArray(t) || typeof t['id'] !== 'string') return null
    out.push({ name: x['name'], type: t as unknown as SqlType })
  }
  return out
}

export function encodeFields(fields: RowField[]): Json {
  return { fields: fields.map((f) => ({ name: f.name, type: f.type as unknown as Json })) }
}
