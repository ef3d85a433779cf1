import { describe, expect, it } from 'vitest'
import { openDatabase } from '../database.js'

// Expected texts are PostgreSQL 15's answers to the same queries.
describe('json text as PostgreSQL writes it', () => {
  it('to_json, json_build_array, json_build_object and json_agg keep numeric text, write ISO timestamps and PostgreSQL spacing', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    const r = await db.query(`SELECT to_json('2020-01-02 03:04:05.5'::timestamp) AS a, to_json('2020-01-02 03:04:05+00'::timestamptz) AS b,
      json_build_object('a', 1.50, 'b', 'x') AS c, json_build_array(array[1,2], '"x"'::json, '{"a":  1}'::json, '{"a": 1}'::jsonb) AS d,
      to_json(array[1.50,2.0]) AS e, to_json('NaN'::numeric) AS f, to_json('2020-01-01'::date) AS g, json_build_array() AS h`)
    expect(r.rows[0]).toEqual({
      a: '"2020-01-02T03:04:05.5"', b: '"2020-01-02T03:04:05+00:00"', c: '{"a" : 1.50, "b" : "x"}', d: '[[1,2], "x", {"a":  1}, {"a": 1}]',
      e: '[1.50,2.0]', f: '"NaN"', g: '"2020-01-01"', h: '[]',
    })
    expect((await db.query('SELECT json_agg(x) AS j FROM (VALUES (1.50), (NULL), (2)) v(x)')).rows).toEqual([{ j: '[1.50, null, 2]' }])
    expect((await db.query("SELECT json_agg(x) AS j FROM (VALUES ('2020-01-02 03:04:05'::timestamp)) v(x)")).rows).toEqual([{ j: '["2020-01-02T03:04:05"]' }])
    await db.close()
  })
})
