/**
 * A `json` value read as written. PostgreSQL's json type keeps its input text, so its
 * accessors (`->`, `#>`, json_each, json_array_elements, json_object_keys) return the
 * pieces of that text unchanged: spacing kept, every duplicate key kept in input order,
 * numbers as written. This parser keeps each node's source slice for them; jsonb, which
 * normalizes, reads values through json.ts instead.
 *
 * Invariant: the input is valid JSON (json values are checked on input); a malformed
 * text still fails with 22P02 rather than yielding a partial tree.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nulInJson } from './json.js'

export type JsonNode =
  | { kind: 'object'; text: string; entries: Array<{ key: string; value: JsonNode }> }
  | { kind: 'array'; text: string; items: JsonNode[] }
  | { kind: 'string'; text: string; value: string }
  | { kind: 'number' | 'boolean' | 'null'; text: string }

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

function malformed(text: string): SqlError {
  return new SqlError(SqlState.invalidTextRepresentation, 'invalid input syntax for type json', { detail: `Token "${text.slice(0, 20)}" is invalid.` })
}

export function parseJsonSource(text: string): JsonNode {
  let i = 0
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const str = (): { text: string; value: string } => {
    const start = i
    i++
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (i >= text.length) throw malformed(text.slice(start))
    i++
    const slice = text.slice(start, i)
    try {
      return { text: slice, value: JSON.parse(slice) as string }
    } catch {
      throw malformed(slice)
    }
  }
  const value = (): JsonNode => {
    ws()
    const start = i
    const c = text[i]
    if (c === '{') {
      i++
      const entries: Array<{ key: string; value: JsonNode }> = []
      ws()
      if (text[i] === '}') i++
      else {
        for (;;) {
          ws()
          if (text[i] !== '"') throw malformed(text.slice(i))
          const key = str().value
          ws()
          if (text[i] !== ':') throw malformed(text.slice(i))
          i++
          entries.push({ key, value: value() })
          ws()
          if (text[i] === ',') { i++; continue }
          if (text[i] === '}') { i++; break }
          throw malformed(text.slice(i))
        }
      }
      return { kind: 'object', text: text.slice(start, i), entries }
    }
    if (c === '[') {
      i++
      const items: JsonNode[] = []
      ws()
      if (text[i] === ']') i++
      else {
        for (;;) {
          items.push(value())
          ws()
          if (text[i] === ',') { i++; continue }
          if (text[i] === ']') { i++; break }
          throw malformed(text.slice(i))
        }
      }
      return { kind: 'array', text: text.slice(start, i), items }
    }
    if (c === '"') return { kind: 'string', ...str() }
    for (const [word, kind] of [['true', 'boolean'], ['false', 'boolean'], ['null', 'null']] as const) {
      if (text.startsWith(word, i)) {
        i += word.length
        return { kind, text: word }
      }
    }
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (!m) throw malformed(text.slice(i))
    i += m[0].length
    return { kind: 'number', text: m[0] }
  }
  const root = value()
  ws()
  if (i !== text.length) throw malformed(text.slice(i))
  return root
}

/**
 * One `->` step on json: an object's field (the last of duplicate keys, as PostgreSQL),
 * or an array's element by index (negative from the end).
 */
export function jsonSourceGet(v: JsonNode, key: string | number): JsonNode | undefined {
  if (typeof key === 'number') {
    if (v.kind !== 'array') return undefined
    return v.items[key < 0 ? v.items.length + key : key]
  }
  if (v.kind !== 'object') return undefined
  let found: JsonNode | undefined
  for (const e of v.entries) if (e.key === key) found = e.value
  return found
}

/** A json node as `->>` returns it: strings unescaped, JSON null as SQL NULL, the rest as written. */
export function jsonSourceText(v: JsonNode | undefined): string | null {
  if (v === undefined || v.kind === 'null') return null
  // A json string holding U+0000 cannot become text (22P05), as in PostgreSQL.
  if (v.kind === 'string' && v.value.includes('\u0000')) throw nulInJson()
  return v.kind === 'string' ? v.value : v.text
}
