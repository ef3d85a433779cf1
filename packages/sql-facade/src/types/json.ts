/**
 * JSON and JSONB values, kept as text. JSONB text is normalized the way PostgreSQL prints
 * jsonb: keys sorted by length then bytes, duplicates resolved to the last, `", "` and
 * `": "` separators.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { setOwn } from '../parser/own-entry.js'

/**
 * A parsed JSON value. A number is a JS number, except an integer past 2^53 (an id from
 * another system, a bigint column's value): that one is a bigint, so its digits survive
 * (`'9007199254740993'::jsonb` read back 9007199254740992 before).
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [k: string]: JsonValue }

export function parseJsonText(text: string, type = 'json'): JsonValue {
  // The engine's parser grows an array of a long enough text past the engine's own bound
  // (about 134 million elements), which ends the process instead of throwing.
  if (text.length > MAX_JSON_TEXT) throw new SqlError(SqlState.programLimitExceeded, `${type} text of ${text.length} characters exceeds the maximum of ${MAX_JSON_TEXT}`)
  try {
    // Sixteen digits in a row somewhere (in a string too) may be a number a double cannot hold exactly.
    return LONG_DIGITS.test(text) ? new ExactJsonParser(text).parse() : (JSON.parse(text) as JsonValue)
  } catch {
    throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${type}`, { detail: `Token "${text.slice(0, 20)}" is invalid.` })
  }
}

const LONG_DIGITS = /\d{16}/
/**
 * The longest json text parsed (UTF-16 units): at most 64 million array elements, whose
 * growth stays under the engine's array bound. PostgreSQL's jsonb holds at most 256 MB.
 */
const MAX_JSON_TEXT = 2 ** 27

/** JSON's grammar (RFC 8259, as JSON.parse reads it), with integers past 2^53 as bigints. */
class ExactJsonParser {
  private at = 0
  private readonly text: string

  constructor(text: string) {
    this.text = text
  }

  parse(): JsonValue {
    const v = this.value()
    this.space()
    if (this.at !== this.text.length) throw new SyntaxError('trailing text')
    return v
  }

  private space(): void {
    while (this.at < this.text.length && ' \t\n\r'.includes(this.text[this.at]!)) this.at++
  }

  private value(): JsonValue {
    this.space()
    const c = this.text[this.at]
    if (c === '{') return this.object()
    if (c === '[') return this.array()
    if (c === '"') return this.string()
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length
        return v
      }
    }
    return this.number()
  }

  private object(): JsonValue {
    this.at++
    const out: { [k: string]: JsonValue } = {}
    this.space()
    if (this.text[this.at] === '}') {
      this.at++
      return out
    }
    for (;;) {
      this.space()
      if (this.text[this.at] !== '"') throw new SyntaxError('key expected')
      const key = this.string()
      this.space()
      if (this.text[this.at++] !== ':') throw new SyntaxError('colon expected')
      // As JSON.parse: the last of a repeated key wins; __proto__ is a plain key.
      setOwn(out, key, this.value())
      this.space()
      const c = this.text[this.at++]
      if (c === '}') return out
      if (c !== ',') throw new SyntaxError('comma expected')
    }
  }

  private array(): JsonValue {
    this.at++
    const out: JsonValue[] = []
    this.space()
    if (this.text[this.at] === ']') {
      this.at++
      return out
    }
    for (;;) {
      out.push(this.value())
      this.space()
      const c = this.text[this.at++]
      if (c === ']') return out
      if (c !== ',') throw new SyntaxError('comma expected')
    }
  }

  private string(): string {
    STRING.lastIndex = this.at
    const m = STRING.exec(this.text)
    if (m === null) throw new SyntaxError('bad string')
    this.at += m[0].length
    return JSON.parse(m[0]) as string
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.at
    const m = NUMBER.exec(this.text)
    if (m === null) throw new SyntaxError('bad value')
    this.at += m[0].length
    const n = Number(m[0])
    return m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n) ? BigInt(m[0]) : n
  }
}

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y

/** JSON text without spaces, as JSON.stringify writes it, bigints as their digits. */
export function stringifyJson(v: JsonValue): string {
  if (typeof v === 'bigint') return v.toString()
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return '[' + v.map(stringifyJson).join(',') + ']'
  return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + stringifyJson(v[k]!)).join(',') + '}'
}

/** jsonb_typeof's name of a value: bigints are numbers. */
export function jsonKind(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'bigint' ? 'number' : typeof v
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
  if (typeof v === 'bigint') return v.toString()
  return JSON.stringify(v)
}

export function normalizeJsonb(text: string): string {
  return formatJsonb(jsonbValue(text))
}

/**
 * Text read as jsonb (input, json::jsonb): a string or key holding U+0000 is 22P05, as in
 * PostgreSQL, whose text cannot hold it (it was kept, and `->>` sent a NUL to the client).
 */
export function jsonbValue(text: string): JsonValue {
  const v = parseJsonText(text, 'jsonb')
  if (text.includes('\\u0000') && holdsNul(v)) throw nulInJson()
  return v
}

export function nulInJson(): SqlError {
  return new SqlError(SqlState.untranslatableCharacter, 'unsupported Unicode escape sequence', { detail: '\\u0000 cannot be converted to text.' })
}

function holdsNul(v: JsonValue): boolean {
  if (typeof v === 'string') return v.includes('\u0000')
  if (Array.isArray(v)) return v.some(holdsNul)
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\u0000') || holdsNul(x))
  return false
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
