/**
 * Several statements in one query string (psql -c 'a; b', node-postgres query('a; b'))
 * run as one implicit transaction, as in PostgreSQL: an error undoes them all. Before,
 * each committed on its own, so `CREATE TABLE m; INSERT ..; INSERT <duplicate>` answered
 * with the error and kept the table and the first row.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('a multi-statement query', () => {
  it('is undone whole when one of its statements fails, and commits whole otherwise', async () => {
    db = await openDatabase({ nodeId: 'imp1' })
    const s = db.session()
    expect(await sqlState(s, 'CREATE TABLE m (a int PRIMARY KEY); INSERT INTO m VALUES (1); INSERT INTO m VALUES (1)')).toBe('23505')
    expect(await sqlState(s, 'SELECT * FROM m')).toBe('42P01')
    expect(s.inTransaction).toBe(false)
    const results = await s.queryAll('CREATE TABLE m (a int PRIMARY KEY); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2) RETURNING a')
    expect(results.map((r) => r.commandTag)).toEqual(['CREATE TABLE', 'INSERT 0 1', 'INSERT 0 1'])
    expect((await s.query("SET work_mem = '7MB'; INSERT INTO m VALUES (1)").catch(() => null))).toBeNull()
    expect((await s.query('SHOW work_mem')).rowArrays).toEqual([['4MB']])
    expect((await db.query('SELECT count(*)::int FROM m')).rowArrays).toEqual([[2]])
  })

  it('runs statement by statement when it controls transactions itself or holds one that refuses a block', async () => {
    db = await openDatabase({ nodeId: 'imp2' })
    const s = db.session()
    await s.query('CREATE TABLE m (a int PRIMARY KEY)')
    expect(await sqlState(s, 'INSERT INTO m VALUES (1); BEGIN; INSERT INTO m VALUES (1)')).toBe('23505')
    await s.query('ROLLBACK')
    expect(await sqlState(s, 'INSERT INTO m VALUES (2); VACUUM m')).toBeNull()
    expect((await s.query('SELECT count(*)::int FROM m')).rowArrays).toEqual([[2]])
  })

  it('fails whole on a deferred check at its end', async () => {
    db = await openDatabase({ nodeId: 'imp3' })
    const s = db.session()
    await s.query('CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY, p int REFERENCES p DEFERRABLE INITIALLY DEFERRED)')
    expect(await sqlState(s, 'INSERT INTO c VALUES (1, 5); INSERT INTO p VALUES (6)')).toBe('23503')
    expect(s.inTransaction).toBe(false)
    expect((await s.query('SELECT (SELECT count(*)::int FROM p), (SELECT count(*)::int FROM c)')).rowArrays).toEqual([[0, 0]])
    await s.query('INSERT INTO c VALUES (1, 5); INSERT INTO p VALUES (5)')
    expect((await s.query('SELECT count(*)::int FROM c')).rowArrays).toEqual([[1]])
  })
})
