import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

/**
 * GROUP BY keys a single grouping value that is a number, string or boolean by the value
 * itself and every other by its group key text (plan/select.ts): both must group as
 * PostgreSQL does.
 */
describe('GROUP BY', () => {
  let db: Database
  afterEach(async () => {
    await db.close()
  })

  it('groups floats with 0 and -0 together, NaN with NaN, and NULL apart, in first-seen order', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    await db.query('CREATE TABLE f (id INT PRIMARY KEY, x FLOAT8, t TEXT, b BOOL, n NUMERIC, k INT8)')
    await db.query(`INSERT INTO f VALUES (1, 0, 'a', true, 1.0, 1), (2, '-0', 'a', false, 1.00, 1), (3, 'NaN', 'b', NULL, NULL, NULL),
      (4, 'NaN', NULL, true, 2, 2), (5, NULL, 'b', NULL, NULL, 2), (6, NULL, '1', false, 2.0, NULL), (7, 1, '', true, 1, 1)`)
    const q = async (col: string): Promise<unknown[]> => {
      const r = await db.query(`SELECT coalesce(${col}::text, 'NULL') || ':' || count(*) || ':' || sum(id) AS r FROM f GROUP BY ${col} ORDER BY count(*) DESC, sum(id), ${col}`)
      return r.rows.map((row) => row['r'])
    }
    expect(await q('x')).toEqual(['0:2:3', 'NaN:2:7', 'NULL:2:11', '1:1:7'])
    expect(await q('t')).toEqual(['a:2:3', 'b:2:8', 'NULL:1:4', '1:1:6', ':1:7'])
    expect(await q('b')).toEqual(['true:3:12', 'false:2:8', 'NULL:2:8'])
    expect(await q('n')).toEqual(['1.0:3:10', 'NULL:2:8', '2:2:10'])
    expect(await q('k')).toEqual(['1:3:10', '2:2:9', 'NULL:2:9'])
    // Two grouping values: keyed by text.
    const two = await db.query(`SELECT b, t, count(*) AS c FROM f GROUP BY b, t ORDER BY c DESC, b, t`)
    expect(two.rows.map((r) => `${r['b']}/${r['t']}/${r['c']}`)).toEqual(['null/b/2', 'false/1/1', 'false/a/1', 'true//1', 'true/a/1', 'true/null/1'])
  })

  it('count() without * or an argument is 42809 as in PostgreSQL, in GROUP BY and over a window (it counted every row)', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    await db.query('CREATE TABLE c (id INT PRIMARY KEY, g INT); INSERT INTO c VALUES (1, 1), (2, 1), (3, 2)')
    const code = async (sql: string): Promise<string | null> => db.query(sql).then(() => null, (e: { code?: string }) => e.code ?? 'no code')
    expect(await code('SELECT count() FROM c')).toBe('42809')
    expect(await code('SELECT g, count() FROM c GROUP BY g')).toBe('42809')
    expect(await code('SELECT count() OVER () FROM c')).toBe('42809')
    expect(await code('SELECT count(id, g) FROM c')).toBe('42883')
    expect((await db.query('SELECT count(*) AS a, count(g) AS b, count(*) OVER () AS w FROM c GROUP BY ()')).rows).toEqual([{ a: '3', b: '3', w: '1' }])
  })

  it('sum() of float -0 values is -0, as PostgreSQL (it started from +0)', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    expect((await db.query(`SELECT sum(x)::text AS s, avg(x)::text AS a, sum(x::float4)::text AS s4 FROM (VALUES ('-0'::float8), ('-0')) v(x)`)).rows)
      .toEqual([{ s: '-0', a: '0', s4: '-0' }])
  })

  it('variance and stddev over no rows are NULL (an internal error before); DISTINCT aggregates list their values ascending (first-seen before)', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    await db.query(`CREATE TABLE v (id INT PRIMARY KEY, g TEXT, x INT); INSERT INTO v VALUES (1, 'a', 2), (2, 'a', 1), (3, 'a', 2), (4, 'b', NULL), (5, 'b', 3), (6, 'b', 1)`)
    expect((await db.query('SELECT stddev_samp(x) AS a, variance(x) AS b, stddev(x) AS c, var_pop(x) AS d, stddev_pop(x) AS e, var_samp(x::float8) AS f FROM v WHERE false')).rows)
      .toEqual([{ a: null, b: null, c: null, d: null, e: null, f: null }])
    const r = await db.query(`SELECT g, array_agg(DISTINCT x) AS a, string_agg(DISTINCT x::text, ',') AS s, json_agg(DISTINCT x)::text AS j,
      array_agg(DISTINCT x ORDER BY x DESC) AS d FROM v GROUP BY g ORDER BY g`)
    expect(r.rows).toEqual([
      { g: 'a', a: '{1,2}', s: '1,2', j: '[1, 2]', d: '{2,1}' },
      { g: 'b', a: '{1,3,NULL}', s: '1,3', j: '[1, 3, null]', d: '{NULL,3,1}' },
    ])
  })

  it('percentile_cont, percentile_disc and mode WITHIN GROUP (ORDER BY ..), by group, with FILTER and arrays of fractions (42883 before)', async () => {
    db = await openDatabase({ nodeId: 'g1' })
    await db.query(`CREATE TABLE p (id INT PRIMARY KEY, g TEXT, x INT, i INTERVAL); INSERT INTO p VALUES
      (1, 'a', 1, '1 day'), (2, 'a', 2, '3 days'), (3, 'a', NULL, '2 hours'), (4, 'b', 2, NULL), (5, 'b', 5, '1 hour'), (6, 'b', 1, '1 day')`)
    const r = await db.query(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS a, percentile_cont(0.25) WITHIN GROUP (ORDER BY x) AS b,
      percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS c, mode() WITHIN GROUP (ORDER BY x) AS d,
      percentile_cont(array[0, 0.3, 1]) WITHIN GROUP (ORDER BY x DESC) AS e, percentile_cont(0.5) WITHIN GROUP (ORDER BY i)::text AS f,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FILTER (WHERE id > 2) AS g FROM p`)
    expect(r.rows).toEqual([{ a: 2, b: 1, c: 2, d: 1, e: '{5,2,1}', f: '1 day', g: 2 }])
    expect((await db.query(`SELECT g, percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS m, mode() WITHIN GROUP (ORDER BY x DESC) AS o FROM p GROUP BY g ORDER BY g`)).rows)
      .toEqual([{ g: 'a', m: 1, o: 2 }, { g: 'b', m: 2, o: 5 }])
    expect((await db.query('SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS n FROM p WHERE false')).rows).toEqual([{ n: null }])
    const code = async (sql: string): Promise<string | null> => db.query(sql).then(() => null, (e: { code?: string }) => e.code ?? 'no code')
    expect(await code('SELECT percentile_cont(1.5) WITHIN GROUP (ORDER BY x) FROM p')).toBe('22003')
    expect(await code('SELECT percentile_cont(0.5) FROM p')).toBe('42883')
  })
})

