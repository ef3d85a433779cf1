/**
 * DATE, TIMESTAMP and TIMESTAMPTZ values. A date is a number of days since 1970-01-01; a
 * timestamp is a number of microseconds since 1970-01-01 00:00:00 (UTC for TIMESTAMPTZ).
 * Microseconds stay exact as doubles for years 1685..2255. The session time zone is UTC,
 * so TIMESTAMPTZ prints with `+00`.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export const USEC_PER_SEC = 1_000_000
export const USEC_PER_DAY = 86_400_000_000
const MS_PER_DAY = 86_400_000

export interface DateParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  micro: number
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(0, 0, 0, 0)
  return Math.round(d.getTime() / MS_PER_DAY)
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const d = new Date(days * MS_PER_DAY)
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }
}

export function partsFromMicros(us: number): DateParts {
  const days = Math.floor(us / USEC_PER_DAY)
  let rest = us - days * USEC_PER_DAY
  const { year, month, day } = civilFromDays(days)
  const hour = Math.floor(rest / 3_600_000_000)
  rest -= hour * 3_600_000_000
  const minute = Math.floor(rest / 60_000_000)
  rest -= minute * 60_000_000
  const second = Math.floor(rest / USEC_PER_SEC)
  const micro = rest - second * USEC_PER_SEC
  return { year, month, day, hour, minute, second, micro }
}

export function microsFromParts(p: DateParts): number {
  return daysFromCivil(p.year, p.month, p.day) * USEC_PER_DAY + ((p.hour * 60 + p.minute) * 60 + p.second) * USEC_PER_SEC + p.micro
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate() || [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
}

const DATE_TIME_RE =
  /^\s*(\d{1,6})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:([Zz]|UTC|utc|GMT|[+-]\d{1,2}(?::?\d{2})?))?\s*(BC|bc)?\s*$/

function badDatetime(type: string, text: string): SqlError {
  return new SqlError(SqlState.invalidDatetimeFormat, `invalid input syntax for type ${type}: "${text}"`)
}

/** Parses timestamp text. Returns micros; `withZone` applies a given offset (TIMESTAMPTZ). */
export function parseTimestamp(text: string, withZone: boolean, nowMicros: number, type = withZone ? 'timestamp with time zone' : 'timestamp without time zone'): number {
  const special = specialValue(text, nowMicros)
  if (special !== null) return special
  const m = DATE_TIME_RE.exec(text) ?? DATE_TIME_RE.exec(looseDateText(text))
  if (!m) throw badDatetime(type, text)
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = m[4] ? Number(m[4]) : 0
  const minute = m[5] ? Number(m[5]) : 0
  const second = m[6] ? Number(m[6]) : 0
  const frac = m[7] ? Math.round(Number('0.' + m[7]) * USEC_PER_SEC) : 0
  checkFields(type, text, year, month, day, hour, minute, second)
  let us = microsFromParts({ year: m[9] ? 1 - year : year, month, day, hour, minute, second, micro: 0 }) + frac
  if (withZone && m[8]) us -= zoneOffsetMinutes(m[8]) * 60_000_000
  return us
}

function checkFields(type: string, text: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0): void {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 24 || minute > 59 || second > 60) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${text}"`)
  }
  if (year === 0) throw badDatetime(type, text)
}

