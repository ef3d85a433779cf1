/**
 * DATE, TIMESTAMP and TIMESTAMPTZ values. A date is a number of days since 1970-01-01; a
 * timestamp is a number of microseconds since 1970-01-01 00:00:00 (UTC for TIMESTAMPTZ).
 * Microseconds stay exact as doubles for years 1685..2255; further out a timestamp keeps
 * 53 bits of precision (about a millisecond at the year 294276 limit). The session time
 * zone is UTC, so TIMESTAMPTZ prints with `+00`.
 *
 * Invariants, as PostgreSQL keeps them: a finite date lies in [4714-11-24 BC,
 * 5874897-12-31] and a finite timestamp in [4714-11-24 00:00 BC, 294277-01-01 00:00 AD);
 * every value built here is checked against those ranges (22008). Calendar arithmetic is
 * proleptic Gregorian over the whole range (no JS Date, whose range is smaller).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { DateOrder } from './datetime-style.js'

export const USEC_PER_SEC = 1_000_000
export const USEC_PER_DAY = 86_400_000_000

export interface DateParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  micro: number
}

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 0 is 1 BC). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

/** First valid date (Julian day 0, 4714-11-24 BC) and the first date past the last one. */
export const DATE_MIN_DAYS = daysFromCivil(-4713, 11, 24)
export const DATE_END_DAYS = daysFromCivil(5874898, 1, 1)
/** First valid timestamp and the first one past the last (294277-01-01 00:00). */
export const TIMESTAMP_MIN_MICROS = DATE_MIN_DAYS * USEC_PER_DAY
export const TIMESTAMP_END_MICROS = daysFromCivil(294277, 1, 1) * USEC_PER_DAY

export function dateOutOfRange(text?: string): SqlError {
  return new SqlError(SqlState.datetimeFieldOverflow, text === undefined ? 'date out of range' : `date out of range: "${text}"`)
}

export function timestampOutOfRange(text?: string): SqlError {
  return new SqlError(SqlState.datetimeFieldOverflow, text === undefined ? 'timestamp out of range' : `timestamp out of range: "${text}"`)
}

/** A date computed by arithmetic: infinities pass, finite days must lie in the date range. */
export function checkDate(days: number): number {
  if (Number.isFinite(days) && (days < DATE_MIN_DAYS || days >= DATE_END_DAYS)) throw dateOutOfRange()
  if (Number.isNaN(days)) throw dateOutOfRange()
  return days
}

/** A timestamp computed by arithmetic: infinities pass, finite values must lie in range. */
export function checkTimestamp(us: number): number {
  if (Number.isFinite(us) && (us < TIMESTAMP_MIN_MICROS || us >= TIMESTAMP_END_MICROS)) throw timestampOutOfRange()
  if (Number.isNaN(us)) throw timestampOutOfRange()
  return us
}

export function partsFromMicros(us: number): DateParts {
  if (Math.abs(us) > Number.MAX_SAFE_INTEGER) return partsFromExact(plainestMicros(us))
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

/**
 * Past 2^53 microseconds (about the year 2255) a double holds a timestamp only to within
 * its spacing (up to 2048 microseconds at the year 294276). Of the exact values that round
 * to `us`, this picks the one with the fewest fractional digits (a whole second, else a
 * whole millisecond), as a float prints its shortest round-trip digits, so a timestamp
 * written in whole seconds reads back unchanged.
 */
export function plainestMicros(us: number): bigint {
  const exact = BigInt(us)
  if (Math.abs(us) <= Number.MAX_SAFE_INTEGER) return exact
  // The double of the range's end stands for the last valid microseconds before it.
  const atEnd = us === TIMESTAMP_END_MICROS
  for (const unit of [1_000_000n, 1_000n]) {
    const half = atEnd ? -1n : unit / 2n
    const rounded = ((exact + (exact < 0n ? -half : half)) / unit) * unit
    if (Number(rounded) === us) return rounded
  }
  return atEnd ? exact - 1n : exact
}

function partsFromExact(us: bigint): DateParts {
  const day = BigInt(USEC_PER_DAY)
  let days = us / day
  if (us % day < 0n) days -= 1n
  const rest = Number(us - days * day)
  const { year, month, day: dom } = civilFromDays(Number(days))
  const hour = Math.floor(rest / 3_600_000_000)
  const minute = Math.floor((rest % 3_600_000_000) / 60_000_000)
  const second = Math.floor((rest % 60_000_000) / USEC_PER_SEC)
  return { year, month, day: dom, hour, minute, second, micro: rest % USEC_PER_SEC }
}

export function microsFromParts(p: DateParts): number {
  return daysFromCivil(p.year, p.month, p.day) * USEC_PER_DAY + ((p.hour * 60 + p.minute) * 60 + p.second) * USEC_PER_SEC + p.micro
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
}

const DATE_TIME_RE =
  /^\s*(\d{3,7})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:([Zz]|UTC|utc|GMT|[+-]\d{1,2}(?::?\d{2})?))?\s*(BC|bc)?\s*$/

