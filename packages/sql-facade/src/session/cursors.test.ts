import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

describe('SQL cursors', () => {
  let db: Database | null = null
  afterEach(async () => {
    await db?.close()
    db = null
  })

  const ids = async (s: { query(sql: string): Promise<{ rowArrays: unknown[][] }> }, sql: string) => (await s.query(sql)).rowArrays.map((r) => r[0])

  it('FETCH and MOVE in every direction, positioned as PostgreSQL', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 5)')
    const s = db.session()
    await s.query('BEGIN')
    await s.query('DECLARE c SCROLL CURSOR FOR SELECT id FROM t ORDER BY id')
    expect(await ids(s, 'FETCH 2 FROM c')).toEqual([1, 2])
    expect(await ids(s, 'FETCH NEXT c')).toEqual([3])
    expect(await ids(s, 'FETCH PRIOR c')).toEqual([2])
    expect(await ids(s, 'FETCH FIRST c')).toEqual([1])
    expect(await ids(s, 'FETCH LAST c')).toEqual([5])
    expect(await ids(s, 'FETCH ABSOLUTE 2 c')).toEqual([2])
    expect(await ids(s, 'FETCH RELATIVE 2 IN c')).toEqual([4])
    expect(await ids(s, 'FETCH RELATIVE 0 c')).toEqual([4])
    expect(await ids(s, 'FETCH BACKWARD ALL c')).toEqual([3, 2, 1])
    expect((await s.query('MOVE FORWARD 3 IN c')).commandTag).toBe('MOVE 3')
    const rest = await s.query('FETCH ALL c')
    expect(rest.commandTag).toBe('FETCH 2')
    expect(rest.rowArrays).toEqual([[4], [5]])
    expect(await ids(s, 'FETCH NEXT c')).toEqual([])
    expect(await ids(s, 'FETCH BACKWARD 2 c')).toEqual([5, 4])
    expect(await ids(s, 'FETCH ABSOLUTE -2 c')).toEqual([4])
    await s.query('DECLARE f NO SCROLL CURSOR FOR SELECT id FROM t ORDER BY id')
    expect(await ids(s, 'FETCH f')).toEqual([1])
    expect(await sqlState(s, 'FETCH BACKWARD 1 f')).toBe('55000')
    await s.query('ROLLBACK')
  })

  it('without WITH HOLD only inside a block (25P01); WITH HOLD survives COMMIT, not ROLLBACK; CLOSE [ALL]', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 3)')
    const s = db.session()
    expect(await sqlState(s, 'DECLARE c CURSOR FOR SELECT id FROM t')).toBe('25P01')
    await s.query('BEGIN')
    await s.query('DECLARE c CURSOR FOR SELECT id FROM t ORDER BY id')
    expect(await sqlState(s, 'DECLARE c CURSOR FOR SELECT 1')).toBe('42P03')
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    expect(await sqlState(s, 'DECLARE b BINARY CURSOR FOR SELECT 1')).toBe('0A000')
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('DECLARE plain CURSOR FOR SELECT id FROM t ORDER BY id')
    await s.query('DECLARE held CURSOR WITH HOLD FOR SELECT id FROM t ORDER BY id')
    await s.query('COMMIT')
    expect(await sqlState(s, 'FETCH plain')).toBe('34000')
    expect(await ids(s, 'FETCH 2 held')).toEqual([1, 2])
    // Rows are those of the DECLARE: later writes are not seen through the cursor.
    await s.query('INSERT INTO t VALUES (4)')
    expect(await ids(s, 'FETCH ALL held')).toEqual([3])
    await s.query('BEGIN')
    await s.query('DECLARE gone CURSOR WITH HOLD FOR SELECT 1')
    await s.query('ROLLBACK')
    expect(await sqlState(s, 'FETCH gone')).toBe('34000')
    await s.query('CLOSE held')
    expect(await sqlState(s, 'CLOSE held')).toBe('34000')
    await s.query('DECLARE a CURSOR WITH HOLD FOR SELECT 1')
    expect((await s.query('SELECT name, is_holdable, is_scrollable FROM pg_cursors')).rowArrays).toEqual([['a', true, true]])
    await s.query('CLOSE ALL')
    expect(await sqlState(s, 'FETCH a')).toBe('34000')
  })
})
