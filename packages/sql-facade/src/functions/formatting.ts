/**
 * PostgreSQL's formatting functions: `to_char` for timestamps, dates and intervals
 * (the common template patterns of formatting.c; numbers: number-template.ts), and `format()` with its
 * `%s`, `%I`, `%L` and `%%` conversions, argument positions (`%2$s`) and widths.
 * Text output follows the C locale (English month and day names, '.' and ',').
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { dayOfWeek, dayOfYear, daysFromCivil, partsFromMicros, USEC_PER_DAY } from '../types/datetime.js'
import { Decimal } from '../types/decimal.js'
import type { Interval } from '../types/interval.js'
import { T, type SqlType } from '../types/sql-type.js'
import { escapeChars } from '../types/text-chars.js'
import { formatText, parseIntText } from '../types/text-format.js'
import { repeatText } from './text-size.js'
import type { RtValue } from '../types/value.js'

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const ROMAN = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII']

/**
 * Datetime template patterns. Those whose output is a number are also read in lowercase
 * (`hh24`, `yyyy`); words keep the case they are written in (`Month`, `a.d.`).
 */
const NUMERIC_PATTERNS = [
  'HH24', 'HH12', 'HH', 'MI', 'SS', 'MS', 'US', 'SSSSS', 'SSSS', 'FF1', 'FF2', 'FF3', 'FF4', 'FF5', 'FF6',
  'Y,YYY', 'YYYY', 'YYY', 'YY', 'Y', 'IYYY', 'IYY', 'IY', 'I', 'IW', 'IDDD', 'ID',
  'MM', 'DDD', 'DD', 'D', 'WW', 'W', 'Q', 'J', 'CC', 'TZH', 'TZM', 'OF',
]
const WORD_PATTERNS = [
  'A.M.', 'a.m.', 'P.M.', 'p.m.', 'AM', 'am', 'PM', 'pm', 'A.D.', 'a.d.', 'B.C.', 'b.c.', 'AD', 'ad', 'BC', 'bc',
  'MONTH', 'Month', 'month', 'MON', 'Mon', 'mon', 'DAY', 'Day', 'day', 'DY', 'Dy', 'dy', 'RM', 'rm', 'TZ', 'tz',
]
const DT_PATTERNS: Array<[string, string]> = [
  ...NUMERIC_PATTERNS.flatMap((x): Array<[string, string]> => [[x, x], [x.toLowerCase(), x]]),
  ...WORD_PATTERNS.map((x): [string, string] => [x, x]),
].sort((a, b) => b[0].length - a[0].length)

function ordinal(n: number, upper: boolean): string {
  const t = Math.abs(n) % 100
  const s = t >= 11 && t <= 13 ? 'th' : t % 10 === 1 ? 'st' : t % 10 === 2 ? 'nd' : t % 10 === 3 ? 'rd' : 'th'
  return upper ? s.toUpperCase() : s
}

function pad(n: number, w: number, fm: boolean): string {
  const neg = n < 0
  const s = String(Math.abs(n))
  return (neg ? '-' : '') + (fm ? s : s.padStart(w, '0'))
}

function cased(word: string, pattern: string, fm: boolean, width: number): string {
  const w = pattern === pattern.toUpperCase() ? word.toUpperCase() : pattern === pattern.toLowerCase() ? word.toLowerCase() : word
  return fm ? w : w.padEnd(width, ' ')
}

/** The ISO 8601 week-numbering year, week and day of the year of day `days` (since 1970-01-01). */
function isoWeekDate(days: number): { year: number; week: number; dayOfYear: number } {
  const dow = (((days + 3) % 7) + 7) % 7 // Monday = 0
  const thursday = days - dow + 3
  const year = partsFromMicros(thursday * USEC_PER_DAY).year
  const jan4 = daysFromCivil(year, 1, 4)
  const week1Monday = jan4 - ((((jan4 + 3) % 7) + 7) % 7)
  const week = Math.floor((days - week1Monday) / 7) + 1
  return { year, week, dayOfYear: days - week1Monday + 1 }
}

/**
 * The longest to_char template: its fields are replaced through the engine's global
 * replace, which keeps every match and its groups until the end (tens of millions of
 * them end the process). 54000 past it.
 */
const MAX_TEMPLATE = 1 << 20

