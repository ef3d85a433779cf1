/**
 * PostgreSQL regular expressions as JS RegExps: a pattern JS cannot compile is 2201B
 * "invalid regular expression", as in PostgreSQL, never a JavaScript SyntaxError; the
 * option letters of regexp_replace and friends are checked as PostgreSQL checks them
 * (22023 for an unknown letter), and the valid ones Concord does not implement are
 * refused (0A000) rather than ignored.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { foldCase } from './regex-case-fold.js'

/** Every option letter PostgreSQL accepts. */
const PG_OPTIONS = 'bcegimnpqstwx'
/** The ones implemented: g (all matches), i (case-insensitive), c (case-sensitive, the default). */
const SUPPORTED = 'gic'

export interface RegexOptions {
  global: boolean
  insensitive: boolean
}

export function regexOptions(flags: string): RegexOptions {
  let insensitive = false
  for (const f of flags) {
    if (!PG_OPTIONS.includes(f)) throw new SqlError(SqlState.invalidParameterValue, `invalid regular expression option: "${f}"`)
    if (!SUPPORTED.includes(f)) throw new SqlError(SqlState.featureNotSupported, `regular expression option "${f}" is not supported`)
    // Later letters win, as in PostgreSQL.
    if (f === 'i') insensitive = true
    if (f === 'c') insensitive = false
  }
  return { global: flags.includes('g'), insensitive }
}

/**
 * A case-insensitive pattern is compiled case-sensitive from its case-folded text
 * (regex-case-fold.ts), which V8's linear-time engine takes when a match backtracks too
 * much; only one the rewrite cannot read (a backreference) keeps the `i` flag.
 */
export function compilePattern(pattern: string, options: RegexOptions = { global: false, insensitive: false }): RegExp {
  try {
    const source = aresToJs(pattern)
    // `.` matches a newline, as in PostgreSQL's (not newline-sensitive) default: the `s` flag.
    const re = new RegExp(source, (options.global ? 'g' : '') + (options.insensitive ? 'i' : '') + 's')
    const folded = options.insensitive ? foldCase(source) : null
    return folded === null ? re : new RegExp(folded, (options.global ? 'g' : '') + 's')
  } catch (e) {
    if (e instanceof SqlError) throw e
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e)
    throw new SqlError(SqlState.invalidRegularExpression, `invalid regular expression: ${reason}`)
  }
}

/** PostgreSQL's POSIX character classes, in the C locale (ASCII), as JS class contents. */
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: '0-9a-zA-Z', upper: 'A-Z', lower: 'a-z', xdigit: '0-9A-Fa-f', word: '\\w',
  space: ' \\t\\n\\r\\f\\v', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f', print: '\\x20-\\x7e', graph: '\\x21-\\x7e',
  punct: '\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e',
}

function badPattern(reason: string): SqlError {
  return new SqlError(SqlState.invalidRegularExpression, `invalid regular expression: ${reason}`)
}

/**
 * A PostgreSQL advanced regular expression (ARE) as JS RegExp source, where the two read
 * the same text differently (until 2026-12-03 the text went to RegExp as it was, and
 * these matched other strings without an error):
 * - bracket expressions: `[[:digit:]]` and the other POSIX classes, `[[.x.]]` and `[[=x=]]`,
 *   and a `]` first in the brackets (`[]a]`, `[^]a]`) as a literal (JS read an empty class);
 * - the ARE-only escapes `\m` `\M` (start and end of a word), `\y` `\Y` (a word boundary or
 *   not), `\A` `\Z` (start and end of the string): JS read them as the letters;
 * - the `***=` director (the rest is a literal) and `***:`.
 * Everything else is the same in both and is copied; what JS cannot compile is 2201B.
 */
