/**
 * A fast pass over a SQL script, in plain JS, before the WASM parser sees any of it: it
 * splits the script at top-level `;` and measures each statement, so that the parser is
 * only ever handed statements it can take (see parse-limits.ts).
 *
 * The lexing follows PostgreSQL's scanner closely enough to find statement boundaries:
 * '...' strings ('' doubles a quote), E'...' strings (backslash escapes), $tag$ bodies,
 * "..." identifiers, -- and nested /* *\/ comments. Everything else is a word, a number,
 * an operator or punctuation.
 *
 * Nesting is an upper-bound estimate of how deep the statement's parse tree goes, in
 * levels the parser recurses on: each open bracket (and CASE) is a level; within a level,
 * each chained operator or cast nests one more (a+b+c is two A_Expr deep); a comma or a
 * clause keyword starts a sibling (AND and OR lists are flat in PostgreSQL's tree); a
 * subquery costs extra levels; set operations (UNION ...) chain at statement level.
 */

import { MAX_IDENTIFIER_BYTES, utf8Length } from './identifier-truncation.js'

export interface ScannedStatement {
  /** The statement's text, from its first token to before its `;`. */
  text: string
  /** Estimated parse-tree nesting (see the module comment). */
  nesting: number
  /**
   * Whether a word or a quoted identifier of it may be longer than an identifier may be
   * (63 bytes), so the parser will truncate it: parser/identifier-truncation.ts then finds
   * which. Never false when one is (a string literal's word may make it true).
   */
  longName: boolean
}

/** Whether `s` from `from` to `to` (a word or a quoted identifier's text) takes more than MAX_IDENTIFIER_BYTES in UTF-8 (at most 3 bytes a UTF-16 unit). */
function mayBeLong(s: string, from: number, to: number): boolean {
  if (to - from > MAX_IDENTIFIER_BYTES) return true
  return (to - from) * 3 > MAX_IDENTIFIER_BYTES && utf8Length(s.slice(from, to)) > MAX_IDENTIFIER_BYTES
}

/** Keywords that end an operand: what follows is a sibling, not a deeper operand. */
const SEPARATORS = new Set([
  'select', 'from', 'where', 'group', 'by', 'having', 'order', 'limit', 'offset', 'fetch', 'values', 'set',
  'when', 'then', 'else', 'and', 'or', 'on', 'using', 'as', 'returning', 'into', 'window', 'with', 'do',
  'join', 'inner', 'left', 'right', 'full', 'cross', 'natural', 'lateral', 'update', 'delete', 'insert',
])
/** Keywords that nest their operand like an operator does. */
const OPERATOR_WORDS = new Set(['not', 'is', 'isnull', 'notnull', 'like', 'ilike', 'similar', 'between', 'collate', 'at', 'overlaps', 'in', 'any', 'all', 'some', 'exists', 'array', 'row'])
const SET_OPERATIONS = new Set(['union', 'intersect', 'except'])
/** Extra levels a subquery adds (SubLink, SelectStmt, target list entry). */
const SUBQUERY_LEVELS = 2

const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?'

function isWordStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128
}

function isWordPart(c: number): boolean {
  return isWordStart(c) || (c >= 48 && c <= 57) || c === 36
}

interface Level {
  chain: number
  weight: number
}

