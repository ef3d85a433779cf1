import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function row(sql: string): Promise<unknown[]> {
  return (await db.query(sql)).rowArrays[0]!
}

describe('time with time zone', () => {
  it('reads every spelling of a zoned time and prints it as PostgreSQL does', async () => {
    db = await openDatabase({ nodeId: 'tz1' })
    expect(await row(`SELECT time with time zone '040506.789+08', time with time zone 'T040506.789 -08', timetz '11:00-5',
      '11:00+05:30'::timetz, '11:00 BST'::timetz, '11:00'::timetz, '2003-07-07 15:36:39 America/New_York'::timetz`))
      .toEqual(['04:05:06.789+08', '04:05:06.789-08', '11:00:00-05', '11:00:00+05:30', '11:00:00+01', '11:00:00+00', '15:36:39-04'])
    const r = await db.query(`SELECT '11:00+01'::timetz AS t`)
    expect(r.fields[0]!.type).toBe('time with time zone')
    await expect(db.query(`SELECT '15:36:39 America/New_York'::timetz`)).rejects.toMatchObject({ code: '22007' })
  })

  it('adds intervals round the clock, names an instant with a date, and casts to and from time and timestamptz', async () => {
    db = await openDatabase({ nodeId: 'tz2' })
    expect(await row(`SELECT '02:30-08'::timetz + interval '36:01', '01:30-08'::timetz - interval '02:01',
      date '1994-01-01' + timetz '11:00-5', timestamptz(date '1994-01-01', time with time zone '11:00-8'),
      '12:34:56.5+05:30'::timetz::time, '2024-03-01 10:00:00+00'::timestamptz::timetz`))
      .toEqual(['14:31:00-08', '23:29:00-08', '1994-01-01 16:00:00+00', '1994-01-01 19:00:00+00', '12:34:56.5', '10:00:00+00'])
    expect(await row(`SELECT now()::timetz::text = current_time::text`)).toEqual([true])
  })

  it('orders and compares by the UTC time, then the zone, and survives a table round trip', async () => {
    db = await openDatabase({ nodeId: 'tz3' })
    expect(await row(`SELECT '11:00+01'::timetz = '10:00+00'::timetz, '11:00+01'::timetz < '10:00+00'::timetz`)).toEqual([false, true])
    await db.query('CREATE TABLE t (id int PRIMARY KEY, at timetz)')
    await db.query(`INSERT INTO t VALUES (1, '10:30+00'), (2, '11:00+01'), (3, '09:00-03'), (4, NULL)`)
    const r = await db.query('SELECT id, at FROM t ORDER BY at NULLS FIRST')
    expect(r.rowArrays).toEqual([[4, null], [2, '11:00:00+01'], [1, '10:30:00+00'], [3, '09:00:00-03']])
  })

  it('rounds to its typmod precision, in casts and in a column (PostgreSQL 15)', async () => {
    db = await openDatabase({ nodeId: 'tz9' })
    expect(await row(`SELECT '04:05:06.789+08'::timetz(1), '23:59:59.95-05'::timetz(1), '04:05:06.789+08'::timetz(0),
      cast('10:00:00.123456+01' as time(3) with time zone)`)).toEqual(['04:05:06.8+08', '24:00:00-05', '04:05:07+08', '10:00:00.123+01'])
    await db.query('CREATE TABLE tz (t timetz(2))')
    await db.query(`INSERT INTO tz VALUES ('01:02:03.456789+02')`)
    expect(await row('SELECT t FROM tz')).toEqual(['01:02:03.46+02'])
  })
})
