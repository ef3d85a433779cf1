/**
 * postgres.js (the `postgres` package), unmodified, against a `concord start` node: its
 * startup type probe of pg_catalog.pg_type, tagged-template queries whose parameters go
 * over the extended protocol (its default), `sql.begin` transactions that commit and roll
 * back, and round trips of json, timestamps, bigint and arrays.
 */
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

let node: ConcordProcess | undefined
type Sql = postgres.Sql<{ bigint: bigint }>
let sql: Sql | undefined

function db(): Sql {
  return sql!
}

describe('postgres.js against a concord node', () => {
  beforeAll(async () => {
    node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
    sql = postgres({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', max: 2, onnotice: () => {}, types: { bigint: postgres.BigInt } })
  }, 120_000)
  afterAll(async () => {
    await sql?.end({ timeout: 5 })
    await node?.stop()
  })

  it('runs tagged-template queries with parameters', async () => {
    const [row] = await db()`SELECT ${1}::int + ${2}::int AS sum, ${'concord'}::text AS name`
    expect(row).toEqual({ sum: 3, name: 'concord' })
    await db()`CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, age int)`
    await db()`INSERT INTO people ${db()([{ id: 1, name: 'Ada', age: 36 }, { id: 2, name: 'Bob', age: 41 }])}`
    const older = await db()`SELECT id, name FROM people WHERE age > ${40} ORDER BY id`
    expect([...older]).toEqual([{ id: 2, name: 'Bob' }])
    const updated = await db()`UPDATE people SET age = ${37} WHERE id = ${1} RETURNING age`
    expect(updated.count).toBe(1)
    expect(updated[0]).toEqual({ age: 37 })
    const deleted = await db()`DELETE FROM people WHERE name = ${'Bob'}`
    expect(deleted.count).toBe(1)
  })

  it('sql.begin commits its writes, and rolls them all back when the callback throws', async () => {
    await db().begin(async (tx) => {
      await tx`INSERT INTO people (id, name) VALUES (${10}, ${'Cy'})`
      await tx`UPDATE people SET age = ${5} WHERE id = ${10}`
    })
    expect([...await db()`SELECT name, age FROM people WHERE id = 10`]).toEqual([{ name: 'Cy', age: 5 }])
    await expect(db().begin(async (tx) => {
      await tx`INSERT INTO people (id, name) VALUES (${11}, ${'Dee'})`
      throw new Error('abandon')
    })).rejects.toThrow('abandon')
    expect([...await db()`SELECT id FROM people WHERE id = 11`]).toEqual([])
    await expect(db().begin(async (tx) => {
      await tx`INSERT INTO people (id, name) VALUES (${12}, ${'Eve'})`
      await tx`INSERT INTO people (id, name) VALUES (${10}, ${'dup'})`
    })).rejects.toMatchObject({ code: '23505' })
    expect([...await db()`SELECT id FROM people WHERE id = 12`]).toEqual([])
  })

  it('round-trips json, timestamps, bigint and arrays', async () => {
    await db()`CREATE TABLE docs (id bigint PRIMARY KEY, body jsonb, meta json, at timestamptz, tags text[], scores int[])`
    const big = 9007199254740993n
    const at = new Date('2026-01-02T03:04:05.678Z')
    const body = { a: 1, b: [true, null, 'x'], c: { d: 'e' } }
    await db()`INSERT INTO docs VALUES (${big}, ${db().json(body)}, ${db().json({ m: 2 })}, ${at}, ${['a', 'b c', 'd"e']}, ${[3, 1, 2]})`
    const [row] = await db()`SELECT id, body, meta, at, tags, scores FROM docs WHERE id = ${big}`
    expect(row!['id']).toBe(big)
    expect(row!['body']).toEqual(body)
    expect(row!['meta']).toEqual({ m: 2 })
    expect(row!['at']).toBeInstanceOf(Date)
    expect((row!['at'] as Date).toISOString()).toBe(at.toISOString())
    expect(row!['tags']).toEqual(['a', 'b c', 'd"e'])
    expect(row!['scores']).toEqual([3, 1, 2])
    const [filtered] = await db()`SELECT body->'c'->>'d' AS d, ${'b c'} = ANY(tags) AS has FROM docs`
    expect(filtered).toEqual({ d: 'e', has: true })
  })

  it('round-trips booleans, numeric, bytea, dates, floats and NULLs', async () => {
    await db()`CREATE TABLE misc (id int PRIMARY KEY, b boolean, n numeric(10,2), bin bytea, d date, f float8)`
    await db()`INSERT INTO misc VALUES (${1}, ${true}, ${'12.34'}, ${Buffer.from([1, 2, 255])}, ${'2026-01-02'}, ${1.5})`
    await db()`INSERT INTO misc VALUES (${2}, ${null}, ${null}, ${null}, ${null}, ${null})`
    const rows = await db()`SELECT * FROM misc ORDER BY id`
    expect(rows[0]).toMatchObject({ id: 1, b: true, n: '12.34', f: 1.5 })
    expect([...rows[0]!['bin'] as Buffer]).toEqual([1, 2, 255])
    expect((rows[0]!['d'] as Date).toISOString()).toBe('2026-01-02T00:00:00.000Z')
    expect(rows[1]).toEqual({ id: 2, b: null, n: null, bin: null, d: null, f: null })
  })

  it('builds queries with its helpers: identifiers, IN lists, SET objects, arrays, unsafe, values', async () => {
    expect([...await db()`SELECT ${db()('id')} FROM ${db()('misc')} WHERE id IN ${db()([1, 2])} ORDER BY id`]).toEqual([{ id: 1 }, { id: 2 }])
    expect([...await db()`UPDATE misc SET ${db()({ b: false, f: 2.5 })} WHERE id = 1 RETURNING b, f`]).toEqual([{ b: false, f: 2.5 }])
    expect([...await db()`SELECT id FROM misc WHERE id = ANY(${db().array([1, 3])}) ORDER BY id`]).toEqual([{ id: 1 }])
    expect([...await db().unsafe('SELECT $1::int + 1 AS x', [41])]).toEqual([{ x: 42 }])
    expect(await db()`SELECT 1 AS a, 2 AS b`.values()).toEqual([[1, 2]])
  })

  it('a savepoint that fails inside sql.begin is rolled back alone', async () => {
    await db().begin(async (tx) => {
      await tx`INSERT INTO misc (id) VALUES (${3})`
      await expect(tx.savepoint(async (sp) => {
        await sp`INSERT INTO misc (id) VALUES (${4})`
        throw new Error('undo the savepoint')
      })).rejects.toThrow('undo the savepoint')
    })
    expect([...await db()`SELECT id FROM misc WHERE id >= 3 ORDER BY id`]).toEqual([{ id: 3 }])
  })

  it('reads a result in batches through a cursor (portal row limits)', async () => {
    const batches: number[][] = []
    for await (const rows of db()`SELECT id FROM misc ORDER BY id`.cursor(2)) batches.push(rows.map((r) => r['id'] as number))
    expect(batches).toEqual([[1, 2], [3]])
  })
})
