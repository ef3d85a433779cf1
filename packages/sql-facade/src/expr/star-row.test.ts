import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('t.* where a value is expected', () => {
  it('is the whole row in function arguments and casts, and ROW(t.*, ..) expands to its columns', async () => {
    db = await openDatabase({ nodeId: 'sr1' })
    await db.query(`CREATE TABLE a (x int, y text)`)
    await db.query(`INSERT INTO a VALUES (1, 'p')`)
    const r = await db.query(`SELECT row_to_json(q.*) AS j, row(q.*, 5) AS w, (q.*::a).y AS f FROM a q`)
    expect(r.rows).toEqual([{ j: '{"x":1,"y":"p"}', w: '(1,p,5)', f: 'p' }])
    const s = await db.query(`SELECT jsonb_agg(z) AS z FROM (SELECT row(g.*, array[1]) AS z FROM generate_series(1, 2) g) s`)
    expect(s.rows).toEqual([{ z: '[{"f1": 1, "f2": [1]}, {"f1": 2, "f2": [1]}]' }])
  })

  it('names an existing FROM item (42P01 otherwise) and stays refused inside aggregates', async () => {
    db = await openDatabase({ nodeId: 'sr2' })
    await db.query(`CREATE TABLE a (x int)`)
    expect(await sqlState(db, `SELECT row_to_json(b.*) FROM a`)).toBe('42P01')
    expect(await sqlState(db, `SELECT count(q.*) FROM a q`)).toBe('42601')
  })
})
