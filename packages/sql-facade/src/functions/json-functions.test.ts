import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('JSON functions and operators', () => {
  it('keep the digits of integers past 2^53 (they read back rounded to a double before)', async () => {
    db = await openDatabase({ nodeId: 'jf0' })
    const big = '9007199254740993'
    const r = await db.query(`SELECT '{"id": ${big}, "s": "12345678901234567890"}'::jsonb AS j, to_jsonb(${big}::bigint) AS tj,
      jsonb_build_object('a', 12345678901234567890::numeric, 'b', -${big}::bigint) AS bo, ('{"id": ${big}}'::jsonb->>'id') AS t,
      ('{"id": ${big}}'::jsonb->'id')::bigint AS i, jsonb_typeof('${big}') AS ty, row_to_json(row(${big}::bigint)) AS rj,
      '[${big}, 9007199254740992, 1]'::jsonb @> '[${big}]' AS has, '${big}'::jsonb > '9007199254740992'::jsonb AS gt,
      '[${big}, 3]'::jsonb @? '$[*] ? (@ > 9007199254740992)' AS jp, jsonb_pretty('[${big}]') AS p`)
    expect(r.rowArrays).toEqual([[`{"s": "12345678901234567890", "id": ${big}}`, big, `{"a": 12345678901234567890, "b": -${big}}`, big, big, 'number', `{"f1":${big}}`, true, true, true, `[\n    ${big}\n]`]])
    await db.query('CREATE TABLE jbig (id int PRIMARY KEY, j jsonb)')
    await db.query(`INSERT INTO jbig VALUES (1, '{"ids": [${big}, 18446744073709551615]}')`)
    expect((await db.query("SELECT j->'ids'->>1 FROM jbig")).rowArrays).toEqual([['18446744073709551615']])
    expect(await sqlState(db, `SELECT '{"a": ${big}'::jsonb`)).toBe('22P02')
    expect(await sqlState(db, `SELECT '[${big}, 01]'::jsonb`)).toBe('22P02')
  })

  it('extract paths as functions, keeping json text as written and normalizing jsonb', async () => {
    db = await openDatabase({ nodeId: 'jf1' })
    const r = await db.query(`SELECT json_extract_path('{"a":{"b": [1,  2]}}', 'a', 'b') AS j, jsonb_extract_path('{"a":{"b": [1,  2]}}', 'a', 'b') AS jb,
      json_extract_path_text('{"a":{"b": ["x"]}}', 'a', 'b', '0') AS jt, jsonb_extract_path_text('{"a":1}', 'z') AS miss,
      '{"a" : [1, 2] , "a": {"x" : 1}}'::json -> 'a' AS dup, '[1, [2,  3]]'::json #> '{-1}' AS neg`)
    expect(r.rows).toEqual([{ j: '[1,  2]', jb: '[1, 2]', jt: 'x', miss: null, dup: '{"x" : 1}', neg: '[2,  3]' }])
  })

  it('test keys and containment with ?| ?& and the function forms', async () => {
    db = await openDatabase({ nodeId: 'jf2' })
    const r = await db.query(`SELECT '{"a":1,"b":2}'::jsonb ?| array['z','b'] AS any1, '{"a":1}'::jsonb ?& array['a','b'] AS all1,
      '["a", 1]'::jsonb ?| '{a}' AS arr, jsonb_exists('{"a":1}', 'a') AS e, jsonb_exists_all('{"a":1,"b":2}', '{a,b}') AS ea,
      jsonb_contains('{"a":[1,2]}', '{"a":[2]}') AS c, jsonb_contained('{"a":[2]}', '{"a":[1,2]}') AS cd, jsonb_exists_any('{"a":1}', '{x}') AS no`)
    expect(r.rows).toEqual([{ any1: true, all1: false, arr: true, e: true, ea: true, c: true, cd: true, no: false }])
  })

  it('delete keys and paths with - text[], #- and jsonb_delete, refusing scalars and non-integer array steps', async () => {
    db = await openDatabase({ nodeId: 'jf3' })
    const r = await db.query(`SELECT '{"a":1,"b":2,"c":3}'::jsonb - '{a,c}'::text[] AS k, '{"a":{"b":[1,2]}}'::jsonb #- '{a,b,-1}' AS p,
      '{"a":1}'::jsonb #- '{x,y}' AS none, jsonb_delete('{"a":1,"b":2}', 'a', 'b') AS d, jsonb_delete_path('["a",1]', '{0}') AS dp`)
    expect(r.rows).toEqual([{ k: '{"b": 2}', p: '{"a": {"b": [1]}}', none: '{"a": 1}', d: '{}', dp: '[1]' }])
    expect(await sqlState(db, `SELECT '"x"'::jsonb #- '{a}'`)).toBe('22023')
    expect(await sqlState(db, `SELECT '{"a":[1]}'::jsonb #- '{a,z}'`)).toBe('22P02')
  })

  it('strip nulls, pretty-print and build objects from text arrays with PostgreSQL errors', async () => {
    db = await openDatabase({ nodeId: 'jf4' })
    const r = await db.query(`SELECT json_strip_nulls('{"a": 1, "b": null, "c":[1, null, {"d": null}]}') AS s, jsonb_strip_nulls('{"a": null, "b": [null]}') AS sb,
      jsonb_pretty('{"a":[1,{}]}') AS p, json_object('{a,1,b,NULL}') AS o, jsonb_object('{{a,1},{b,2}}') AS ob, json_object('{a,b}', '{1,2}') AS o2`)
    expect(r.rows).toEqual([{ s: '{"a":1,"c":[1,null,{}]}', sb: '{"b": [null]}', p: '{\n    "a": [\n        1,\n        {\n        }\n    ]\n}',
      o: '{"a" : "1", "b" : null}', ob: '{"a": "1", "b": "2"}', o2: '{"a" : "1", "b" : "2"}' }])
    expect(await sqlState(db, `SELECT json_object('{a}')`)).toBe('2202E')
    expect(await sqlState(db, `SELECT json_object('{{a,b,c}}')`)).toBe('2202E')
    expect(await sqlState(db, `SELECT jsonb_object('{a,b}', '{1}')`)).toBe('2202E')
    expect(await sqlState(db, `SELECT json_object('{NULL,1}')`)).toBe('22004')
  })

  it('jsonb_set_lax treats an SQL NULL value as asked', async () => {
    db = await openDatabase({ nodeId: 'jf5' })
    const r = await db.query(`SELECT jsonb_set_lax('{"a":1,"b":2}', '{a}', null) AS u, jsonb_set_lax('{"a":1,"b":2}', '{a}', null, true, 'delete_key') AS d,
      jsonb_set_lax('{"a":1}', '{a}', null, true, 'return_target') AS t, jsonb_set_lax('{"a":1}', '{a}', '5') AS v`)
    expect(r.rows).toEqual([{ u: '{"a": null, "b": 2}', d: '{"b": 2}', t: '{"a": 1}', v: '{"a": 5}' }])
    expect(await sqlState(db, `SELECT jsonb_set_lax('{"a":1}', '{a}', null, true, 'raise_exception')`)).toBe('22004')
    expect(await sqlState(db, `SELECT jsonb_set_lax('{"a":1}', '{a}', null, true, 'bogus')`)).toBe('22023')
  })

  it('each, array_elements and object_keys give a row per member; json keeps duplicate keys and spelling', async () => {
    db = await openDatabase({ nodeId: 'jf6' })
    expect((await db.query(`SELECT * FROM json_each('{"a" : [1, 2] , "a": 1.50}')`)).rows).toEqual([{ key: 'a', value: '[1, 2]' }, { key: 'a', value: '1.50' }])
    expect((await db.query(`SELECT * FROM jsonb_each_text('{"b": "x", "a": null}')`)).rows).toEqual([{ key: 'a', value: null }, { key: 'b', value: 'x' }])
    expect((await db.query(`SELECT value FROM jsonb_array_elements('[1, {"a": 2}]')`)).rows).toEqual([{ value: '1' }, { value: '{"a": 2}' }])
    expect((await db.query(`SELECT json_array_elements_text('["x", null]') AS v`)).rows).toEqual([{ v: 'x' }, { v: null }])
    expect((await db.query(`SELECT json_object_keys('{"b":1,"a":2}') AS k`)).rows).toEqual([{ k: 'b' }, { k: 'a' }])
    expect((await db.query(`SELECT json_array_length('[1,2,3]') AS n`)).rows).toEqual([{ n: 3 }])
    expect(await sqlState(db, `SELECT * FROM jsonb_each('[1]')`)).toBe('22023')
    expect(await sqlState(db, `SELECT * FROM json_array_elements('{"a":1}')`)).toBe('22023')
    expect(await sqlState(db, `SELECT jsonb_object_keys('1')`)).toBe('22023')
  })

  it('json[b] builders take VARIADIC arrays and refuse non-scalar keys; jsonb || takes an untyped literal', async () => {
    db = await openDatabase({ nodeId: 'jf7' })
    const r = await db.query(`SELECT json_build_object(VARIADIC '{{1,4},{2,5}}'::int[]) AS o, jsonb_build_array(VARIADIC '{a,b}'::text[]) AS a,
      jsonb_build_object(VARIADIC NULL::text[]) AS n, '["a"]'::jsonb || '"c"' AS cat, '{"a":1}' || '{"b":2}'::jsonb AS cat2`)
    expect(r.rows).toEqual([{ o: '{"1" : 4, "2" : 5}', a: '["a", "b"]', n: null, cat: '["a", "c"]', cat2: '{"a": 1, "b": 2}' }])
    expect(await sqlState(db, `SELECT jsonb_build_object(VARIADIC '{a}'::text[])`)).toBe('22023')
    expect(await sqlState(db, `SELECT json_build_object('{1,2}'::int[], 3)`)).toBe('22023')
  })

  it('casts jsonb numbers and booleans to SQL types and refuses other JSON values', async () => {
    db = await openDatabase({ nodeId: 'jf8' })
    const r = await db.query(`SELECT '1.5'::jsonb::int AS i, '12345678901'::jsonb::bigint AS b, '2.5'::jsonb::numeric AS n, 'true'::jsonb::bool AS t, '1e2'::jsonb::float8 AS f`)
    expect(r.rows).toEqual([{ i: 2, b: '12345678901', n: '2.5', t: true, f: 100 }])
    expect(await sqlState(db, `SELECT '"1"'::jsonb::int`)).toBe('22023')
    expect(await sqlState(db, `SELECT 'null'::jsonb::numeric`)).toBe('22023')
    expect(await sqlState(db, `SELECT '1'::json::int`)).toBe('42846')
  })

  it('json_agg and jsonb_agg of rows give objects; to_jsonb writes timestamps in ISO 8601', async () => {
    db = await openDatabase({ nodeId: 'jf9' })
    await db.query(`CREATE TABLE r (x int, y text)`)
    await db.query(`INSERT INTO r VALUES (1, 'a'), (2, NULL)`)
    const r = await db.query(`SELECT json_agg(q ORDER BY x) AS j, jsonb_agg(q ORDER BY x) AS jb, to_jsonb(timestamp '2014-05-28 12:22:35.5') AS ts FROM r q`)
    expect(r.rows).toEqual([{ j: '[{"x":1,"y":"a"}, \n {"x":2,"y":null}]', jb: '[{"x": 1, "y": "a"}, {"x": 2, "y": null}]', ts: '"2014-05-28T12:22:35.5"' }])
  })

  it('record functions take their row type from a column definition list', async () => {
    db = await openDatabase({ nodeId: 'jf10' })
    expect((await db.query(`SELECT * FROM jsonb_to_record('{"a":1,"b":"foo","c":"bar"}') AS x(a int, b text, d text)`)).rows).toEqual([{ a: 1, b: 'foo', d: null }])
    expect((await db.query(`SELECT * FROM json_to_recordset('[{"a":1},{"a":2,"b":[1,2]}]') AS x(a int, b int[])`)).rows.map((r) => r['a'])).toEqual([1, 2])
    expect((await db.query(`SELECT * FROM jsonb_populate_record(null::record, '{"x": 776}') AS (x int, y int)`)).rows).toEqual([{ x: 776, y: null }])
    expect(await sqlState(db, `SELECT * FROM json_populate_recordset(row(0::int), '[{"a":"1"}]') q (a text, b text)`)).toBe('42804')
    expect(await sqlState(db, `SELECT * FROM generate_series(1, 2) AS x(a int)`)).toBe('42601')
    expect(await sqlState(db, `SELECT * FROM json_to_record('{"ia": [[1], [2, 3]]}') AS x(ia int[])`)).toBe('22P02')
  })

  it('json_object_agg keeps every pair in order; jsonb_object_agg keeps the last value of a key; a NULL key is 22023', async () => {
    db = await openDatabase({ nodeId: 'jf11' })
    const r = await db.query(`SELECT json_object_agg(k, v) AS j, jsonb_object_agg(k, v) AS jb FROM (VALUES ('a', 1), ('b', NULL), ('a', 3)) t(k, v)`)
    expect(r.rows).toEqual([{ j: '{ "a" : 1, "b" : null, "a" : 3 }', jb: '{"a": 3, "b": null}' }])
    expect((await db.query(`SELECT json_object_agg(k, v) AS j FROM (VALUES ('a', 1)) t(k, v) WHERE false`)).rows).toEqual([{ j: null }])
    expect(await sqlState(db, `SELECT jsonb_object_agg(NULL, '{"a":1}')`)).toBe('22023')
  })

  it('populate_record writes json fields from jsonb as jsonb, keeps nested arrays as json[] elements, reads [[], []] as empty', async () => {
    db = await openDatabase({ nodeId: 'jf12' })
    await db.query(`CREATE TYPE jr AS (js json, ia int[], jsa json[])`)
    const r = await db.query(`SELECT * FROM jsonb_populate_record(NULL::jr, '{"js": {"a": 1}, "ia": [[], []], "jsa": ["x", [1, 2]]}')`)
    expect(r.rows).toEqual([{ js: '{"a": 1}', ia: '{}', jsa: '{"\\"x\\"","[1, 2]"}' }])
  })

  it('jsonb comparison operators order by kind, size and members as PostgreSQL, not by text', async () => {
    db = await openDatabase({ nodeId: 'jf13' })
    const r = await db.query(`SELECT '{"a":1,"b":2}'::jsonb > '{"p":1}' AS more_pairs, '[]'::jsonb < 'null' AS empty_below_null,
      '1'::jsonb < '[1]' AS raw_scalar_first, '"z"'::jsonb < '1' AS string_below_number, '{"aa":1}'::jsonb > '{"b":1}' AS key_order,
      '[1,2]'::jsonb > '[3]' AS longer, 'true'::jsonb > '2' AS bool_above_number, '{"a":1}'::jsonb = '{"a": 1}' AS eq`)
    expect(r.rows).toEqual([{ more_pairs: true, empty_below_null: true, raw_scalar_first: true, string_below_number: true, key_order: false,
      longer: true, bool_above_number: true, eq: true }])
  })
})

