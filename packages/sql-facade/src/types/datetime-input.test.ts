import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function cast(text: string, type: string): Promise<unknown> {
  const r = await db.query(`SELECT $1::text::${type} AS v`, [text])
  return r.rowArrays[0]![0]
}

async function code(text: string, type: string): Promise<string | undefined> {
  try {
    await cast(text, type)
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}

describe('date/time input in PostgreSQL spellings (DateStyle MDY, session zone UTC)', () => {
  it.each([
    ['Mon Feb 10 17:32:01 1997 PST', '1997-02-11 01:32:01+00'],
    ['Mon Feb 10 17:32:01.5 1997 PST', '1997-02-11 01:32:01.5+00'],
    ['Feb 10 17:32:01 1997 -0800', '1997-02-11 01:32:01+00'],
    ['Feb 10 5:32PM 1997', '1997-02-10 17:32:00+00'],
    ['Feb-10-1997 17:32:01 PST', '1997-02-11 01:32:01+00'],
    ['02-10-1997 17:32:01 PST', '1997-02-11 01:32:01+00'],
    ['19970210 173201 PST', '1997-02-11 01:32:01+00'],
    ['1997.041 17:32:01 UTC', '1997-02-10 17:32:01+00'],
    ['Feb 16 17:32:01 0097 BC', '0097-02-16 17:32:01+00 BC'],
    ['10000 Mar 12 23:58:48 IST', '10000-03-12 21:58:48+00'],
  ])('timestamptz %s reads as %s', async (text, out) => {
    expect(await cast(text, 'timestamptz')).toBe(out)
  })

  it('reads a POSIX zone with the sign meaning west of Greenwich', async () => {
    expect(await cast('2000-03-15 08:14:01 GMT+8', 'timestamptz')).toBe('2000-03-15 16:14:01+00')
    expect(await cast('2000-03-15 02:14:05 MST+7:00', 'timestamptz')).toBe('2000-03-15 09:14:05+00')
  })

  it('resolves IANA zone names at the local time given, summer and winter', async () => {
    expect(await cast('19970210 173201 America/New_York', 'timestamptz')).toBe('1997-02-10 22:32:01+00')
    expect(await cast('19970710 173201 America/New_York', 'timestamptz')).toBe('1997-07-10 21:32:01+00')
  })

  it('reads a local time skipped by a zone change with the offset before it, and an ambiguous one as the later instant', async () => {
    expect(await cast('2011-03-27 02:00:00 Europe/Moscow', 'timestamptz')).toBe('2011-03-26 23:00:00+00')
    expect(await cast('2014-10-26 01:00:00 Europe/Moscow', 'timestamptz')).toBe('2014-10-25 22:00:00+00')
  })

  it('ignores the zone for timestamp without time zone', async () => {
    expect(await cast('Feb 10 17:32:01 1997 -0800', 'timestamp')).toBe('1997-02-10 17:32:01')
  })

  it.each([
    ['01 08 1999', '1999-01-08'],
    ['08 01 99', '1999-08-01'],
    ['1999 01 08', '1999-01-08'],
    ['1999 08 Jan', '1999-01-08'],
    ['1999.008', '1999-01-08'],
    ['990108', '1999-01-08'],
    ['J2451187', '1999-01-08'],
    ['08-Jan-99', '1999-01-08'],
    ['January 8, 99 BC', '0099-01-08 BC'],
    ['0001-01-01 AD', '0001-01-01'],
  ])('date %s reads as %s', async (text, out) => {
    expect(await cast(text, 'date')).toBe(out)
  })

  it.each([
    ['040506.789+08', '04:05:06.789'],
    ['T040506.789-08', '04:05:06.789'],
    ['11:59:59.99 PM', '23:59:59.99'],
    ['2003-07-07 15:36:39 America/New_York', '15:36:39'],
    ['allballs', '00:00:00'],
  ])('time %s reads as %s', async (text, out) => {
    expect(await cast(text, 'time')).toBe(out)
  })

  it('places relative days and a time in either order', async () => {
    const r = await db.query(`SELECT 'tomorrow 16:00'::timestamp = 'today'::timestamp + interval '40 hours', '10:30 yesterday'::timestamp = 'today'::timestamp - interval '13:30'`)
    expect(r.rowArrays).toEqual([[true, true]])
  })

  it('refuses fields out of range with 22008 and unreadable text with 22007', async () => {
    expect(await code('Feb 30 17:32:01 1997', 'timestamp')).toBe('22008')
    expect(await code('13/13/1999', 'date')).toBe('22008')
    expect(await code('Feb 10 17:32:01 1997 Mars/Olympus', 'timestamptz')).toBe('22023')
    expect(await code('Feb Mar 10 1997', 'date')).toBe('22007')
    expect(await code('10:30 PM 14:00', 'time')).toBe('22007')
  })
})

describe('AT TIME ZONE', () => {
  it('converts between UTC and an IANA zone, an abbreviation and a POSIX offset', async () => {
    const r = await db.query(`SELECT '19970710 173201'::timestamptz AT TIME ZONE 'America/New_York' AS a,
      '19970210 173201'::timestamp AT TIME ZONE 'America/New_York' AS b,
      '2000-01-01 00:00+00'::timestamptz AT TIME ZONE 'PST' AS c,
      '2000-01-01 00:00+00'::timestamptz AT TIME ZONE '+3' AS d`)
    expect(r.rows).toEqual([{ a: '1997-07-10 13:32:01', b: '1997-02-10 22:32:01+00', c: '1999-12-31 16:00:00', d: '1999-12-31 21:00:00' }])
  })

  it('refuses an unknown zone with 22023', async () => {
    expect(await code('2000-01-01', "timestamptz AT TIME ZONE 'America/Does_not_exist'")).toBe('22023')
  })
})

describe('make_timestamptz, date_trunc in a zone, date_bin', () => {
  it('make_timestamptz reads a signed zone as an ISO offset and a name as AT TIME ZONE does', async () => {
    const r = await db.query(`SELECT make_timestamptz(1973, 7, 15, 8, 15, 55.33, '+2') AS a,
      make_timestamptz(2014, 12, 10, 0, 0, 0, 'Europe/Prague') AS b, make_timestamptz(2014, 10, 26, 1, 0, 0, 'MSK') AS c`)
    expect(r.rows).toEqual([{ a: '1973-07-15 06:15:55.33+00', b: '2014-12-09 23:00:00+00', c: '2014-10-25 22:00:00+00' }])
    expect(await code('x', "text, make_timestamptz(2014, 12, 10, 10, 10, 10, '+16')")).toBe('22023')
  })

  it('date_trunc with a zone truncates in that zone', async () => {
    const r = await db.query(`SELECT date_trunc('day', timestamptz '2001-02-16 20:38:40+00', 'Australia/Sydney') AS t`)
    expect(r.rows).toEqual([{ t: '2001-02-16 13:00:00+00' }])
  })

  it('date_bin puts a timestamp in its stride-wide bin from the origin, refusing months (0A000) and non-positive strides (22023)', async () => {
    const r = await db.query(`SELECT date_bin('5 min', timestamp '2020-02-01 01:01:01', timestamp '2020-02-01 00:02:30') AS t`)
    expect(r.rows).toEqual([{ t: '2020-02-01 00:57:30' }])
    expect(await code('x', "text, date_bin('1 month', timestamp '2020-02-01', timestamp '2001-01-01')")).toBe('0A000')
    expect(await code('x', "text, date_bin('0 days', timestamp '2020-02-01', timestamp '2001-01-01')")).toBe('22023')
  })
})
