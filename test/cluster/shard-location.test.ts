/**
 * shard_location over real processes on 127.0.0.1: a partition placed on node `a` leaves
 * the storage of `b` and `c` (still absent after `b` restarts from its data directory),
 * yet a query on `b` returns its rows, read from `a` over libp2p; with `a` killed the
 * query fails (08001) naming the partition, instead of answering short.
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
    expect((await failure(b.query(`UPDATE orders SET total = 0 WHERE id = ${id0}`)))?.code).toBe('0A000')

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
