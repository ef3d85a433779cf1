import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('composite types and row values', () => {
  it('store rows in columns (and arrays of them), print them as PostgreSQL does, select fields', async () => {
    db = await openDatabase({ nodeId: 'r1' })
    await db.query('CREATE TYPE comptype AS (f1 int, f2 text)')
    await db.query('CREATE TABLE comptable (c1 comptype, c2 comptype[])')
    await db.query(`INSERT INTO comptable VALUES (row(1, 'foo'), array[row(2, 'bar')::comptype, row(3, 'baz, qux')::comptype])`)
    await db.query(`INSERT INTO comptable VALUES ('(4,"")', NULL), (row(NULL, NULL), '{}')`)
    const r = await db.query('SELECT c1::text AS c1, c2::text AS c2, (c1).f1 AS f1, c2[2].f2 AS f2 FROM comptable ORDER BY comptable.c1')
    expect(r.rows).toEqual([
      { c1: '(1,foo)', c2: '{"(2,bar)","(3,\\"baz, qux\\")"}', f1: 1, f2: 'baz, qux' },
      { c1: '(4,"")', c2: null, f1: 4, f2: null },
      { c1: '(,)', c2: '{}', f1: null, f2: null },
    ])
    expect((await db.query(`SELECT count(*)::int AS n FROM comptable WHERE c1 = row(1, 'foo')::comptype`)).rows).toEqual([{ n: 1 }])
  })

  it('compare field by field and convert from text and from rows of as many fields', async () => {
    db = await openDatabase({ nodeId: 'r2' })
    await db.query('CREATE TYPE complex AS (r float8, i float8)')
    expect((await db.query(`SELECT '(1.5, 2)'::complex::text AS a, row(1, 2)::complex < row(1, 3)::complex AS lt, (row(1, 2)::complex).i AS i`)).rows)
      .toEqual([{ a: '(1.5,2)', lt: true, i: 2 }])
    expect(await sqlState(db, `SELECT '(1,2,3)'::complex`)).toBe('22P02')
    expect(await sqlState(db, `SELECT row(1, 2, 3)::complex`)).toBe('42846')
    expect(await sqlState(db, `SELECT (row(1, 2)::complex).nope`)).toBe('42703')
    expect(await sqlState(db, 'CREATE TYPE complex AS (x int)')).toBe('42710')
    await db.query('CREATE TABLE uses (c complex)')
    expect(await sqlState(db, 'DROP TYPE complex')).toBe('2BP01')
    await db.query('DROP TABLE uses')
    await db.query('DROP TYPE complex')
    expect(await sqlState(db, `SELECT '(1,2)'::complex`)).toBe('42704')
  })

  it('a composite type created on one node stores and reads rows on another', async () => {
    const cluster = await SimCluster.create({ seed: 9, nodes: [{ id: 'a', region: 'r1' }, { id: 'b', region: 'r2' }] })
    try {
      await cluster.node('a').query('CREATE TYPE pair AS (k text, v int)')
      await cluster.node('a').query('CREATE TABLE kv (id int PRIMARY KEY, p pair)')
      await cluster.settle()
      await cluster.node('b').query(`INSERT INTO kv VALUES (1, ('x', 1)), (2, ('y', NULL))`)
      await cluster.settle()
      expect((await cluster.node('a').query('SELECT id, (p).k AS k, p::text AS p FROM kv ORDER BY id')).rowArrays).toEqual([[1, 'x', '(x,1)'], [2, 'y', '(y,)']])
    } finally {
      await cluster.close()
    }
  })
})

describe('whole-row references and table row types', () => {
  it('a FROM item named as a value is its row; a table name is its row type; rows render as JSON objects', async () => {
    db = await openDatabase({ nodeId: 'r4' })
    await db.query('CREATE TABLE int8_tbl (q1 int8, q2 int8)')
    await db.query('INSERT INTO int8_tbl VALUES (123, 456), (4567890123456789, 123)')
    const r = await db.query(`SELECT i8::text AS t FROM int8_tbl i8 WHERE i8 IN (row(123, 456)::int8_tbl, '(4567890123456789,123)') ORDER BY i8`)
    expect(r.rowArrays).toEqual([['(123,456)'], ['(4567890123456789,123)']])
    expect((await db.query(`SELECT row_to_json(q) AS j FROM (SELECT 1 AS a, 'x' AS b) q`)).rows).toEqual([{ j: '{"a":1,"b":"x"}' }])
    expect((await db.query('SELECT array_to_json(array_agg(q), false) AS j FROM (SELECT x AS b, x * 2 AS c FROM generate_series(1, 2) x) q')).rows)
      .toEqual([{ j: '[{"b":1,"c":2},{"b":2,"c":4}]' }])
    expect((await db.query(`SELECT array_to_json('{{1,5},{99,100}}'::int[], true) AS j`)).rows).toEqual([{ j: '[[1,5],\n [99,100]]' }])
  })
})
