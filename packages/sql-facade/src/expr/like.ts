/**
 * LIKE / ILIKE patterns translated to regular expressions: `%` any run, `_` one
 * character, backslash (or the ESCAPE character) escapes the next one.
 *
 * A pattern ending in its escape character is 22025 once matching reaches that escape
 * with text left to match, as in PostgreSQL (text that ends first simply does not match).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

interface Compiled { re: RegExp; danglingEscape: RegExp | null }

const cache = new Map<string, Compiled>()

function compile(pattern: string, insensitive: boolean, escape: string): Compiled {
  const key = (insensitive ? 'i' : 's') + escape + pattern
  let c = cache.get(key)
  if (c) return c
  let src = ''
  let dangling = false
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (escape && ch === escape) {
      if (i + 1 >= chars.length) dangling = true
      else src += chars[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    } else if (ch === '%') src += '[\\s\\S]*'
    else if (ch === '_') src += '[\\s\\S]'
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  const flags = insensitive ? 'isu' : 'su'
  // With a dangling escape, text matching the part before it with more text after reaches the escape.
  c = { re: new RegExp('^' + src + '$', flags), danglingEscape: dangling ? new RegExp('^' + src + '[\\s\\S]', flags) : null }
  if (cache.size > 1000) cache.clear()
  cache.set(key, c)
  return c
}

/** Whether `text` matches LIKE `pattern` (ILIKE when `insensitive`). */
export function likeMatches(text: string, pattern: string, insensitive: boolean, escape = '\\'): boolean {
  const c = compile(pattern, insensitive, escape)
  if (c.danglingEscape !== null) {
    if (c.danglingEscape.test(text)) throw new SqlError(SqlState.invalidEscapeSequence, 'LIKE pattern must not end with escape character')
    return false
  }
  return c.re.test(text)
}
