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

// pg-regress interval: each answer below was PostgreSQL 15's and differed before.
describe('interval arithmetic and input as PostgreSQL 15', () => {
  const iv = (s: string) => parseInterval(s)
  it('cascades a product\'s or quotient\'s fractions field by field', () => {
    const rows = ['41 mon 12 days 360:00', '-41 mon -12 days +360:00', '-12 days', '9 mon -27 days 12:34:56', '-3 years 482 days 76:54:32.189']
    expect(rows.map((r) => iv(r).scale(0.3).toString())).toEqual(['1 year 12 days 122:24:00', '-1 years -12 days +93:36:00', '-3 days -14:24:00', '2 mons 13 days 01:22:28.8', '-10 mons +120 days 37:28:21.6567'])
    expect(rows.map((r) => iv(r).divide(10).toString())).toEqual(['4 mons 4 days 40:48:00', '-4 mons -4 days +31:12:00', '-1 days -04:48:00', '25 days -15:32:30.4', '-3 mons +30 days 12:29:27.2189'])
    expect(() => iv('1 day').scale(Number.NaN)).toThrow(/out of range/)
  })

  it('keeps months and days whole in ISO 8601 input with fractions', () => {
    expect(iv('P1.1Y0M3DT4H5M6S').toString()).toBe('1 year 1 mon 3 days 04:05:06')
    expect(iv('P0.5M').toString()).toBe('15 days')
    expect(iv('P1.5W').toString()).toBe('10 days 12:00:00')
    expect(iv('P1.25D').toString()).toBe('1 day 06:00:00')
  })

  it('reads h:m.f as minutes and seconds', () => {
    expect(iv('1 2:03.4567').toString()).toBe('1 day 00:02:03.4567')
    expect(iv('2:03.5').toString()).toBe('00:02:03.5')
    expect(iv('2:03').toString()).toBe('02:03:00')
  })

  it('refuses minutes past 59 and seconds past 60 in a time field (22015)', () => {
    for (const t of ['00:90:00', '90:03.5', '00:59:61', '1:60']) expect(() => iv(t), t).toThrow(expect.objectContaining({ code: '22015' }))
    expect(iv('00:59:60').toString()).toBe('01:00:00')
    expect(iv('100:30:00').toString()).toBe('100:30:00')
  })
})
