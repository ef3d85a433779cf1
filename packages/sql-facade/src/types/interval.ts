/**
 * INTERVAL: months, days and microseconds kept apart, as PostgreSQL does, because a month
 * and a day have no fixed length. Parsing accepts PostgreSQL's verbose and `HH:MM:SS`
 * forms; output is PostgreSQL's default `postgres` IntervalStyle.
 *
 * Invariant: months and days fit a 32-bit integer and microseconds a 64-bit one, as in
 * PostgreSQL; arithmetic that leaves those ranges raises 22008 "interval out of range".
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { addMonths, checkTimestamp, USEC_PER_DAY, USEC_PER_SEC } from './datetime.js'

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647
/** int64 bounds as doubles: a double at or past 2^63 does not fit. */
const INT64_LIMIT = 9223372036854775808

export function intervalOutOfRange(): SqlError {
  return new SqlError(SqlState.datetimeFieldOverflow, 'interval out of range')
}

/** C's rint: to the nearest integer, ties to even. */
function rint(x: number): number {
  const f = Math.floor(x)
  const diff = x - f
  if (diff < 0.5) return f
  if (diff > 0.5) return f + 1
  return f % 2 === 0 ? f : f + 1
}

/** PostgreSQL's TSROUND: to the microsecond's precision, before truncating a cascaded fraction. */
function tsRound(x: number): number {
  return rint(x * 1e6) / 1e6
}

function fitsInt32(n: number): boolean {
  return n >= INT32_MIN && n <= INT32_MAX
}

function fitsInt64(n: number): boolean {
  return n >= -INT64_LIMIT && n < INT64_LIMIT
}

export class Interval {
  readonly months: number
  readonly days: number
  readonly micros: number

  constructor(months: number, days: number, micros: number) {
    this.months = months
    this.days = days
    this.micros = micros
  }

  /** An interval from computed fields: NaN or a field past its integer range is 22008. */
  static checked(months: number, days: number, micros: number): Interval {
    if (!fitsInt32(months) || !fitsInt32(days) || !fitsInt64(micros)) throw intervalOutOfRange()
    return new Interval(months, days, micros)
  }

  add(o: Interval): Interval {
    return Interval.checked(this.months + o.months, this.days + o.days, this.micros + o.micros)
  }

  neg(): Interval {
    return Interval.checked(-this.months, -this.days, -this.micros)
  }

  sub(o: Interval): Interval {
    return Interval.checked(this.months - o.months, this.days - o.days, this.micros - o.micros)
  }

  /** interval * f, as PostgreSQL's interval_mul. */
  scale(f: number): Interval {
    return this.cascade((x) => x * f)
  }

  /** interval / f, as PostgreSQL's interval_div (also avg(interval)). */
  divide(f: number): Interval {
    return this.cascade((x) => x / f)
  }

  /**
   * PostgreSQL's cascade of a product's fractions: the months' fraction becomes days (30 to
   * a month) and the days' fraction time, each field truncated on its own; a time part of
   * a day or more moves whole days. Before, the fractions were summed first, so mixed signs
   * gave `2 mons 12 days 25:22:28.8` where PostgreSQL gives `2 mons 13 days 01:22:28.8`.
   */
  private cascade(op: (x: number) => number): Interval {
    const m = op(this.months)
    if (!fitsInt32(m)) throw intervalOutOfRange()
    const month = Math.trunc(m)
    const d = op(this.days)
    if (!fitsInt32(d)) throw intervalOutOfRange()
    let day = Math.trunc(d)
    const monthDays = tsRound((op(this.months) - month) * 30)
    let secs = tsRound((d - day + monthDays - Math.trunc(monthDays)) * 86400)
    if (Math.abs(secs) >= 86400) {
      const whole = Math.trunc(secs / 86400)
      day += whole
      secs -= whole * 86400
    }
    day += Math.trunc(monthDays)
    return Interval.checked(month, day, rint(op(this.micros) + secs * USEC_PER_SEC))
  }

  /** Comparable length in microseconds (30-day months, 24-hour days), as interval_cmp. */
  span(): number {
    return (this.months * 30 + this.days) * USEC_PER_DAY + this.micros
  }

  compare(o: Interval): number {
    const a = this.span()
    const b = o.span()
    return a < b ? -1 : a > b ? 1 : 0
  }

