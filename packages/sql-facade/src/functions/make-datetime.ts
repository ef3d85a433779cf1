/**
 * Constructors of date/time values from numbers: make_date, make_time, make_timestamp[tz],
 * make_interval and to_timestamp(double precision), with PostgreSQL's field validation
 * (22008 "date field value out of range: 2013-02-30") and range checks. Negative years
 * are BC, and there is no year 0, as in PostgreSQL.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { checkTimestamp, DATE_END_DAYS, DATE_MIN_DAYS, daysFromCivil, daysInMonth, TIMESTAMP_END_MICROS, TIMESTAMP_MIN_MICROS, USEC_PER_DAY, USEC_PER_SEC } from '../types/datetime.js'
import { Interval } from '../types/interval.js'

function two(n: number): string {
  return String(n).padStart(2, '0')
}

/** C's printf %g (six significant digits, shortest of fixed and exponent forms). */
export function formatG(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(6)))))
  if (exp < -4 || exp >= 6) {
    const [mant, e] = v.toExponential(5).split('e') as [string, string]
    const m = mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant
    const n = Number(e)
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`
  }
  const s = v.toPrecision(6)
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s
}

/** Validated calendar date from y, m, d (negative y is BC): days since 1970-01-01. */
function civilDays(year: number, month: number, day: number): number {
  const label = `${year}-${two(month)}-${two(day)}`
  const astro = year < 0 ? year + 1 : year
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(astro, month)) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `date field value out of range: ${label}`)
  }
  const days = daysFromCivil(astro, month, day)
  if (days < DATE_MIN_DAYS || days >= DATE_END_DAYS) throw new SqlError(SqlState.datetimeFieldOverflow, `date out of range: ${label}`)
  return days
}

/** Microseconds of a day from h, m, s; 24:00:00 is the last time allowed. */
function timeOfDay(hour: number, minute: number, sec: number): number {
  const us = ((hour * 60 + minute) * 60) * USEC_PER_SEC + Math.round(sec * USEC_PER_SEC)
  if (hour < 0 || hour > 24 || minute < 0 || minute >= 60 || !(sec >= 0 && sec <= 60) || us > USEC_PER_DAY) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `time field value out of range: ${hour}:${two(minute)}:${formatG(sec).padStart(2, '0')}`)
  }
  return us
}

export function makeDate(year: number, month: number, day: number): number {
  return civilDays(year, month, day)
}

export function makeTime(hour: number, minute: number, sec: number): number {
  return timeOfDay(hour, minute, sec)
}

export function makeTimestamp(year: number, month: number, day: number, hour: number, minute: number, sec: number): number {
  const days = civilDays(year, month, day)
  const us = days * USEC_PER_DAY + timeOfDay(hour, minute, sec)
  if (us < TIMESTAMP_MIN_MICROS || us >= TIMESTAMP_END_MICROS) {
    throw new SqlError(SqlState.datetimeFieldOverflow, `timestamp out of range: ${year}-${two(month)}-${two(day)} ${hour}:${two(minute)}:${formatG(sec).padStart(2, '0')}`)
  }
  return us
}

/**
 * make_interval(years, months, weeks, days, hours, mins, secs). PostgreSQL 15 lets the
 * integer fields wrap around on overflow; Concord raises 22008 instead, as later
 * PostgreSQL releases do.
 */
export function makeInterval(years: number, months: number, weeks: number, days: number, hours: number, mins: number, secs: number): Interval {
  if (!Number.isFinite(secs)) throw new SqlError(SqlState.datetimeFieldOverflow, 'interval out of range')
  return Interval.checked(years * 12 + months, weeks * 7 + days, Math.round(((hours * 60 + mins) * 60 + secs) * USEC_PER_SEC))
}

/** to_timestamp(seconds since the Unix epoch). */
export function timestampFromEpoch(seconds: number): number {
  if (Number.isNaN(seconds)) throw new SqlError(SqlState.datetimeFieldOverflow, 'timestamp cannot be NaN')
  if (!Number.isFinite(seconds)) return seconds
  const outOfRange = (): SqlError => new SqlError(SqlState.datetimeFieldOverflow, `timestamp out of range: "${formatG(seconds)}"`)
  if (seconds < TIMESTAMP_MIN_MICROS / USEC_PER_SEC || seconds >= TIMESTAMP_END_MICROS / USEC_PER_SEC) throw outOfRange()
  try {
    return checkTimestamp(Math.round(seconds * USEC_PER_SEC))
  } catch {
    throw outOfRange()
  }
}
