import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

describe('set-returning functions in the select list', () => {
  it('expands rows in lockstep, padding shorter calls with NULL', async () => {
    const r = await db.query('SELECT unnest(ARRAY[1,2]) AS u, generate_series(1,3) AS g')
    expect(r.rowArrays).toEqual([[1, 1], [2, 2], [null, 3]])
  })

  it('evaluates per input row, after grouping, and drops rows with no results', async () => {
    const r = await db.query('SELECT x, generate_series(1, x) AS g FROM (VALUES (0), (2)) v(x) ORDER BY x, g')
    expect(r.rowArrays).toEqual([[2, 1], [2, 2]])
    const agg = await db.query('SELECT unnest(array_agg(x ORDER BY x DESC)) AS u FROM (VALUES (1), (3)) v(x)')
    expect(agg.rowArrays).toEqual([[3], [1]])
    const nested = await db.query('SELECT abs(unnest(ARRAY[-1, 2])) + 1 AS a')
    expect(nested.rowArrays).toEqual([[2], [3]])
  })

  it('applies DISTINCT, ORDER BY and LIMIT to the expanded rows', async () => {
    const r = await db.query('SELECT DISTINCT unnest(ARRAY[3,1,3,2]) AS u ORDER BY u LIMIT 2')
    expect(r.rowArrays).toEqual([[1], [2]])
  })

  it('refuses set-returning calls where PostgreSQL does (0A000)', async () => {
    for (const sql of [
      'SELECT 1 WHERE 1 = ANY(ARRAY[unnest(ARRAY[1])])',
      'SELECT coalesce(unnest(ARRAY[1]), 0)',
      'SELECT CASE WHEN true THEN unnest(ARRAY[1]) END',
      'SELECT sum(unnest(ARRAY[1]))',
    ]) {
      await expect(db.query(sql), sql).rejects.toMatchObject({ code: '0A000' })
    }
  })

  it('refuses a set-returning call nested in another one (PostgreSQL runs it; Concord says 0A000)', async () => {
    await expect(db.query('SELECT unnest(ARRAY[unnest(ARRAY[1])])')).rejects.toMatchObject({ code: '0A000' })
  })
})
