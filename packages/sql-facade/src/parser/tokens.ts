/**
 * The real PostgreSQL scanner's tokens of one statement, for Concord's extension grammar
 * (extension.ts).
 */
import { scanSync, type ScanToken } from 'libpg-query'

export interface StatementSource {
  text: string
  tokens: ScanToken[]
}

/** The scanner tokens of one statement (comments dropped), for the extension grammar. */
export function tokenizeStatement(text: string): StatementSource {
  const tokens = scanSync(text).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
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