/** Splits `script` into statements (empty ones dropped) and measures each. */
export function scanScript(script: string): ScannedStatement[] {
  const out: ScannedStatement[] = []
  const n = script.length
  let start = -1
  // The estimate is setOps + the sum over open levels of (weight + chain), kept in `depth`.
  let levels: Level[] = [{ chain: 0, weight: 1 }]
  let depth = 1
  let maxDepth = 1

  const deeper = (by: number): void => {
    depth += by
    if (depth > maxDepth) maxDepth = depth
  }
  const begin = (at: number): void => {
    if (start < 0) start = at
  }
  let longName = false
  const finish = (end: number): void => {
    if (start >= 0) out.push({ text: script.slice(start, end).trimEnd(), nesting: maxDepth, longName })
    start = -1
    longName = false
    levels = [{ chain: 0, weight: 1 }]
    depth = 1
    maxDepth = 1
  }
  const nest = (): void => {
    levels[levels.length - 1]!.chain++
    deeper(1)
  }
  const sibling = (): void => {
    const top = levels[levels.length - 1]!
    depth -= top.chain
    top.chain = 0
  }
  const open = (): void => {
    levels.push({ chain: 0, weight: 1 })
    deeper(1)
  }
  const close = (): void => {
    if (levels.length === 1) return
    const top = levels.pop()!
    depth -= top.chain + top.weight
  }

  // BEGIN ATOMIC bodies open (and CASE .. END inside them nest): the statement goes on to their END.
  let atomic = 0
  let previousWord = ''
  let i = 0
  while (i < n) {
    const c = script.charCodeAt(i)
    if (c === 32 || (c >= 9 && c <= 13)) {
      i++
      continue
    }
    if (c === 45 && script.charCodeAt(i + 1) === 45) {
      const eol = script.indexOf('\n', i)
      i = eol < 0 ? n : eol + 1
      continue
    }
    if (c === 47 && script.charCodeAt(i + 1) === 42) {
      i = skipComment(script, i)
      continue
    }
    if (c === 59) {
      // Inside a function's BEGIN ATOMIC .. END body, semicolons end its statements, not this one.
      if (atomic > 0) {
        i++
        continue
      }
      finish(i)
      i++
      continue
    }
    if ((c === 69 || c === 101) && script.charCodeAt(i + 1) === 39) {
      begin(i)
      i = skipQuoted(script, i + 1, 39, true)
      continue
    }
    if (c === 39 || c === 34) {
      begin(i)
      const end = skipQuoted(script, i, c, false)
      // (A doubled "" counts twice here, once in the name: an upper bound.)
      if (c === 34 && mayBeLong(script, i + 1, end - 1)) longName = true
      i = end
      continue
    }
    if (c === 36) {
      begin(i)
      i = skipDollar(script, i)
      continue
    }
    if (isWordStart(c)) {
      let j = i + 1
      while (j < n && isWordPart(script.charCodeAt(j))) j++
      if (mayBeLong(script, i, j)) longName = true
      const word = script.slice(i, j).toLowerCase()
      if (start < 0) atomic = 0
      if (word === 'atomic' && previousWord === 'begin') atomic = 1
      else if (atomic > 0 && word === 'case') atomic++
      else if (atomic > 0 && word === 'end') atomic--
      previousWord = word
      begin(i)
      if (SEPARATORS.has(word)) {
        sibling()
        if (word === 'select' && levels.length > 1) {
          levels[levels.length - 1]!.weight += SUBQUERY_LEVELS
          deeper(SUBQUERY_LEVELS)
        }
      } else if (SET_OPERATIONS.has(word)) {
        deeper(1)
      } else if (word === 'case') {
        open()
      } else if (word === 'end') {
        close()
      } else if (OPERATOR_WORDS.has(word)) {
        nest()
      }
      i = j
      continue
    }
    begin(i)
    if (c >= 48 && c <= 57) {
      i = skipNumber(script, i)
      continue
    }
    if (c === 40 || c === 91) {
      open()
      i++
      continue
    }
    if (c === 41 || c === 93) {
      close()
      i++
      continue
    }
    if (c === 44) {
      sibling()
      i++
      continue
    }
    if (c === 58 && script.charCodeAt(i + 1) === 58) {
      nest()
      i += 2
      continue
    }
    if (OPERATOR_CHARS.includes(script[i]!)) {
      // One operator token, stopping where a comment starts.
      let j = i + 1
      while (j < n && OPERATOR_CHARS.includes(script[j]!) && !(script[j] === '-' && script[j + 1] === '-') && !(script[j] === '/' && script[j + 1] === '*')) j++
      nest()
      i = j
      continue
    }
    i++
  }
  finish(n)
  return out
}

/** Index just past a nested comment starting at `at`. */
function skipComment(s: string, at: number): number {
  let level = 1
  let i = at + 2
  const n = s.length
  while (i < n && level > 0) {
    if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 42) {
      level++
      i += 2
    } else if (s.charCodeAt(i) === 42 && s.charCodeAt(i + 1) === 47) {
      level--
      i += 2
    } else i++
  }
  return i
}

/** Index past a $tag$ .. $tag$ body starting at `at`, or past a $n parameter. */
function skipDollar(s: string, at: number): number {
  const n = s.length
  let j = at + 1
  const digit = (k: number): boolean => s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57
  if (digit(j)) {
    while (j < n && digit(j)) j++
    return j
  }
  while (j < n && isWordPart(s.charCodeAt(j)) && s.charCodeAt(j) !== 36) j++
  if (s.charCodeAt(j) !== 36) return j
  const tag = s.slice(at, j + 1)
  const end = s.indexOf(tag, j + 1)
  return end < 0 ? n : end + tag.length
}

/** Index past a numeric literal (digits, point, exponent, and the letters of 0x.. forms). */
function skipNumber(s: string, at: number): number {
  let i = at + 1
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    if ((c === 101 || c === 69) && (s.charCodeAt(i + 1) === 43 || s.charCodeAt(i + 1) === 45)) {
      i += 2
      continue
    }
    if ((c >= 48 && c <= 57) || c === 46 || c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      i++
      continue
    }
    break
  }
  return i
}

/** Index just past a quoted string or identifier starting at `open` (a quote character). */
function skipQuoted(s: string, open: number, quote: number, backslashEscapes: boolean): number {
  let i = open + 1
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    if (backslashEscapes && c === 92) {
      i += 2
      continue
    }
    if (c === quote) {
      if (s.charCodeAt(i + 1) === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return n
}
