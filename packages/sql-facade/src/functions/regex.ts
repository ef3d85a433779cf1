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
    // The original is compiled first so that a bad pattern's 2201B names the user's text.
    const re = new RegExp(pattern, (options.global ? 'g' : '') + (options.insensitive ? 'i' : ''))
    const folded = options.insensitive ? foldCase(pattern) : null
    return folded === null ? re : new RegExp(folded, options.global ? 'g' : '')
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e)
    throw new SqlError(SqlState.invalidRegularExpression, `invalid regular expression: ${reason}`)
  }
}
