/**
 * Pushdown of federated reads (pushdown-filter.ts, pushdown-read.ts, exec/row-filter.ts):
 * random statements over tables held in another region answer as the holder answers
 * them (a differential test), while the holder sends only the rows and columns the
 * statement can use; and the node's result cache (result-cache.ts, `query_result_cache`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

/** A small deterministic generator (mulberry32), so a failing statement can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface CacheRow {
  node_id: string
  holder_id: string
  relation: string
  query: string
  rows: string
  hits: string
}

describe('federated reads push down conditions, columns and limits', () => {
  let cluster: SimCluster
  let a: Database
  let b: Database
  const onA = async (sql: string) => (await a.query(sql)).rows
  const onB = async (sql: string) => (await cluster.run(b.query(sql))).rows
  const cache = async (relation: string) =>
    (await onB(`SELECT * FROM query_result_cache WHERE relation = '${relation}'`)) as unknown as CacheRow[]

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1616,
      nodes: [
        { id: 'a', region: 'us-west' },
        { id: 'b', region: 'ap-southeast' },
      ],
    })
    a = cluster.node('a')
    b = cluster.node('b')
    await a.query("CREATE TABLE t (id INT PRIMARY KEY, g INT, v TEXT, n NUMERIC(6,2), pad TEXT) WITH (replication_regions = 'us-west')")
    await a.query("CREATE TABLE u (id INT PRIMARY KEY, tid INT, w TEXT) WITH (replication_regions = 'us-west')")
    await a.query(`INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 END, CASE WHEN i % 11 = 0 THEN NULL ELSE chr(97 + i % 4) END,
      (i % 13) * 1.5, repeat('p', 50) FROM generate_series(1, 120) i`)
    await a.query(`INSERT INTO u SELECT i, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 7) % 130 END, CASE WHEN i % 6 = 0 THEN NULL ELSE 'w' || (i % 3) END
      FROM generate_series(1, 80) i`)
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('answers random statements over tables held elsewhere (filters, OR/IN, joins, aggregates, ORDER BY .. LIMIT) as the holder does', async () => {
    const r = random(16)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
    const k = () => Math.floor(r() * 6)
    const tCond = (x: string): string => pick([
      () => `${x}.g = ${k()}`, () => `${x}.g <> ${k()}`, () => `${x}.id < ${Math.floor(r() * 130)}`, () => `${Math.floor(r() * 130)} <= ${x}.id`,
      () => `${x}.v = '${pick(['a', 'b', 'c'])}'`, () => `${x}.g IN (${k()}, ${k()})`, () => `${x}.g NOT IN (${k()}, ${k()})`,
      () => `${x}.id BETWEEN ${Math.floor(r() * 60)} AND ${60 + Math.floor(r() * 60)}`, () => `NOT (${x}.g = ${k()})`,
      () => `(${x}.g = ${k()} OR ${x}.v = '${pick(['a', 'd'])}')`, () => `${x}.v IS NULL`, () => `${x}.n > ${(r() * 18).toFixed(1)}`,
      () => `${x}.id < ${x}.g * 20`, () => `(${x}.id > 100 OR ${x}.id < 10) AND ${x}.g >= 1`, () => `lower(${x}.v) = 'b'`,
    ])()
    const uCond = (x: string): string => pick([
      () => `${x}.w = 'w${Math.floor(r() * 3)}'`, () => `${x}.tid > ${Math.floor(r() * 130)}`, () => `${x}.w IS NOT NULL`,
      () => `(${x}.tid < 40 OR ${x}.w = 'w1')`, () => `${x}.id IN (${k()}, ${10 + k()}, ${20 + k()})`,
    ])()
    const tCols = () => pick(['t.*', 't.id', 't.id, t.v', 't.id, t.g, t.n', 't.id, length(t.pad) AS l'])
    const templates: Array<() => string> = [
      () => `SELECT ${tCols()} FROM t WHERE ${tCond('t')} ORDER BY t.id`,
      () => `SELECT ${tCols()} FROM t WHERE ${tCond('t')} AND ${tCond('t')} ORDER BY t.id`,
      () => `SELECT t.id, t.g FROM t WHERE ${tCond('t')} ORDER BY t.g ${pick(['', 'DESC', 'NULLS FIRST', 'DESC NULLS LAST'])}, t.id LIMIT ${1 + k()}${pick(['', ' OFFSET 2'])}`,
      () => `SELECT id, v FROM t WHERE ${tCond('t')} ORDER BY n DESC, id LIMIT ${1 + k()}`,
      () => `SELECT g, count(*), sum(n), min(v) FROM t WHERE ${tCond('t')} GROUP BY g ORDER BY g NULLS FIRST`,
      () => `SELECT count(*), max(id) FROM t WHERE ${tCond('t')} LIMIT 1`,
      () => `SELECT DISTINCT g FROM t WHERE ${tCond('t')} ORDER BY g LIMIT 2`,
      () => `SELECT t.id, u.id AS uid, u.w FROM t JOIN u ON u.tid = t.id AND ${uCond('u')} WHERE ${tCond('t')} ORDER BY t.id, u.id`,
      () => `SELECT t.id, u.id AS uid FROM t LEFT JOIN u ON u.tid = t.id AND ${uCond('u')} WHERE ${tCond('t')} ORDER BY t.id, u.id NULLS FIRST`,
      () => `SELECT u.id, t.v FROM u LEFT JOIN t ON t.id = u.tid AND ${tCond('t')} WHERE ${uCond('u')} ORDER BY u.id`,
      () => `SELECT u.id, t.id AS tid FROM u FULL JOIN t ON t.id = u.tid WHERE ${tCond('t')} ORDER BY u.id NULLS FIRST, t.id NULLS FIRST`,
      () => `SELECT t.g, count(u.id), count(*) FROM t, u WHERE u.tid = t.id AND ${tCond('t')} AND ${uCond('u')} GROUP BY t.g ORDER BY t.g NULLS LAST`,
      () => `SELECT x.id FROM t x JOIN u y ON y.tid = x.id WHERE ${tCond('x')} AND (g = 1 OR w = 'w2') ORDER BY x.id, y.id`,
      () => `SELECT id FROM t WHERE ${tCond('t')} AND id IN (SELECT tid FROM u WHERE ${uCond('u')}) ORDER BY id`,
      // ON terms over the side an outer join keeps: never pushed (they do not drop its rows).
      () => `SELECT t.id, u.id AS uid FROM t LEFT JOIN u ON u.tid = t.id AND ${tCond('t')} ORDER BY t.id, u.id NULLS FIRST`,
      () => `SELECT t.id, u.id AS uid FROM u RIGHT JOIN t ON u.tid = t.id AND ${tCond('t')} ORDER BY t.id, u.id NULLS FIRST`,
      () => `SELECT t.id, u.id AS uid FROM t FULL JOIN u ON u.tid = t.id AND ${tCond('t')} AND ${uCond('u')} ORDER BY t.id NULLS FIRST, u.id NULLS FIRST`,
      () => `SELECT id, g FROM t WHERE ${tCond('t')} AND lower(v) <> 'zz' ORDER BY g NULLS FIRST, id LIMIT ${1 + k()}`,
    ]
    for (let i = 0; i < 60; i++) {
      const sql = pick(templates)()
      const expected = await onA(sql).catch((e: { code?: string }) => ({ error: e.code }))
      const got = await onB(sql).catch((e: { code?: string }) => ({ error: e.code }))
      expect(got, sql).toEqual(expected)
    }
    // LIMIT without ORDER BY: any rows meeting the condition, as many as the holder gives.
    for (let i = 0; i < 10; i++) {
      const cond = tCond('t')
      const all = (await onA(`SELECT id FROM t WHERE ${cond}`)).map((x) => x['id'])
      const n = 1 + k()
      const got = (await onB(`SELECT id FROM t WHERE ${cond} LIMIT ${n}`)).map((x) => x['id'])
      expect(got.length, cond).toBe(Math.min(n, all.length))
      for (const id of got) expect(all, cond).toContain(id)
    }
  })

  it('sends only the rows and columns a statement can use, and the first rows of an ORDER BY .. LIMIT', async () => {
    await onB("SELECT id, v FROM t WHERE g IN (1, 2) AND (v = 'a' OR n > 10) ORDER BY id")
    let e = (await cache('t')).find((c) => c.query.includes('IN (1, 2)'))!
    // The columns any clause names (decision 0020's analysis) and the key; never the unused pad.
    expect(e.query).toBe(`SELECT "id", "g", "v", "n" WHERE ("g" IN (1, 2)) AND (("v" = 'a') OR ("n" > 10))`)
    const want = await onA("SELECT count(*)::int AS k FROM t WHERE g IN (1, 2) AND (v = 'a' OR n > 10)")
    expect(Number(e.rows)).toBe(want[0]!['k'])
    await onB('SELECT id, g FROM t ORDER BY g DESC NULLS LAST, id LIMIT 4 OFFSET 1')
    e = (await cache('t')).find((c) => c.query === 'SELECT "id", "g" ORDER BY "g" DESC NULLS LAST, "id" LIMIT 5')!
    expect(Number(e.rows)).toBe(5)
    // Each table of a join is read with its own conditions; the join is finished here.
    await onB("SELECT t.id, u.w FROM t JOIN u ON u.tid = t.id AND u.w = 'w1' WHERE t.id < 30 ORDER BY t.id, u.id")
    const tq = (await cache('t')).find((c) => c.query === 'SELECT "id" WHERE ("id" < 30)')!
    expect(Number(tq.rows)).toBe(29)
    const uq = (await cache('u')).find((c) => c.query === `("w" = 'w1')`)!
    expect(Number(uq.rows)).toBe((await onA("SELECT count(*)::int AS k FROM u WHERE w = 'w1'"))[0]!['k'])
    // What cannot be pushed is not: a function call, a term over two tables, a nullable side's WHERE .. IS NULL.
    await onB("SELECT t.id FROM t LEFT JOIN u ON u.tid = t.id WHERE u.w IS NULL AND lower(t.v) = 'a' ORDER BY t.id")
    expect((await cache('t')).some((c) => c.query === 'SELECT "id", "v"')).toBe(true)
  })

  it('sends a condition on a parameter with its bound value, so a point read by parameter reads one row', async () => {
    const point = 'SELECT id, v FROM t WHERE id = $1'
    expect((await cluster.run(b.query(point, [42]))).rows).toEqual((await a.query(point, [42])).rows)
    const e = (await cache('t')).find((c) => c.query.includes("'42'"))!
    expect(e.query).toBe(`SELECT "id", "v" WHERE ("id" = '42')`)
    expect(e.rows).toBe('1')
    // A value with quotes stays one literal; IN lists and numeric columns take parameters too.
    const quoted = 'SELECT id FROM t WHERE v = $1 OR n IN ($2, $3) ORDER BY id'
    const params = ["a' OR 'x' = 'x", '3.00', 6]
    expect((await cluster.run(b.query(quoted, params))).rows).toEqual((await a.query(quoted, params)).rows)
    const q = (await cache('t')).find((c) => c.query.includes('OR \'\'x\'\''))!
    expect(q.query).toBe(`SELECT "id", "v", "n" WHERE (("v" = 'a'' OR ''x'' = ''x') OR ("n" IN ('3.00', '6')))`)
    expect(Number(q.rows)).toBe((await onA("SELECT count(*)::int AS k FROM t WHERE n IN (3, 6)"))[0]!['k'])
    // NULL and binary values are not sent: the read is only wider, the answer the same.
    const nul = 'SELECT id FROM t WHERE id = $1 OR g = $2 ORDER BY id'
    expect((await cluster.run(b.query(nul, [null, 2]))).rows).toEqual((await a.query(nul, [null, 2])).rows)
  })

  it('query_result_cache lists this node\'s cached reads; with query_result_cache_ttl a repeated read answers from it until the catalog changes', async () => {
    await a.query('CREATE TABLE k (id INT PRIMARY KEY, x INT, note TEXT) WITH (replication_regions = \'us-west\')')
    await a.query('INSERT INTO k VALUES (1, 10), (2, 20)')
    await cluster.settle()
    const sum = async () => (await onB('SELECT sum(x)::int AS s FROM k'))[0]!['s']
    expect(await sum()).toBe(30)
    let rows = await onB("SELECT * FROM query_result_cache WHERE node_id = 'nearest_node' LIMIT 100")
    const entry = rows.find((x) => x['relation'] === 'k')!
    expect(entry).toMatchObject({ node_id: 'nearest_node', holder_id: a.replica.nodeId, query: 'SELECT "id", "x"', rows: '2', hits: '0' })
    await a.query('INSERT INTO k VALUES (3, 30)')
    await cluster.settle()
    // Without a TTL every statement reads again.
    expect(await sum()).toBe(60)
    // With one, the kept answer serves (it misses the holder's newer write: the staleness the TTL allows).
    await cluster.run(b.query("SET query_result_cache_ttl = '1h'"))
    expect(await sum()).toBe(60)
    await a.query('INSERT INTO k VALUES (4, 40)')
    await cluster.settle()
    expect(await sum()).toBe(60)
    rows = await onB("SELECT hits FROM query_result_cache WHERE relation = 'k'")
    expect(rows).toEqual([{ hits: '2' }])
    // A catalog change (DDL anywhere) drops what was kept.
    await a.query('CREATE INDEX k_x ON k (x)')
    await cluster.settle()
    expect(await sum()).toBe(100)
    // A write forwarded from this node drops the table's entries at once.
    expect(await sum()).toBe(100)
    await cluster.run(b.query('INSERT INTO k VALUES (5, 50)'))
    expect(await sum()).toBe(150)
    await cluster.run(b.query('RESET query_result_cache_ttl'))
  })
})

describe('a holder that cannot apply a pushed read', () => {
  it('sends every row and column, and the answer is still right', async () => {
    const cluster = await SimCluster.create({ seed: 1617, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'ap-southeast' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE TABLE t (id INT PRIMARY KEY, g INT, v TEXT) WITH (replication_regions = 'us-west')")
    await a.query("INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 END, chr(97 + i % 4) FROM generate_series(1, 120) i")
    await cluster.settle()
    // As a node of an earlier version, which knows no pushed reads.
    a.replica.setRowFilter(null)
    const sql = "SELECT id, g FROM t WHERE v = 'c' ORDER BY g NULLS FIRST, id LIMIT 3"
    expect((await cluster.run(b.query(sql))).rows).toEqual((await a.query(sql)).rows)
    const kept = (await cluster.run(b.query("SELECT query, rows FROM query_result_cache WHERE relation = 't'"))).rows
    expect(kept).toEqual([{ query: `SELECT * WHERE ("v" = 'c') ORDER BY "g" NULLS FIRST, "id" LIMIT 3`, rows: '120' }])
    await cluster.close()
  })
})
