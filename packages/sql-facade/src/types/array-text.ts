/**
 * PostgreSQL's text form of arrays: `array_in` (`parseArrayText`) and `array_out`
 * (`formatArrayText`). The grammar:
 *
 *   literal    := ws [ dims ws '=' ws ] braces ws
 *   dims       := ( '[' [ int ':' ] int ']' ws )+        lower bound 1 when omitted
 *   braces     := '{' [ item ( ',' item )* ] '}'         '{}' only at the top
 *   item       := braces | '"' quoted '"' | unquoted     backslash escapes any character
 *
 * Unquoted items lose surrounding whitespace (not escaped whitespace); an unquoted `NULL`
 * in any case is SQL NULL. Every sub-array at one depth must have the same length and all
 * elements must sit at the same depth. Errors are PostgreSQL's: 22P02 "malformed array
 * literal" with its DETAIL, 54000 past six dimensions, 2202E for inverted bounds.
 *
 * Both directions run in time linear in the text; element values go through the element
 * type's own input or output function, supplied by the caller.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_DIMS, MAX_ITEMS, SqlArray, tooManyDims, tooManyItems } from './array.js'
import type { RtValue } from './value.js'
import { escapeChars } from './text-chars.js'

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f'
}

function malformed(text: string, detail: string): SqlError {
  return new SqlError(SqlState.invalidTextRepresentation, `malformed array literal: "${text}"`, { detail })
}

interface Decoration {
  dims: number[]
  lbounds: number[]
  end: number
}

/** Reads `[lo:hi][..]=` at `i`; null when the text has no decoration. */
function readDecoration(text: string, i: number): Decoration | null {
  const dims: number[] = []
  const lbounds: number[] = []
  for (;;) {
    while (isSpace(text[i])) i++
    if (text[i] !== '[') break
    i++
    if (dims.length >= MAX_DIMS) throw tooManyDims(dims.length + 1)
    let j = i
    while (j < text.length && /[0-9+-]/.test(text[j]!)) j++
    if (j === i) throw malformed(text, '"[" must introduce explicitly-specified array dimensions.')
    let lb = 1
    if (text[j] === ':') {
      lb = boundValue(text, text.slice(i, j))
      i = j + 1
      j = i
      while (j < text.length && /[0-9+-]/.test(text[j]!)) j++
      if (j === i) throw malformed(text, 'Missing array dimension value.')
    }
    if (text[j] !== ']') throw malformed(text, 'Missing "]" after array dimensions.')
    const ub = boundValue(text, text.slice(i, j))
    i = j + 1
    if (ub < lb) throw new SqlError(SqlState.arraySubscriptError, 'upper bound cannot be less than lower bound')
    dims.push(ub - lb + 1)
    lbounds.push(lb)
  }
  if (dims.length === 0) return null
  if (text[i] !== '=') throw malformed(text, 'Missing "=" after array dimensions.')
  i++
  while (isSpace(text[i])) i++
  if (text[i] !== '{') throw malformed(text, 'Array contents must start with "{".')
  return { dims, lbounds, end: i }
}

function boundValue(text: string, s: string): number {
  const v = parseInt(s, 10)
  if (!Number.isFinite(v)) throw malformed(text, 'Missing array dimension value.')
  if (v > 2147483647 || v < -2147483648) throw new SqlError(SqlState.programLimitExceeded, 'array upper bound is too large')
  return v
}

