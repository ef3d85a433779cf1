import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('interval field qualifiers', () => {
  it('give a bare number its unit and cut the value to the fields, on literals, casts and columns', async () => {
    db = await openDatabase({ nodeId: 'iv1' })
    const r = await db.query(`SELECT interval '999' minute AS a, interval '1' year to month AS b, interval '1 2' day to hour AS c,
      interval '1 2:03:04' day to minute AS d, interval '1 2:03' minute to second AS e, interval '1-2' year to month AS f,
      interval '1' year AS g, '1 day 3:04:05'::interval hour to minute AS h`)
    expect(r.rowArrays).toEqual([['16:39:00', '1 mon', '1 day 02:00:00', '1 day 02:03:00', '1 day 00:02:03', '1 year 2 mons', '1 year', '1 day 03:04:00']])
    await db.query('CREATE TABLE spans (id int PRIMARY KEY, s interval day to hour)')
    await db.query(`INSERT INTO spans VALUES (1, '2 days 5:45:10'), (2, interval '90 minutes')`)
    expect((await db.query('SELECT s FROM spans ORDER BY id')).rowArrays).toEqual([['2 days 05:00:00'], ['01:00:00']])
  })
})

describe('justify_interval, justify_days, justify_hours', () => {
  it('move whole months and days up, make the signs agree, and refuse results out of range (22008)', async () => {
    db = await openDatabase({ nodeId: 'iv2' })
    const r = await db.query(`SELECT justify_interval(interval '1 month -1 hour') AS a, justify_interval(interval '2147483647 days 24 hrs') AS b,
      justify_interval(interval '-2147483648 months -30 days 24 hrs') AS c, justify_days(interval '-1 month 40 days') AS d, justify_hours(interval '-1 day 30 hours') AS e`)
    expect(r.rowArrays).toEqual([['29 days 23:00:00', '5965232 years 4 mons 8 days', '-178956970 years -8 mons -29 days', '10 days', '06:00:00']])
    await expect(db.query(`SELECT justify_hours(interval '2147483647 days 24 hrs')`)).rejects.toMatchObject({ code: '22008' })
  })
})
