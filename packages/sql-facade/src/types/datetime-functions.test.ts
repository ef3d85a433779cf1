import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's (session time zone UTC).
describe('date/time functions and operators as PostgreSQL has them', () => {
  it('date_trunc of a date is a timestamptz, and truncates to millennia', async () => {
    expect(await rows(`SELECT DATE_TRUNC('MILLENNIUM', TIMESTAMP '1970-03-20 04:30:00'), DATE_TRUNC('MILLENNIUM', DATE '1970-03-20'),
      DATE_TRUNC('CENTURY', DATE '0055-08-10 BC'), DATE_TRUNC('DECADE', DATE '0004-12-25'), date_trunc('millennium', timestamp '0500-01-01 BC')`))
      .toEqual([['1001-01-01 00:00:00', '1001-01-01 00:00:00+00', '0100-01-01 00:00:00+00 BC', '0001-01-01 00:00:00+00 BC', '1000-01-01 00:00:00 BC']])
  })

  it('isfinite tells infinities of dates and timestamps', async () => {
    expect(await rows(`SELECT isfinite('infinity'::date), isfinite('-infinity'::date), isfinite('today'::date), isfinite(now()), isfinite(interval '1 day')`))
      .toEqual([[false, false, true, true, true]])
  })

  it('date + time and date - time are timestamps', async () => {
    expect(await rows(`SELECT date '1981-02-03' + time '04:05:06', date '1991-02-03' - time '04:05:06', time '10:00' + date '1994-01-01', 'infinity'::date + time '01:00'`))
      .toEqual([['1981-02-03 04:05:06', '1991-02-02 19:54:54', '1994-01-01 10:00:00', 'infinity']])
  })

  it('timestamptz(date, time) and Julian days with a day fraction or a zone run on', async () => {
    expect(await rows(`SELECT timestamptz(date '1994-01-01', time '11:00'), timestamp with time zone 'J2452271-08',
      timestamp with time zone 'J2452271.5+08', timestamp 'J2452271', date 'J2452271'`))
      .toEqual([['1994-01-01 11:00:00+00', '2001-12-27 08:00:00+00', '2001-12-27 04:00:00+00', '2001-12-27 00:00:00', '2001-12-27']])
  })

  it('an interval sign set apart from its number still applies to it', async () => {
    expect(await rows(`SELECT interval '1 month - 1 second', interval '2 days - 12:34:56', interval '- 1 day', interval '+ 1 hour'`))
      .toEqual([['1 mon -00:00:01', '2 days -12:34:56', '-1 days', '01:00:00']])
  })

  it('a date with an empty field before its month name is refused (22007)', async () => {
    expect(await code(`SELECT date '1999-08-Jan'`)).toBe('22007')
    expect(await rows(`SELECT date 'Jan-08-1999', date '1999-Jan-08', date '08-Jan-1999'`)).toEqual([['1999-01-08', '1999-01-08', '1999-01-08']])
  })
})