function checkTemplate(template: string): void {
  if (template.length > MAX_TEMPLATE) throw new SqlError(SqlState.programLimitExceeded, `to_char template of ${template.length} characters exceeds the maximum of ${MAX_TEMPLATE}`)
}

/** to_char(timestamp|date, template); `us` is epoch microseconds (UTC). NULL for ±infinity, as in PostgreSQL. */
export function toCharTimestamp(us: number, template: string, withZone: boolean): string | null {
  checkTemplate(template)
  if (!Number.isFinite(us)) return null
  const p = partsFromMicros(us)
  const days = Math.floor(us / USEC_PER_DAY)
  const bc = p.year <= 0
  // Years print as PostgreSQL's: 1 BC is year 1 with BC, not year 0.
  const year = bc ? 1 - p.year : p.year
  const iso = isoWeekDate(days)
  const isoYear = iso.year <= 0 ? 1 - iso.year : iso.year
  let out = ''
  let i = 0
  while (i < template.length) {
    let fm = false
    // Prefixes: FM (no padding), TM (translated names: the C locale's English ones, unpadded), FX (input only).
    for (;;) {
      const two = template.slice(i, i + 2)
      if (two === 'FM' || two === 'fm' || two === 'TM' || two === 'tm') fm = true
      else if (two !== 'FX' && two !== 'fx') break
      i += 2
    }
    if (template[i] === '"') {
      i++
      while (i < template.length && template[i] !== '"') {
        if (template[i] === '\\' && i + 1 < template.length) i++
        out += template[i]
        i++
      }
      i++
      continue
    }
    if (template[i] === '\\' && template[i + 1] === '"') {
      out += '"'
      i += 2
      continue
    }
    const hit = DT_PATTERNS.find(([x]) => template.startsWith(x, i))
    if (!hit) {
      out += template[i]
      i++
      continue
    }
    i += hit[0].length
    const pat = hit[1]
    let th: 'TH' | 'th' | null = null
    if (template.startsWith('TH', i)) th = 'TH'
    else if (template.startsWith('th', i)) th = 'th'
    if (th) i += 2
    if (template.startsWith('SP', i) || template.startsWith('sp', i)) i += 2
    let num: number | null = null
    let text: string
    const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12
    switch (pat) {
      case 'HH24': num = p.hour; text = pad(p.hour, 2, fm); break
      case 'HH12': case 'HH': num = hour12; text = pad(hour12, 2, fm); break
      case 'MI': num = p.minute; text = pad(p.minute, 2, fm); break
      case 'SS': num = p.second; text = pad(p.second, 2, fm); break
      case 'MS': num = Math.floor(p.micro / 1000); text = pad(num, 3, fm); break
      case 'US': num = p.micro; text = pad(p.micro, 6, fm); break
      case 'FF1': case 'FF2': case 'FF3': case 'FF4': case 'FF5': case 'FF6': {
        const n = Number(pat[2])
        num = Math.floor(p.micro / 10 ** (6 - n))
        text = pad(num, n, fm)
        break
      }
      case 'SSSS': case 'SSSSS': num = p.hour * 3600 + p.minute * 60 + p.second; text = String(num); break
      case 'AM': case 'PM': text = p.hour < 12 ? 'AM' : 'PM'; break
      case 'am': case 'pm': text = p.hour < 12 ? 'am' : 'pm'; break
      case 'A.M.': case 'P.M.': text = p.hour < 12 ? 'A.M.' : 'P.M.'; break
      case 'a.m.': case 'p.m.': text = p.hour < 12 ? 'a.m.' : 'p.m.'; break
      case 'AD': case 'BC': text = bc ? 'BC' : 'AD'; break
      case 'ad': case 'bc': text = bc ? 'bc' : 'ad'; break
      case 'A.D.': case 'B.C.': text = bc ? 'B.C.' : 'A.D.'; break
      case 'a.d.': case 'b.c.': text = bc ? 'b.c.' : 'a.d.'; break
      case 'Y,YYY': text = `${Math.floor(year / 1000)},${pad(year % 1000, 3, false)}`; break
      case 'YYYY': num = year; text = pad(year, 4, fm); break
      case 'YYY': num = year % 1000; text = pad(num, 3, fm); break
      case 'YY': num = year % 100; text = pad(num, 2, fm); break
      case 'Y': num = year % 10; text = String(num); break
      case 'IYYY': num = isoYear; text = pad(isoYear, 4, fm); break
      case 'IYY': num = isoYear % 1000; text = pad(num, 3, fm); break
      case 'IY': num = isoYear % 100; text = pad(num, 2, fm); break
      case 'I': num = isoYear % 10; text = String(num); break
      case 'IW': num = iso.week; text = pad(num, 2, fm); break
      case 'IDDD': num = iso.dayOfYear; text = pad(num, 3, fm); break
      case 'CC': num = p.year > 0 ? Math.floor((p.year + 99) / 100) : -Math.floor((99 - (p.year - 1)) / 100); text = pad(num, 2, fm); break
      case 'MM': num = p.month; text = pad(p.month, 2, fm); break
      case 'MONTH': case 'Month': case 'month': text = cased(MONTHS[p.month - 1]!, pat, fm, 9); break
      case 'MON': case 'Mon': case 'mon': text = cased(MONTHS[p.month - 1]!.slice(0, 3), pat, true, 3); break
      case 'RM': text = fm ? ROMAN[p.month - 1]! : ROMAN[p.month - 1]!.padEnd(4, ' '); break
      case 'rm': text = (fm ? ROMAN[p.month - 1]! : ROMAN[p.month - 1]!.padEnd(4, ' ')).toLowerCase(); break
      case 'DAY': case 'Day': case 'day': text = cased(DAYS[dayOfWeek(us)]!, pat, fm, 9); break
      case 'DY': case 'Dy': case 'dy': text = cased(DAYS[dayOfWeek(us)]!.slice(0, 3), pat, true, 3); break
      case 'DDD': num = dayOfYear(us); text = pad(num, 3, fm); break
      case 'DD': num = p.day; text = pad(p.day, 2, fm); break
      case 'D': num = dayOfWeek(us) + 1; text = String(num); break
      case 'ID': num = dayOfWeek(us) || 7; text = String(num); break
      case 'WW': num = Math.floor((dayOfYear(us) - 1) / 7) + 1; text = pad(num, 2, fm); break
      case 'W': num = Math.floor((p.day - 1) / 7) + 1; text = String(num); break
      case 'Q': num = Math.floor((p.month - 1) / 3) + 1; text = String(num); break
      case 'J': num = days + 2440588; text = String(num); break
      // Sessions run in UTC (settings/parameters.ts): a timestamptz prints zone UTC, offset +00.
      case 'TZ': text = withZone ? 'UTC' : ''; break
      case 'tz': text = withZone ? 'utc' : ''; break
      case 'TZH': text = '+00'; break
      case 'TZM': text = '00'; break
      case 'OF': text = '+00'; break
      default: text = pat
    }
    out += text
    if (th && num !== null) out += ordinal(num, th === 'TH')
  }
  return out
}

