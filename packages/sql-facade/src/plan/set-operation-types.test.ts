/**
 * The operands of UNION / INTERSECT / EXCEPT leave an untyped literal's type to the set
 * operation, which takes it from the other operands (`SELECT 1 UNION SELECT NULL` was
 * 42804, "UNION types integer and text cannot be matched"). Answers checked on PostgreSQL 15.
 */
import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

describe('set operations over untyped literals', () => {
  it('resolve NULL and quoted literals from the other operands', async () => {
    expect(await db.rows('SELECT 1 UNION SELECT NULL ORDER BY 1')).toEqual([[1], [null]])
    expect(await db.rows("SELECT 1 UNION SELECT '2' ORDER BY 1")).toEqual([[1], [2]])
    expect(await db.rows("SELECT 1.5 UNION SELECT '2' ORDER BY 1")).toEqual([['1.5'], ['2']])
    expect(await db.rows('SELECT 1 IN (SELECT 1 UNION SELECT NULL)')).toEqual([[true]])
    expect(await db.rows('SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT NULL ORDER BY 1')).toEqual([[1], [2], [null]])
    expect(await db.rows('SELECT pg_typeof(x)::text FROM (SELECT 1 AS x INTERSECT SELECT NULL) s')).toEqual([])
    expect(await db.rows('SELECT 1 EXCEPT SELECT NULL')).toEqual([[1]])
  })

  it('make text of operands that are all untyped, and refuse what cannot be read as the other type', async () => {
    expect(await db.rows('SELECT pg_typeof(x)::text FROM (SELECT NULL AS x UNION SELECT NULL) s')).toEqual([['text']])
    expect(await db.code("SELECT 1 UNION SELECT 'x'")).toBe('22P02')
  })
})
