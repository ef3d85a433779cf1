import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('json_populate_record and json_populate_recordset', () => {
  it('fill a composite row from an object: keys by field name, base values for the rest, fields as FROM columns', async () => {
    db = await openDatabase({ nodeId: 'p1' })
    await db.query('CREATE TYPE jpop AS (a text, b int, c timestamp, d int[])')
    const r = await db.query(`SELECT * FROM json_populate_record(row('x', 3, NULL, NULL)::jpop, '{"a": {"z": 1}, "c": "2012-01-20 10:42:53", "d": [[1, 2], [3, 4]]}') q`)
    expect(r.fields.map((f) => f.name)).toEqual(['a', 'b', 'c', 'd'])
    expect(r.rowArrays).toEqual([['{"z":1}', 3, '2012-01-20 10:42:53', '{{1,2},{3,4}}']])
    expect((await db.query(`SELECT jsonb_populate_record(NULL::jpop, '{"b": "12"}')::text AS r`)).rows).toEqual([{ r: '(,12,,)' }])
    const set = await db.query(`SELECT b, a FROM jsonb_populate_recordset(NULL::jpop, '[{"a": "p", "b": 1}, {"b": 2}]') ORDER BY b`)
    expect(set.rowArrays).toEqual([[1, 'p'], [2, null]])
  })

  it('fail as PostgreSQL does on shapes and values that do not fit', async () => {
    db = await openDatabase({ nodeId: 'p2' })
    await db.query('CREATE TYPE jp2 AS (a int[], b int)')
    expect(await sqlState(db, `SELECT json_populate_record(NULL::jp2, '[1]')`)).toBe('22023')
    expect(await sqlState(db, `SELECT * FROM json_populate_record(NULL::jp2, '{"a": 5}')`)).toBe('22P02')
    expect(await sqlState(db, `SELECT * FROM json_populate_record(NULL::jp2, '{"a": [[1], [2, 3]]}')`)).toBe('22P02')
    expect(await sqlState(db, `SELECT * FROM json_populate_record(NULL::jp2, '{"b": 1.5}')`)).toBe('22P02')
    await db.query('CREATE DOMAIN posint AS int CHECK (VALUE > 0)')
    await db.query('CREATE TYPE jp3 AS (p posint)')
    expect(await sqlState(db, `SELECT * FROM json_populate_record(NULL::jp3, '{"p": 1}')`)).toBe('0A000')
  })
})

describe('JSON record functions with a column definition list', () => {
  it('json_to_record and jsonb_to_recordset read rows of the listed columns', async () => {
    const db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
    try {
      const a = await db.query(`SELECT * FROM json_to_record('{"a":1,"b":"foo","c":"bar"}') AS x(a int, b text, d text)`)
      expect(a.fields.map((f) => f.name)).toEqual(['a', 'b', 'd'])
      expect(a.rowArrays).toEqual([[1, 'foo', null]])
      const b = await db.query(`SELECT * FROM jsonb_to_recordset('[{"a":1,"b":{"d":"foo"}},{"a":2,"c":true}]') AS x(a int, b jsonb, c boolean)`)
      expect(b.rowArrays).toEqual([[1, '{"d": "foo"}', null], [2, null, true]])
      const c = await db.query(`SELECT * FROM json_populate_record(null::record, '{"x": 776}') AS (x int, y int)`)
      expect(c.rowArrays).toEqual([[776, null]])
    } finally {
      await db.close()
    }
  })

  it('refuses a base row of other types (42804) and a list on a function not returning record (42601)', async () => {
    const db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
    try {
      await expect(db.query(`SELECT * FROM json_populate_recordset(row(0::int), '[{"a":"1"}]') q (a text, b text)`)).rejects.toMatchObject({ code: '42804' })
      await expect(db.query('SELECT * FROM generate_series(1, 2) AS x(a int)')).rejects.toMatchObject({ code: '42601' })
    } finally {
      await db.close()
    }
  })
})
