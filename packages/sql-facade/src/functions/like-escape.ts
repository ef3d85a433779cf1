/**
 * `like_escape(pattern, escape)`: what `x LIKE p ESCAPE e` parses to. It rewrites a
 * pattern written with escape character `e` into the backslash-escaped form the LIKE
 * matcher reads, so the matcher knows one escape character only.
 *
 * Invariants: the escape is empty (no escaping: every backslash becomes literal) or one
 * character, else 22025. A pattern ending in its escape character keeps a trailing
 * backslash, which the matcher refuses (22025), as PostgreSQL does.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export function likeEscape(pattern: string, escape: string): string {
  const esc = [...escape]
  if (esc.length > 1) throw new SqlError(SqlState.invalidEscapeSequence, 'invalid escape string', { hint: 'Escape string must be empty or one character.' })
  const chars = [...pattern]
  if (esc.length === 0) return chars.map((c) => (c === '\\' ? '\\\\' : c)).join('')
  const e = esc[0]!
  let out = ''
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === e) {
      out += i + 1 < chars.length ? '\\' + chars[++i]! : '\\'
    } else if (c === '\\') out += '\\\\'
    else out += c
  }
  return out
}
