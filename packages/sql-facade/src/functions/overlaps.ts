/**
 * `(start1, end1) OVERLAPS (start2, end2)` (the function overlaps(a, b, c, d)) for
 * timestamps, timestamptz, dates (as timestamps) and times; an end may be an interval
 * added to its start. PostgreSQL's rules: each period is put in order, periods that only
 * touch do not overlap, equal starts overlap, and a NULL end gives NULL where the answer
 * depends on it.
 */
import { addInterval } from '../types/interval.js'
import { USEC_PER_DAY } from '../types/datetime.js'
import { Interval } from '../types/interval.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarImpl } from './scalar-impl.js'

/** Overlap of [s1, e1] and [s2, e2] with PostgreSQL's NULL rules (overlaps_timestamp). */
function overlap(s1: number | null, e1: number | null, s2: number | null, e2: number | null): boolean | null {
  if (s1 === null) {
    if (e1 === null) return null
    s1 = e1
    e1 = null
  } else if (e1 !== null && e1 < s1) [s1, e1] = [e1, s1]
  if (s2 === null) {
    if (e2 === null) return null
    s2 = e2
    e2 = null
  } else if (e2 !== null && e2 < s2) [s2, e2] = [e2, s2]
  if (s1 > s2) {
    if (e2 === null) return null
    if (s1 < e2) return true
    return e1 === null ? null : false
  }
  if (s1 < s2) {
    if (e1 === null) return null
    if (s2 < e1) return true
    return e2 === null ? null : false
  }
  return e1 === null || e2 === null ? null : true
}

export function overlapsResolver(ts: SqlType[]): ScalarImpl | null {
  if (ts.length !== 4) return null
  const ids = ts.map((t) => t.id)
  const point: SqlType = ids.includes('timestamptz') ? T.timestamptz : ids.includes('time') ? T.time : T.timestamp
  if (point.id === 'time' && ids.some((id) => id !== 'time' && id !== 'interval' && id !== 'unknown')) return null
  const endType = (i: number): SqlType => (ids[i] === 'interval' ? T.interval : point)
  const args = [point, endType(1), point, endType(3)]
  const end = (start: RtValue, e: RtValue): number | null => {
    if (!(e instanceof Interval)) return e as number | null
    if (start === null) return null
    if (point.id !== 'time') return addInterval(start as number, e)
    // time + interval wraps around the day.
    return (((start as number) + e.micros) % USEC_PER_DAY + USEC_PER_DAY) % USEC_PER_DAY
  }
  return {
    args,
    result: T.bool,
    nonStrict: true,
    fn: (a) => overlap(a[0] as number | null, end(a[0]!, a[1]!), a[2] as number | null, end(a[2]!, a[3]!)),
  }
}
