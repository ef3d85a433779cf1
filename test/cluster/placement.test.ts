/**
 * Placement over real processes on 127.0.0.1: a table held only in us-west is read on an
 * ap-southeast node through a federated read over libp2p (answers equal the holder's),
 * writes there are forwarded to the holder and acknowledged once durable there (with their
 * RETURNING rows), and with
 * the holder killed reads and writes fail (08001) instead of answering short or being
 * kept where they would replicate nowhere.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
let west: ConcordProcess
let east: ConcordProcess

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-placement-'))
  west = await ConcordProcess.start({ dataDir: join(dir, 'west'), nodeId: 'west', extraArgs: ['--region', 'us-west'] })
  east = await ConcordProcess.start({ dataDir: join(dir, 'east'), nodeId: 'east', join: [west.pgAddress], extraArgs: ['--region', 'ap-southeast'] })
  await until(() => /peer west up/.test(east.log), 30_000, 'east sees west')
}, 120_000)

afterAll(async () => {
  await Promise.all([west, east].filter((n) => n !== undefined).map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('a table held in another region, over the wire', () => {
  it('answers a join with each table read under its own pushed-down filter, and lists the reads in query_result_cache', async () => {
    await west.query("CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total NUMERIC(8,2), note TEXT) WITH (replication_regions = 'us-west')")
    await west.query("INSERT INTO orders SELECT g, g % 10, g * 1.5, repeat('n', 200) FROM generate_series(1, 200) g")
    await west.query("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, tier TEXT) WITH (replication_regions = 'us-west')")
    await west.query("INSERT INTO customers SELECT g, 'c' || g, CASE WHEN g < 5 THEN 'gold' ELSE 'basic' END FROM generate_series(0, 9) g")
    await until(async () => {
      try {
        return (await east.query('SELECT count(*)::int AS k FROM customers')).rows[0]?.['k'] === 10
      } catch {
        return false
      }
    }, 30_000, 'customers readable on east')
    const sql = "SELECT c.name, count(*) AS n, sum(o.total) AS s FROM orders o JOIN customers c ON c.id = o.customer AND c.tier = 'gold' WHERE o.id <= 50 GROUP BY c.name ORDER BY c.name"
    expect((await east.query(sql)).rows).toEqual((await west.query(sql)).rows)
    const cached = (await east.query("SELECT node_id, holder_id, relation, query, rows::int AS rows FROM query_result_cache WHERE node_id = 'nearest_node' AND relation IN ('orders', 'customers') ORDER BY relation, query LIMIT 100")).rows
    expect(cached).toContainEqual({ node_id: 'nearest_node', holder_id: 'west', relation: 'orders', query: 'SELECT "id", "customer", "total" WHERE ("id" <= 50)', rows: 50 })
    expect(cached).toContainEqual({ node_id: 'nearest_node', holder_id: 'west', relation: 'customers', query: `("tier" = 'gold')`, rows: 5 })
  }, 120_000)

  it('is read through the holder, written through it, and fails loudly once the holder is gone', async () => {
    await west.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await west.query("INSERT INTO t SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END FROM generate_series(1, 50) g")
    await west.query('CREATE TABLE u (id INT PRIMARY KEY, w TEXT)')
    await west.query("INSERT INTO u VALUES (2, 'two'), (3, 'three')")
    // Once u's rows are on east, so is the catalog that names t.
    await until(async () => (await east.query('SELECT count(*)::int AS k FROM u')).rows[0]?.['k'] === 2, 30_000, 'u on east')

    for (const sql of ['SELECT * FROM t ORDER BY id', 'SELECT v, count(*) FROM t GROUP BY v ORDER BY v', 'SELECT u.w, t.v FROM u JOIN t ON t.id = u.id ORDER BY u.id']) {
      expect((await east.query(sql)).rows).toEqual((await west.query(sql)).rows)
    }
    const forwarded = await east.query("INSERT INTO t VALUES (100, 'from east')")
    expect(forwarded.rowCount).toBe(1)
    expect((await west.query('SELECT v FROM t WHERE id = 100')).rows).toEqual([{ v: 'from east' }])
    // RETURNING: the holder's rows come back, as a local statement's.
    const returned = await east.query("INSERT INTO t VALUES (101, 'x') RETURNING id, v")
    expect([returned.command, returned.rows, returned.fields.map((f) => f.dataTypeID)]).toEqual(['INSERT', [{ id: 101, v: 'x' }], [23, 25]])

    await west.kill9()
    expect(await codeOf(east.query('SELECT count(*) FROM t'))).toBe('08001')
    // 08001 once east knows west is gone (nothing sent); 08007 if the call left before it knew.
    expect(['08001', '08007']).toContain(await codeOf(east.query("INSERT INTO t VALUES (102, 'lost?')")))
    // A table held everywhere is still served.
    expect((await east.query('SELECT count(*)::int AS k FROM u')).rows).toEqual([{ k: 2 }])
  }, 120_000)
})
