/**
 * Row homing (home_region_column): each row is stored only on the nodes of its home
 * region, yet every node answers queries over the whole table (federated reads) as a
 * single node holding every row would; a query pinned to this node's region is answered
 * from its own rows; writes of rows of several regions, unknown regions and moves are
 * refused loudly; with a home region unreachable a whole-table read fails (08001), never short.
 * Three regions of two nodes each, in the simulator.
 */
import { homeShardId, parseShardId } from '@concord/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

/** Partitions of `table` whose shards a node stores, on disk and in memory. */
async function storedPartitions(db: Database, table: string): Promise<{ disk: number[]; memory: number[] }> {
  const of = (ids: Iterable<string>) =>
    [...ids].map((id) => parseShardId(id)).filter((p) => p !== null && p.table === table).map((p) => p!.partition).sort()
  return { disk: of(await db.replica.storage.shards()), memory: of(db.replica.shards.keys()) }
}

const REGIONS = { u: 'us-west', e: 'eu-central', a: 'ap-southeast' } as const
const CREATE = "CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, region TEXT, spend INT) WITH (home_region_column = 'region')"

/** The rows each region's first node writes: its own rows, the home column left to its default for some. */
function rowsOf(prefix: keyof typeof REGIONS): string[] {
  const base = { u: 0, e: 100, a: 200 }[prefix]
  const out: string[] = []
  for (let i = 1; i <= 6; i++) {
    const id = base + i
    out.push(i % 2 === 0 ? `INSERT INTO customers (id, name, spend) VALUES (${id}, '${prefix}${i}', ${id * 3})` : `INSERT INTO customers VALUES (${id}, '${prefix}${i}', '${REGIONS[prefix]}', ${id * 3})`)
  }
  return out
}

