import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE baskets (id INT PRIMARY KEY, fruit TEXT[])')
  await db.query(`INSERT INTO baskets VALUES (1, '{apple,pear}'), (2, '{}'), (3, NULL), (4, '{fig}')`)
})

afterAll(async () => {
  await db.close()
})

describe('functions in FROM', () => {
  it('unnests an array into rows, the lone column named after the alias', async () => {
    const r = await db.query(`SELECT * FROM unnest('{x,NULL,y}'::text[]) AS t`)
    expect(r.fields.map((f) => f.name)).toEqual(['t'])
    expect(r.rowArrays).toEqual([['x'], [null], ['y']])
  })

  it('zips several arrays and numbers the rows WITH ORDINALITY', async () => {
    const r = await db.query(`SELECT * FROM unnest(ARRAY[1,2,3], ARRAY['a','b']) WITH ORDINALITY AS z(n, s, k)`)
    expect(r.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['n:integer', 's:text', 'k:bigint'])
    expect(r.rowArrays).toEqual([[1, 'a', '1'], [2, 'b', '2'], [3, null, '3']])
  })

  it('runs ROWS FROM side by side, padding the shorter function with NULL', async () => {
    const r = await db.query('SELECT a, b FROM ROWS FROM (generate_series(1,3), unnest(ARRAY[10])) AS r(a, b)')
    expect(r.rowArrays).toEqual([[1, 10], [2, null], [3, null]])
  })

  it('sees earlier FROM items without LATERAL, as PostgreSQL does', async () => {
    const r = await db.query('SELECT b.id, f FROM baskets b, unnest(b.fruit) AS f ORDER BY b.id, f')
    expect(r.rowArrays).toEqual([[1, 'apple'], [1, 'pear'], [4, 'fig']])
    const left = await db.query('SELECT b.id, f FROM baskets b LEFT JOIN unnest(b.fruit) AS f ON true ORDER BY b.id, f')
    expect(left.rowArrays).toEqual([[1, 'apple'], [1, 'pear'], [2, null], [3, null], [4, 'fig']])
  })

  it('serves generate_subscripts, string_to_table and ordinary functions as one-row tables', async () => {
    expect((await db.query(`SELECT s FROM generate_subscripts('[3:4]={7,8}'::int[], 1, true) AS s`)).rowArrays).toEqual([[4], [3]])
    expect((await db.query(`SELECT * FROM string_to_table('a|b', '|') AS g(v)`)).rowArrays).toEqual([['a'], ['b']])
    expect((await db.query(`SELECT * FROM upper('abc')`)).rows).toEqual([{ upper: 'ABC' }])
  })

  it('rejects what it cannot run with a SQLSTATE', async () => {
    await expect(db.query('SELECT * FROM unnest(1)')).rejects.toMatchObject({ code: '42883' })
    await expect(db.query(`SELECT * FROM unnest(ARRAY[1]) AS t(a, b)`)).rejects.toMatchObject({ code: '42P10' })
    await expect(db.query('SELECT * FROM generate_series(1, 3, 0)')).rejects.toMatchObject({ code: '22023' })
  })
})
