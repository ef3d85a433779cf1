import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

describe('SQL PREPARE / EXECUTE / DEALLOCATE', () => {
  let db: Database | null = null
  afterEach(async () => {
    await db?.close()
    db = null
  })

  it('EXECUTE runs the prepared statement with its arguments cast to the declared types', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    await db.query('PREPARE one (int) AS SELECT v FROM t WHERE id = $1')
    expect((await db.query('EXECUTE one(2)')).rowArrays).toEqual([['b']])
    expect((await db.query("EXECUTE one('3')")).rowArrays).toEqual([['c']])
    await db.query('PREPARE untyped AS SELECT $1 || v FROM t WHERE id < $2 ORDER BY id')
    const r = await db.query("EXECUTE untyped('x', 1 + 2)")
    expect(r.commandTag).toBe('SELECT 2')
    expect(r.rowArrays).toEqual([['xa'], ['xb']])
    await db.query('PREPARE ins (int, text) AS INSERT INTO t VALUES ($1, $2) RETURNING id')
    expect((await db.query("EXECUTE ins(4, 'd')")).rowArrays).toEqual([[4]])
    expect((await db.query('SELECT count(*) FROM t')).rowArrays).toEqual([['4']])
  })

  it('names are per session; duplicates 42P05, unknown 26000, wrong argument count 42601; DEALLOCATE [ALL]', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('PREPARE p (int) AS SELECT $1 + 1')
    expect(await sqlState(db, 'PREPARE p AS SELECT 1')).toBe('42P05')
    expect(await sqlState(db, 'EXECUTE p')).toBe('42601')
    expect(await sqlState(db.session(), 'EXECUTE p(1)')).toBe('26000')
    expect((await db.query("SELECT name, statement, parameter_types[1]::text FROM pg_prepared_statements")).rowArrays)
      .toEqual([['p', 'PREPARE p (int) AS SELECT $1 + 1', 'integer']])
    await db.query('DEALLOCATE p')
    expect(await sqlState(db, 'EXECUTE p(1)')).toBe('26000')
    expect(await sqlState(db, 'DEALLOCATE p')).toBe('26000')
    await db.query('PREPARE a AS SELECT 1; PREPARE b AS SELECT 2')
    await db.query('DEALLOCATE ALL')
    expect(await sqlState(db, 'EXECUTE a')).toBe('26000')
  })
})
