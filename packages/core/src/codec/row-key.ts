/**
 * Primary-key encoding: a tuple of key values as one string, reversible and unambiguous.
 *
 * Each component is a type tag and a payload: `n` number, `i` bigint, `s` string, `t`/`f`
 * boolean, `x` bytes (hex). Components are joined with U+0001; inside strings U+0001 and
 * U+0002 are escaped with U+0002. A writer entry's Yjs key is `rowKey + U+0000 + nodeId`;
 * node ids never contain U+0000, so the last U+0000 always splits the two.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { Value } from '../types.js'

const SEP = '\u0001'
const ESC = '\u0002'
export const WRITER_SEP = '\u0000'

function escape(s: string): string {
  if (s.indexOf(SEP) < 0 && s.indexOf(ESC) < 0) return s
  return s.replace(/[\u0001\u0002]/g, (c) => (c === SEP ? ESC + 'a' : ESC + 'b'))
}

function unescape(s: string): string {
  if (s.indexOf(ESC) < 0) return s
  return s.replace(/\u0002([ab])/g, (_m, c: string) => (c === 'a' ? SEP : ESC))
}

function encodeComponent(v: Value): string {
  switch (typeof v) {
    case 'number':
      return 'n' + String(v)
    case 'bigint':
      return 'i' + v.toString()
    case 'string':
      return 's' + escape(v)
    case 'boolean':
      return v ? 't' : 'f'
    default:
      if (v instanceof Uint8Array) {
        let hex = 'x'
        for (const b of v) hex += b.toString(16).padStart(2, '0')
        return hex
      }
      throw new ConcordError('notNullViolation', 'null value in primary key column')
  }
}

export function encodeRowKey(values: readonly Value[]): string {
  if (values.length === 1) return encodeComponent(values[0]!)
  let out = ''
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += SEP
    out += encodeComponent(values[i]!)
  }
  return out
}

/**
 * The row key of `row`'s values in `columns` (a table's primary key, in order): what
 * `encodeRowKey` gives for those values, without building their list. Throws as it does
 * for a null (or missing) value.
 */
export function rowKeyOf(row: Readonly<Record<string, Value>>, columns: readonly string[]): string {
  if (columns.length === 1) return encodeComponent(row[columns[0]!] ?? null)
  let out = ''
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) out += SEP
    out += encodeComponent(row[columns[i]!] ?? null)
  }
  return out
}

function decodeComponent(c: string): Value {
  const tag = c.charCodeAt(0)
  const body = c.slice(1)
  switch (tag) {
    case 110 /* n */: {
      const n = Number(body)
      if (body === '' || Number.isNaN(n)) throw new ConcordError('internalError', 'corrupt row key')
      return n
    }
    case 105 /* i */:
      return BigInt(body)
    case 115 /* s */:
      return unescape(body)
    case 116 /* t */:
      return true
    case 102 /* f */:
      return false
    case 120 /* x */: {
      const out = new Uint8Array(body.length / 2)
      for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(i * 2, i * 2 + 2), 16)
      return out
    }
    default:
      throw new ConcordError('internalError', 'corrupt row key')
  }
}

export function decodeRowKey(key: string, arity: number): Value[] {
  if (arity === 1) return [decodeComponent(key)]
  const parts = key.split(SEP)
  if (parts.length !== arity) throw new ConcordError('internalError', 'corrupt row key')
  return parts.map(decodeComponent)
}

export function entryKey(rowKey: string, writer: string): string {
  return rowKey + WRITER_SEP + writer
}

/** Splits a writer entry key; null when the key is not one. */
export function splitEntryKey(key: string): [rowKey: string, writer: string] | null {
  const at = key.lastIndexOf(WRITER_SEP)
  if (at <= 0) return null
  return [key.slice(0, at), key.slice(at + 1)]
}
