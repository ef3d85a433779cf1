/**
 * PostgreSQL's NOTICE for an identifier longer than NAMEDATALEN - 1 (63) bytes: its scanner
 * keeps the first 63 bytes (cut at a character boundary) and says so, `identifier "..."
 * will be truncated to "..."` (42622). libpg-query runs that scanner, so parse trees hold
 * the truncated names, but its notices go nowhere: this finds the identifiers again in the
 * statement's tokens and words the notices as PostgreSQL does.
 *
 * Only statements whose script scan saw a long word or quoted identifier are scanned again
 * (script-scanner.ts's `longName`), so the common statement pays nothing. Identifiers are
 * unquoted words (lower-cased, ASCII only, as PostgreSQL does in UTF-8) and "quoted" ones
 * (`""` is one quote); U&"..." identifiers get no notice (PostgreSQL gives one).
 */
import type { SqlNotice } from '../errors/sql-notice.js'
import { SqlState } from '../errors/sql-error.js'
import type { StatementSource } from './tokens.js'

/** PostgreSQL's NAMEDATALEN - 1: the bytes an identifier keeps. */
export const MAX_IDENTIFIER_BYTES = 63

/** UTF-8 length of `s` (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** The longest prefix of `s` of at most MAX_IDENTIFIER_BYTES bytes that ends at a character boundary (pg_mbcliplen). */
export function truncateIdentifier(s: string): string {
  let bytes = 0
  let end = 0
  for (const ch of s) {
    const b = utf8Length(ch)
    if (bytes + b > MAX_IDENTIFIER_BYTES) break
    bytes += b
    end += ch.length
  }
  return s.slice(0, end)
}

/** The identifier an IDENT token names: unquoted and lower-cased (ASCII letters only), or unquoted from "..". */
function identifierOf(text: string): string {
  if (text.startsWith('"')) return text.slice(1, -1).replace(/""/g, '"')
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase())
}

/** PostgreSQL's notices for the statement's identifiers past 63 bytes, in the order they appear. */
export function truncationNotices(src: StatementSource): SqlNotice[] {
  const out: SqlNotice[] = []
  for (const t of src.tokens) {
    if (t.tokenName !== 'IDENT') continue
    const name = identifierOf(t.text)
    if (utf8Length(name) <= MAX_IDENTIFIER_BYTES) continue
    out.push({ severity: 'NOTICE', code: SqlState.nameTooLong, message: `identifier "${name}" will be truncated to "${truncateIdentifier(name)}"` })
  }
  return out
}
