/**
 * EXTRACT(field FROM x) and date_part('field', x) for date, time, timestamp[tz] and
 * interval, with PostgreSQL's unit spellings (abbreviations are matched on their first
 * ten characters, as PostgreSQL's token table does), its BC year numbering and its
 * answers for infinite dates and timestamps: NULL for units that cycle (day, month,
 * hour ...), +/-Infinity for units that only grow (year, epoch, julian ...).
 *
 * A unit PostgreSQL does not know is 22023; a known unit the type has no such field for
 * is 0A000. The result is exact (a Decimal) except for infinities, which NUMERIC cannot
 * hold here, so they come back as a JS number for date_part's double precision.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { civilFromDays, daysFromCivil, plainestMicros, USEC_PER_DAY } from '../types/datetime.js'
import { Decimal } from '../types/decimal.js'
import type { Interval } from '../types/interval.js'
import { typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { ownEntry } from '../parser/own-entry.js'

export type DatetimeUnit =
  | 'microseconds' | 'milliseconds' | 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'quarter'
  | 'year' | 'decade' | 'century' | 'millennium' | 'epoch' | 'dow' | 'isodow' | 'doy' | 'julian' | 'isoyear'
  | 'timezone' | 'timezone_hour' | 'timezone_minute'

const UNITS: Record<string, DatetimeUnit> = {
  c: 'century', cent: 'century', centuries: 'century', century: 'century',
  d: 'day', day: 'day', days: 'day',
  dec: 'decade', decade: 'decade', decades: 'decade', decs: 'decade',
  h: 'hour', hour: 'hour', hours: 'hour', hr: 'hour', hrs: 'hour',
  m: 'minute', min: 'minute', mins: 'minute', minute: 'minute', minutes: 'minute',
  microsecon: 'microseconds', us: 'microseconds', usec: 'microseconds', microsecond: 'microseconds', useconds: 'microseconds', usecs: 'microseconds',
  mil: 'millennium', millennia: 'millennium', millennium: 'millennium', mils: 'millennium',
  millisecon: 'milliseconds', ms: 'milliseconds', msec: 'milliseconds', millisecond: 'milliseconds', mseconds: 'milliseconds', msecs: 'milliseconds',
  mon: 'month', mons: 'month', month: 'month', months: 'month',
  qtr: 'quarter', quarter: 'quarter',
  s: 'second', sec: 'second', second: 'second', seconds: 'second', secs: 'second',
  timezone: 'timezone', timezone_h: 'timezone_hour', timezone_m: 'timezone_minute',
  w: 'week', week: 'week', weeks: 'week',
  y: 'year', year: 'year', years: 'year', yr: 'year', yrs: 'year',
  epoch: 'epoch', dow: 'dow', isodow: 'isodow', doy: 'doy', isoyear: 'isoyear', j: 'julian', jd: 'julian', julian: 'julian',
}

/** Units whose value only grows with time: an infinite input gives an infinite answer. */
const MONOTONIC = new Set<DatetimeUnit>(['year', 'decade', 'century', 'millennium', 'julian', 'isoyear', 'epoch'])
const DATE_UNITS = new Set<DatetimeUnit>(['day', 'week', 'month', 'quarter', 'year', 'decade', 'century', 'millennium', 'epoch', 'dow', 'isodow', 'doy', 'julian', 'isoyear'])
const TIME_UNITS = new Set<DatetimeUnit>(['microseconds', 'milliseconds', 'second', 'minute', 'hour', 'epoch'])
const INTERVAL_UNITS = new Set<DatetimeUnit>(['microseconds', 'milliseconds', 'second', 'minute', 'hour', 'day', 'month', 'quarter', 'year', 'decade', 'century', 'millennium', 'epoch'])
/** Julian day number of 1970-01-01. */
const UNIX_EPOCH_JD = 2440588

/** An extracted value: exact, NULL, or an infinity (only from infinite dates and timestamps). */
export type ExtractResult = Decimal | null | number

function unitOf(field: string, t: SqlType): DatetimeUnit {
  const low = field.toLowerCase()
  const unit = ownEntry(UNITS, low) ?? ownEntry(UNITS, low.slice(0, 10))
  if (!unit) throw new SqlError(SqlState.invalidParameterValue, `unit "${low}" not recognized for type ${typeName(t)}`)
  return unit
}

function notSupported(field: string, t: SqlType): SqlError {
  return new SqlError(SqlState.featureNotSupported, `unit "${field.toLowerCase()}" not supported for type ${typeName(t)}`)
}

function int(n: number): Decimal {
  return new Decimal(BigInt(n), 0)
}

/** C's truncating integer division, which PostgreSQL's year arithmetic relies on. */
function cdiv(a: number, b: number): number {
  return Math.trunc(a / b)
}

function dayOfWeek(days: number): number {
  return (((days + 4) % 7) + 7) % 7
}

/** ISO 8601 week-numbering year (astronomical) and week of a date. */
function isoWeek(days: number): { year: number; week: number } {
  const thursday = days - ((dayOfWeek(days) + 6) % 7) + 3
  const year = civilFromDays(thursday).year
  return { year, week: Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1 }
}

