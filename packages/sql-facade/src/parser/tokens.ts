/**
 * The real PostgreSQL scanner's tokens of one statement, for Concord's extension grammar
 * (extension.ts).
 */
import { scanSync, type ScanToken } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface StatementSource {
  text: string
  tokens: ScanToken[]
}

/** The scanner tokens of one statement (comments dropped), for the extension grammar. */
export function tokenizeStatement(text: string): StatementSource {
  let scanned
  try {
    scanned = scanSync(text)
  } catch {
    // libpg-query's scanner reports a lexical error (an unterminated quoted string or
    // comment) as text its wrapper then fails to read as JSON: a syntax error, not ours.
    throw new SqlError(SqlState.syntaxError, 'syntax error: unterminated quoted string or comment')
  }
  const tokens = scanned.tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
  return { text, tokens }
}

export function tokenWord(t: ScanToken | undefined): string {
  return t ? t.text.toLowerCase() : ''
}

/** Value of a string-literal or identifier token. */
export function tokenString(t: ScanToken): string {
  const s = t.text
  if (t.tokenName === 'SCONST' && s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'")
  if (s.startsWith('"')) return s.slice(1, -1).replace(/""/g, '"')
  if (t.tokenName === 'IDENT') return s.toLowerCase()
  return s
}
