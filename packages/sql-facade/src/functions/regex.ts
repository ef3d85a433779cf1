/**
 * PostgreSQL regular expressions as JS RegExps: a pattern JS cannot compile is 2201B
 * "invalid regular expression", as in PostgreSQL, never a JavaScript SyntaxError; the
 * option letters of regexp_replace and friends are checked as PostgreSQL checks them
 * (22023 for an unknown letter), and the valid ones Concord does not implement are
 * refused (0A000) rather than ignored.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

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

export function compilePattern(pattern: string, options: RegexOptions = { global: false, insensitive: false }): RegExp {
  try {
    return new RegExp(pattern, (options.global ? 'g' : '') + (options.insensitive ? 'i' : ''))
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(e)
    throw new SqlError(SqlState.invalidRegularExpression, `invalid regular expression: ${reason}`)
  }
}
