/**
 * FETCH FIRST n ROWS WITH TIES keeps the rows that sort equal to the last one (it was
 * read as a plain LIMIT: 2 rows where PostgreSQL answers 10 in pg-regress `limit`).
 * Answers checked on PostgreSQL 15.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

beforeAll(async () => {
  await db.rows('CREATE TABLE ties (a int, b text)')
  await db.rows("INSERT INTO ties VALUES (1, 'x'), (1, 'y'), (1, NULL), (2, 'x'), (3, 'z'), (NULL, 'n'), (NULL, 'm')")
})

describe('FETCH FIRST .. WITH TIES', () => {
  it('keeps the rows tied with the last one on every ORDER BY key', async () => {
    expect(await db.rows('SELECT a FROM ties ORDER BY a FETCH FIRST 1 ROW WITH TIES')).toEqual([[1], [1], [1]])
    expect(await db.rows('SELECT a FROM ties ORDER BY a FETCH FIRST 4 ROWS WITH TIES')).toEqual([[1], [1], [1], [2]])
    expect(await db.rows('SELECT a FROM ties ORDER BY a FETCH FIRST ROWS WITH TIES')).toEqual([[1], [1], [1]])
    expect(await db.rows('SELECT a, b FROM ties ORDER BY a, b FETCH FIRST 1 ROW WITH TIES')).toEqual([[1, 'x']])
    expect(await db.rows('SELECT a FROM ties ORDER BY a OFFSET 2 FETCH FIRST 1 ROW WITH TIES')).toEqual([[1]])
    expect(await db.rows('SELECT a FROM ties ORDER BY a OFFSET 3 FETCH FIRST 1 ROW WITH TIES')).toEqual([[2]])
    // NULLs tie with each other (last in ascending order).
    expect(await db.rows('SELECT b FROM ties ORDER BY a NULLS FIRST, b FETCH FIRST 0 ROWS WITH TIES')).toEqual([])
    expect(await db.rows('SELECT a FROM ties ORDER BY a NULLS FIRST FETCH FIRST 1 ROW WITH TIES')).toEqual([[null], [null]])
    expect(await db.rows('SELECT count(*)::int FROM (SELECT a FROM ties ORDER BY a DESC FETCH FIRST 1 ROW WITH TIES) s')).toEqual([[2]])
    // Over a set operation and VALUES too.
    expect(await db.rows('SELECT a FROM ties UNION ALL SELECT 1 ORDER BY 1 FETCH FIRST 2 ROWS WITH TIES')).toEqual([[1], [1], [1], [1]])
  })

  it('refuses what PostgreSQL refuses', async () => {
    expect(await db.code('SELECT a FROM ties FETCH FIRST 1 ROW WITH TIES')).toBe('42601')
    expect(await db.code('SELECT a FROM ties ORDER BY a FETCH FIRST NULL ROWS WITH TIES')).toBe('2201W')
  })
})
