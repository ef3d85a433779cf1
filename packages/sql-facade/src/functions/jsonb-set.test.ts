import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('jsonb_set, jsonb_insert and jsonb subscripts', () => {
  it('place a value at a path: replace, append past the end, prepend before the start, insert before or after', async () => {
    db = await openDatabase({ nodeId: 'js1' })
    const r = await db.query(`SELECT jsonb_set('{"a":[1,2]}', '{a,5}', '9') AS s1, jsonb_set('{"a":[1,2]}', '{a,-5}', '9') AS s2,
      jsonb_insert('{"a": [0,1,2]}', '{a, 1}', '"new_value"', true) AS i1, jsonb_set('{"a":1}', '{b,c}', '2') AS s3,
      jsonb_set('{"a":1}', '{b}', '2', false) AS s4, jsonb_set('{"a":{"b":1}}', '{a,b}', '[true]') AS s5`)
    expect(r.rows).toEqual([{ s1: '{"a": [1, 2, 9]}', s2: '{"a": [9, 1, 2]}', i1: '{"a": [0, 1, "new_value", 2]}', s3: '{"a": 1}', s4: '{"a": 1}', s5: '{"a": {"b": [true]}}' }])
    expect(await sqlState(db, `SELECT jsonb_set('[1]', '{x}', '2')`)).toBe('22P02')
    expect(await sqlState(db, `SELECT jsonb_set('1', '{a}', '2')`)).toBe('22023')
    expect(await sqlState(db, `SELECT jsonb_insert('{"a":1}', '{a}', '2')`)).toBe('22023')
  })

  it('subscripts read keys and positions, NULL when missing, and refuse slices', async () => {
    db = await openDatabase({ nodeId: 'js2' })
    const r = await db.query(`SELECT ('{"a":[1,{"b":2}]}'::jsonb)['a'][1]['b'] AS b, ('[1,2,3]'::jsonb)[-1] AS last, ('[1,2,3]'::jsonb)['1'] AS t, ('{"a":1}'::jsonb)['a']['b'] AS miss`)
    expect(r.rows).toEqual([{ b: '2', last: '3', t: '2', miss: null }])
    expect(await sqlState(db, `SELECT ('[1,2,3]'::jsonb)[1:2]`)).toBe('42804')
    expect(await sqlState(db, `SELECT ('{"a":1}'::jsonb)[1.0]`)).toBe('42804')
  })
})

describe('jsonb subscript assignment', () => {
  it('creates the path, pads arrays with nulls, counts negative positions from the end', async () => {
    db = await openDatabase({ nodeId: 'js3' })
    await db.query('CREATE TABLE tjs (id int PRIMARY KEY, j jsonb)')
    await db.query(`INSERT INTO tjs VALUES (1, '[0]'), (2, NULL), (3, '{}')`)
    await db.query(`UPDATE tjs SET j[5] = '1' WHERE id = 1`)
    await db.query(`UPDATE tjs SET j[-4] = '2' WHERE id = 1`)
    await db.query(`UPDATE tjs SET j['a'][0]['b'][0]['c'] = '1' WHERE id = 3`)
    await db.query('UPDATE tjs SET j[1] = NULL WHERE id = 2')
    expect((await db.query('SELECT j FROM tjs ORDER BY id')).rowArrays).toEqual([['[0, null, 2, null, null, 1]'], ['[null, null]'], ['{"a": [{"b": [{"c": 1}]}]}']])
    expect(await sqlState(db, `UPDATE tjs SET j[-9] = '1' WHERE id = 1`)).toBe('22023')
    expect(await sqlState(db, `UPDATE tjs SET j[NULL] = '1'`)).toBe('22004')
  })
})