/** to_char(interval, template): hours may exceed 24, as PostgreSQL prints them. */
export function toCharInterval(iv: Interval, template: string): string {
  checkTemplate(template)
  const totalHours = Math.trunc(iv.micros / 3_600_000_000)
  const rest = iv.micros - totalHours * 3_600_000_000
  const us = ((iv.days * 24 + (totalHours % 24)) * 3_600_000_000) + rest
  // Reuse the timestamp formatter for minutes and seconds, then patch hours and days.
  const years = Math.trunc(iv.months / 12)
  const months = iv.months % 12
  return template.replace(/(FM)?(HH24|HH12|HH|MI|SS|MS|US|DD|MM|YYYY|RM|rm)/g, (_m, fm: string | undefined, pat: string) => {
    const f = !!fm
    switch (pat) {
      case 'HH24': case 'HH': case 'HH12': return pad(totalHours, 2, f)
      case 'DD': return pad(iv.days, 2, f)
      case 'MM': return pad(months, 2, f)
      case 'YYYY': return pad(years, 4, f)
      case 'RM': case 'rm': {
        // Whole years count as December (XII, or I when negative); -1 month is December too.
        if (months === 0 && years === 0) return ''
        const k = months === 0 ? (years >= 0 ? 12 : 1) : months < 0 ? 13 + months : months
        const r = f ? ROMAN[k - 1]! : ROMAN[k - 1]!.padEnd(4, ' ')
        return pat === 'rm' ? r.toLowerCase() : r
      }
      default: return toCharTimestamp(us, (f ? 'FM' : '') + pat, false) ?? ''
    }
  })
}

