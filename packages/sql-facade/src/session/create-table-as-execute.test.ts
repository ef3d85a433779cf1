import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

// Answers checked on PostgreSQL 15.
describe('CREATE TABLE .. AS EXECUTE', () => {
  it('fills the table from a prepared SELECT with its arguments', async () => {
    await db.rows(`PREPARE sel(int) AS SELECT $1 + 1 AS b, 'x' AS c`)
    await db.rows('CREATE TABLE ctx1 (q) AS EXECUTE sel(5)')
    expect(await db.rows('SELECT * FROM ctx1')).toEqual([[6, 'x']])
    await db.rows('CREATE TABLE ctx2 AS EXECUTE sel(5) WITH NO DATA')
    expect(await db.rows('SELECT * FROM ctx2')).toEqual([])
    expect(await db.rows(`SELECT attname FROM pg_attribute WHERE attrelid = 'ctx2'::regclass AND attnum > 0 ORDER BY attnum`)).toEqual([['b'], ['c']])
    expect(await db.code('CREATE TABLE ctx1 AS EXECUTE sel(5)')).toBe('42P07')
    expect(await db.code('CREATE TABLE IF NOT EXISTS ctx1 AS EXECUTE sel(5)')).toBeUndefined()
    expect(await db.code('CREATE TABLE ctx3 AS EXECUTE nosuch')).toBe('26000')
    await db.rows('CREATE TABLE ctx_t (a int)')
    await db.rows('PREPARE ins(int) AS INSERT INTO ctx_t VALUES ($1)')
    expect(await db.code('CREATE TABLE ctx4 AS EXECUTE ins(1)')).toBe('42809')
    expect(await db.rows(`SELECT count(*)::int FROM pg_class WHERE relname IN ('ctx3', 'ctx4')`)).toEqual([[0]])
  })
})
