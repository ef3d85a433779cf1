/**
 * Text counted or cut by character (code point): without an array of its characters when
 * it has none outside the BMP (the common case: a UTF-16 unit is then a character), and
 * split into such an array only up to MAX_CHARS of them (54000 past it). A text of a few
 * hundred million characters spread into an array ended the process (the engine aborts
 * on an array that large, it does not throw): `length(repeat('ab', 200000000))` did.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

/** The most characters a function splits one text into (an array of them): an array value's bound. */
const MAX_CHARS = 16_777_216
/** A UTF-16 surrogate: a text holding one has characters of two units. */
const SURROGATE = /[\ud800-\udfff]/

/** Whether every character of `s` is one UTF-16 unit (none outside the BMP). */
export function bmpOnly(s: string): boolean {
  return !SURROGATE.test(s)
}

/** The characters (code points) of `s` as an array; 54000 past MAX_CHARS, never an engine abort. */
export function textChars(s: string): string[] {
  if (s.length > MAX_CHARS && (!SURROGATE.test(s) || codePointLength(s) > MAX_CHARS)) {
    throw new SqlError(SqlState.programLimitExceeded, `text of ${codePointLength(s)} characters is too long to handle character by character (at most ${MAX_CHARS})`)
  }
  return [...s]
}

/** How many characters (code points) `s` holds, counted without an array. */
export function codePointLength(s: string): number {
  if (!SURROGATE.test(s)) return s.length
  let n = s.length
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/** The characters `from` (0-based) up to `to` (excluded) of `s`, as String.slice with code points. */
export function sliceChars(s: string, from: number, to = Infinity): string {
  if (!SURROGATE.test(s)) return s.slice(Math.max(0, from), to === Infinity ? undefined : Math.max(0, to))
  return textChars(s).slice(Math.max(0, from), to === Infinity ? undefined : Math.max(0, to)).join('')
}

/** Past this many units a text is escaped by scanning (see escapeChars). */
const NATIVE_ESCAPE_MAX = 1 << 20

/**
 * `s` with every character of `special` replaced by `escape(c)`. A long text is scanned
 * and built a chunk at a time (TextBuilder): the engine's global replace keeps every
 * match until the end, and a text of 150 million quotes
 * (`array[repeat('"', 150000000)]::text`) ended the process.
 */
export function escapeChars(s: string, special: string, escape: (c: string) => string): string {
  if (s.length <= NATIVE_ESCAPE_MAX) {
    let found = false
    for (let i = 0; i < special.length && !found; i++) found = s.includes(special[i]!)
    if (!found) return s
  }
  const out = new TextBuilder(Infinity)
  let last = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (!special.includes(c)) continue
    out.add(s.slice(last, i))
    out.add(escape(c))
    last = i + 1
  }
  if (last === 0) return s
  out.add(s.slice(last))
  return out.toString()
}

/**
 * The longest text a statement builds (UTF-16 units): 64 Mi, about 128 MB, well under
 * the engine's own limits (512 Mi units per string, about 134 million elements per
 * array). A text of hundreds of millions of characters handed to the engine whole (its
 * global replace or split, an array of its characters) ended the process instead of
 * failing; with every built text bounded, no function sees one. A stored row holds at
 * most 16 MiB anyway; PostgreSQL's own bound is 1 GB.
 */
export const MAX_BUILT_TEXT = 2 ** 26

export function builtTextTooLong(length: number): SqlError {
  return new SqlError(SqlState.programLimitExceeded, 'requested length too large', {
    detail: `A text of ${length} characters was built; a statement's texts are at most ${MAX_BUILT_TEXT} characters (UTF-16 units).`,
  })
}

/** Pieces joined into one chunk at a time: what a TextBuilder holds besides its chunks. */
const PIECES_PER_CHUNK = 8192

/**
 * Text built from many pieces (one per match of a replacement or an escape): pieces are
 * joined a chunk at a time, so memory stays the text's own size. The engine's own global
 * replace and split keep every match (and its groups) until the end: tens of millions of
 * them exhausted the heap and ended the process (`regexp_replace(repeat('ab',
 * 200000000), '(a)', 'x', 'g')`). Past `max` units (default MAX_BUILT_TEXT), 54000.
 */
export class TextBuilder {
  private readonly chunks: string[] = []
  private pieces: string[] = []
  private length = 0
  private readonly max: number

  constructor(max = MAX_BUILT_TEXT) {
    this.max = max
  }

  add(piece: string): void {
    if (piece === '') return
    this.length += piece.length
    if (this.length > this.max) throw builtTextTooLong(this.length)
    this.pieces.push(piece)
    if (this.pieces.length >= PIECES_PER_CHUNK) {
      this.chunks.push(this.pieces.join(''))
      this.pieces = []
    }
  }

  toString(): string {
    if (this.pieces.length > 0) {
      this.chunks.push(this.pieces.join(''))
      this.pieces = []
    }
    return this.chunks.length === 1 ? this.chunks[0]! : this.chunks.join('')
  }
}