function badDatetime(type: string, text: string): SqlError {
  return new SqlError(SqlState.invalidDatetimeFormat, `invalid input syntax for type ${type}: "${text}"`)
}

/** Parses timestamp text. Returns micros; `withZone` applies a given offset (TIMESTAMPTZ). */
export function parseTimestamp(text: string, withZone: boolean, nowMicros: number, order: DateOrder = 'MDY'): number {
  const type = withZone ? 'timestamp with time zone' : 'timestamp without time zone'
  const special = specialValue(text, nowMicros)
  if (special !== null) return special
  const m = DATE_TIME_RE.exec(text) ?? DATE_TIME_RE.exec(looseDateText(text, order))
  if (!m) throw badDatetime(type, text)
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = m[4] ? Number(m[4]) : 0
  const minute = m[5] ? Number(m[5]) : 0
  const second = m[6] ? Number(m[6]) : 0
  const frac = m[7] ? Math.round(Number('0.' + m[7]) * USEC_PER_SEC) : 0
  if (year === 0) throw badDatetime(type, text)
  const astroYear = m[9] ? 1 - year : year
  checkFields(text, astroYear, month, day, hour, minute, second, frac)
  const days = daysFromCivil(astroYear, month, day)
  const ofDay = ((hour * 60 + minute) * 60 + second) * USEC_PER_SEC + frac - (withZone && m[8] ? zoneOffsetMinutes(m[8]) * 60_000_000 : 0)
  const us = days * USEC_PER_DAY + ofDay
  // The range applies to the UTC value; near the end a double cannot tell the last
  // microseconds from the end itself, so that comparison is made exactly.
  if (us < TIMESTAMP_MIN_MICROS || us > TIMESTAMP_END_MICROS) throw timestampOutOfRange(text)
  if (us === TIMESTAMP_END_MICROS && BigInt(days) * BigInt(USEC_PER_DAY) + BigInt(ofDay) >= BigInt(TIMESTAMP_END_MICROS)) throw timestampOutOfRange(text)
  return us
}

/** PostgreSQL's field checks: 24:00:00 is the only time past 23:59:60. */
function checkFields(text: string, year: number, month: number, day: number, hour = 0, minute = 0, second = 0, frac = 0): void {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 24 || minute > 59 || second > 60 ||
    (hour === 24 && (minute > 0 || second > 0 || frac > 0))) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${text}"`)
  }
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
 * Rewrites the other date spellings PostgreSQL accepts as Y-M-D text (`1/5/2024` in DateStyle order):
 * `20240105`, `2024/01/05`, `1/5/2024`, `January 5, 2024`, `5 January 2024`,
 * `Jan-05-2024`, with the rest of the text (a time, a zone) kept. '' when none fits (a
 * two-digit year is left to types/datetime-input.ts, which widens it as PostgreSQL does).
 */
function looseDateText(text: string, order: DateOrder): string {
  const t = text.trim()
  let m = /^(\d{4})(\d{2})(\d{2})(?:[Tt\s](\d{2}):?(\d{2}):?(\d{2}(?:\.\d+)?)?)?(.*)$/.exec(t)
  if (m) return `${m[1]}-${m[2]}-${m[3]}${m[4] ? ` ${m[4]}:${m[5]}${m[6] ? ':' + m[6] : ''}` : ''}${m[7]}`
  m = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(.*)$/.exec(t)
  if (m) return `${m[1]}-${m[2]}-${m[3]}${m[4]}`
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(.*)$/.exec(t)
  if (m && order !== 'YMD') return order === 'DMY' ? `${m[3]}-${m[2]}-${m[1]}${m[4]}` : `${m[3]}-${m[1]}-${m[2]}${m[4]}`
  m = /^([A-Za-z]+\.?)[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{3,4})(.*)$/.exec(t)
  if (m && monthNumber(m[1]!)) return `${m[3]}-${monthNumber(m[1]!)}-${m[2]}${m[4]}`
  m = /^(\d{1,2})[\s-]+([A-Za-z]+\.?),?[\s-]+(\d{3,4})(.*)$/.exec(t)
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

export function parseDate(text: string, nowMicros: number, order: DateOrder = 'MDY'): number {
  const special = specialValue(text, nowMicros)
  if (special !== null) return Number.isFinite(special) ? Math.floor(special / USEC_PER_DAY) : special
  const m = DATE_TIME_RE.exec(text) ?? DATE_TIME_RE.exec(looseDateText(text, order))
  if (!m) throw badDatetime('date', text)
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  if (year === 0) throw badDatetime('date', text)
  const astroYear = m[9] ? 1 - year : year
  checkFields(text, astroYear, month, day)
  const days = daysFromCivil(astroYear, month, day)
  if (days < DATE_MIN_DAYS || days >= DATE_END_DAYS) throw dateOutOfRange(text)
  return days
}

const TIME_RE = /^\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?\s*$/

/** Parses TIME text (microseconds of the day, 0 .. 24:00:00 inclusive). */
export function parseTime(text: string): number {
  const m = TIME_RE.exec(text)
  if (!m) throw new SqlError(SqlState.invalidDatetimeFormat, `invalid input syntax for type time: "${text}"`)
  const hour = Number(m[1])
  const minute = Number(m[2])
  const second = Number(m[3] ?? 0)
  const frac = m[4] ? Math.round(Number('0.' + m[4]) * USEC_PER_SEC) : 0
  const us = ((hour * 60 + minute) * 60 + second) * USEC_PER_SEC + frac
  if (hour > 24 || minute > 59 || second > 60 || us > USEC_PER_DAY) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `date/time field value out of range: "${text}"`)
  }
  return us
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}