describe('row homing stores each row only in its home region', () => {
  let cluster: SimCluster
  let single: Database
  const on = async (id: string, sql: string) => (await cluster.run(cluster.node(id).query(sql))).rows

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1671,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'u2', region: 'us-west' },
        { id: 'e1', region: 'eu-central' },
        { id: 'e2', region: 'eu-central' },
        { id: 'a1', region: 'ap-southeast' },
        { id: 'a2', region: 'ap-southeast' },
      ],
    })
    await cluster.node('u1').query(CREATE)
    await cluster.settle()
    // The same rows on one node holding everything: the answer every node must give.
    single = await openDatabase({ nodeId: 's1', region: 'us-west' })
    await single.query(CREATE.replace(" WITH (home_region_column = 'region')", ''))
    for (const p of ['u', 'e', 'a'] as const) {
      for (const sql of rowsOf(p)) {
        await cluster.run(cluster.node(`${p}1`).query(sql))
        await single.query(sql.replace(/\(id, name, spend\) VALUES \((\d+), ('[a-z0-9]+'), /, `(id, name, region, spend) VALUES ($1, $2, '${REGIONS[p]}', `))
      }
    }
    await cluster.settle()
  })
  afterAll(async () => {
    await single?.close()
    await cluster.close()
  })

  it('homes a row written without the column in the writing node’s region', async () => {
    expect(await on('e1', 'SELECT region FROM customers WHERE id = 102')).toEqual([{ region: 'eu-central' }])
    expect(await on('u2', 'SELECT region FROM customers WHERE id = 2')).toEqual([{ region: 'us-west' }])
  })

  it('stores a row homed in eu-central on eu-central nodes only, in memory and on disk', async () => {
    const eu = parseShardId(homeShardId(cluster.node('e1').replica.table('customers')!, 'eu-central'))!.partition
    const us = parseShardId(homeShardId(cluster.node('e1').replica.table('customers')!, 'us-west'))!.partition
    for (const id of ['e1', 'e2']) {
      const got = await storedPartitions(cluster.node(id), 'customers')
      expect(got.memory).toContain(eu)
      expect(got.disk).toContain(eu)
      expect(got.memory).not.toContain(us)
    }
    for (const id of ['u1', 'u2', 'a1', 'a2']) {
      const got = await storedPartitions(cluster.node(id), 'customers')
      expect(got.memory).not.toContain(eu)
      expect(got.disk).not.toContain(eu)
    }
    // And no eu-central row is among us-west's stored rows.
    const names = [...cluster.node('u1').replica.shards.values()]
      .filter((s) => parseShardId(s.id)?.table === 'customers')
      .flatMap((s) => [...s.rows.values()])
      .map((r) => r['name'])
    expect(names).not.toContain('e1')
    expect(names).toContain('u1')
  })

  it('returns rows homed in eu-central to a query issued in us-west', async () => {
    expect(await on('u1', "SELECT id, name FROM customers WHERE region = 'eu-central' ORDER BY id")).toEqual(
      [101, 102, 103, 104, 105, 106].map((id) => ({ id, name: `e${id - 100}` })),
    )
  })

  const queries = [
    'SELECT * FROM customers ORDER BY id',
    'SELECT region, count(*), sum(spend) FROM customers GROUP BY region ORDER BY region',
    "SELECT id FROM customers WHERE region IN ('ap-southeast', 'eu-central') AND spend > 310 ORDER BY id",
    'SELECT c.id, d.name FROM customers c JOIN customers d ON d.id = c.id + 100 ORDER BY c.id',
    'SELECT name FROM customers ORDER BY spend DESC LIMIT 4',
  ]
  for (const sql of queries) {
    it(`answers as a single node holding every row does, on every node: ${sql}`, async () => {
      const expected = (await single.query(sql)).rows
      expect(expected.length).toBeGreaterThan(0)
      for (const id of ['u1', 'e2', 'a1']) expect(await on(id, sql)).toEqual(expected)
    })
  }

  it('answers the seed’s use case 4 from the region’s own rows, with other regions cut off', async () => {
    const sql = 'SELECT * FROM customers WHERE region = current_region() ORDER BY id'
    const expected = (await single.query("SELECT * FROM customers WHERE region = 'us-west' ORDER BY id")).rows
    cluster.partition(['u1', 'u2'], ['e1', 'e2', 'a1', 'a2'])
    try {
      expect(await on('u1', sql)).toEqual(expected)
      // The whole table needs the other regions: a loud failure naming them, never a short answer.
      expect(await failure(cluster.run(cluster.node('u1').query('SELECT count(*) FROM customers')))).toMatchObject({
        code: SqlState.sqlclientUnableToEstablishSqlconnection,
        message: expect.stringContaining('homed in region eu-central'),
      })
    } finally {
      cluster.heal()
    }
    await cluster.settle()
  })

  it('refuses writes of rows homed in another region (0A000), unknown regions (22023) and moves (0A000)', async () => {
    const u1 = cluster.node('u1')
    // Rows of two regions in one statement (one region's alone is forwarded: home-write-forwarding.test.ts).
    expect((await failure(cluster.run(u1.query("INSERT INTO customers VALUES (50, 'x', 'eu-central', 1), (53, 'y', 'us-west', 1)"))))?.code).toBe(SqlState.featureNotSupported)
    expect((await failure(cluster.run(u1.query("INSERT INTO customers VALUES (51, 'x', 'mars', 1)"))))?.code).toBe(SqlState.invalidParameterValue)
    expect((await failure(cluster.run(u1.query('UPDATE customers SET spend = 0 WHERE id IN (1, 101)'))))?.code).toBe(SqlState.featureNotSupported)
    expect((await failure(cluster.run(u1.query("UPDATE customers SET region = 'eu-central' WHERE id = 1"))))?.code).toBe(SqlState.featureNotSupported)
    expect((await failure(cluster.run(u1.query('INSERT INTO customers (id, name, region) VALUES (52, NULL, NULL)'))))?.code).toBe(SqlState.notNullViolation)
    expect((await failure(cluster.run(u1.query('INSERT INTO customers VALUES (101, \'dup\', \'us-west\', 1)'))))?.code).toBe(SqlState.uniqueViolation)
    // Its own rows update and delete as usual.
    expect((await cluster.run(u1.query('UPDATE customers SET spend = spend + 1 WHERE id = 1'))).rowCount).toBe(1)
    await cluster.settle()
    expect(await on('e1', 'SELECT spend FROM customers WHERE id = 1')).toEqual([{ spend: 4 }])
    expect(await on('u2', 'SELECT count(*)::int AS k FROM customers WHERE id >= 50 AND id < 100')).toEqual([{ k: 0 }])
  })

  it('refuses a home column that is missing (42703) or not text (22023), and changing the option (0A000)', async () => {
    const u1 = cluster.node('u1')
    expect((await failure(u1.query("CREATE TABLE h1 (id INT PRIMARY KEY) WITH (home_region_column = 'region')")))?.code).toBe(SqlState.undefinedColumn)
    expect((await failure(u1.query("CREATE TABLE h2 (id INT PRIMARY KEY, region INT) WITH (home_region_column = 'region')")))?.code).toBe(SqlState.invalidParameterValue)
    expect((await failure(u1.query("CREATE TABLE h3 (id INT PRIMARY KEY, region TEXT) WITH (home_region_column = 'region', replication_regions = 'us-west')")))?.code).toBe(
      SqlState.featureNotSupported,
    )
    expect((await failure(u1.query("ALTER TABLE customers SET (home_region_column = 'name')")))?.code).toBe(SqlState.featureNotSupported)
    expect((await failure(u1.query("ALTER TABLE customers SET (replication_regions = 'us-west')")))?.code).toBe(SqlState.featureNotSupported)
  })
  it('takes a node of a new region: it catches up with no peer of its region, homes rows there and reads the whole table', async () => {
    const n1 = await cluster.addNode({ id: 'n1', region: 'antarctica' })
    await cluster.settle()
    const t = n1.replica.table('customers')!
    for (let i = 0; i < 60 && !n1.replica.caughtUp(t); i++) await cluster.advance(1000)
    expect(n1.replica.caughtUp(t)).toBe(true)
    await cluster.run(n1.query("INSERT INTO customers (id, name, spend) VALUES (400, 'n', 1)"))
    await cluster.settle()
    expect(await on('u1', "SELECT id FROM customers WHERE region = 'antarctica'")).toEqual([{ id: 400 }])
    expect(await on('n1', 'SELECT count(*)::int AS k FROM customers')).toEqual(await on('e1', 'SELECT count(*)::int AS k FROM customers'))
  })
})