export function aresToJs(pattern: string): string {
  if (pattern.startsWith('***=')) return pattern.slice(4).replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
  const p = pattern.startsWith('***:') ? pattern.slice(4) : pattern
  // Patterns without brackets or backslashes (most) read the same in both.
  if (!p.includes('[') && !p.includes('\\')) return p
  let out = ''
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    if (c === '\\' && i + 1 < p.length) {
      const n = p[++i]!
      out += n === 'm' ? '\\b(?=\\w)' : n === 'M' ? '\\b(?<=\\w)' : n === 'y' ? '\\b' : n === 'Y' ? '\\B' : n === 'A' ? '^' : n === 'Z' ? '$' : '\\' + n
    } else if (c === '[') {
      i = bracket(p, i, (text) => (out += text))
    } else {
      out += c
    }
  }
  return out
}

/** Copies the bracket expression starting at `p[start]` as JS; returns the index of its closing `]`. */
function bracket(p: string, start: number, emit: (text: string) => void): number {
  let i = start + 1
  let out = '['
  if (p[i] === '^') {
    out += '^'
    i++
  }
  // Bounded by the pattern's length: every turn consumes at least one character.
  for (let first = true; i < p.length; i++, first = false) {
    const c = p[i]!
    if (c === ']' && !first) {
      emit(out + ']')
      return i
    }
    const kind = p[i + 1]
    if (c === '[' && (kind === ':' || kind === '.' || kind === '=')) {
      const close = p.indexOf(kind + ']', i + 2)
      if (close < 0) throw badPattern('brackets [] not balanced')
      const name = p.slice(i + 2, close)
      if (kind === ':') {
        const cls = POSIX_CLASSES[name]
        if (cls === undefined) throw badPattern('invalid character class')
        out += cls
      } else {
        // A collating element or an equivalence class is its one character in the C locale.
        if ([...name].length !== 1) throw badPattern('invalid collating element')
        out += '\\' + name
      }
      i = close + 1
    } else if (c === '\\') {
      out += '\\' + (p[++i] ?? '')
    } else if (c === ']' || c === '[') {
      out += '\\' + c
    } else {
      out += c
    }
  }
  throw badPattern('brackets [] not balanced')
}

/**
 * similar_to_escape(pattern[, escape]): a SQL SIMILAR TO pattern as the ARE that matches
 * the same strings, as PostgreSQL writes it (`SIMILAR TO` compiles to `~` of this): the whole
 * text anchored (`^(?:...)$`), `%` as `.*`, `_` as `.`, `(` as a non-capturing group, `.`
 * `^` `$` and a backslash as literals, a character after the escape (default backslash;
 * '' for none) as a literal, and the escape's `"` pairs as the group substring() returns.
 * Inside brackets characters are copied (brackets nest, and a `]` first in them is a literal).
 */
export function similarToEscape(pattern: string, escape: string | null = '\\'): string {
  if (escape !== null && [...escape].length > 1) {
    throw new SqlError(SqlState.invalidEscapeSequence, 'invalid escape string', { hint: 'Escape string must be empty or one character.' })
  }
  const esc = escape === null || escape === '' ? null : escape
  let out = '^(?:'
  let afterEscape = false
  let depth = 0
  let sinceOpen = 0
  let quotes = 0
  for (const c of pattern) {
    if (afterEscape) {
      afterEscape = false
      if (c === '"' && depth === 0) {
        if (quotes > 1) throw new SqlError(SqlState.invalidUseOfEscapeCharacter, 'SQL regular expression may not contain more than two escape-double-quote separators')
        out += quotes++ === 0 ? '){1,1}?(' : '){1,1}(?:'
      } else {
        out += '\\' + c
      }
    } else if (c === esc) {
      afterEscape = true
    } else if (depth > 0) {
      if (c === '\\') out += '\\'
      out += c
      if (c === '[') {
        depth++
        sinceOpen = 0
      } else if (c === '^' && sinceOpen === 0 && out.endsWith('[^')) {
        // `[^`: the class's first member is still to come.
      } else {
        if (c === ']' && sinceOpen > 0) depth--
        sinceOpen++
      }
    } else if (c === '[') {
      out += c
      depth = 1
      sinceOpen = 0
    } else if (c === '%') {
      out += '.*'
    } else if (c === '_') {
      out += '.'
    } else if (c === '(') {
      out += '(?:'
    } else if (c === '\\' || c === '.' || c === '^' || c === '$') {
      out += '\\' + c
    } else {
      out += c
    }
  }
  return out + ')$'
}