function formatYear(year: number): [string, string] {
  return year <= 0 ? [pad(1 - year, 4), ' BC'] : [pad(year, 4), '']
}

const MONTH_ABBREVS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAY_ABBREVS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** How a date or timestamp prints: DateStyle's output style and field order (types/datetime-style.ts). */
export interface DateFormat {
  readonly output: 'ISO' | 'Postgres' | 'SQL' | 'German'
  readonly order: 'MDY' | 'DMY' | 'YMD'
}

const ISO_FORMAT: DateFormat = { output: 'ISO', order: 'MDY' }

/** The month and day in DateStyle order: day first for DMY, month first otherwise. */
function monthDay(month: number, day: number, order: DateFormat['order'], sep: string): string {
  return order === 'DMY' ? `${pad(day)}${sep}${pad(month)}` : `${pad(month)}${sep}${pad(day)}`
}

export function formatDate(days: number, f: DateFormat = ISO_FORMAT): string {
  if (!Number.isFinite(days)) return days > 0 ? 'infinity' : '-infinity'
  const { year, month, day } = civilFromDays(days)
  const [y, bc] = formatYear(year)
  switch (f.output) {
    case 'SQL': return `${monthDay(month, day, f.order, '/')}/${y}${bc}`
    case 'German': return `${pad(day)}.${pad(month)}.${y}${bc}`
    case 'Postgres': return `${monthDay(month, day, f.order, '-')}-${y}${bc}`
    default: return `${y}-${pad(month)}-${pad(day)}${bc}`
  }
}

export function formatTime(hour: number, minute: number, second: number, micro: number): string {
  let s = `${pad(hour)}:${pad(minute)}:${pad(second)}`
  if (micro) s += '.' + pad(micro, 6).replace(/0+$/, '')
  return s
}

/** A timestamp in the DateStyle `f`; a TIMESTAMPTZ adds the session zone (UTC: `+00`, or its name `UTC`). */
export function formatTimestamp(us: number, withZone: boolean, f: DateFormat = ISO_FORMAT): string {
  if (!Number.isFinite(us)) return us > 0 ? 'infinity' : '-infinity'
  const p = partsFromMicros(us)
  const [y, bc] = formatYear(p.year)
  const time = formatTime(p.hour, p.minute, p.second, p.micro)
  const zone = withZone ? ' UTC' : ''
  switch (f.output) {
    case 'SQL': return `${monthDay(p.month, p.day, f.order, '/')}/${y} ${time}${zone}${bc}`
    case 'German': return `${pad(p.day)}.${pad(p.month)}.${y} ${time}${zone}${bc}`
    case 'Postgres': {
      const dow = DAY_ABBREVS[(((Math.floor(us / USEC_PER_DAY) + 4) % 7) + 7) % 7]!
      const md = f.order === 'DMY' ? `${pad(p.day)} ${MONTH_ABBREVS[p.month - 1]}` : `${MONTH_ABBREVS[p.month - 1]} ${pad(p.day)}`
      return `${dow} ${md} ${time} ${y}${zone}${bc}`
    }
    default: return `${y}-${pad(p.month)}-${pad(p.day)} ${time}${withZone ? '+00' : ''}${bc}`
  }
}

/** Adds calendar months, clamping the day to the end of the target month (as PostgreSQL). */
export function addMonths(us: number, months: number): number {
  if (!months || !Number.isFinite(us)) return us
  const p = partsFromMicros(us)
  let total = p.year * 12 + (p.month - 1) + months
  const year = Math.floor(total / 12)
  const month = total - year * 12 + 1
  const day = Math.min(p.day, daysInMonth(year, month))
  return microsFromParts({ ...p, year, month, day })
}

/** date_trunc for timestamps. */
export function truncTimestamp(field: string, us: number): number {
  if (!Number.isFinite(us)) return us
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
    case 'millennium': return microsFromParts({ year: Math.floor((p.year - 1) / 1000) * 1000 + 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 })
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
