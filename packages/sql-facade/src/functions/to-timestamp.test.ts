import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function one(sql: string): Promise<unknown> {
  return (await db.query(sql)).rowArrays[0]![0]
}

describe('to_timestamp(text, template) and to_date(text, template)', () => {
  it.each([
    [`to_timestamp('0097/Feb/16 --> 08:14:30', 'YYYY/Mon/DD --> HH:MI:SS')`, '0097-02-16 08:14:30+00'],
    [`to_timestamp('97/2/16 8:14:30', 'FMYYYY/FMMM/FMDD FMHH:FMMI:FMSS')`, '0097-02-16 08:14:30+00'],
    [`to_timestamp('2011$03!18 23_38_15', 'YYYY-MM-DD HH24:MI:SS')`, '2011-03-18 23:38:15+00'],
    [`to_timestamp('1985 January 12', 'YYYY FMMonth DD')`, '1985-01-12 00:00:00+00'],
    [`to_timestamp('1,582nd VIII 21', 'Y,YYYth FMRM DD')`, '1582-08-21 00:00:00+00'],
    [`to_timestamp('05121445482000', 'MMDDHH24MISSYYYY')`, '2000-05-12 14:45:48+00'],
    [`to_timestamp('95-1116', 'YY-MMDD')`, '1995-11-16 00:00:00+00'],
    [`to_timestamp('1997 BC 11 16', 'YYYY BC MM DD')`, '1997-11-16 00:00:00+00 BC'],
    [`to_timestamp('2005527', 'IYYYIWID')`, '2006-01-01 00:00:00+00'],
    [`to_timestamp('2005300', 'YYYYDDD')`, '2005-10-27 00:00:00+00'],
    [`to_timestamp('2011-12-18 11:38 PM', 'YYYY-MM-DD HH12:MI PM')`, '2011-12-18 23:38:00+00'],
    [`to_timestamp('2011-12-18 11:38 -05:20', 'YYYY-MM-DD HH12:MI TZH:TZM')`, '2011-12-18 16:58:00+00'],
    [`to_timestamp('2018-11-02 12:34:56.025', 'YYYY-MM-DD HH24:MI:SS.MS')`, '2018-11-02 12:34:56.025+00'],
    [`to_timestamp('2000 -10', 'YYYY TZH')`, '2000-01-01 10:00:00+00'],
    [`to_date('2458872', 'J')`, '2020-01-23'],
    [`to_date('3 4 21 01', 'W MM CC YY')`, '2001-04-15'],
    [`to_date('2011x 12x 18', 'YYYYxMMxDD')`, '2011-12-18'],
    [`to_date('2016 366', 'YYYY DDD')`, '2016-12-31'],
  ])('%s is %s', async (call, out) => {
    expect(await one(`SELECT ${call}`)).toBe(out)
  })

  it.each([
    [`to_timestamp('19971', 'YYYYMMDD')`, '22007'],
    [`to_timestamp('1997-11-Jan-16', 'YYYY-MM-Mon-DD')`, '22007'],
    [`to_timestamp('2005527', 'YYYYIWID')`, '22007'],
    [`to_timestamp('2016-06-13 25:00:00', 'YYYY-MM-DD HH24:MI:SS')`, '22008'],
    [`to_timestamp('2016-06-13 15:50:55', 'YYYY-MM-DD HH:MI:SS')`, '22008'],
    [`to_date('2015-02-29', 'YYYY-MM-DD')`, '22008'],
    [`to_date('2015 366', 'YYYY DDD')`, '22008'],
    [`to_timestamp('2011-12-18 11:38 PST', 'YYYY-MM-DD HH12:MI TZ')`, '0A000'],
  ])('%s fails with %s', async (call, state) => {
    expect(await sqlState(db, `SELECT ${call}`)).toBe(state)
  })
})
