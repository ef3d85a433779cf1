/**
 * Session parameters a client sets in its startup packet, as PostgreSQL takes them: a
 * parameter by name (node-postgres sends `statement_timeout` so) or inside `options`
 * (`-c statement_timeout=5s`, `--statement_timeout=5s`, what libpq's PGOPTIONS carries).
 *
 * Every `-c name=value` and `--name=value` of `options` is taken, whatever the parameter:
 * the session validates it, so an unknown parameter (42704), a bad value (22023) or one
 * that cannot be set for a session (55P02, sql-engine.ts) refuses the connection, as
 * PostgreSQL does; a word of `options` that is neither (PostgreSQL's other server
 * switches, `-d 5` ..) refuses it too (42601). Words are split at whitespace, and a
 * backslash makes the next character part of the word (a space in a value: `-c
 * search_path=a,\ b`), as PostgreSQL's `pg_split_opts` does.
 *
 * By name, only the parameters in BY_NAME are taken: the others clients send at startup
 * (client_encoding, DateStyle ..) keep their existing handling,
 * unchanged by this file (docs/compatibility.md, "Startup parameters").
 */
import { SqlError, SqlState } from '@concord/sql-facade'

/**
 * Parameters taken by name from the startup packet: the session timeouts drivers send so
 * (node-postgres's `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout`)
 * and `application_name` (libpq's, node-postgres's; `SHOW application_name` answers it).
 */
const BY_NAME = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'application_name']

/** Bound on the words of `options` read (startup packets are already bounded at 10,000 bytes). */
const MAX_OPTIONS = 100

export function startupSettings(params: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of BY_NAME) {
    const v = params[name]
    if (v !== undefined) out[name] = v
  }
  const options = params['options']
  if (options === undefined) return out
  const words = splitOptions(options)
  if (words.length > MAX_OPTIONS) throw new SqlError(SqlState.programLimitExceeded, `the options startup parameter holds more than ${MAX_OPTIONS} words`)
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    let setting: string | undefined
    if (word === '-c') setting = words[++i]
    else if (word.startsWith('-c')) setting = word.slice(2)
    else if (word.startsWith('--')) setting = word.slice(2)
    const eq = setting?.indexOf('=') ?? -1
    if (setting === undefined || eq <= 0) {
      throw new SqlError(SqlState.syntaxError, `invalid command-line argument for server process: ${word !== '-c' ? word : setting === undefined ? '-c (no setting after it)' : `-c ${setting}`}`, {
        hint: 'The options startup parameter (PGOPTIONS) takes -c name=value and --name=value only.',
      })
    }
    out[setting.slice(0, eq).toLowerCase().replace(/-/g, '_')] = setting.slice(eq + 1)
  }
  return out
}

/** `options` split into words at unescaped whitespace; a backslash keeps the character after it (pg_split_opts). */
export function splitOptions(options: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!
    if (c === '\\' && i + 1 < options.length) {
      word += options[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (inWord) words.push(word)
  return words
}
