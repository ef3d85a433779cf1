/**
 * shard_location over real processes on 127.0.0.1: a partition placed on node `a` leaves
 * the storage of `b` and `c` (still absent after `b` restarts from its data directory),
 * yet a query on `b` returns its rows, read from `a` over libp2p; with `a` killed the
 * query fails (08001) naming the partition, instead of answering short. A write on `b` of
 * rows routed to a partition placed on `a` is forwarded there; rows routed to partitions
 * placed on two different nodes are refused (0A000) and nothing is written.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const nodes: Record<string, ConcordProcess> = {}

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

/**
 * Runs a placement on `node`, again while it is refused because a chosen node has not
 * caught up on the table as far as `node` knows (55000, the refusal's hint says to retry):
 * a joiner's own `caught_up` shows before the node placing the shard hears of it.
 */
async function place(node: ConcordProcess, sql: string): Promise<void> {
  // Any other failure is kept as `until`'s last error, named when it times out.
  await until(async () => {
    const refused = await failure(node.query(sql))
    if (refused !== null && !(refused.code === '55000' && /has not caught up/.test(refused.message))) throw new Error(`${refused.code} ${refused.message}`)
    return refused === null
  }, 60_000, `${sql} accepted`)
}

/** The partitions of `orders` a node holds, as it reports them. */
async function partitions(node: ConcordProcess): Promise<number[]> {
  const r = await node.query("SELECT partition FROM pg_stat_concord_shards WHERE table_name = 'orders' ORDER BY partition")
  return r.rows.map((x) => x['partition'] as number)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-shard-location-'))
  nodes['a'] = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'a' })
  for (const id of ['b', 'c']) nodes[id] = await ConcordProcess.start({ dataDir: join(dir, id), nodeId: id, join: [nodes['a'].pgAddress] })
  await until(() => /peer a up/.test(nodes['b']!.log) && /peer a up/.test(nodes['c']!.log), 60_000, 'b and c see a')
}, 240_000)

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('a write routed to partitions placed on other nodes, over the wire', () => {
  it('is forwarded to the node holding them, RETURNING included, and refused (0A000, nothing written) across two placements', async () => {
    const { a, b, c } = nodes as Record<'a' | 'b' | 'c', ConcordProcess>
    await a.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT) PARTITION BY HASH (id)')
    for (let r = 0; r < 2; r++) await a.query(`CREATE TABLE items_${r} PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER ${r})`)
    await a.query("INSERT INTO items SELECT g, 'seed' FROM generate_series(101, 110) g")
    for (const n of [b, c]) await until(async () => (await n.query('SELECT count(*)::int AS k FROM items')).rows[0]?.['k'] === 10, 60_000, 'items everywhere')
    const caughtUp = async (n: ConcordProcess) =>
      (await n.query("SELECT count(*)::int AS k FROM pg_stat_concord_shards WHERE table_name = 'items' AND caught_up")).rows[0]?.['k']
    // Placed once b and c (joiners) have caught up on the table: a holder that has not answers no reads of it.
    for (const n of [b, c]) await until(async () => (await caughtUp(n)) === 2, 60_000, 'items caught up')
    await place(a, "ALTER TABLE items_0 SET (shard_location = 'a')")
    await place(a, "ALTER TABLE items_1 SET (shard_location = 'c')")
    const stored = async (n: ConcordProcess) => (await n.query("SELECT count(*)::int AS k FROM pg_stat_concord_shards WHERE table_name = 'items'")).rows[0]?.['k']
    await until(async () => (await stored(b)) === 0, 90_000, 'b hands its copies over')
    // Which ids route where: a table partitioned alike and not placed.
    await a.query('CREATE TABLE probe (id INT PRIMARY KEY) PARTITION BY HASH (id)')
    for (let r = 0; r < 2; r++) await a.query(`CREATE TABLE probe_${r} PARTITION OF probe FOR VALUES WITH (MODULUS 2, REMAINDER ${r})`)
    await a.query('INSERT INTO probe SELECT g FROM generate_series(1, 20) g')
    const ids = async (r: number) => (await a.query(`SELECT id FROM probe_${r} ORDER BY id`)).rows.map((x) => x['id'] as number)
    const [zero, one] = [await ids(0), await ids(1)]
    await until(
      async () => (await b.query("SELECT count(*)::int AS k FROM pg_shards WHERE partition_of = 'items' AND shard_location IS NOT NULL")).rows[0]?.['k'] === 2,
      60_000,
      'b knows the placements',
    )
    await until(async () => (await failure(b.query('SELECT count(*) FROM items'))) === null, 60_000, 'a and c answer reads of items')

    const r = await b.query('INSERT INTO items VALUES ($1, $2) RETURNING id', [zero[0], 'from-b'])
    expect([r.command, r.rowCount, r.rows]).toEqual(['INSERT', 1, [{ id: zero[0] }]])
    expect((await a.query(`SELECT v, tableoid::regclass::text AS p FROM items WHERE id = ${zero[0]}`)).rows).toEqual([{ v: 'from-b', p: 'items_0' }])
    expect(await stored(b)).toBe(0)
    expect((await b.query(`SELECT v FROM items WHERE id = ${zero[0]}`)).rows).toEqual([{ v: 'from-b' }])
    const u = await b.query(`UPDATE items SET v = 'updated' WHERE id = ${zero[0]} RETURNING v`)
    expect([u.command, u.rowCount, u.rows]).toEqual(['UPDATE', 1, [{ v: 'updated' }]])

    const both = await failure(b.query(`INSERT INTO items VALUES (${zero[1]}, 'x'), (${one[0]}, 'y')`))
    expect(both?.code).toBe('0A000')
    expect(both?.message).toContain('partition 0 (placed on a), partition 1 (placed on c)')
    for (const n of [a, c]) expect((await n.query(`SELECT count(*)::int AS k FROM items WHERE id IN (${zero[1]}, ${one[0]})`)).rows).toEqual([{ k: 0 }])
    expect(await stored(b)).toBe(0)
    await a.query('DROP TABLE items')
    await a.query('DROP TABLE probe')
  }, 240_000)
})

