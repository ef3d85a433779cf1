import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

// Answers checked on PostgreSQL 15.
describe('temporary sequences (CREATE TEMP SEQUENCE)', () => {
  it('draw 1, 2, .. in their session, shadow a permanent sequence and are gone for other sessions', async () => {
    db = await openDatabase({ nodeId: 'tseq1' })
    await db.query('CREATE SEQUENCE shared_s START 100')
    const s = db.session()
    await s.query('CREATE TEMP SEQUENCE ts1')
    expect((await s.query(`SELECT nextval('ts1'), nextval('ts1')`)).rowArrays).toEqual([['1', '2']])
    expect((await s.query(`SELECT currval('ts1')`)).rowArrays).toEqual([['2']])
    await s.query('CREATE TEMP SEQUENCE shared_s START 5')
    expect((await s.query(`SELECT nextval('shared_s')`)).rowArrays).toEqual([['5']])
    expect(await sqlState(s, 'CREATE TEMP SEQUENCE ts1')).toBe('42P07')
    expect(await sqlState(s, 'CREATE TEMP SEQUENCE public.x')).toBe('42P16')
    // Other sessions see the permanent sequence only.
    expect(await sqlState(db.session(), `SELECT nextval('ts1')`)).toBe('42P01')
    expect((await db.query(`SELECT nextval('shared_s')`)).rowArrays).toEqual([['100']])
    // DROP drops the temporary one first, uncovering the permanent one.
    await s.query('DROP SEQUENCE shared_s')
    expect((await s.query(`SELECT nextval('shared_s')`)).rowArrays).toEqual([['101']])
    await s.query('DROP SEQUENCE ts1')
    expect(await sqlState(s, `SELECT nextval('ts1')`)).toBe('42P01')
  })

  it('honour MAXVALUE, CYCLE, setval and ALTER SEQUENCE', async () => {
    db = await openDatabase({ nodeId: 'tseq2' })
    const s = db.session()
    await s.query('CREATE TEMP SEQUENCE small MAXVALUE 2')
    expect((await s.query(`SELECT nextval('small'), nextval('small')`)).rowArrays).toEqual([['1', '2']])
    expect(await sqlState(s, `SELECT nextval('small')`)).toBe('2200H')
    await s.query('CREATE TEMP SEQUENCE cyc MAXVALUE 2 CYCLE')
    expect((await s.query(`SELECT nextval('cyc'), nextval('cyc'), nextval('cyc')`)).rowArrays).toEqual([['1', '2', '1']])
    await s.query('CREATE TEMPORARY SEQUENCE t2')
    expect((await s.query(`SELECT setval('t2', 10)`)).rowArrays).toEqual([['10']])
    expect((await s.query(`SELECT nextval('t2')`)).rowArrays).toEqual([['11']])
    await s.query('ALTER SEQUENCE t2 INCREMENT BY 10')
    expect((await s.query(`SELECT nextval('t2')`)).rowArrays).toEqual([['21']])
    await s.query('ALTER SEQUENCE t2 RESTART WITH 3')
    expect((await s.query(`SELECT nextval('t2')`)).rowArrays).toEqual([['3']])
    // A READ ONLY transaction may draw from and set a temporary sequence only.
    await s.query('CREATE SEQUENCE perm_s')
    await s.query('START TRANSACTION READ ONLY')
    expect((await s.query(`SELECT nextval('t2')`)).rowArrays).toEqual([['13']])
    expect(await sqlState(s, `SELECT nextval('perm_s')`)).toBe('25006')
    await s.query('ROLLBACK')
    await s.query('START TRANSACTION READ ONLY')
    expect((await s.query(`SELECT setval('t2', 1)`)).rowArrays).toEqual([['1']])
    expect(await sqlState(s, `SELECT setval('perm_s', 1)`)).toBe('25006')
    await s.query('ROLLBACK')
    // A temporary sequence is listed as a sequence in pg_class.
    expect((await s.query(`SELECT relkind FROM pg_class WHERE relname = 't2'`)).rowArrays).toEqual([['S']])
  })
})
