import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function one(sql: string, params?: unknown[]): Promise<unknown> {
  const r = await db.query(sql, params)
  return r.rowArrays[0]?.[0]
}

async function code(sql: string): Promise<string | undefined> {
  try {
    await db.query(sql)
  } catch (e) {
    return (e as { code?: string }).code
  }
  return undefined
}

describe('arrays in expressions (issue 11 reproductions)', () => {
  it('types an untyped literal right of = ANY by the left side', async () => {
    expect(await one(`SELECT 'A-1' = ANY('{A-1,A-2}')`)).toBe(true)
    expect(await one(`SELECT 'A-3' = ANY('{A-1,A-2}')`)).toBe(false)
    expect(await one(`SELECT 33 = ANY('{1,2,33}')`)).toBe(true)
  })

  it('subscripts an array cast from text by element, not by character', async () => {
    expect(await one(`SELECT ('{a,b}'::text[])[1]`)).toBe('a')
    expect(await one(`SELECT ('{"x,y",b}'::text[])[1]`)).toBe('x,y')
  })

  it('compares with = ANY over a typed array without an internal error', async () => {
    expect(await one(`SELECT 2 = ANY('{1,2}'::int[])`)).toBe(true)
    expect(await one(`SELECT 2.0 = ANY('{1,2}'::int[])`)).toBe(true)
  })

  it('binds a JS array parameter for x = ANY($1)', async () => {
    await db.query('CREATE TABLE codes (id INT PRIMARY KEY, code TEXT)')
    await db.query(`INSERT INTO codes VALUES (1, 'A-1'), (2, 'A-2'), (3, 'B "3"')`)
    const r = await db.query('SELECT id FROM codes WHERE code = ANY($1) ORDER BY id', [['A-2', 'B "3"', 'none']])
    expect(r.rows).toEqual([{ id: 2 }, { id: 3 }])
    const ids = await db.query('SELECT code FROM codes WHERE id = ANY($1) ORDER BY id', [[1, 3]])
    expect(ids.rows).toEqual([{ code: 'A-1' }, { code: 'B "3"' }])
    expect((await db.query('SELECT id FROM codes WHERE id = ANY($1)', [[]])).rows).toEqual([])
  })

  it('answers deep nesting with 54000 instead of crashing, and prints nested text linearly', async () => {
    expect(await code('SELECT ' + 'ARRAY['.repeat(30) + '1' + ']'.repeat(30))).toBe('54000')
    expect(await code(`SELECT ('${'{'.repeat(30)}1${'}'.repeat(30)}'::int[])`)).toBe('54000')
    // Five levels around an element that needs quoting: no escaping compounds per level.
    expect(await one(`SELECT ARRAY[ARRAY[ARRAY[ARRAY[ARRAY['a"b']]]]]`)).toBe('{{{{{"a\\"b"}}}}}')
  })

  it('indexes nested arrays by dimension', async () => {
    expect(await one('SELECT (ARRAY[ARRAY[1,2],ARRAY[3,4]])[2][1]')).toBe(3)
    expect(await one('SELECT (ARRAY[ARRAY[1,2],ARRAY[3,4]])[2]')).toBeNull()
    expect(await one('SELECT (ARRAY[ARRAY[1,2],ARRAY[3,4]])[2:2]')).toBe('{{3,4}}')
  })
})

describe('arrays in expressions', () => {
  it('returns array values as PostgreSQL text with array field types', async () => {
    const r = await db.query(`SELECT ARRAY[1,NULL]::int8[] AS a, '[0:1]={x,"y z"}'::text[] AS t`)
    expect(r.rows[0]).toEqual({ a: '{1,NULL}', t: '[0:1]={x,"y z"}' })
    expect(r.fields.map((f) => [f.type, f.oid, f.isArray])).toEqual([['bigint[]', 1016, true], ['text[]', 1009, true]])
  })

  it('rejects bad array input with PostgreSQL SQLSTATEs, never XX000', async () => {
    expect(await code(`SELECT '{1,2'::int[]`)).toBe('22P02')
    expect(await code(`SELECT ARRAY[[1],[2,3]]`)).toBe('2202E')
    expect(await code(`SELECT ARRAY[]`)).toBe('42P18')
    expect(await code(`SELECT 1 * ANY('{1}')`)).toBe('42809')
    expect(await code(`SELECT 1 = ANY(1)`)).toBe('42809')
    expect(await code(`SELECT (now())[1]`)).toBe('42804')
    expect(await code(`SELECT array_agg(a) FROM (VALUES (ARRAY[1]), (ARRAY[1,2])) v(a)`)).toBe('2202E')
    expect(await code(`SELECT unnest('{1}')`)).toBe('42804')
  })

  it('keeps IN lists working beside array comparisons', async () => {
    expect(await one('SELECT 2 IN (1, 2, 3)')).toBe(true)
    expect(await one(`SELECT ARRAY[1,2] IN (ARRAY[1,2], ARRAY[3])`)).toBe(true)
  })

  it('accumulates array_agg of arrays into one more dimension', async () => {
    expect(await one('SELECT array_agg(ARRAY[g, -g] ORDER BY g) FROM generate_series(1,3) g')).toBe('{{1,-1},{2,-2},{3,-3}}')
  })
})
