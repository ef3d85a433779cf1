import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from '../session/session.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function rows(s: Session, sql: string): Promise<unknown[][]> {
  return (await s.query(sql)).rowArrays
}

async function code(s: Session, sql: string): Promise<string | undefined> {
  try {
    await s.query(sql)
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}

// Every expected answer below is PostgreSQL 15's (session time zone UTC).
describe('DateStyle prints dates and timestamps in its style and reads ambiguous dates in its order', () => {
  it('Postgres, SQL and German output, in result columns, text casts and arrays alike', async () => {
    const s = db.session()
    await s.query("SET DateStyle = 'Postgres, MDY'")
    expect(await rows(s, `SELECT '1997-02-10 17:32:01.5'::timestamptz, '1997-02-10'::date, '0097-02-10 BC'::timestamp,
      ('1997-02-10'::date)::text, array['1997-02-10'::date]`)).toEqual([
      ['Mon Feb 10 17:32:01.5 1997 UTC', '02-10-1997', 'Wed Feb 10 00:00:00 0097 BC', '02-10-1997', '{02-10-1997}'],
    ])
    await s.query("SET DateStyle = 'SQL, DMY'")
    expect(await rows(s, `SELECT '1997-02-10 17:32:01'::timestamptz, '1997-02-10'::date, '1997-02-10 17:32:01'::timestamp, '01/02/1999'::date`))
      .toEqual([['10/02/1997 17:32:01 UTC', '10/02/1997', '10/02/1997 17:32:01', '01/02/1999']])
    await s.query("SET DateStyle = 'German'")
    expect(await rows(s, `SELECT '1997-02-10 17:32:01'::timestamptz, '1997-02-10'::date, '1/2/1999'::date`))
      .toEqual([['10.02.1997 17:32:01 UTC', '10.02.1997', '01.02.1999']])
    await s.close()
  })

  it('reads two-digit and run-together dates in YMD, DMY and MDY order', async () => {
    const s = db.session()
    await s.query("SET DateStyle = 'ISO, YMD'")
    expect(await rows(s, `SELECT '99 Jan 08'::date, '99-01-08'::date, '97FEB10 5:32:01PM UTC'::timestamptz, '97/02/10 17:32:01'::timestamp`))
      .toEqual([['1999-01-08', '1999-01-08', '1997-02-10 17:32:01+00', '1997-02-10 17:32:01']])
    await s.query("SET DateStyle = 'ISO, DMY'")
    expect(await rows(s, `SELECT '01/02/1999'::date, '08-01-99'::date`)).toEqual([['1999-02-01', '1999-01-08']])
    await s.query("SET DateStyle = 'ISO, MDY'")
    expect(await rows(s, `SELECT '01/02/1999'::date`)).toEqual([['1999-01-02']])
    expect(await code(s, `SELECT '99-01-08'::date`)).toBe('22008')
    await s.close()
  })

  it('belongs to its session: another session interleaving statements keeps its own', async () => {
    const a = db.session()
    const b = db.session()
    await a.query("SET DateStyle = 'German, DMY'")
    const [ra, rb] = await Promise.all([
      a.query(`SELECT '01/02/1999'::date, '1999-02-01'::date::text`),
      b.query(`SELECT '01/02/1999'::date, '1999-02-01'::date::text`),
    ])
    expect(ra.rowArrays).toEqual([['01.02.1999', '01.02.1999']])
    expect(rb.rowArrays).toEqual([['1999-01-02', '1999-02-01']])
    await a.close()
    await b.close()
  })
})

describe('IntervalStyle prints intervals as PostgreSQL does in each style', () => {
  it('postgres_verbose, sql_standard (also read with one leading sign) and iso_8601', async () => {
    const s = db.session()
    await s.query('SET IntervalStyle = postgres_verbose')
    expect(await rows(s, `SELECT interval '-10 mons -3 days +03:55:06.70', interval '1 year 2 mons 3 days 04:05:06.699999', interval '0', interval '-1 hours'`))
      .toEqual([['@ 10 mons 3 days -3 hours -55 mins -6.7 secs ago', '@ 1 year 2 mons 3 days 4 hours 5 mins 6.699999 secs', '@ 0', '@ 1 hour ago']])
    await s.query('SET IntervalStyle = sql_standard')
    expect(await rows(s, `SELECT interval '1 day -1 hours', interval '-1 2:03:04', interval '1-2', interval '0', interval '-23 hours 45 min 12.34 sec'`))
      .toEqual([['+0-0 +1 -1:00:00', '-1 2:03:04', '1-2', '0', '-23:45:12.34']])
    await s.query('SET IntervalStyle = iso_8601')
    expect(await rows(s, `SELECT interval '0', interval '1 year 2 mons 3 days 04:05:06.7', interval '-1 days +2 hours -6.7 sec'`))
      .toEqual([['PT0S', 'P1Y2M3DT4H5M6.7S', 'P-1DT1H59M53.3S']])
    expect(await code(s, 'SET IntervalStyle = klingon')).toBe('22023')
    await s.close()
  })
})

describe('timestamp(p), time(p) and interval(p) keep p fractional-second digits', () => {
  it('rounds stored and cast values half away from zero', async () => {
    const s = db.session()
    await s.query('CREATE TABLE ts_precision (d timestamp(2), e timestamptz(0), f time(1))')
    await s.query(`INSERT INTO ts_precision VALUES ('1997-02-10 17:32:01.999999', '1997-02-10 17:32:01.5', '01:02:03.45')`)
    expect(await rows(s, 'SELECT * FROM ts_precision')).toEqual([['1997-02-10 17:32:02', '1997-02-10 17:32:02+00', '01:02:03.5']])
    expect(await rows(s, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ts_precision'::regclass AND attnum > 0 ORDER BY attnum`))
      .toEqual([['timestamp(2) without time zone'], ['timestamp(0) with time zone'], ['time(1) without time zone']])
    expect(await rows(s, `SELECT interval(0) '1 day 01:23:45.6789', interval '12:34.5678' minute to second(2), interval '-1.235' second(2)`))
      .toEqual([['1 day 01:23:46', '00:12:34.57', '-00:00:01.24']])
    expect(await rows(s, `SELECT pg_typeof('2001-01-01'::timestamp(3)), pg_typeof(1.5::numeric(10,2))`)).toEqual([['timestamp without time zone', 'numeric']])
    await s.close()
  })
})