/**
 * PostgreSQL's keywords that cannot stand as a bare identifier everywhere (every category
 * but unreserved: `pg_get_keywords()` where catcode <> 'U', PostgreSQL 15). quote_ident and
 * format's %I quote them, as PostgreSQL's quote_identifier does ('select' -> "select").
 */
const QUOTED_KEYWORDS = new Set((
  'all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char character check ' +
  'coalesce collate collation column concurrently constraint create cross current_catalog current_date current_role current_schema ' +
  'current_time current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists extract false fetch ' +
  'float for foreign freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect interval ' +
  'into is isnull join lateral leading least left like limit localtime localtimestamp national natural nchar none normalize not notnull ' +
  'null nullif numeric offset on only or order out outer overlaps overlay placing position precision primary real references returning ' +
  'right row select session_user setof similar smallint some substring symmetric table tablesample then time timestamp to trailing treat ' +
  'trim true union unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists ' +
  'xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable'
).split(' '))

/** An identifier as SQL text: bare when it is lower case letters, digits, _ and $ and no keyword above, else double-quoted. */
export function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) && !QUOTED_KEYWORDS.has(s) ? s : '"' + escapeChars(s, '"', () => '""') + '"'
}

export function quoteLiteral(s: string): string {
  return (s.includes('\\') ? 'E' : '') + "'" + escapeChars(s, "'\\", (c) => c + c) + "'"
}

/** format(fmt, args...) with PostgreSQL's %[position$][flags][width]type conversions. */
/** A position or width written in a format() string: 1 .. INT_MAX. */
function argumentNumber(digits: string): number {
  const n = Number(digits)
  if (n > 2147483647) throw new SqlError(SqlState.numericValueOutOfRange, 'number is out of range')
  if (n === 0) throw new SqlError(SqlState.invalidParameterValue, 'format specifies argument 0, but arguments are numbered from 1')
  return n
}

export function formatSql(fmt: string, args: RtValue[], types: SqlType[]): string {
  let out = ''
  let next = 0
  let i = 0
  const argText = (k: number): string | null => {
    if (k >= args.length) throw new SqlError(SqlState.invalidParameterValue, 'too few arguments for format()')
    return formatText(args[k]!, types[k]!)
  }
  while (i < fmt.length) {
    const c = fmt[i]!
    if (c !== '%') {
      out += c
      i++
      continue
    }
    i++
    if (fmt[i] === '%') {
      out += '%'
      i++
      continue
    }
    const m = /^(?:(\d+)\$)?(-)?(\d+|\*(?:\d+\$)?)?([sIL])/.exec(fmt.slice(i))
    if (!m) throw new SqlError(SqlState.invalidParameterValue, i >= fmt.length ? 'unterminated format() type specifier' : `unrecognized format() type specifier "${fmt[i]}"`)
    i += m[0].length
    let left = !!m[2]
    let width = 0
    if (m[3] !== undefined) {
      if (m[3].startsWith('*')) {
        const wArg = m[3].length > 1 ? argumentNumber(m[3].slice(1, -1)) - 1 : next++
        if (wArg >= args.length) throw new SqlError(SqlState.invalidParameterValue, 'too few arguments for format()')
        // The value is the argument after the width's (`%*2$s` takes argument 3), as in PostgreSQL.
        next = wArg + 1
        // The width argument is read as an integer, whatever its type (PostgreSQL casts it).
        const w = argText(wArg)
        width = w === null ? 0 : Number(parseIntText(w, T.int4))
        if (width < 0) {
          left = true
          width = -width
        }
      } else {
        width = Number(m[3])
        if (width > 2147483647) throw new SqlError(SqlState.numericValueOutOfRange, 'number is out of range')
      }
    }
    const k = m[1] !== undefined ? argumentNumber(m[1]) - 1 : next
    next = k + 1
    const v = argText(k)
    let s: string
    if (m[4] === 's') s = v ?? ''
    else if (m[4] === 'I') {
      if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, 'null values cannot be formatted as an SQL identifier')
      s = quoteIdent(v)
    } else s = v === null ? 'NULL' : quoteLiteral(v)
    if (width > s.length) out += left ? s + repeatText(' ', width - s.length) : repeatText(' ', width - s.length) + s
    else out += s
  }
  return out
}

export { Decimal }
