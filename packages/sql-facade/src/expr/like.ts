/**
 * LIKE / ILIKE matching without regular expressions: `%` any run, `_` one character,
 * backslash (or the ESCAPE character) escapes the next one.
 *
 * A backtracking regular expression made `LIKE '%a%a%a..%b'` exponential in the number of
 * `%` and froze every client (issue 15). Here the pattern is split at its `%`s into
 * segments of literal characters and `_`: the first segment must match at the start, the
 * last at the end, and each middle one is matched at its leftmost place after the one
 * before (leftmost is always safe: a later place only leaves less text for the rest). No
 * step is undone, so a match costs at most text length x pattern length comparisons,
 * and a segment of literals only is found with `indexOf`.
 *
 * Characters are code points (`_` matches one, as in PostgreSQL); ILIKE compares code
 * points folded as the `iu` regular expression flags did (lower case of the upper case).
 *
 * A pattern ending in its escape character is 22025 once matching reaches that escape
 * with text left to match, as in PostgreSQL (text that ends first simply does not match).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

/** A pattern token: a code point (>= 0), ANY_ONE (`_`) or ANY_RUN (`%`). */
const ANY_ONE = -1
const ANY_RUN = -2

/** A run of tokens between two `%`: code points and ANY_ONE. */
interface Segment {
  tokens: Int32Array
  /** The segment (folded for ILIKE) as a string when it holds no ANY_ONE: found with indexOf. */
  literal: string | null
}

interface Compiled {
  /** Segments split at `%`; one segment when the pattern has no `%`. */
  segments: Segment[]
  /** The pattern ends in its escape character (see the header). */
  dangling: boolean
  insensitive: boolean
}

const cache = new Map<string, Compiled>()

const SURROGATE = /[\uD800-\uDFFF]/
const NON_ASCII = /[^\u0000-\u007F]/

/** Simple case folding of one code point, as the `iu` flags compare (memoized for the BMP). */
const foldBmp = new Int32Array(0x10000).fill(-1)
function fold(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp
  if (cp < 0x10000 && foldBmp[cp] !== -1) return foldBmp[cp]!
  const s = String.fromCodePoint(cp)
  const up = s.toUpperCase()
  const lower = [...up].length === 1 ? up.toLowerCase() : s.toLowerCase()
  const f = [...lower].length === 1 ? lower.codePointAt(0)! : cp
  if (cp < 0x10000) foldBmp[cp] = f
  return f
}

function segmentOf(tokens: number[], insensitive: boolean): Segment {
  const folded = Int32Array.from(tokens, (t) => (insensitive && t >= 0 ? fold(t) : t))
  return { tokens: folded, literal: folded.includes(ANY_ONE) ? null : String.fromCodePoint(...folded) }
}

function compile(pattern: string, insensitive: boolean, escape: string): Compiled {
  const key = (insensitive ? 'i' : 's') + escape + pattern
  let c = cache.get(key)
  if (c) return c
  const tokens: number[] = []
  let dangling = false
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (escape && ch === escape) {
      if (i + 1 >= chars.length) dangling = true
      else tokens.push(chars[++i]!.codePointAt(0)!)
    } else if (ch === '%') tokens.push(ANY_RUN)
    else if (ch === '_') tokens.push(ANY_ONE)
    else tokens.push(ch.codePointAt(0)!)
  }
  // With a dangling escape, text matching the part before it with more text after reaches the escape.
  if (dangling) tokens.push(ANY_ONE, ANY_RUN)
  const segments: Segment[] = []
  let run: number[] = []
  for (const t of tokens) {
    if (t === ANY_RUN) {
      segments.push(segmentOf(run, insensitive))
      run = []
    } else run.push(t)
  }
  segments.push(segmentOf(run, insensitive))
  c = { segments, dangling, insensitive }
  if (cache.size > 1000) cache.clear()
  cache.set(key, c)
  return c
}

/** The text as code points, folded for ILIKE. */
function codePoints(text: string, insensitive: boolean): Int32Array {
  const out = new Int32Array(text.length)
  let n = 0
  for (const ch of text) {
    const cp = ch.codePointAt(0)!
    out[n++] = insensitive ? fold(cp) : cp
  }
  return out.subarray(0, n)
}

/** Reads character `i` of the text being matched. */
type CharAt = (i: number) => number

/** Whether `seg` matches the text at `at` (the caller checked that it fits). */
function matchesAt(charAt: CharAt, at: number, seg: Int32Array): boolean {
  for (let j = 0; j < seg.length; j++) {
    const t = seg[j]!
    if (t !== ANY_ONE && charAt(at + j) !== t) return false
  }
  return true
}

function matches(c: Compiled, raw: string): boolean {
  const segs = c.segments
  // Case-sensitive text without surrogates: code units are code points, read in place;
  // ASCII text under ILIKE likewise once lower-cased (folding ASCII is lower-casing).
  let str = raw
  let plain = false
  if (!c.insensitive) plain = !SURROGATE.test(raw)
  else if (!NON_ASCII.test(raw)) {
    str = raw.toLowerCase()
    plain = true
  }
  const points = plain ? null : codePoints(raw, c.insensitive)
  const charAt: CharAt = points === null ? (i) => str.charCodeAt(i) : (i) => points[i]!
  const n = points === null ? str.length : points.length
  const first = segs[0]!.tokens
  if (segs.length === 1) return n === first.length && matchesAt(charAt, 0, first)
  const last = segs[segs.length - 1]!.tokens
  if (n < first.length + last.length) return false
  if (!matchesAt(charAt, 0, first)) return false
  const end = n - last.length
  if (!matchesAt(charAt, end, last)) return false
  let pos = first.length
  for (let s = 1; s < segs.length - 1; s++) {
    const seg = segs[s]!
    const len = seg.tokens.length
    let found = -1
    if (plain && seg.literal !== null) {
      const i = str.indexOf(seg.literal, pos)
      found = i >= 0 && i + len <= end ? i : -1
    } else {
      for (let i = pos; i + len <= end; i++) {
        if (matchesAt(charAt, i, seg.tokens)) {
          found = i
          break
        }
      }
    }
    if (found < 0) return false
    pos = found + len
  }
  return true
}

/** Whether `text` matches LIKE `pattern` (ILIKE when `insensitive`). */
export function likeMatches(text: string, pattern: string, insensitive: boolean, escape = '\\'): boolean {
  const c = compile(pattern, insensitive, escape)
  if (c.dangling) {
    if (matches(c, text)) throw new SqlError(SqlState.invalidEscapeSequence, 'LIKE pattern must not end with escape character')
    return false
  }
  return matches(c, text)
}
