/**
 * LIKE / ILIKE patterns translated to regular expressions: `%` any run, `_` one
 * character, backslash (or the ESCAPE character) escapes the next one; a pattern
 * ending in its escape character is 22025, as in PostgreSQL.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

const cache = new Map<string, RegExp>()

export function likeToRegExp(pattern: string, insensitive: boolean, escape = '\\'): RegExp {
  const key = (insensitive ? 'i' : 's') + escape + pattern
  let re = cache.get(key)
  if (re) return re
  let src = '^'
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (escape && c === escape) {
      if (i + 1 >= chars.length) throw new SqlError(SqlState.invalidEscapeSequence, 'LIKE pattern must not end with escape character')
      src += chars[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    } else if (c === '%') src += '[\\s\\S]*'
    else if (c === '_') src += '[\\s\\S]'
    else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  re = new RegExp(src + '$', insensitive ? 'isu' : 'su')
  if (cache.size > 1000) cache.clear()
  cache.set(key, re)
  return re
}
