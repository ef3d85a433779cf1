import { describe, expect, it } from 'vitest'
import { formatTimestamp, parseTimestamp } from './datetime.js'
import { addInterval, parseInterval } from './interval.js'

describe('interval and timestamps', () => {
  it('parses and prints PostgreSQL interval forms', () => {
    expect(parseInterval('1 day').toString()).toBe('1 day')
    expect(parseInterval('30s').toString()).toBe('00:00:30')
    expect(parseInterval('1 year 2 months 3 days 04:05:06').toString()).toBe('1 year 2 mons 3 days 04:05:06')
    expect(parseInterval('-2 days').toString()).toBe('-2 days')
    expect(parseInterval('1.5 hours').toString()).toBe('01:30:00')
  })

  it('reads fields as PostgreSQL does: a bare number before a time is days, year-month pairs, each unit once', () => {
    expect(parseInterval('-1 +02:03').toString()).toBe('-1 days +02:03:00')
    expect(parseInterval('1 2:03').toString()).toBe('1 day 02:03:00')
    expect(parseInterval('1-2').toString()).toBe('1 year 2 mons')
    expect(parseInterval('-1-2').toString()).toBe('-1 years -2 mons')
    expect(parseInterval('1 day 2 hours 3').toString()).toBe('1 day 02:00:03')
    expect(parseInterval('1 week 2 days').toString()).toBe('9 days')
    for (const dup of ['1 second 2 seconds', '1 day 1 day', '5.5 seconds 3 milliseconds', '1:20:05 5 microseconds', '1 2']) {
      expect(() => parseInterval(dup), dup).toThrow(/invalid input syntax for type interval/)
    }
  })

  it('prints a positive field after a negative one with an explicit +, as PostgreSQL does', () => {
    expect(parseInterval('-1 years 3 days').toString()).toBe('-1 years +3 days')
    expect(parseInterval('-1 years -3 days 4 hours').toString()).toBe('-1 years -3 days +04:00:00')
    expect(parseInterval('1 year -3 days 4 hours').toString()).toBe('1 year -3 days +04:00:00')
    expect(parseInterval('-2 mons 3 days -4 hours').toString()).toBe('-2 mons +3 days -04:00:00')
  })

  it('adds months by calendar, clamping to the month end', () => {
    const jan31 = parseTimestamp('2024-01-31 10:00:00', false, 0)
    expect(formatTimestamp(addInterval(jan31, parseInterval('1 month')), false)).toBe('2024-02-29 10:00:00')
  })

  it('applies a zone offset to TIMESTAMPTZ and prints UTC', () => {
    expect(formatTimestamp(parseTimestamp('2024-07-01 12:00:00+02', true, 0), true)).toBe('2024-07-01 10:00:00+00')
  })

  it('computes EXTRACT(EPOCH) of intervals like PostgreSQL', () => {
    expect(parseInterval('1 day 1 second').epochSeconds()).toBe(86401)
    expect(parseInterval('1 year').epochSeconds()).toBe(365.25 * 86400)
  })
})
