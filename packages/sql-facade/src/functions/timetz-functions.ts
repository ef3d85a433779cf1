/**
 * Functions over TIME WITH TIME ZONE (types/timetz.ts): PostgreSQL's two-argument
 * timestamptz(date, timetz), the instant the date and the zoned time name together.
 */
import { T } from '../types/sql-type.js'
import { timeTzOnDate } from '../types/timetz.js'
import type { ScalarResolver } from './scalar-impl.js'

export const TIMETZ_FUNCTIONS: Record<string, ScalarResolver> = {
  timestamptz: (ts) => (ts.length === 2 && (ts[1]!.id === 'timetz' || ts[1]!.id === 'unknown') && (ts[0]!.id === 'date' || ts[0]!.id === 'unknown')
    ? { args: [T.date, T.timetz], result: T.timestamptz, fn: (a) => timeTzOnDate(a[0] as number, a[1] as bigint) }
    : null),
}
