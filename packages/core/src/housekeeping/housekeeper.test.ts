import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import { Simulation } from '../sim/simulation.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'

describe('housekeeping rounds', () => {
  it('run on their own timer, go on after one throws, and count it', async () => {
    const time = new VirtualTime()
    const r = await Replica.open({ nodeId: 'r', antiEntropyIntervalMs: 0, housekeepingIntervalMs: 20, clock: time.clock, scheduler: time.scheduler })
    const hk = r.housekeeper
    let calls = 0
    const real = hk.compactionRound.bind(hk)
    hk.compactionRound = () => {
      calls++
      if (calls === 1) throw new Error('boom')
      real()
    }
    await time.advance(70)
    expect(calls).toBe(3)
    expect(hk.roundsFailed).toBe(1)
    expect(String(hk.lastRoundError)).toContain('boom')
    expect(r.replicator.stats.roundsFailed).toBe(0)
    await r.close()
  })
})

describe('housekeeping while the disk is full', () => {
  const table = { name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }
  const opts = { compaction: { departAfterMs: 3_000 } }
  const departed = (r: Replica, id: string) => r.members().find((m) => m.nodeId === id)?.departed

  /** Two nodes, `a` the oldest (it declares others departed); `id`'s disk full and failing a write. */
  async function twoNodes(full: 'a' | 'b') {
    const sim = new Simulation({ seed: 3, storageTiming: { minMs: 1, maxMs: 5 } })
    const a = await sim.addNode({ id: 'a', options: opts })
    const b = await sim.addNode({ id: 'b', options: opts })
    a.transact((tx) => tx.createTable(table))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.fillDisk(full, 6_000)
    const r = full === 'a' ? a : b
    r.transact((tx) => tx.insert('t', { id: 1 }))
    let failed = false
    r.durable().catch(() => (failed = true))
    await sim.advance(100)
    expect(failed).toBe(true)
    expect(() => r.transact((tx) => tx.insert('t', { id: 2 }))).toThrow(expect.objectContaining({ condition: 'diskFull' }))
    return { sim, a, b }
  }

  it('a node declared departed rejoins once its disk has room, without failing what it was doing meanwhile', async () => {
    const { sim, a, b } = await twoNodes('b')
    await sim.advance(4_000)
    expect(departed(a, 'b')).toBe(true)
    sim.heal()
    // b hears it was declared departed while its disk refuses writes: it rejoins later.
    await sim.advance(1_000)
    expect(b.housekeeper.roundsFailed).toBe(0)
    await sim.advance(6_000)
    await sim.settle()
    expect(departed(a, 'b')).toBe(false)
    expect(departed(b, 'b')).toBe(false)
    expect(a.get('t', [1])).toEqual({ id: 1 })
  })

  it('the oldest node declares a silent one departed once its disk has room; no round fails meanwhile', async () => {
    const { sim, a } = await twoNodes('a')
    await sim.advance(4_000)
    expect(a.housekeeper.roundsFailed).toBe(0)
    expect(departed(a, 'b')).toBe(false)
    await sim.advance(4_000)
    expect(a.housekeeper.roundsFailed).toBe(0)
    expect(departed(a, 'b')).toBe(true)
  })
})

describe('when a shard is due for a new generation', () => {
  it('counts a stable deleted row by the writers\' entries it holds, not as one', async () => {
    // 30 rows of one writer and one row every node wrote: 38 entries, threshold 20 % = 7.6.
    // The row, deleted, holds 8 entries: due. Counted as one row it was not (1 < 7.6).
    const sim = new Simulation({ seed: 5, antiEntropyIntervalMs: 300 })
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    for (const id of ids) await sim.addNode({ id, options: { compaction: { minGarbage: 2, ratio: 0.2, departAfterMs: 3_600_000 } } })
    const a = sim.replica('a')
    a.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }))
    await sim.settle()
    a.transact((tx) => {
      for (let i = 1; i <= 30; i++) tx.insert('t', { id: i, v: 'x' })
    })
    for (const id of ids) {
      sim.replica(id).transact((tx) => tx.upsert('t', { id: 0, v: id }))
      await sim.settle()
    }
    const shard = [...a.shards.values()].find((s) => s.table?.info.name === 't')!
    expect(shard.garbage()).toBe(0)
    expect(shard.deletedRowKeys()).toEqual([])
    sim.replica('h').transact((tx) => tx.delete('t', [0]))
    await sim.settle()
    expect(shard.entriesOfRows(shard.deletedRowKeys())).toBe(8)
    await sim.advance(6_000)
    await sim.settle()
    const builder = sim.replica(a.builderOf(shard.id)!)
    const built = [...builder.shards.values()].find((s) => s.table?.info.name === 't')!
    expect(built.tombstonesDropped).toBe(1)
    expect(built.generation).toBeGreaterThan(0)
    for (const id of ids) expect(sim.replica(id).get('t', [0])).toBeUndefined()
  }, 120_000)
})