describe('a REPLICA-only region holds copies of every home region’s rows and serves reads', () => {
  let cluster: SimCluster
  const on = async (id: string, sql: string) => (await cluster.run(cluster.node(id).query(sql))).rows
  const ALL = 'SELECT id, name, region FROM customers ORDER BY id'

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1672,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'e1', region: 'eu-central' },
        { id: 'a1', region: 'ap-southeast' },
        { id: 'a2', region: 'ap-southeast' },
        { id: 'o1', region: 'oceania' },
      ],
    })
    const u1 = cluster.node('u1')
    await u1.query("CREATE REGION 'ap-southeast' WITH (REPLICA)")
    await u1.query(CREATE)
    await cluster.settle()
    for (const sql of rowsOf('u')) await cluster.run(u1.query(sql))
    for (const sql of rowsOf('e')) await cluster.run(cluster.node('e1').query(sql))
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('stores every home region’s rows on its nodes, and answers reads from them with the home regions cut off', async () => {
    const expected = await on('u1', ALL)
    expect(expected).toHaveLength(12)
    const table = cluster.node('a1').replica.table('customers')!
    for (const id of ['a1', 'a2']) {
      const got = await storedPartitions(cluster.node(id), 'customers')
      for (const r of ['us-west', 'eu-central']) expect(got.disk).toContain(parseShardId(homeShardId(table, r))!.partition)
    }
    cluster.partition(['a1', 'a2'], ['u1', 'e1', 'o1'])
    try {
      expect(await on('a1', ALL)).toEqual(expected)
    } finally {
      cluster.heal()
    }
    await cluster.settle()
  })

  it('answers another region’s federated read of a home region that is cut off', async () => {
    const expected = await on('u1', ALL)
    cluster.partition(['u1', 'a1', 'a2', 'o1'], ['e1'])
    try {
      expect(await on('u1', ALL)).toEqual(expected)
    } finally {
      cluster.heal()
    }
    await cluster.settle()
  })

  it('is no home: a row homed there is refused (22023), a row homed elsewhere is taken and reaches its home', async () => {
    const a1 = cluster.node('a1')
    expect(await failure(cluster.run(a1.query("INSERT INTO customers (id, name) VALUES (300, 'ap')")))).toMatchObject({
      code: SqlState.invalidParameterValue,
      message: expect.stringContaining('REPLICA-only'),
    })
    await cluster.run(a1.query("INSERT INTO customers VALUES (301, 'via-ap', 'us-west', 1)"))
    await cluster.settle()
    expect(await on('u1', 'SELECT name FROM customers WHERE id = 301')).toEqual([{ name: 'via-ap' }])
  })

  it('catches up on a homed table when declared REPLICA-only after rows were homed', async () => {
    const o1 = cluster.node('o1')
    const before = await on('o1', ALL)
    await cluster.run(o1.query("CREATE REGION 'oceania' WITH (REPLICA)"))
    // It holds the other regions' rows from now on, but has none of them yet: not caught up.
    const table = o1.replica.table('customers')!
    expect(o1.replica.caughtUp(table)).toBe(false)
    await cluster.settle()
    // Anti-entropy rounds with caught-up holders bring it every region's rows (bounded).
    for (let i = 0; i < 60 && !o1.replica.caughtUp(table); i++) await cluster.advance(1000)
    expect(o1.replica.caughtUp(table)).toBe(true)
    // Now it holds every region's rows and has caught up: it answers alone.
    cluster.partition(['o1'], ['u1', 'e1', 'a1', 'a2'])
    try {
      expect(await on('o1', ALL)).toEqual(before)
    } finally {
      cluster.heal()
    }
  })
})
