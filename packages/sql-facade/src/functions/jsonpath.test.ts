import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('jsonb @? and @@ (lax jsonpath)', () => {
  it('@? is true when the path yields an item: keys, [*], [n], filters with && and exists', async () => {
    db = await openDatabase({ nodeId: 'jp1' })
    const r = await db.query(`SELECT '{"wait":null,"age":25}'::jsonb @? '$.wait ? (@ == null)' AS n, '{"age":25}'::jsonb @? '$ ? (@.age == 25.0)' AS num,
      '{"a":["foo","bar"]}'::jsonb @? '$.a[*] ? (@ == "bar")' AS arr, '{"a":["foo"]}'::jsonb @? '$.a ? (@[*] == "bar")' AS none,
      '[{"k":1}]'::jsonb @? '$.k' AS unwrap, '{"a":1}'::jsonb @? '$.b' AS missing, '{"a":[1,2]}'::jsonb @? '$.a[1]' AS idx`)
    expect(r.rows).toEqual([{ n: true, num: true, arr: true, none: false, unwrap: true, missing: false, idx: true }])
  })

  it('@@ gives the predicate: true, false, or NULL when items cannot be compared', async () => {
    db = await openDatabase({ nodeId: 'jp2' })
    const r = await db.query(`SELECT '{"w":"CC","p":true}'::jsonb @@ '$.w == "CC" && true == $.p' AS a, '{"age":"25"}'::jsonb @@ '$.age == 25' AS mixed,
      '{"x":1}'::jsonb @@ 'exists($.x) || exists($.y)' AS e, '{"x":1}'::jsonb @@ '!(exists($.x))' AS neg, '{"x":1}'::jsonb @@ '$.x' AS nonbool,
      '{"a":["foo","bar"]}'::jsonb @@ '$.a == "bar"' AS lax`)
    expect(r.rows).toEqual([{ a: true, mixed: null, e: true, neg: false, nonbool: null, lax: true }])
  })

  it('refuses what it does not implement (0A000) and malformed paths (42601)', async () => {
    db = await openDatabase({ nodeId: 'jp3' })
    expect(await sqlState(db, `SELECT '{}'::jsonb @? 'strict $.a'`)).toBe('0A000')
    expect(await sqlState(db, `SELECT '{}'::jsonb @? '$.a.size()'`)).toBe('0A000')
    expect(await sqlState(db, `SELECT '{}'::jsonb @? '$.a + 1'`)).toBe('0A000')
    expect(await sqlState(db, `SELECT '{}'::jsonb @? '$.a ? (@ like_regex "x")'`)).toBe('0A000')
    expect(await sqlState(db, `SELECT '{}'::jsonb @? '$.a )'`)).toBe('42601')
  })

  it('jsonb_path_exists, _match, _query_array and _query_first read the path as @? and @@ do (42883 before); variables are 0A000', async () => {
    db = await openDatabase({ nodeId: 'jp1' })
    const r = await db.query(`SELECT jsonb_path_match('{}', '$', '{}', true) AS a, jsonb_path_query_array('[1,2,3]', '$[*] ? (@ > 1)') AS b,
      jsonb_path_query_first('[1,2,3]', '$[*] ? (@ > 5)') AS c, jsonb_path_exists('{"a":1}', '$.a') AS d, jsonb_path_match('null', '$') AS e,
      jsonb_path_match('{"a":1}', '$.a > 5') AS f, jsonb_path_match('{"a":"x"}', '$.a > 5') AS g, jsonb_path_query_first('{}', '1 > 0') AS h,
      jsonb_path_query_first('{"a":{"b":[1,null]}}', '$.a.b[1]') AS i, jsonb_path_query_array('{"a":[{"b":1},{"b":2}]}', '$.a[*].b') AS j`)
    expect(r.rows).toEqual([{ a: null, b: '[2, 3]', c: null, d: true, e: null, f: false, g: null, h: 'true', i: 'null', j: '[1, 2]' }])
    expect(await sqlState(db, `SELECT jsonb_path_match('{}', '$')`)).toBe('22038')
    expect(await sqlState(db, `SELECT jsonb_path_exists('{}', '$.a ? (@ > $x)', '{"x": 1}')`)).toBe('0A000')
  })
})