  /** EXTRACT(EPOCH FROM interval) in seconds, as PostgreSQL (365.25-day years). */
  epochSeconds(): number {
    const years = Math.trunc(this.months / 12)
    const months = this.months - years * 12
    return this.micros / USEC_PER_SEC + this.days * 86400 + years * 365.25 * 86400 + months * 30 * 86400
  }

  toString(): string {
    return formatInterval(this)
  }

  static parse(text: string): Interval {
    return parseInterval(text)
  }
}

/** Input units: [pattern, the unit in [months, days, micros], years in one unit (0 if not a year unit)]. */
const UNITS: Array<[RegExp, (n: number) => [number, number, number], number]> = [
  [/^(microseconds?|usecs?|us)$/, (n) => [0, 0, n], 0],
  [/^(milliseconds?|msecs?|ms)$/, (n) => [0, 0, n * 1000], 0],
  [/^(seconds?|secs?|s)$/, (n) => [0, 0, n * USEC_PER_SEC], 0],
  [/^(minutes?|mins?|m)$/, (n) => [0, 0, n * 60 * USEC_PER_SEC], 0],
  [/^(hours?|hrs?|h)$/, (n) => [0, 0, n * 3600 * USEC_PER_SEC], 0],
  [/^(days?|d)$/, (n) => [0, n, 0], 0],
  [/^(weeks?|w)$/, (n) => [0, n * 7, 0], 0],
  [/^(months?|mons?)$/, (n) => [n, 0, 0], 0],
  [/^(years?|yrs?|y)$/, (n) => [n * 12, 0, 0], 1],
  [/^(decades?)$/, (n) => [n * 120, 0, 0], 10],
  [/^(centuries|century)$/, (n) => [n * 1200, 0, 0], 100],
  [/^(millenniums?|millennia)$/, (n) => [n * 12000, 0, 0], 1000],
]

function bad(text: string): SqlError {
  return new SqlError(SqlState.invalidDatetimeFormat, `invalid input syntax for type interval: "${text}"`)
}

/** PostgreSQL's INTERVAL_MASK bits of an interval's fields (`interval day to hour`). */
const MONTH = 1 << 1
const YEAR = 1 << 2
const DAY = 1 << 3
const HOUR = 1 << 10
const MINUTE = 1 << 11
const SECOND = 1 << 12

/** An interval cut to the fields of `range`, as PostgreSQL's AdjustIntervalForTypmod. */
export function restrictInterval(iv: Interval, range: number): Interval {
  const hour = 3600 * USEC_PER_SEC
  const minute = 60 * USEC_PER_SEC
  if (range === YEAR) return new Interval(Math.trunc(iv.months / 12) * 12, 0, 0)
  if (range === MONTH || range === (YEAR | MONTH)) return new Interval(iv.months, 0, 0)
  if (range === DAY) return new Interval(iv.months, iv.days, 0)
  if (range === HOUR || range === (DAY | HOUR)) return new Interval(iv.months, iv.days, Math.trunc(iv.micros / hour) * hour)
  if (range === MINUTE || range === (HOUR | MINUTE) || range === (DAY | HOUR | MINUTE)) return new Interval(iv.months, iv.days, Math.trunc(iv.micros / minute) * minute)
  return iv
}

/** The unit a bare number has under `range` (its last field), as PostgreSQL's DecodeInterval. */
function bareUnitOf(range: number | undefined): string {
  switch (range) {
    case YEAR: return 'year'
    case MONTH: case YEAR | MONTH: return 'month'
    case DAY: return 'day'
    case HOUR: case DAY | HOUR: return 'hour'
    case MINUTE: case HOUR | MINUTE: case DAY | HOUR | MINUTE: return 'minute'
    default: return 'second'
  }
}

export function parseInterval(text: string, range?: number): Interval {
  const iv = parseFields(text, range)
  return range === undefined ? iv : restrictInterval(iv, range)
}

