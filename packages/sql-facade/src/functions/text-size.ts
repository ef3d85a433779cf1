/**
 * Functions that build a text value of a size the caller chooses (repeat, lpad, rpad),
 * bounded before anything is allocated. PostgreSQL refuses a result over 1 GB with 54000
 * "requested length too large"; here every text a statement builds is bounded lower
 * (types/text-chars.ts MAX_BUILT_TEXT), with the same clean error, never an engine abort.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { codePointLength, MAX_BUILT_TEXT, sliceChars, TextBuilder, textChars } from '../types/text-chars.js'

/** PostgreSQL's MaxAllocSize minus the varlena header: the largest text in bytes. */
const MAX_TEXT_BYTES = 0x3fffffff - 4
/** PostgreSQL sizes lpad/rpad results for the longest UTF-8 character. */
const MAX_UTF8_CHAR_BYTES = 4

export function requestedLengthTooLarge(): SqlError {
  return new SqlError(SqlState.programLimitExceeded, 'requested length too large')
}

function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // A surrogate pair (two units) is one 4-byte character: 2 bytes per unit.
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3
  }
  return n
}

export function repeatText(s: string, count: number): string {
  if (count <= 0 || s === '') return ''
  if (utf8Length(s) * count > MAX_TEXT_BYTES || s.length * count > MAX_BUILT_TEXT) throw requestedLengthTooLarge()
  return s.repeat(count)
}

/** lpad / rpad to `length` characters (code points), truncating when shorter. */
export function padText(s: string, length: number, fill: string, left: boolean): string {
  if (length <= 0) return ''
  if (length * MAX_UTF8_CHAR_BYTES > MAX_TEXT_BYTES) throw requestedLengthTooLarge()
  const have = codePointLength(s)
  if (length <= have) return sliceChars(s, 0, length)
  const fillChars = textChars(fill)
  if (fillChars.length === 0) return s
  const missing = length - have
  const whole = Math.floor(missing / fillChars.length)
  const pad = fill.repeat(whole) + fillChars.slice(0, missing - whole * fillChars.length).join('')
  if (pad.length + s.length > MAX_BUILT_TEXT) throw requestedLengthTooLarge()
  return left ? pad + s : s + pad
}

/** replace(s, from, to): every occurrence of `from`, found by scanning (see TextBuilder). */
export function replaceText(s: string, from: string, to: string): string {
  if (from === '') return s
  let at = s.indexOf(from)
  if (at < 0) return s
  const out = new TextBuilder()
  let last = 0
  while (at >= 0) {
    out.add(s.slice(last, at))
    out.add(to)
    last = at + from.length
    at = s.indexOf(from, last)
  }
  out.add(s.slice(last))
  return out.toString()
}

/** A replacement text read once: literal text, or a group to insert (0: the whole match). */
export type ReplacementPart = string | number

/** PostgreSQL's replacement grammar: \1 .. \9 a group, \& the match, \\ one backslash; anything else (`$` too) is plain text. */
export function replacementParts(replacement: string): ReplacementPart[] {
  const parts: ReplacementPart[] = []
  let text = ''
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!
    const next = replacement[i + 1]
    // \0 is not a group: copied as it is, as PostgreSQL does.
    if (c === '\\' && next !== undefined && (next === '\\' || next === '&' || (next >= '1' && next <= '9'))) {
      i++
      if (next === '\\') {
        text += '\\'
        continue
      }
      if (text !== '') parts.push(text)
      text = ''
      parts.push(next === '&' ? 0 : Number(next))
      continue
    }
    text += c
  }
  if (text !== '') parts.push(text)
  return parts
}

/**
 * regexp_replace(s, pattern, replacement [, flags]) with `re` compiled from the pattern
 * and flags: the first match, or every one with the g flag, found one `exec` at a time
 * (see TextBuilder); an empty match moves on by one unit, as the engine's replace does.
 */
export function regexpReplaceText(s: string, re: RegExp, replacement: string): string {
  const parts = replacementParts(replacement)
  re.lastIndex = 0
  const out = new TextBuilder()
  let last = 0
  for (;;) {
    const m = re.exec(s)
    if (m === null) break
    out.add(s.slice(last, m.index))
    for (const p of parts) out.add(typeof p === 'string' ? p : (m[p] ?? ''))
    last = m.index + m[0].length
    if (!re.global) break
    if (m[0].length === 0) re.lastIndex = m.index + 1
    if (re.lastIndex > s.length) break
  }
  re.lastIndex = 0
  out.add(s.slice(last))
  return out.toString()
}
