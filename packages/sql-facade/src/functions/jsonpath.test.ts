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
})
