import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import type { SqlNotice } from '../errors/sql-notice.js'

let db: Database

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterEach(async () => {
  await db.close()
})

const long = 't'.repeat(70)
const cut = 't'.repeat(63)
const message = `identifier "${long}" will be truncated to "${cut}"`

describe('notices parsing raises (identifier truncation)', () => {
  it('in process: they open the statement\'s result notices, every time the text runs', async () => {
    const r = await db.query(`CREATE TABLE ${long} (id INT PRIMARY KEY)`)
    expect(r.notices).toEqual([message])
    expect((await db.query(`INSERT INTO ${long} VALUES (1)`)).notices).toEqual([message])
    expect((await db.query(`INSERT INTO ${long} VALUES (1)`.replace('1', '2'))).notices).toEqual([message])
    expect((await db.query(`SELECT count(*)::int AS n FROM ${cut}`)).rows).toEqual([{ n: 2 }])
    const all = await db.session().queryAll(`SELECT 1 AS a; SELECT 1 AS ${long}`)
    expect(all.map((x) => x.notices)).toEqual([[], [message]])
  })

  it('with a receiver: raised before anything runs, with 42622, and also for a statement that fails', async () => {
    const s = db.session()
    const got: SqlNotice[] = []
    s.onNotice((n) => got.push(n))
    await expect(s.query(`SELECT * FROM ${long}`)).rejects.toMatchObject({ code: '42P01', message: `relation "${cut}" does not exist` })
    expect(got).toEqual([{ severity: 'NOTICE', code: '42622', message }])
    // Raised once, to the receiver: not again in the result.
    expect((await s.query(`SELECT 1 AS ${long}`)).notices).toEqual([])
    await s.prepare(`SELECT $1::int AS ${long}`)
    expect(got).toHaveLength(3)
  })
})
