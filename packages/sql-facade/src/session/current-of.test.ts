import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from './session.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function run(s: Session, sql: string): Promise<{ tag: string; rows: unknown[][] } | { code: string }> {
  try {
    const r = await s.query(sql)
    return { tag: r.commandTag, rows: r.rowArrays }
  } catch (e) {
    return { code: (e as { code: string }).code }
  }
}

// Every expected answer below is PostgreSQL 15's (the suite's portals.sql, on a plain table).
describe('UPDATE / DELETE .. WHERE CURRENT OF a cursor over one table', () => {
  it('deletes and updates the row the cursor is on; the cursor keeps its rows and position', async () => {
    const s = db.session()
    await s.query('CREATE TABLE uctest (f1 int, f2 text)')
    await s.query("INSERT INTO uctest VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    await s.query('BEGIN')
    await s.query('DECLARE c1 CURSOR FOR SELECT * FROM uctest')
    expect(await run(s, 'FETCH 2 FROM c1')).toEqual({ tag: 'FETCH 2', rows: [[1, 'one'], [2, 'two']] })
    expect(await run(s, 'DELETE FROM uctest WHERE CURRENT OF c1')).toEqual({ tag: 'DELETE 1', rows: [] })
    expect(await run(s, 'SELECT * FROM uctest ORDER BY f1')).toEqual({ tag: 'SELECT 2', rows: [[1, 'one'], [3, 'three']] })
    expect(await run(s, 'FETCH ALL FROM c1')).toEqual({ tag: 'FETCH 1', rows: [[3, 'three']] })
    await s.query('COMMIT')
    await s.query('BEGIN')
    await s.query('DECLARE c1 CURSOR FOR SELECT * FROM uctest FOR UPDATE')
    await s.query('FETCH c1')
    expect(await run(s, 'UPDATE uctest SET f1 = 8 WHERE CURRENT OF c1')).toEqual({ tag: 'UPDATE 1', rows: [] })
    expect(await run(s, 'UPDATE uctest SET f1 = f1 + 10 WHERE CURRENT OF c1 RETURNING *')).toEqual({ tag: 'UPDATE 1', rows: [[18, 'one']] })
    expect(await run(s, 'DELETE FROM uctest WHERE CURRENT OF c1')).toEqual({ tag: 'DELETE 1', rows: [] })
    // The row is gone: a second DELETE through the cursor is a no-op.
    expect(await run(s, 'DELETE FROM uctest WHERE CURRENT OF c1')).toEqual({ tag: 'DELETE 0', rows: [] })
    await s.query('ROLLBACK')
    expect(await run(s, 'SELECT * FROM uctest ORDER BY f1')).toEqual({ tag: 'SELECT 2', rows: [[1, 'one'], [3, 'three']] })
    await s.close()
  })

  it('finds rows by primary key through a cursor that does not select it', async () => {
    const s = db.session()
    await s.query('CREATE TABLE cpk (id int PRIMARY KEY, v text)')
    await s.query("INSERT INTO cpk VALUES (1, 'a'), (2, 'b')")
    await s.query('BEGIN')
    await s.query('DECLARE k CURSOR FOR SELECT v FROM cpk ORDER BY id')
    await s.query('FETCH 2 FROM k')
    expect(await run(s, "UPDATE cpk SET v = 'z' WHERE CURRENT OF k")).toEqual({ tag: 'UPDATE 1', rows: [] })
    await s.query('COMMIT')
    expect(await run(s, 'SELECT * FROM cpk ORDER BY id')).toEqual({ tag: 'SELECT 2', rows: [[1, 'a'], [2, 'z']] })
    await s.close()
  })

  it('refuses a missing cursor (34000), one on no row, on an aggregate, on another table or held from an earlier transaction (24000)', async () => {
    const s = db.session()
    await s.query('CREATE TABLE ucx (f1 int)')
    await s.query('CREATE TABLE ucy (f1 int)')
    await s.query('INSERT INTO ucx VALUES (1), (2)')
    await s.query('BEGIN')
    expect(await run(s, 'DELETE FROM ucx WHERE CURRENT OF nope')).toEqual({ code: '34000' })
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('DECLARE c1 CURSOR FOR SELECT * FROM ucx')
    expect(await run(s, 'DELETE FROM ucx WHERE CURRENT OF c1')).toEqual({ code: '24000' })
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('DECLARE c CURSOR FOR SELECT count(*) FROM ucx')
    await s.query('FETCH c')
    expect(await run(s, 'DELETE FROM ucx WHERE CURRENT OF c')).toEqual({ code: '24000' })
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('DECLARE c CURSOR FOR SELECT * FROM ucy')
    await s.query('FETCH c')
    expect(await run(s, 'DELETE FROM ucx WHERE CURRENT OF c')).toEqual({ code: '24000' })
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('DECLARE cx CURSOR WITH HOLD FOR SELECT * FROM ucx')
    await s.query('COMMIT')
    await s.query('FETCH cx')
    expect(await run(s, 'DELETE FROM ucx WHERE CURRENT OF cx')).toEqual({ code: '24000' })
    expect(await run(s, 'SELECT count(*) FROM ucx')).toEqual({ tag: 'SELECT 1', rows: [['2']] })
    await s.close()
  })
})
