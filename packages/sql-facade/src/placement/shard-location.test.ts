/**
 * shard_location: a placed partition is stored only on its location's nodes (in memory and
 * in storage), every other node answers reads of it by asking a holder, writes routed to
 * it elsewhere are refused, and with its holder gone a read fails (08001) rather than
 * answer short. Two regions of two nodes each, in the simulator.
 */
import { parseShardId } from '@concord/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  return (await failure(work))?.code ?? null
}

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

/** Partitions of `table` whose shards a node stores (on disk: its storage; and in memory). */
async function storedPartitions(db: Database, table: string): Promise<{ disk: number[]; memory: number[] }> {
  const of = (ids: Iterable<string>) =>
    [...ids].map((id) => parseShardId(id)).filter((p) => p !== null && p.table === table).map((p) => p!.partition).sort()
  return { disk: of(await db.replica.storage.shards()), memory: of(db.replica.shards.keys()) }
}

const ROWS = 40

/** Advances virtual time in anti-entropy-sized steps until `done` (bounded): copies are handed over by anti-entropy. */
async function until(cluster: SimCluster, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 120 && !(await done()); i++) await cluster.advance(1000)
}

describe('shard_location places a partition on named nodes', () => {
  let cluster: SimCluster
  const on = async (id: string, sql: string) => (await cluster.run(cluster.node(id).query(sql))).rows

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1661,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'u2', region: 'us-west' },
        { id: 'e1', region: 'eu-central' },
        { id: 'e2', region: 'eu-central' },
      ],
    })
    const u1 = cluster.node('u1')
    await u1.query('CREATE TABLE orders (id INT PRIMARY KEY, total INT) PARTITION BY HASH (id)')
    for (let r = 0; r < 4; r++) await u1.query(`CREATE TABLE orders_shard_${r} PARTITION OF orders FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`)
    await u1.query(`INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, ${ROWS}) g`)
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('refuses an unknown node or region (22023) and a partitioned table (0A000), placing nothing', async () => {
    const u1 = cluster.node('u1')
    expect(await failure(u1.query("ALTER TABLE orders_shard_0 SET (shard_location = 'no-such-node')"))).toMatchObject({
      code: SqlState.invalidParameterValue,
      message: expect.stringContaining('no-such-node'),
    })
    expect((await failure(u1.query("ALTER TABLE orders_shard_0 SET (shard_location = 'us-west', shard_replication_factor = 3)")))?.code).toBe(
      SqlState.invalidParameterValue,
    )
    expect((await failure(u1.query("ALTER TABLE orders_shard_0 SET (shard_location = 'u1', shard_replication_factor = 0)")))?.code).toBe(
      SqlState.invalidParameterValue,
    )
    expect((await failure(u1.query("ALTER TABLE orders SET (shard_location = 'u1')")))?.code).toBe(SqlState.featureNotSupported)
    expect(await u1.query("SELECT table_name FROM pg_shards WHERE shard_location IS NOT NULL")).toMatchObject({ rows: [] })
  })

  it('stores a placed partition only on its location’s nodes, in memory and on disk, once they have every row', async () => {
    const u1 = cluster.node('u1')
    await u1.query("ALTER TABLE orders_shard_0 SET (shard_location = 'u1')")
    await u1.query("ALTER TABLE orders_shard_1 SET (shard_location = 'eu-central', shard_replication_factor = 2)")
    await cluster.settle()
    const nodes = ['u1', 'u2', 'e1', 'e2']
    await until(cluster, async () => {
      const held = await Promise.all(nodes.map((id) => storedPartitions(cluster.node(id), 'orders')))
      const want = [3, 2, 3, 3]
      return held.every((h, i) => h.disk.length === want[i] && h.memory.length === want[i])
    })
    expect(await storedPartitions(cluster.node('u1'), 'orders')).toEqual({ disk: [0, 2, 3], memory: [0, 2, 3] })
    expect(await storedPartitions(cluster.node('u2'), 'orders')).toEqual({ disk: [2, 3], memory: [2, 3] })
    for (const id of ['e1', 'e2']) expect(await storedPartitions(cluster.node(id), 'orders')).toEqual({ disk: [1, 2, 3], memory: [1, 2, 3] })
    expect(await on('u1', "SELECT partition, shard_location, held_by, held_here FROM pg_stat_concord_shards WHERE table_name = 'orders' ORDER BY partition")).toEqual([
      { partition: 0, shard_location: 'u1', held_by: 'u1', held_here: true },
      { partition: 2, shard_location: null, held_by: null, held_here: true },
      { partition: 3, shard_location: null, held_by: null, held_here: true },
    ])
    expect(await on('e2', "SELECT partition, held_by FROM pg_stat_concord_shards WHERE table_name = 'orders' AND partition = 1")).toEqual([
      { partition: 1, held_by: 'e1,e2' },
    ])
  })

  it('answers every read on every node as a node holding everything would', async () => {
    const counts = await on('u1', 'SELECT tableoid::regclass::text AS p, count(*)::int AS k FROM orders GROUP BY 1 ORDER BY 1')
    expect(counts.reduce((n, r) => n + (r['k'] as number), 0)).toBe(ROWS)
    for (const id of ['u1', 'u2', 'e1', 'e2']) {
      expect(await on(id, 'SELECT count(*)::int AS k, sum(total)::int AS s FROM orders')).toEqual([{ k: ROWS, s: (ROWS * (ROWS + 1) * 10) / 2 }])
      expect(await on(id, 'SELECT tableoid::regclass::text AS p, count(*)::int AS k FROM orders GROUP BY 1 ORDER BY 1')).toEqual(counts)
      expect(await on(id, 'SELECT total FROM orders WHERE id = 7')).toEqual([{ total: 70 }])
      expect(await on(id, 'SELECT count(*)::int AS k FROM orders_shard_0')).toEqual([{ k: counts.find((r) => r['p'] === 'orders_shard_0')!['k'] }])
    }
  })

  it('reports where rows live: SELECT shard_location, COUNT(*) FROM orders GROUP BY shard_location', async () => {
    const byPartition = new Map(
      (await on('u2', 'SELECT tableoid::regclass::text AS p, count(*)::int AS k FROM orders GROUP BY 1')).map((r) => [r['p'], r['k']]),
    )
    expect(await on('u2', 'SELECT shard_location, COUNT(*)::int AS row_count FROM orders GROUP BY shard_location ORDER BY shard_location')).toEqual([
      { shard_location: 'eu-central', row_count: byPartition.get('orders_shard_1') },
      { shard_location: 'u1', row_count: byPartition.get('orders_shard_0') },
      { shard_location: null, row_count: (byPartition.get('orders_shard_2') as number) + (byPartition.get('orders_shard_3') as number) },
    ])
  })

  it('accepts a write routed to a placed partition on its holder only (0A000 elsewhere), and every node reads it', async () => {
    // A new id of partition 0: routed alike in a table partitioned the same way and not placed.
    const u1 = cluster.node('u1')
    await u1.query('CREATE TABLE probe (id INT PRIMARY KEY) PARTITION BY HASH (id)')
    for (let r = 0; r < 4; r++) await u1.query(`CREATE TABLE probe_${r} PARTITION OF probe FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`)
    await u1.query('INSERT INTO probe SELECT g FROM generate_series(1001, 1020) g')
    const id = (await u1.query('SELECT min(id) AS id FROM probe_0')).rows[0]!['id'] as number
    const refused = await failure(cluster.run(cluster.node('u2').query(`INSERT INTO orders VALUES (${id}, 1)`)))
    expect(refused?.code).toBe(SqlState.featureNotSupported)
    expect(await on('u1', `SELECT count(*)::int AS k FROM orders WHERE id = ${id}`)).toEqual([{ k: 0 }])
    // A write to a partition every node holds is accepted anywhere, on a node holding the table in part too.
    const other = (await u1.query('SELECT min(id) AS id FROM probe_2')).rows[0]!['id'] as number
    await cluster.run(cluster.node('u2').query(`INSERT INTO orders VALUES (${other}, 2)`))
    expect(await on('u2', `SELECT tableoid::regclass::text AS p, total FROM orders WHERE id = ${other}`)).toEqual([{ p: 'orders_shard_2', total: 2 }])
    await cluster.run(cluster.node('u2').query(`UPDATE orders SET total = 3 WHERE id = ${other}`))
    // A change to a row of the placed partition, made elsewhere, is refused like an insert.
    const placed = (await on('u1', 'SELECT min(id) AS id FROM orders_shard_0'))[0]!['id'] as number
    expect(await codeOf(cluster.run(cluster.node('u2').query(`UPDATE orders SET total = total + 1 WHERE id = ${placed}`)))).toBe(SqlState.featureNotSupported)
    expect(await codeOf(cluster.run(cluster.node('e1').query(`DELETE FROM orders WHERE id = ${placed}`)))).toBe(SqlState.featureNotSupported)
    expect(await on('e1', `SELECT total FROM orders WHERE id = ${placed}`)).toEqual([{ total: placed * 10 }])
    await cluster.run(cluster.node('u1').query(`INSERT INTO orders VALUES (${id}, 1)`))
    await cluster.settle()
    for (const n of ['u2', 'e1']) expect(await on(n, `SELECT total FROM orders WHERE id = ${id}`)).toEqual([{ total: 1 }])
    expect(await storedPartitions(cluster.node('u2'), 'orders')).toEqual({ disk: [2, 3], memory: [2, 3] })
    await cluster.run(cluster.node('u1').query(`DELETE FROM orders WHERE id IN (${id}, ${other})`))
    await cluster.settle()
  })

  it('keeps a partition placed on two nodes readable when one of them is gone', async () => {
    cluster.crash('e1')
    expect(await on('u2', 'SELECT count(*)::int AS k FROM orders')).toEqual([{ k: ROWS }])
    await cluster.restart('e1')
    await cluster.settle()
  })

  it('fails a read with 08001 naming the partition and its location when its only holder is gone, never a short answer', async () => {
    cluster.crash('u1')
    for (const id of ['u2', 'e1']) {
      const f = await failure(cluster.run(cluster.node(id).query('SELECT count(*) FROM orders')))
      expect(f?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
      expect(f?.message).toContain('partition 0 (placed on u1)')
    }
    await cluster.restart('u1')
    await cluster.settle()
    expect(await on('e1', 'SELECT count(*)::int AS k FROM orders')).toEqual([{ k: ROWS }])
  })

  it('RESET shard_location gives the partition back to every node of the table’s regions', async () => {
    await cluster.node('u1').query('ALTER TABLE orders_shard_0 RESET (shard_location)')
    await cluster.settle()
    expect((await storedPartitions(cluster.node('u2'), 'orders')).memory).toEqual([0, 2, 3])
    expect(await on('u2', 'SELECT count(*)::int AS k FROM orders_shard_0')).toEqual(
      await on('u1', 'SELECT count(*)::int AS k FROM orders_shard_0'),
    )
  })
})
