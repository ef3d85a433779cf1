/**
 * shard_location: a placed partition is stored only on its location's nodes (in memory and
 * in storage), every other node answers reads of it by asking a holder, writes routed to
 * it elsewhere are forwarded to a holder (refused when no node holds all their partitions), and with its holder gone a read fails (08001) rather than
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

  it('forwards a write whose rows route to partitions one node holds to that node, durable there when acknowledged, never stored here', async () => {
    // New ids of partitions 0 (placed on u1), 1 (on e1, e2) and 2 (not placed): routed alike in a table partitioned the same way.
    const u1 = cluster.node('u1')
    await u1.query('CREATE TABLE probe (id INT PRIMARY KEY) PARTITION BY HASH (id)')
    for (let r = 0; r < 4; r++) await u1.query(`CREATE TABLE probe_${r} PARTITION OF probe FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`)
    await u1.query('INSERT INTO probe SELECT g FROM generate_series(1001, 1040) g')
    const ids = async (p: number) => (await u1.query(`SELECT id FROM probe_${p} ORDER BY id`)).rows.map((r) => r['id'] as number)
    const [p0, p1, p2] = [await ids(0), await ids(1), await ids(2)]
    const u2 = cluster.node('u2')
    const r = await cluster.run(u2.query(`INSERT INTO orders VALUES (${p0[0]}, 1) RETURNING id, total`))
    expect([r.command, r.rowCount, r.rows]).toEqual(['INSERT', 1, [{ id: p0[0], total: 1 }]])
    // On the holder when acknowledged, before any settling.
    expect(await on('u1', `SELECT total FROM orders_shard_0 WHERE id = ${p0[0]}`)).toEqual([{ total: 1 }])
    // An UPDATE and a DELETE of rows of the placed partition made elsewhere go there too.
    const placed = (await on('u1', 'SELECT min(id) AS id FROM orders_shard_0'))[0]!['id'] as number
    const u = await cluster.run(u2.query(`UPDATE orders SET total = total + 1 WHERE id = ${placed} RETURNING total`))
    expect([u.command, u.rowCount, u.rows]).toEqual(['UPDATE', 1, [{ total: placed * 10 + 1 }]])
    const d = await cluster.run(cluster.node('e1').query(`DELETE FROM orders WHERE id = ${p0[0]}`))
    expect([d.command, d.rowCount]).toEqual(['DELETE', 1])
    // Rows of a placed partition and of one every node holds: u1 holds both, so it takes them.
    const mixed = await cluster.run(cluster.node('e2').query(`INSERT INTO orders VALUES (${p0[1]}, 2), (${p2[0]}, 2)`))
    expect([mixed.command, mixed.rowCount]).toEqual(['INSERT', 2])
    // A partition placed on two nodes: the nearest of them takes it.
    expect((await cluster.run(u2.query(`INSERT INTO orders VALUES (${p1[0]}, 3)`))).rowCount).toBe(1)
    await cluster.settle()
    for (const n of ['u2', 'e1']) {
      expect(await on(n, `SELECT id, total FROM orders WHERE id IN (${p0[0]}, ${p0[1]}, ${p2[0]}, ${p1[0]}, ${placed}) ORDER BY id`)).toEqual(
        [
          { id: p0[1], total: 2 },
          { id: p2[0], total: 2 },
          { id: p1[0], total: 3 },
          { id: placed, total: placed * 10 + 1 },
        ].sort((a, b) => a.id - b.id),
      )
    }
    expect(await storedPartitions(u2, 'orders')).toEqual({ disk: [2, 3], memory: [2, 3] })
    await on('u1', `UPDATE orders SET total = ${placed * 10} WHERE id = ${placed}`)
    await on('u1', `DELETE FROM orders WHERE id IN (${p0[1]}, ${p2[0]})`)
    await on('e1', `DELETE FROM orders WHERE id = ${p1[0]}`)
    await cluster.settle()
  })

  it('refuses rows routed to partitions placed on different nodes (0A000, naming them), a write in a block, and an unreachable holder (08001), writing nothing', async () => {
    const u1 = cluster.node('u1')
    const ids = async (p: number) => (await u1.query(`SELECT id FROM probe_${p} ORDER BY id`)).rows.map((r) => r['id'] as number)
    const [p0, p1, p2] = [await ids(0), await ids(1), await ids(2)]
    const several = await failure(cluster.run(cluster.node('u2').query(`INSERT INTO orders VALUES (${p0[0]}, 1), (${p1[0]}, 1), (${p2[0]}, 1)`)))
    expect(several?.code).toBe(SqlState.featureNotSupported)
    expect(several?.message).toContain('partition 0 (placed on u1)')
    expect(several?.message).toContain('partition 1 (placed on eu-central)')
    // An UPDATE or DELETE reaching rows of two placements: refused whole (by the holder it went to, which lacks the other).
    const [k0, k1] = [(await on('u1', 'SELECT min(id) AS id FROM orders_shard_0'))[0]!['id'], (await on('e1', 'SELECT min(id) AS id FROM orders_shard_1'))[0]!['id']]
    expect(await codeOf(cluster.run(cluster.node('u2').query(`DELETE FROM orders WHERE id IN (${k0}, ${k1})`)))).toBe(SqlState.featureNotSupported)
    expect(await on('e2', `SELECT count(*)::int AS k FROM orders WHERE id IN (${k0}, ${k1})`)).toEqual([{ k: 2 }])
    // Inside a transaction block: not forwarded (it could not commit or roll back with the block), refused.
    const s = cluster.node('u2').session()
    await cluster.run(s.query('BEGIN'))
    const inBlock = await failure(
      (async () => {
        await cluster.run(s.query(`INSERT INTO orders VALUES (${p0[1]}, 1)`))
        await cluster.run(s.query('COMMIT'))
      })(),
    )
    expect(inBlock?.code).toBe(SqlState.featureNotSupported)
    // It names what keeps the write here (it named an empty region list before).
    expect(inBlock?.message).toBe('relation "orders" is held on this node only in part: some of its partitions are placed on other nodes (shard_location)')
    await s.close()
    // Its only holder cut off: 08001 before anything is written.
    cluster.partition(['u1'], ['u2', 'e1', 'e2'])
    await cluster.advance(20_000)
    const cut = await failure(cluster.run(cluster.node('e1').query(`INSERT INTO orders VALUES (${p0[2]}, 1)`)))
    expect(cut?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    cluster.heal()
    await cluster.settle()
    const all = [p0[0], p0[1], p0[2], p1[0], p2[0]].join(', ')
    for (const n of ['u1', 'e1']) expect(await on(n, `SELECT count(*)::int AS k FROM orders WHERE id IN (${all})`)).toEqual([{ k: 0 }])
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
