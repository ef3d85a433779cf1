/**
 * Date/time functions that take a time zone or bin by a stride: make_timestamptz(.., zone),
 * date_trunc(field, timestamptz, zone) and date_bin(stride, source, origin).
 *
 * A zone given to make_timestamptz as a signed number is an ISO offset (`+2` is two hours
 * east, hours up to 15, 22023 beyond); any other zone is read as AT TIME ZONE reads it
 * (types/datetime-input.ts). date_bin refuses strides with months (0A000, months differ in
 * length) and strides that are not positive (22023), as PostgreSQL does.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { truncTimestamp, USEC_PER_DAY, USEC_PER_SEC } from '../types/datetime.js'
import { utcToZone, zoneToUtc } from '../types/datetime-input.js'
import type { Interval } from '../types/interval.js'
import { makeTimestamp } from './make-datetime.js'

/** make_timestamptz(year, month, day, hour, min, sec, zone): that local time in `zone`, as UTC micros. */
export function makeTimestamptzIn(year: number, month: number, day: number, hour: number, minute: number, sec: number, zone: string): number {
  const local = makeTimestamp(year, month, day, hour, minute, sec)
  const z = zone.trim()
  if (/^[+-]/.test(z)) {
    const m = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(z)
    if (!m) throw new SqlError(SqlState.invalidParameterValue, `invalid input syntax for type numeric time zone: "${zone}"`)
    const h = Number(m[2])
    if (h > 15) throw new SqlError(SqlState.invalidParameterValue, `numeric time zone "${zone}" out of range`)
    const off = (h * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) * (m[1] === '-' ? -1 : 1)
    return local - off * USEC_PER_SEC
  }
  if (/^\d/.test(z)) {
    throw new SqlError(SqlState.invalidParameterValue, `invalid input syntax for type numeric time zone: "${zone}"`, { hint: 'Numeric time zones must have "-" or "+" as first character.' })
  }
  return zoneToUtc(zone, local)
}

/** date_trunc(field, timestamptz, zone): truncated in the zone's local time. */
export function truncInZone(field: string, us: number, zone: string): number {
  if (!Number.isFinite(us)) return us
  return zoneToUtc(zone, truncTimestamp(field, utcToZone(zone, us)))
}

/** date_bin(stride, source, origin): the start of the stride-wide bin, counted from origin, that holds source. */
export function dateBin(stride: Interval, source: number, origin: number): number {
  if (stride.months !== 0) throw new SqlError(SqlState.featureNotSupported, 'timestamps cannot be binned into intervals containing months or years')
  const step = stride.days * USEC_PER_DAY + stride.micros
  if (step <= 0) throw new SqlError(SqlState.invalidParameterValue, 'stride must be greater than zero')
  if (!Number.isFinite(source)) return source
  if (!Number.isFinite(origin)) throw new SqlError(SqlState.datetimeFieldOverflow, 'origin out of range')
  let modulo = (source - origin) % step
  if (modulo < 0) modulo += step
  return source - modulo
}