function zoneOffsetMinutes(z: string): number {
  if (/^(z|utc|gmt)$/i.test(z)) return 0
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(z)
  if (!m) return 0
  const v = Number(m[2]) * 60 + (m[3] ? Number(m[3]) : 0)
  return m[1] === '-' ? -v : v
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

function monthNumber(word: string): number {
  const w = word.toLowerCase().replace(/\.$/, '')
  const i = MONTH_NAMES.indexOf(w.slice(0, 3))
  return i >= 0 && (w.length === 3 || 'january february march april may june july august september october november december'.split(' ')[i]!.startsWith(w) || w === 'sept') ? i + 1 : 0
}

/**
 * Rewrites the other date spellings PostgreSQL accepts (DateStyle MDY) as Y-M-D text:
 * `20240105`, `2024/01/05`, `1/5/2024`, `January 5, 2024`, `5 January 2024`,
 * `Jan-05-2024`, with the rest of the text (a time, a zone) kept. '' when none fits.
 */
function looseDateText(text: string): string {
  const t = text.trim()
  let m = /^(\d{4})(\d{2})(\d{2})(?:[Tt\s](\d{2}):?(\d{2}):?(\d{2}(?:\.\d+)?)?)?(.*)$/.exec(t)
  if (m) return `${m[1]}-${m[2]}-${m[3]}${m[4] ? ` ${m[4]}:${m[5]}${m[6] ? ':' + m[6] : ''}` : ''}${m[7]}`
  m = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(.*)$/.exec(t)
  if (m) return `${m[1]}-${m[2]}-${m[3]}${m[4]}`
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(.*)$/.exec(t)
  if (m) return `${m[3]}-${m[1]}-${m[2]}${m[4]}`
  m = /^([A-Za-z]+\.?)[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{1,4})(.*)$/.exec(t)
  if (m && monthNumber(m[1]!)) return `${m[3]}-${monthNumber(m[1]!)}-${m[2]}${m[4]}`
  m = /^(\d{1,2})[\s-]+([A-Za-z]+\.?),?[\s-]+(\d{1,4})(.*)$/.exec(t)
  if (m && monthNumber(m[2]!)) return `${m[3]}-${monthNumber(m[2]!)}-${m[1]}${m[4]}`
  m = /^(\d{4})[\s-]+([A-Za-z]+\.?)[\s-]+(\d{1,2})(.*)$/.exec(t)
  if (m && monthNumber(m[2]!)) return `${m[1]}-${monthNumber(m[2]!)}-${m[3]}${m[4]}`
  return ''
}

function specialValue(text: string, nowMicros: number): number | null {
  const t = text.trim().toLowerCase()
  if (t === 'infinity' || t === '+infinity') return Infinity
  if (t === '-infinity') return -Infinity
  if (t === 'now') return nowMicros
  if (t === 'epoch') return 0
  if (t === 'today') return Math.floor(nowMicros / USEC_PER_DAY) * USEC_PER_DAY
  if (t === 'tomorrow') return (Math.floor(nowMicros / USEC_PER_DAY) + 1) * USEC_PER_DAY
  if (t === 'yesterday') return (Math.floor(nowMicros / USEC_PER_DAY) - 1) * USEC_PER_DAY
  return null
}

export function parseDate(text: string, nowMicros: number): number {
  const special = specialValue(text, nowMicros)
  if (special !== null) return Number.isFinite(special) ? Math.floor(special / USEC_PER_DAY) : special
  const m = DATE_TIME_RE.exec(text) ?? DATE_TIME_RE.exec(looseDateText(text))
  if (!m) throw badDatetime('date', text)
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  checkFields('date', text, year, month, day)
  return daysFromCivil(m[9] ? 1 - year : year, month, day)
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function formatYear(year: number): [string, string] {
  return year <= 0 ? [pad(1 - year, 4), ' BC'] : [pad(year, 4), '']
}

export function formatDate(days: number): string {
  if (!Number.isFinite(days)) return days > 0 ? 'infinity' : '-infinity'
  const { year, month, day } = civilFromDays(days)
  const [y, bc] = formatYear(year)
  return `${y}-${pad(month)}-${pad(day)}${bc}`
}

export function formatTime(hour: number, minute: number, second: number, micro: number): string {
  let s = `${pad(hour)}:${pad(minute)}:${pad(second)}`
  if (micro) s += '.' + pad(micro, 6).replace(/0+$/, '')
  return s
}

export function formatTimestamp(us: number, withZone: boolean): string {
  if (!Number.isFinite(us)) return us > 0 ? 'infinity' : '-infinity'
  const p = partsFromMicros(us)
  const [y, bc] = formatYear(p.year)
  return `${y}-${pad(p.month)}-${pad(p.day)} ${formatTime(p.hour, p.minute, p.second, p.micro)}${withZone ? '+00' : ''}${bc}`
}

/** Adds calendar months, clamping the day to the end of the target month (as PostgreSQL). */
export function addMonths(us: number, months: number): number {
  if (!months) return us
  const p = partsFromMicros(us)
  let total = p.year * 12 + (p.month - 1) + months
  const year = Math.floor(total / 12)
  const month = total - year * 12 + 1
  const day = Math.min(p.day, daysInMonth(year, month))
  return microsFromParts({ ...p, year, month, day })
}

/** date_trunc for timestamps. */
export function truncTimestamp(field: string, us: number): number {
  const p = partsFromMicros(us)
  switch (field) {
    case 'microseconds': return us
    case 'milliseconds': return microsFromParts({ ...p, micro: Math.floor(p.micro / 1000) * 1000 })
    case 'second': return microsFromParts({ ...p, micro: 0 })
    case 'minute': return microsFromParts({ ...p, second: 0, micro: 0 })
    case 'hour': return microsFromParts({ ...p, minute: 0, second: 0, micro: 0 })
    case 'day': return microsFromParts({ ...p, hour: 0, minute: 0, second: 0, micro: 0 })
    case 'week': {
      const days = Math.floor(us / USEC_PER_DAY)
      const dow = (((days + 4) % 7) + 7) % 7 // 0 = Sunday
      const monday = days - ((dow + 6) % 7)
      return monday * USEC_PER_DAY
    }
    case 'month': return microsFromParts({ ...p, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
    case 'quarter': return microsFromParts({ ...p, month: Math.floor((p.month - 1) / 3) * 3 + 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
    case 'year': return microsFromParts({ ...p, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
    case 'decade': return microsFromParts({ year: Math.floor(p.year / 10) * 10, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
    case 'century': return microsFromParts({ year: Math.floor((p.year - 1) / 100) * 100 + 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
    default:
      throw new SqlError(SqlState.featureNotSupported, `unit "${field}" not supported for type timestamp without time zone`)
  }
}

export function dayOfWeek(us: number): number {
  const days = Math.floor(us / USEC_PER_DAY)
  return (((days + 4) % 7) + 7) % 7
}

export function dayOfYear(us: number): number {
  const p = partsFromMicros(us)
  return daysFromCivil(p.year, p.month, p.day) - daysFromCivil(p.year, 1, 1) + 1
}
