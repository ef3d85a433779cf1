/**
 * PostgreSQL's formatting functions: `to_char` for timestamps, dates and intervals
 * (the common template patterns of formatting.c; numbers: to-char-number.ts), and `format()` with its
 * `%s`, `%I`, `%L` and `%%` conversions, argument positions (`%2$s`) and widths.
 * Text output follows the C locale (English month and day names, '.' and ',').
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { dayOfWeek, dayOfYear, partsFromMicros, USEC_PER_DAY } from '../types/datetime.js'
import { Decimal } from '../types/decimal.js'
import type { Interval } from '../types/interval.js'
import { T, type SqlType } from '../types/sql-type.js'
import { formatText, parseIntText } from '../types/text-format.js'
import { repeatText } from './text-size.js'
import type { RtValue } from '../types/value.js'

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const ROMAN = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII']

/** Datetime template patterns, longest first so `HH24` wins over `HH`. */
const DT_PATTERNS = [
  'HH24', 'HH12', 'HH', 'MI', 'SS', 'MS', 'US', 'SSSSS', 'SSSS',
  'A.M.', 'a.m.', 'P.M.', 'p.m.', 'AM', 'am', 'PM', 'pm',
  'Y,YYY', 'YYYY', 'YYY', 'YY', 'Y', 'IYYY', 'IW',
  'MONTH', 'Month', 'month', 'MON', 'Mon', 'mon', 'MM',
  'DAY', 'Day', 'day', 'DY', 'Dy', 'dy', 'DDD', 'DD', 'D', 'ID',
  'WW', 'W', 'Q', 'RM', 'rm', 'J', 'CC', 'TZ', 'tz', 'OF',
].sort((a, b) => b.length - a.length)

function ordinal(n: number, upper: boolean): string {
  const t = n % 100
  const s = t >= 11 && t <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th'
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

/** to_char(timestamp|date, template). `us` is epoch microseconds (UTC). */
export function toCharTimestamp(us: number, template: string, withZone: boolean): string {
  if (!Number.isFinite(us)) return ''
  const p = partsFromMicros(us)
  const days = Math.floor(us / USEC_PER_DAY)
  let out = ''
  let i = 0
  while (i < template.length) {
    let fm = false
    if (template.startsWith('FM', i) || template.startsWith('fm', i)) {
      fm = true
      i += 2
    }
    if (template[i] === '"') {
      const end = template.indexOf('"', i + 1)
      out += template.slice(i + 1, end < 0 ? template.length : end)
      i = end < 0 ? template.length : end + 1
      continue
    }
    if (template[i] === '\\' && i + 1 < template.length) {
      out += template[i + 1]
      i += 2
      continue
    }
    const pat = DT_PATTERNS.find((x) => template.startsWith(x, i))
    if (!pat) {
      out += template[i]
      i++
      continue
    }
    i += pat.length
    let th: 'TH' | 'th' | null = null
    if (template.startsWith('TH', i)) th = 'TH'
    else if (template.startsWith('th', i)) th = 'th'
    if (th) i += 2
    let num: number | null = null
    let text: string
    const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12
    switch (pat) {
      case 'HH24': num = p.hour; text = pad(p.hour, 2, fm); break
      case 'HH12': case 'HH': num = hour12; text = pad(hour12, 2, fm); break
      case 'MI': num = p.minute; text = pad(p.minute, 2, fm); break
      case 'SS': num = p.second; text = pad(p.second, 2, fm); break
      case 'MS': text = pad(Math.floor(p.micro / 1000), 3, fm); break
      case 'US': text = pad(p.micro, 6, fm); break
      case 'SSSS': case 'SSSSS': text = String(p.hour * 3600 + p.minute * 60 + p.second); break
      case 'AM': case 'PM': text = p.hour < 12 ? 'AM' : 'PM'; break
      case 'am': case 'pm': text = p.hour < 12 ? 'am' : 'pm'; break
      case 'A.M.': case 'P.M.': text = p.hour < 12 ? 'A.M.' : 'P.M.'; break
      case 'a.m.': case 'p.m.': text = p.hour < 12 ? 'a.m.' : 'p.m.'; break
      case 'Y,YYY': text = `${Math.floor(p.year / 1000)},${pad(p.year % 1000, 3, false)}`; break
      case 'YYYY': case 'IYYY': num = p.year; text = pad(p.year, 4, fm); break
      case 'YYY': text = pad(p.year % 1000, 3, fm); break
      case 'YY': text = pad(p.year % 100, 2, fm); break
      case 'Y': text = String(p.year % 10); break
      case 'CC': num = Math.ceil(p.year / 100); text = pad(num, 2, fm); break
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
      case 'IW': {
        const thursday = days - ((dayOfWeek(us) + 6) % 7) + 3
        const ty = partsFromMicros(thursday * USEC_PER_DAY).year
        const jan1 = Math.floor(Date.UTC(ty, 0, 1) / 86_400_000)
        num = Math.floor((thursday - jan1) / 7) + 1
        text = pad(num, 2, fm)
        break
      }
      case 'Q': num = Math.floor((p.month - 1) / 3) + 1; text = String(num); break
      case 'J': num = days + 2440588; text = String(num); break
      case 'TZ': text = withZone ? 'UTC' : ''; break
      case 'tz': text = withZone ? 'utc' : ''; break
      case 'OF': text = withZone ? '+00' : ''; break
      default: text = pat
    }
    out += text
    if (th && num !== null) out += ordinal(num, th === 'TH')
  }
  return out
}

/** to_char(interval, template): hours may exceed 24, as PostgreSQL prints them. */
export function toCharInterval(iv: Interval, template: string): string {
  const totalHours = Math.trunc(iv.micros / 3_600_000_000)
  const rest = iv.micros - totalHours * 3_600_000_000
  const us = ((iv.days * 24 + (totalHours % 24)) * 3_600_000_000) + rest
  // Reuse the timestamp formatter for minutes and seconds, then patch hours and days.
  return template.replace(/(FM)?(HH24|HH12|HH|MI|SS|MS|US|DD|MM|YYYY)/g, (_m, fm: string | undefined, pat: string) => {
    const f = !!fm
    switch (pat) {
      case 'HH24': case 'HH': case 'HH12': return pad(totalHours, 2, f)
      case 'DD': return pad(iv.days, 2, f)
      case 'MM': return pad(iv.months % 12, 2, f)
      case 'YYYY': return pad(Math.trunc(iv.months / 12), 4, f)
      default: return toCharTimestamp(us, (f ? 'FM' : '') + pat, false)
    }
  })
}

function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) ? s : '"' + s.replace(/"/g, '""') + '"'
}

export function quoteLiteral(s: string): string {
  return (s.includes('\\') ? 'E' : '') + "'" + s.replace(/'/g, "''").replace(/\\/g, '\\\\') + "'"
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
