import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

describe('pg_nodes and departed members', () => {
  it('a node silent past the horizon shows as departed, and online again once it is back', async () => {
    const options = { compaction: { departAfterMs: 20_000 } }
    const cluster = await SimCluster.create({
      seed: 5,
      nodes: [
        { id: 'a', options },
        { id: 'b', options },
        { id: 'c', options },
      ],
    })
    await cluster.node('a').query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT)')
    await cluster.settle()
    cluster.crash('c')
    await cluster.advance(30_000)
    const status = async (on: string) => (await cluster.node(on).query("SELECT node_id, status FROM pg_nodes WHERE node_id = 'c'")).rows[0]?.status
    expect(await status('a')).toBe('departed')
    expect(await status('b')).toBe('departed')
    await cluster.restart('c')
    await cluster.settle()
    await cluster.advance(2_000)
    expect(await status('a')).toBe('online')
    await cluster.close()
  })

  it('pg_stat_concord_shards shows each shard compacted into a generation, its tombstones dropped, and its builder', async () => {
    const options = { compaction: { minGarbage: 50, ratio: 0.5 } }
    const cluster = await SimCluster.create({ seed: 6, nodes: [{ id: 'a', options }, { id: 'b', options }] })
    const a = cluster.node('a')
    await a.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT)')
    await a.query('INSERT INTO kv SELECT g, 0 FROM generate_series(1, 100) g')
    await a.query('DELETE FROM kv WHERE k > 80')
    await cluster.settle()
    // Updates until a generation is built after the deletes became stable (both nodes
    // reported holding them); bounded at 10 rounds.
    const dropped = async () => (await a.query("SELECT tombstones_dropped AS d FROM pg_stat_concord_shards WHERE table_name = 'kv'")).rows[0]?.d
    for (let u = 1; u <= 10 && (await dropped()) !== '20'; u++) {
      await cluster.node(u % 2 === 0 ? 'a' : 'b').query('UPDATE kv SET v = $1', [u])
      await cluster.settle()
      await cluster.advance(2_000)
    }
    await cluster.settle()
    for (const id of ['a', 'b']) {
      const rows = (await cluster.node(id).query("SELECT table_name, partition, generation, overlays, live_rows, entries, history_items, tombstones_dropped, builder FROM pg_stat_concord_shards WHERE table_name = 'kv'")).rows
      expect(rows).toHaveLength(1)
      const r = rows[0]!
      expect(r).toMatchObject({ table_name: 'kv', partition: 0, overlays: 0, live_rows: '80', builder: 'a' })
      expect(Number(r.generation)).toBeGreaterThan(0)
      // deleted rows left no entries behind: at most one per writer for each live row
      expect(Number(r.entries)).toBeLessThanOrEqual(160)
    }
    expect((await a.query("SELECT tombstones_dropped FROM pg_stat_concord_shards WHERE table_name = 'kv'")).rows[0]!.tombstones_dropped).toBe('20')
    await cluster.close()
  })
})