/** Parses an array literal; `parseElement` is the element type's input function. */
export function parseArrayText(text: string, parseElement: (s: string) => RtValue, delim = ','): SqlArray {
  let i = 0
  while (isSpace(text[i])) i++
  const deco = readDecoration(text, i)
  if (deco) i = deco.end
  else if (text[i] !== '{') throw malformed(text, 'Array value must start with "{" or dimension information.')

  const n = text.length
  const items: Array<string | null> = []
  const counts: number[] = [0, 0]
  const lengths: Array<number | undefined> = []
  let depth = 1
  let ndim = -1
  let expectItem = true
  i++
  while (depth > 0) {
    if (i >= n) throw malformed(text, 'Unexpected end of input.')
    const c = text[i]!
    if (isSpace(c)) {
      i++
      continue
    }
    if (c === '{') {
      if (!expectItem || (ndim >= 0 && depth >= ndim)) throw malformed(text, 'Unexpected "{" character.')
      depth++
      if (depth > MAX_DIMS) throw tooManyDims(depth)
      counts[depth] = 0
      i++
      continue
    }
    if (c === '}') {
      if (expectItem && (counts[depth] !== 0 || depth !== 1 || ndim >= 0)) throw malformed(text, 'Unexpected "}" character.')
      if (ndim >= 0) {
        const seen = lengths[depth]
        if (seen === undefined) lengths[depth] = counts[depth]
        else if (seen !== counts[depth]) throw malformed(text, 'Multidimensional arrays must have sub-arrays with matching dimensions.')
      }
      depth--
      i++
      if (depth > 0) {
        counts[depth]!++
        expectItem = false
      }
      continue
    }
    if (c === delim) {
      if (expectItem) throw malformed(text, `Unexpected "${delim}" character.`)
      expectItem = true
      i++
      continue
    }
    if (!expectItem) throw malformed(text, 'Unexpected array element.')
    if (ndim < 0) ndim = depth
    else if (depth !== ndim) throw malformed(text, 'Unexpected array element.')
    const r = c === '"' ? readQuoted(text, i + 1) : readUnquoted(text, i)
    // An array's bound before the engine's: an array literal of 170 million elements ended the process.
    if (items.length >= MAX_ITEMS) throw tooManyItems()
    items.push(r.value)
    i = r.end
    counts[depth]!++
    expectItem = false
  }
  while (i < n && isSpace(text[i])) i++
  if (i < n) throw malformed(text, 'Junk after closing right brace.')

  const dims: number[] = []
  for (let d = 1; d <= ndim; d++) dims.push(lengths[d]!)
  if (deco) {
    if (deco.dims.length !== dims.length || deco.dims.some((x, k) => x !== dims[k])) throw malformed(text, 'Specified array dimensions do not match array contents.')
  }
  if (dims.length === 0) return SqlArray.EMPTY
  const values = items.map((s) => (s === null ? null : parseElement(s)))
  return new SqlArray(dims, deco ? deco.lbounds : dims.map(() => 1), values)

  function readQuoted(s: string, k: number): { value: string; end: number } {
    let out = ''
    for (;;) {
      if (k >= n) throw malformed(s, 'Unexpected end of input.')
      const ch = s[k]!
      if (ch === '\\') {
        if (k + 1 >= n) throw malformed(s, 'Unexpected end of input.')
        out += s[k + 1]
        k += 2
        continue
      }
      if (ch === '"') return { value: out, end: k + 1 }
      out += ch
      k++
    }
  }

  function readUnquoted(s: string, k: number): { value: string | null; end: number } {
    let out = ''
    let keep = 0
    let escaped = false
    for (;;) {
      if (k >= n) throw malformed(s, 'Unexpected end of input.')
      const ch = s[k]!
      if (ch === '\\') {
        if (k + 1 >= n) throw malformed(s, 'Unexpected end of input.')
        out += s[k + 1]
        keep = out.length
        escaped = true
        k += 2
        continue
      }
      if (ch === delim || ch === '}') break
      if (ch === '{') throw malformed(s, 'Unexpected "{" character.')
      if (ch === '"') throw malformed(s, 'Unexpected array element.')
      out += ch
      if (!isSpace(ch)) keep = out.length
      k++
    }
    const value = out.slice(0, keep)
    return { value: !escaped && value.length === 4 && value.toUpperCase() === 'NULL' ? null : value, end: k }
  }
}

/** An element's text as array_out writes it: quoted when it would not read back alone. */
function quoteElement(s: string, delim: string): string {
  let need = s.length === 0 || (s.length === 4 && s.toUpperCase() === 'NULL')
  let escape = false
  for (let k = 0; k < s.length; k++) {
    const ch = s[k]!
    if (ch === '"' || ch === '\\') {
      need = true
      escape = true
    } else if (ch === '{' || ch === '}' || ch === delim || isSpace(ch)) need = true
  }
  if (!need) return s
  return '"' + (escape ? escapeChars(s, '"\\', (c) => '\\' + c) : s) + '"'
}

/**
 * PostgreSQL's text output of an array; `formatElement` is the element type's output
 * function, `delim` its typdelim (`;` for box, `,` for every other type).
 */
export function formatArrayText(a: SqlArray, formatElement: (v: RtValue) => string, delim = ','): string {
  const nd = a.ndims
  if (nd === 0) return '{}'
  const parts: string[] = []
  if (!a.defaultBounds()) parts.push(a.dimsText(), '=')
  parts.push('{'.repeat(nd))
  const idx = new Array<number>(nd).fill(0)
  const items = a.items
  for (let k = 0; k < items.length; k++) {
    if (k > 0) {
      // Advance the index odometer; every dimension that wraps closes and reopens a brace.
      let d = nd - 1
      idx[d]!++
      while (d > 0 && idx[d] === a.dims[d]) {
        idx[d] = 0
        d--
        idx[d]!++
      }
      const wrapped = nd - 1 - d
      parts.push(wrapped ? '}'.repeat(wrapped) + delim + '{'.repeat(wrapped) : delim)
    }
    const v = items[k]!
    parts.push(v === null ? 'NULL' : quoteElement(formatElement(v), delim))
  }
  parts.push('}'.repeat(nd))
  return parts.join('')
}

/** The structure of an array literal with its element texts untyped (wire codecs). */
export interface ArrayLiteral {
  dims: readonly number[]
  lbounds: readonly number[]
  items: ReadonlyArray<string | null>
}

/** Splits an array literal into its shape and element texts (no element type applied). */
export function parseArrayLiteral(text: string): ArrayLiteral {
  const a = parseArrayText(text, (s) => s)
  return { dims: a.dims, lbounds: a.lbounds, items: a.items as ReadonlyArray<string | null> }
}

/** Writes element texts in a shape as an array literal (the inverse of parseArrayLiteral). */
export function formatArrayLiteral(a: ArrayLiteral): string {
  return formatArrayText(new SqlArray(a.dims, a.lbounds, a.items), (v) => v as string)
}