function parseFields(text: string, range: number | undefined): Interval {
  let s = text.trim().toLowerCase()
  if (s.startsWith('@')) s = s.slice(1).trim()
  let ago = false
  if (/\sago$/.test(s) || s === 'ago') {
    ago = true
    s = s.replace(/\s*ago$/, '')
  }
  if (s === '') throw bad(text)
  if (s.startsWith('p')) return applyAgo(parseIso(s, text), ago)
  // A sign set apart from its number (`1 month - 1 second`) still belongs to it, as PostgreSQL reads it.
  s = s.replace(/(^|\s)([+-])\s+(?=[\d.])/g, '$1$2')
  // As PostgreSQL's parser: years, months and days are 32-bit fields and the time a
  // 64-bit one; a field that overflows is 22015, the year-and-month total 22008.
  let years = 0
  let yearMonths = 0
  let months = 0
  let days = 0
  let micros = 0
  const fieldOverflow = (): SqlError => new SqlError(SqlState.intervalFieldOverflow, `interval field value out of range: "${text}"`)
  const checkFields = (): void => {
    if (!fitsInt32(Math.trunc(years)) || !fitsInt32(months) || !fitsInt32(days) || !fitsInt64(micros)) throw fieldOverflow()
  }
  // Split "1day" style tokens: a number directly followed by letters.
  const tokens = s.replace(/(\d)([a-z])/g, '$1 $2').split(/[\s,]+/).filter(Boolean)
  // Fields read right to left, as PostgreSQL's DecodeInterval does: a bare number takes
  // the unit of the field to its right's rule (seconds at the end, days before a time),
  // and each unit may be given once (22007 otherwise).
  const seen = new Set<string>()
  const take = (...bits: string[]): void => {
    for (const b of bits) {
      if (seen.has(b)) throw bad(text)
      seen.add(b)
    }
  }
  let bareUnit = bareUnitOf(range)
  const addUnit = (n: number, unit: (typeof UNITS)[number]): void => {
    const [m, d, us] = unit[1](n)
    // Fractions cascade down: 1.5 months = 1 month 15 days.
    const wm = Math.trunc(m)
    const fd = d + (m - wm) * 30
    const wd = Math.trunc(fd)
    if (unit[2]) {
      years += n * unit[2]
      yearMonths += wm
    } else months += wm
    days += wd
    micros += Math.round(us + (fd - wd) * USEC_PER_DAY)
    checkFields()
  }
  const unitNamed = (name: string): (typeof UNITS)[number] => UNITS.find(([re]) => re.test(name))!
  for (let i = tokens.length - 1; i >= 0; i--) {
    const tok = tokens[i]!
    const time = /^([+-])?(\d+):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?$/.exec(tok)
    if (time) {
      const sign = time[1] === '-' ? -1 : 1
      // Two fields are minutes and seconds in `interval 'm:s' minute to second`, and
      // always when the second has a fraction (`2:03.45`), as PostgreSQL's DecodeTime reads them.
      const minSec = time[4] === undefined && (range === (MINUTE | SECOND) || time[3]!.includes('.'))
      // As DecodeTime: minutes past 59 or seconds past 60 are 22015 (`00:90:00` read as 01:30 before).
      const [mins, secField] = minSec ? [Number(time[2]), Number(time[3])] : [Number(time[3]), Number(time[4] ?? 0)]
      if (mins > 59 || secField > 60) throw fieldOverflow()
      const secs = minSec ? Number(time[2]) * 60 + Number(time[3]) : Number(time[2]) * 3600 + Number(time[3]) * 60 + Number(time[4] ?? 0)
      micros += sign * Math.round(secs * USEC_PER_SEC)
      checkFields()
      take('hour', 'minute', 'second', 'millisecond', 'microsecond')
      bareUnit = 'day'
      continue
    }
    // SQL-standard year-month: '1-2' is 1 year 2 months.
    const ym = /^([+-])?(\d+)-(\d+)$/.exec(tok)
    if (ym) {
      const sign = ym[1] === '-' ? -1 : 1
      years += sign * Number(ym[2])
      yearMonths += sign * (Number(ym[2]) * 12 + Number(ym[3]))
      checkFields()
      take('year', 'month')
      continue
    }
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(tok)) {
      // A bare number: seconds at the end, days right before a time field.
      const n = Number(tok)
      // The value is added (and checked for overflow, 22015) before the repeated-unit check, as in PostgreSQL.
      addUnit(n, unitNamed(bareUnit))
      take(bareUnit, ...(bareUnit === 'second' && !Number.isInteger(n) ? ['millisecond', 'microsecond'] : []))
      // '1 2' day to hour: the number before the hours is days.
      if (range === (DAY | HOUR) && bareUnit === 'hour') bareUnit = 'day'
      continue
    }
    const unit = UNITS.find(([re]) => re.test(tok))
    const numTok = tokens[i - 1]
    if (!unit || numTok === undefined || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(numTok)) throw bad(text)
    i--
    const n = Number(numTok)
    const name = unit[0].source.replace(/^\^\(|[s?]*\|.*$/g, '')
    addUnit(n, unit)
    take(name, ...(name === 'second' && !Number.isInteger(n) ? ['millisecond', 'microsecond'] : []))
  }
  return applyAgo(Interval.checked(months + yearMonths, days, micros), ago)
}

