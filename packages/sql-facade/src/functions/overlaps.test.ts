import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

describe('OVERLAPS', () => {
  it('compares periods given by two ends or by a start and an interval, in either order', async () => {
    const r = await db.query(`SELECT
      (timestamptz '2000-11-27', timestamptz '2000-11-28') OVERLAPS (timestamptz '2000-11-27 12:00', timestamptz '2000-11-30') AS a,
      (timestamp '2000-11-26', timestamp '2000-11-27') OVERLAPS (timestamp '2000-11-27 12:00', timestamp '2000-11-30') AS b,
      (timestamp '2000-11-27', interval '12 hours') OVERLAPS (timestamp '2000-11-27 12:00', interval '12 hours') AS c,
      (date '2000-01-10', date '2000-01-01') OVERLAPS (date '2000-01-05', date '2000-01-20') AS d,
      (time '00:00', interval '1 hour') OVERLAPS (time '00:30', interval '1 hour') AS e`)
    expect(r.rows).toEqual([{ a: true, b: false, c: false, d: true, e: true }])
  })

  it('is NULL where a missing end decides, and true for equal starts only when both ends are known', async () => {
    const r = await db.query(`SELECT
      (timestamp '2000-01-01', NULL::timestamp) OVERLAPS (timestamp '2000-01-02', timestamp '2000-01-03') AS a,
      (timestamp '2000-01-05', NULL::timestamp) OVERLAPS (timestamp '2000-01-02', timestamp '2000-01-09') AS b,
      (timestamp '2000-01-01', timestamp '2000-01-02') OVERLAPS (timestamp '2000-01-01', NULL::timestamp) AS c`)
    expect(r.rows).toEqual([{ a: null, b: true, c: null }])
  })
})