describe('a partition placed on one node, over the wire', () => {
  it('is stored only there, is read from there by other nodes, and fails loudly once that node is gone', async () => {
    const { a, b, c } = nodes as Record<'a' | 'b' | 'c', ConcordProcess>
    await a.query('CREATE TABLE orders (id INT PRIMARY KEY, total INT) PARTITION BY HASH (id)')
    for (let r = 0; r < 4; r++) await a.query(`CREATE TABLE orders_shard_${r} PARTITION OF orders FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`)
    await a.query('INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 60) g')
    for (const n of [b, c]) await until(async () => (await n.query('SELECT count(*)::int AS k FROM orders')).rows[0]?.['k'] === 60, 60_000, 'rows everywhere')
    expect(await partitions(b)).toEqual([0, 1, 2, 3])

    expect((await failure(a.query("ALTER TABLE orders_shard_0 SET (shard_location = 'no-such-node')")))?.code).toBe('22023')
    await a.query("ALTER TABLE orders_shard_0 SET (shard_location = 'a')")
    for (const n of [b, c]) await until(async () => (await partitions(n)).join() === '1,2,3', 90_000, 'partition 0 handed over')
    expect(await partitions(a)).toEqual([0, 1, 2, 3])

    const inZero = (await a.query('SELECT count(*)::int AS k FROM orders_shard_0')).rows[0]!['k'] as number
    expect(inZero).toBeGreaterThan(0)
    for (const n of [a, b, c]) {
      expect((await n.query('SELECT count(*)::int AS k, sum(total)::int AS s FROM orders')).rows).toEqual([{ k: 60, s: 18_300 }])
      expect((await n.query('SELECT count(*)::int AS k FROM orders_shard_0')).rows).toEqual([{ k: inZero }])
      expect((await n.query('SELECT shard_location, count(*)::int AS k FROM orders GROUP BY 1 ORDER BY 1')).rows).toEqual([
        { shard_location: 'a', k: inZero },
        { shard_location: null, k: 60 - inZero },
      ])
    }
    const id0 = (await a.query('SELECT min(id) AS id FROM orders_shard_0')).rows[0]!['id'] as number
    // A write of a row of partition 0 made on b is forwarded to a, which holds it.
    expect((await b.query(`UPDATE orders SET total = total WHERE id = ${id0}`)).rowCount).toBe(1)

    // What b holds after a restart is what its storage holds: partition 0 is not there.
    await b.stop()
    nodes['b'] = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'b', join: [a.pgAddress] })
    const b2 = nodes['b']
    expect(await partitions(b2)).toEqual([1, 2, 3])
    await until(() => /peer a up/.test(b2.log), 60_000, 'b sees a again')
    await until(async () => (await failure(b2.query('SELECT count(*) FROM orders'))) === null, 60_000, 'b reads orders again')
    expect((await b2.query('SELECT count(*)::int AS k FROM orders')).rows).toEqual([{ k: 60 }])

    await a.kill9()
    for (const n of [b2, c]) {
      const f = await failure(n.query('SELECT count(*) FROM orders'))
      expect(f?.code).toBe('08001')
      expect(f?.message).toContain('partition 0 (placed on a)')
    }
  }, 300_000)
})
