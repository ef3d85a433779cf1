/**
 * The session's date/time text styles: DateStyle (how dates and timestamps print: ISO,
 * Postgres, SQL or German; and the field order, MDY, DMY or YMD, ambiguous input is read
 * in) and IntervalStyle (postgres, postgres_verbose, sql_standard or iso_8601).
 *
 * A statement runs synchronously from plan to last row (session.ts `runOne`), so the style
 * of the session running it is held here for that run: `withDateTimeStyle(style, run)` sets
 * it around a synchronous `run` and restores the previous one after. Casts to and from
 * text, text-producing functions and result output read `activeDateTimeStyle()`.
 *
 * Invariants: outside `withDateTimeStyle` the style is the default (ISO, MDY, postgres),
 * which is also the only style stored or replicated text ever uses (storage codecs, catalog
 * defaults and forwarded statements call the formatters without a style); a run passed to
 * `withDateTimeStyle` must not return a promise (the style would leak past an await).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export type DateOutput = 'ISO' | 'Postgres' | 'SQL' | 'German'
export type DateOrder = 'MDY' | 'DMY' | 'YMD'
export type IntervalOutput = 'postgres' | 'postgres_verbose' | 'sql_standard' | 'iso_8601'

export interface DateTimeStyle {
  readonly output: DateOutput
  readonly order: DateOrder
  readonly interval: IntervalOutput
}

export const DEFAULT_DATETIME_STYLE: DateTimeStyle = { output: 'ISO', order: 'MDY', interval: 'postgres' }

let active: DateTimeStyle = DEFAULT_DATETIME_STYLE

export function activeDateTimeStyle(): DateTimeStyle {
  return active
}

export function withDateTimeStyle<T>(style: DateTimeStyle, run: () => T): T {
  const previous = active
  active = style
  try {
    const out = run()
    if (out instanceof Promise) throw new SqlError(SqlState.internalError, 'internal error: a date/time style scope ran asynchronous work')
    return out
  } finally {
    active = previous
  }
}

const OUTPUTS: Record<string, DateOutput> = { ISO: 'ISO', POSTGRES: 'Postgres', SQL: 'SQL', GERMAN: 'German' }
const ORDERS: Record<string, DateOrder> = { MDY: 'MDY', DMY: 'DMY', YMD: 'YMD' }

/** The style a stored DateStyle value (`ISO, MDY`, as settings/date-style-setting.ts keeps it) names. */
function parseDateStyle(value: string): { output: DateOutput; order: DateOrder } {
  const [o, d] = value.split(/[\s,]+/).map((p) => p.toUpperCase())
  return { output: OUTPUTS[o ?? ''] ?? 'ISO', order: ORDERS[d ?? ''] ?? 'MDY' }
}

export function dateTimeStyleOf(dateStyle: string, intervalStyle: string): DateTimeStyle {
  const { output, order } = parseDateStyle(dateStyle)
  const interval = (['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601'] as const).find((s) => s === intervalStyle) ?? 'postgres'
  if (output === 'ISO' && order === 'MDY' && interval === 'postgres') return DEFAULT_DATETIME_STYLE
  return { output, order, interval }
}
