/**
 * The options of a COPY statement (PostgreSQL's `WITH (FORMAT .., HEADER .., DELIMITER ..,
 * NULL .., QUOTE .., ESCAPE .., FREEZE ..)` and the old unparenthesised forms, which the
 * parser turns into the same list), checked as PostgreSQL checks them.
 *
 * Invariants: delimiter, quote and escape are single one-byte characters; the delimiter
 * is not a newline, backslash (text), quote, or part of the NULL string; FORMAT binary,
 * FORCE_* and ENCODING other than UTF8 are refused with 0A000 rather than ignored.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface CopyOptions {
  format: 'text' | 'csv'
  header: boolean
  delimiter: string
  /** The string that stands for NULL. */
  null: string
  quote: string
  escape: string
  /** Accepted and without effect: rows are visible when the COPY's transaction commits, as always here. */
  freeze: boolean
}

export function copyOptions(list: Node[] | undefined): CopyOptions {
  const given = new Map<string, Node | undefined>()
  for (const n of list ?? []) {
    if (!('DefElem' in n)) continue
    const name = n.DefElem.defname ?? ''
    if (given.has(name)) throw new SqlError(SqlState.syntaxError, 'conflicting or redundant options')
    given.set(name, n.DefElem.arg)
  }
  const str = (name: string): string | undefined => {
    if (!given.has(name)) return undefined
    const a = given.get(name)
    if (a && 'String' in a) return a.String.sval ?? ''
    throw new SqlError(SqlState.syntaxError, `${name} requires a string value`)
  }
  const bool = (name: string): boolean => {
    if (!given.has(name)) return false
    const a = given.get(name)
    if (a === undefined) return true
    if ('Boolean' in a) return !!a.Boolean.boolval
    if ('Integer' in a) return a.Integer.ival === 1
    const v = 'String' in a ? (a.String.sval ?? '').toLowerCase() : ''
    if (['true', 'on', '1'].includes(v)) return true
    if (['false', 'off', '0'].includes(v)) return false
    if (name === 'header' && v === 'match') throw new SqlError(SqlState.featureNotSupported, 'COPY HEADER MATCH is not supported')
    throw new SqlError(SqlState.syntaxError, `${name} requires a Boolean value`)
  }
  for (const name of given.keys()) {
    if (['format', 'header', 'delimiter', 'null', 'quote', 'escape', 'freeze', 'encoding'].includes(name)) continue
    if (name.startsWith('force_')) throw new SqlError(SqlState.featureNotSupported, `COPY option "${name}" is not supported`)
    throw new SqlError(SqlState.syntaxError, `option "${name}" not recognized`)
  }
  const format = (str('format') ?? 'text').toLowerCase()
  if (format === 'binary') throw new SqlError(SqlState.featureNotSupported, 'COPY FORMAT binary is not supported; use text or csv')
  if (format !== 'text' && format !== 'csv') throw new SqlError(SqlState.invalidParameterValue, `COPY format "${format}" not recognized`)
  const encoding = str('encoding')
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) throw new SqlError(SqlState.featureNotSupported, `COPY ENCODING ${encoding} is not supported (UTF8 only)`)
  const csv = format === 'csv'
  const delimiter = str('delimiter') ?? (csv ? ',' : '\t')
  const quote = str('quote') ?? '"'
  const escape = str('escape') ?? quote
  const nullString = str('null') ?? (csv ? '' : '\\N')
  if (!csv && (given.has('quote') || given.has('escape'))) throw new SqlError(SqlState.featureNotSupported, 'COPY quote and escape are available only in CSV mode')
  for (const [what, v] of [['delimiter', delimiter], ['quote', quote], ['escape', escape]] as const) {
    if (v.length !== 1 || v.charCodeAt(0) > 0x7f) throw new SqlError(SqlState.featureNotSupported, `COPY ${what} must be a single one-byte character`)
  }
  if (delimiter === '\n' || delimiter === '\r') throw new SqlError(SqlState.invalidParameterValue, 'COPY delimiter cannot be newline or carriage return')
  if (nullString.includes('\n') || nullString.includes('\r')) throw new SqlError(SqlState.invalidParameterValue, 'COPY null representation cannot use newline or carriage return')
  if (!csv && 'abcdefghijklmnopqrstuvwxyz0123456789.\\'.includes(delimiter.toLowerCase())) {
    throw new SqlError(SqlState.featureNotSupported, `COPY delimiter cannot be "${delimiter}"`)
  }
  if (csv && delimiter === quote) throw new SqlError(SqlState.invalidParameterValue, 'COPY delimiter and quote must be different')
  if (nullString.includes(delimiter)) throw new SqlError(SqlState.invalidParameterValue, 'COPY delimiter must not appear in the NULL specification')
  return { format: csv ? 'csv' : 'text', header: bool('header'), delimiter, null: nullString, quote, escape, freeze: bool('freeze') }
}
