import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

// The simulator's nodes put a shard's document away after 300 virtual ms without use
// (core sim/simulation.ts), as a server does after --hibernate-after.
describe('hibernated shards over SQL', () => {
  it('pg_stat_concord_shards shows an idle shard hibernated; reads and the view leave it so, a write loads it and replicates', async () => {
    const cluster = await SimCluster.create({ seed: 11, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT, n INT)')
    await a.query("INSERT INTO kv SELECT g, 'v' || g, g FROM generate_series(1, 200) g")
    await a.query('DELETE FROM kv WHERE k > 190')
    await cluster.settle()
    const state = async () =>
      (await a.query("SELECT hibernated, live_rows, entries FROM pg_stat_concord_shards WHERE table_name = 'kv'")).rows[0]
    await cluster.advance(2_000)
    expect(await state()).toEqual({ hibernated: true, live_rows: '190', entries: '200' })

    // Reads answer from the rows: the document stays put away.
    expect((await a.query('SELECT count(*) AS c, sum(n) AS s FROM kv')).rows).toEqual([{ c: '190', s: String((190 * 191) / 2) }])
    expect((await a.query('SELECT v FROM kv WHERE k = 7')).rows).toEqual([{ v: 'v7' }])
    expect((await state())?.['hibernated']).toBe(true)

    // A write loads it, and the write reaches the peer.
    await a.query("UPDATE kv SET v = 'changed' WHERE k <= 3")
    expect((await state())?.['hibernated']).toBe(false)
    await cluster.settle()
    expect((await b.query("SELECT k FROM kv WHERE v = 'changed' ORDER BY k")).rows).toEqual([{ k: 1 }, { k: 2 }, { k: 3 }])
    // Idle again: put away again on both; a write on the peer loads the shard here when it arrives.
    await cluster.advance(2_000)
    expect((await state())?.['hibernated']).toBe(true)
    await b.query("INSERT INTO kv VALUES (500, 'from b', 0)")
    await cluster.settle()
    expect((await a.query('SELECT v FROM kv WHERE k = 500')).rows).toEqual([{ v: 'from b' }])
    expect((await state())?.['hibernated']).toBe(false)
    expect((await a.query('SELECT count(*) AS c FROM kv')).rows).toEqual((await b.query('SELECT count(*) AS c FROM kv')).rows)
    await cluster.close()
  })
})