/** The calendar fields of a finite date, PostgreSQL's way (year 1 BC is -1, not 0). */
function dateField(unit: DatetimeUnit, days: number): Decimal {
  const { year, month, day } = civilFromDays(days)
  switch (unit) {
    case 'day': return int(day)
    case 'month': return int(month)
    case 'quarter': return int(cdiv(month - 1, 3) + 1)
    case 'week': return int(isoWeek(days).week)
    case 'year': return int(year > 0 ? year : year - 1)
    case 'decade': return int(year >= 0 ? cdiv(year, 10) : -cdiv(8 - (year - 1), 10))
    case 'century': return int(year > 0 ? cdiv(year + 99, 100) : -cdiv(99 - (year - 1), 100))
    case 'millennium': return int(year > 0 ? cdiv(year + 999, 1000) : -cdiv(999 - (year - 1), 1000))
    case 'dow': return int(dayOfWeek(days))
    case 'isodow': return int(dayOfWeek(days) || 7)
    case 'doy': return int(days - daysFromCivil(year, 1, 1) + 1)
    case 'isoyear': {
      const y = isoWeek(days).year
      return int(y > 0 ? y : y - 1)
    }
    case 'julian': return int(days + UNIX_EPOCH_JD)
    case 'epoch': return new Decimal(BigInt(days) * 86400n, 0)
    default: throw new Error(`unreachable date unit ${unit}`)
  }
}

/** Fields of the time of day, `us` microseconds after midnight. */
function timeField(unit: DatetimeUnit, us: number): Decimal {
  const secUs = us % 60_000_000
  switch (unit) {
    case 'microseconds': return int(secUs)
    case 'milliseconds': return new Decimal(BigInt(secUs), 3)
    case 'second': return new Decimal(BigInt(secUs), 6)
    case 'minute': return int(Math.floor(us / 60_000_000) % 60)
    case 'hour': return int(Math.floor(us / 3_600_000_000))
    case 'epoch': return new Decimal(BigInt(us), 6)
    default: throw new Error(`unreachable time unit ${unit}`)
  }
}

function timestampField(unit: DatetimeUnit, us: number, t: SqlType, field: string): Decimal {
  if (unit === 'timezone' || unit === 'timezone_hour' || unit === 'timezone_minute') {
    // The session time zone is UTC: the offset is zero.
    if (t.id === 'timestamptz') return int(0)
    throw notSupported(field, t)
  }
  const exact = plainestMicros(us)
  if (unit === 'epoch') return new Decimal(exact, 6)
  const dayUs = BigInt(USEC_PER_DAY)
  const days = Number(exact / dayUs) - (exact % dayUs < 0n ? 1 : 0)
  const ofDay = Number(exact - BigInt(days) * dayUs)
  if (TIME_UNITS.has(unit)) return timeField(unit, ofDay)
  if (unit === 'julian') return int(days + UNIX_EPOCH_JD).add(new Decimal(BigInt(ofDay), 0).div(int(USEC_PER_DAY)))
  return dateField(unit, days)
}

function intervalField(unit: DatetimeUnit, iv: Interval): Decimal {
  const years = cdiv(iv.months, 12)
  switch (unit) {
    case 'microseconds': return int(iv.micros % 60_000_000)
    case 'milliseconds': return new Decimal(BigInt(iv.micros % 60_000_000), 3)
    case 'second': return new Decimal(BigInt(iv.micros % 60_000_000), 6)
    case 'minute': return int(cdiv(iv.micros, 60_000_000) % 60)
    case 'hour': return int(cdiv(iv.micros, 3_600_000_000))
    case 'day': return int(iv.days)
    case 'month': return int(iv.months % 12)
    case 'quarter': return int(cdiv(iv.months % 12, 3) + 1)
    case 'year': return int(years)
    case 'decade': return int(cdiv(years, 10))
    case 'century': return int(cdiv(years, 100))
    case 'millennium': return int(cdiv(years, 1000))
    case 'epoch': return Decimal.fromNumber(iv.epochSeconds()).withScale(6)
    default: throw new Error(`unreachable interval unit ${unit}`)
  }
}

/** EXTRACT(field FROM v) for a value of type `t` (date, time, timestamp[tz], interval). */
export function extractField(field: string, t: SqlType, v: RtValue): ExtractResult {
  const unit = unitOf(field, t)
  if (t.id === 'interval') {
    if (!INTERVAL_UNITS.has(unit)) throw notSupported(field, t)
    return intervalField(unit, v as Interval)
  }
  if (t.id === 'time') {
    if (!TIME_UNITS.has(unit)) throw notSupported(field, t)
    return timeField(unit, v as number)
  }
  const n = v as number
  if (t.id === 'date' && !DATE_UNITS.has(unit)) throw notSupported(field, t)
  if (!Number.isFinite(n)) {
    if (MONOTONIC.has(unit)) return n
    // The zone units of an infinite timestamp are NULL too (PostgreSQL 15), even for a timestamp without time zone.
    return null
  }
  return t.id === 'date' ? dateField(unit, n) : timestampField(unit, n, t, field)
}