function applyAgo(i: Interval, ago: boolean): Interval {
  return ago ? i.neg() : i
}

function parseIso(s: string, text: string): Interval {
  const m = /^p(?:(\d+(?:\.\d+)?)y)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)w)?(?:(\d+(?:\.\d+)?)d)?(?:t(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?)?$/.exec(s)
  if (!m) throw bad(text)
  // Fractions cascade as PostgreSQL's DecodeISO8601Interval does: a year's to whole months
  // (rounded), a month's or a week's to whole days and then time, a day's to time. Months
  // and days stay whole (a fraction of a year gave 1.200000000000001 months before).
  let months = 0
  let days = 0
  let micros = 0
  const fractDays = (frac: number, scale: number): void => {
    const whole = Math.trunc(frac * scale)
    days += whole
    micros += Math.round((frac * scale - whole) * USEC_PER_DAY)
  }
  const field = (i: number): [number, number] => {
    const v = Number(m[i] ?? 0)
    const whole = Math.trunc(v)
    return [whole, v - whole]
  }
  const [y, yf] = field(1)
  months += y * 12 + Math.round(yf * 12)
  const [mo, mof] = field(2)
  months += mo
  fractDays(mof, 30)
  const [w, wf] = field(3)
  days += w * 7
  fractDays(wf, 7)
  const [d, df] = field(4)
  days += d
  micros += Math.round(df * USEC_PER_DAY)
  micros += Math.round((Number(m[5] ?? 0) * 3600 + Number(m[6] ?? 0) * 60 + Number(m[7] ?? 0)) * USEC_PER_SEC)
  return Interval.checked(months, days, micros)
}

function plural(n: number, unit: string): string {
  // PostgreSQL's output says "1 day" but "-1 days": only exactly 1 is singular.
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}

export function formatInterval(iv: Interval): string {
  const parts: string[] = []
  const years = Math.trunc(iv.months / 12)
  const months = iv.months - years * 12
  // A positive field right after a negative one carries an explicit '+', as PostgreSQL prints it.
  let before = false
  for (const [n, unit] of [[years, 'year'], [months, 'mon'], [iv.days, 'day']] as const) {
    if (!n) continue
    parts.push((before && n > 0 ? '+' : '') + plural(n, unit))
    before = n < 0
  }
  if (iv.micros || parts.length === 0) {
    const neg = iv.micros < 0
    let us = Math.abs(iv.micros)
    const h = Math.floor(us / 3_600_000_000)
    us -= h * 3_600_000_000
    const m = Math.floor(us / 60_000_000)
    us -= m * 60_000_000
    const sec = Math.floor(us / USEC_PER_SEC)
    const frac = us - sec * USEC_PER_SEC
    let t = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    if (frac) t += '.' + String(frac).padStart(6, '0').replace(/0+$/, '')
    parts.push((neg ? '-' : before ? '+' : '') + t)
  }
  return parts.join(' ')
}

/** The interval's fields as PostgreSQL splits them: every time field carries the sign of the time part. */
function fieldsOf(iv: Interval): { year: number; mon: number; mday: number; hour: number; min: number; sec: number; fsec: number } {
  const year = Math.trunc(iv.months / 12)
  const mon = iv.months - year * 12
  let us = iv.micros
  const hour = Math.trunc(us / 3_600_000_000)
  us -= hour * 3_600_000_000
  const min = Math.trunc(us / 60_000_000)
  us -= min * 60_000_000
  const sec = Math.trunc(us / USEC_PER_SEC)
  return { year, mon, mday: iv.days, hour, min, sec, fsec: us - sec * USEC_PER_SEC }
}

/** |sec|.|fsec| with trailing fraction zeros dropped; `fill` pads the seconds to two digits. */
function seconds(sec: number, fsec: number, fill: boolean): string {
  const s = String(Math.abs(sec))
  const whole = fill ? s.padStart(2, '0') : s
  return fsec === 0 ? whole : whole + '.' + String(Math.abs(fsec)).padStart(6, '0').replace(/0+$/, '')
}

