/**
 * TIME WITH TIME ZONE (timetz): a time of day and the UTC offset it was written with.
 *
 * The runtime value is one bigint that packs both so the executor's generic ordering,
 * grouping and storage (bigint in a core row register) treat it right without a class:
 *   key = (ofDay - east * 1e6) * 2^17 + (65536 - east)
 * where ofDay is micros of the day (0 .. 24:00:00) and east the offset in seconds east of
 * UTC (|east| < 16 h < 2^16). Ordering by key is PostgreSQL's timetz_cmp: by the UTC time
 * first, then by the zone (a zone further west sorts later), and two values are equal only
 * when time and zone both are, so '11:00+01' <> '10:00+00' though they name one instant.
 *
 * Invariants: `packTimeTz` is the only way a key is made and `unpackTimeTz` its inverse;
 * ofDay stays in 0 .. USEC_PER_DAY inclusive, as PostgreSQL keeps '24:00:00'.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatTime, USEC_PER_DAY, USEC_PER_SEC } from './datetime.js'

const ZONE_BITS = 17n
const ZONE_BIAS = 65536
/** PostgreSQL's TZDISP_LIMIT: an offset must stay under 16 hours. */
const MAX_OFFSET = 15 * 3600 + 59 * 60 + 59

export interface TimeTz {
  /** Micros since midnight, local to the zone. */
  ofDay: number
  /** Offset east of UTC in seconds (+08 is 28800). */
  east: number
}

export function packTimeTz(ofDay: number, east: number): bigint {
  if (Math.abs(east) > MAX_OFFSET) throw new SqlError(SqlState.invalidTimeZoneDisplacementValue, 'time zone displacement out of range')
  const utc = BigInt(ofDay) - BigInt(east) * BigInt(USEC_PER_SEC)
  return (utc << ZONE_BITS) + BigInt(ZONE_BIAS - east)
}

export function unpackTimeTz(key: bigint): TimeTz {
  const zonePart = Number(key & ((1n << ZONE_BITS) - 1n))
  const east = ZONE_BIAS - zonePart
  const utc = Number(key >> ZONE_BITS)
  return { ofDay: utc + east * USEC_PER_SEC, east }
}

/** `+08`, `-05:30`, `+05:30:12`: PostgreSQL's offset suffix. */
export function formatOffset(east: number): string {
  const sign = east < 0 ? '-' : '+'
  const a = Math.abs(east)
  const h = Math.floor(a / 3600)
  const m = Math.floor(a / 60) % 60
  const s = a % 60
  let out = sign + String(h).padStart(2, '0')
  if (m || s) out += ':' + String(m).padStart(2, '0')
  if (s) out += ':' + String(s).padStart(2, '0')
  return out
}

export function formatTimeTz(key: bigint): string {
  const { ofDay, east } = unpackTimeTz(key)
  const us = ofDay
  return formatTime(Math.floor(us / 3_600_000_000), Math.floor(us / 60_000_000) % 60, Math.floor(us / USEC_PER_SEC) % 60, us % USEC_PER_SEC) + formatOffset(east)
}

/** timetz ± interval: the time moves round the clock, the zone stays. */
export function addToTimeTz(key: bigint, micros: number): bigint {
  const { ofDay, east } = unpackTimeTz(key)
  let v = (ofDay + micros) % USEC_PER_DAY
  if (v < 0) v += USEC_PER_DAY
  return packTimeTz(v, east)
}

/** The UTC instant of `date + timetz` (days since 1970-01-01), a timestamptz. */
export function timeTzOnDate(days: number, key: bigint): number {
  if (!Number.isFinite(days)) return days
  const { ofDay, east } = unpackTimeTz(key)
  return days * USEC_PER_DAY + ofDay - east * USEC_PER_SEC
}

/** A timestamptz (UTC micros) as timetz in the session zone (UTC). */
export function timeTzOfInstant(us: number): bigint {
  const ofDay = us - Math.floor(us / USEC_PER_DAY) * USEC_PER_DAY
  return packTimeTz(ofDay, 0)
}
