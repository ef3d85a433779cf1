/**
 * Functions that build a text value of a size the caller chooses (repeat, lpad, rpad),
 * bounded before anything is allocated. PostgreSQL refuses a result over 1 GB with 54000
 * "requested length too large"; the JS engine's own string limit (about 512 Mi UTF-16
 * units) is lower, and going past it must be the same clean error, never an engine abort.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { codePointLength, sliceChars, textChars } from '../types/text-chars.js'

/** PostgreSQL's MaxAllocSize minus the varlena header: the largest text in bytes. */
const MAX_TEXT_BYTES = 0x3fffffff - 4
/** The JS engine's string length limit (V8, 64-bit), in UTF-16 code units. */
const MAX_JS_STRING = 2 ** 29 - 24
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
  if (utf8Length(s) * count > MAX_TEXT_BYTES || s.length * count > MAX_JS_STRING) throw requestedLengthTooLarge()
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
  if (pad.length + s.length > MAX_JS_STRING) throw requestedLengthTooLarge()
  return left ? pad + s : s + pad
}