/** An interval in IntervalStyle `style` (postgres, postgres_verbose, sql_standard, iso_8601). */
export function formatIntervalStyle(iv: Interval, style: string): string {
  if (style === 'sql_standard') return sqlStandard(iv)
  if (style === 'iso_8601') return iso8601(iv)
  if (style === 'postgres_verbose') return verbose(iv)
  return formatInterval(iv)
}

function sqlStandard(iv: Interval): string {
  let { year, mon, mday, hour, min, sec, fsec } = fieldsOf(iv)
  const all = [year, mon, mday, hour, min, sec, fsec]
  const hasNegative = all.some((x) => x < 0)
  const hasPositive = all.some((x) => x > 0)
  const hasYearMonth = year !== 0 || mon !== 0
  const hasDayTime = mday !== 0 || hour !== 0 || min !== 0 || sec !== 0 || fsec !== 0
  // The standard's form has one sign in front; mixed signs, or years with days, print every sign.
  const standard = !(hasNegative && hasPositive) && !(hasYearMonth && hasDayTime)
  let out = ''
  if (hasNegative && standard) {
    out = '-'
    ;[year, mon, mday, hour, min, sec, fsec] = all.map((x) => -x) as [number, number, number, number, number, number, number]
  }
  const time = (h: number) => `${h}:${String(Math.abs(min)).padStart(2, '0')}:${seconds(sec, fsec, true)}`
  if (!hasNegative && !hasPositive) return '0'
  if (!standard) {
    const ys = year < 0 || mon < 0 ? '-' : '+'
    const ds = mday < 0 ? '-' : '+'
    const ts = hour < 0 || min < 0 || sec < 0 || fsec < 0 ? '-' : '+'
    return `${ys}${Math.abs(year)}-${Math.abs(mon)} ${ds}${Math.abs(mday)} ${ts}${time(Math.abs(hour))}`
  }
  if (hasYearMonth) return `${out}${year}-${mon}`
  if (mday !== 0) return `${out}${mday} ${time(hour)}`
  return out + time(hour)
}

function iso8601(iv: Interval): string {
  const { year, mon, mday, hour, min, sec, fsec } = fieldsOf(iv)
  if ([year, mon, mday, hour, min, sec, fsec].every((x) => x === 0)) return 'PT0S'
  const part = (v: number, unit: string) => (v === 0 ? '' : `${v}${unit}`)
  let out = 'P' + part(year, 'Y') + part(mon, 'M') + part(mday, 'D')
  if (hour !== 0 || min !== 0 || sec !== 0 || fsec !== 0) out += 'T'
  out += part(hour, 'H') + part(min, 'M')
  if (sec !== 0 || fsec !== 0) out += (sec < 0 || fsec < 0 ? '-' : '') + seconds(sec, fsec, false) + 'S'
  return out
}

function verbose(iv: Interval): string {
  const { year, mon, mday, hour, min, sec, fsec } = fieldsOf(iv)
  let out = '@'
  let isZero = true
  let isBefore = false
  // The first nonzero field decides "ago"; later fields print relative to it.
  for (const [v0, unit] of [[year, 'year'], [mon, 'mon'], [mday, 'day'], [hour, 'hour'], [min, 'min']] as const) {
    if (v0 === 0) continue
    let v: number = v0
    if (isZero) {
      isBefore = v < 0
      v = Math.abs(v)
    } else if (isBefore) v = -v
    out += ` ${v} ${unit}${v === 1 ? '' : 's'}`
    isZero = false
  }
  if (sec !== 0 || fsec !== 0) {
    out += ' '
    if (sec < 0 || (sec === 0 && fsec < 0)) {
      if (isZero) isBefore = true
      else if (!isBefore) out += '-'
    } else if (isBefore) out += '-'
    out += seconds(sec, fsec, false) + ` sec${Math.abs(sec) !== 1 || fsec !== 0 ? 's' : ''}`
    isZero = false
  }
  if (isZero) out += ' 0'
  if (isBefore) out += ' ago'
  return out
}

/** timestamp + interval: infinite timestamps stay infinite, a result out of range is 22008. */
export function addInterval(us: number, iv: Interval): number {
  if (!Number.isFinite(us)) return us
  // Each step is checked, as PostgreSQL does, so an intermediate date past the range fails too.
  const months = iv.months ? checkTimestamp(addMonths(checkTimestamp(us), iv.months)) : us
  return checkTimestamp(months + iv.days * USEC_PER_DAY + iv.micros)
}
