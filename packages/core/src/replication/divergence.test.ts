import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'

const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

describe('divergence under equal Yjs state', () => {
  it('is reported when two replicas hold different rows under the same state vectors, never when they agree', async () => {
    // Two nodes forced onto one Yjs client id: each writes its own content under the same
    // (client, clock) ids, so state vectors and delete sets match while the rows do not,
    // which no exchange of diffs can repair. Anti-entropy must not call that in sync.
    const sim = new Simulation({ seed: 11 })
    const a = await sim.addNode({ id: 'a', options: { random: () => 0.5 } })
    const b = await sim.addNode({ id: 'b', options: { random: () => 0.5 } })
    await sim.advance(2_000)
    expect(a.replicator.divergences().filter((d) => d.confirmed)).toEqual([])
    await sim.advance(15_000)
    const seen = a.replicator.divergences().filter((d) => d.confirmed)
    expect(seen.map((d) => d.peer)).toContain('b')
    expect(seen.map((d) => d.shard)).toContain('catalog')
    expect(b.replicator.divergences().filter((d) => d.confirmed).map((d) => d.peer)).toContain('a')
  })

  it('is not reported between replicas that converge normally, through partitions and restarts', async () => {
    const sim = new Simulation({ seed: 12, faults: { drop: 0.1, minDelayMs: 1, maxDelayMs: 40 }, storageTiming: { minMs: 0, maxMs: 20 } })
    const a = await sim.addNode({ id: 'a' })
    await sim.addNode({ id: 'b' })
    await sim.addNode({ id: 'c' })
    a.transact((tx) => tx.createTable(table))
    await sim.settle()
    for (let i = 0; i < 200; i++) {
      const id = ['a', 'b', 'c'][i % 3]!
      if (i === 50) sim.partition(['a'], ['b', 'c'])
      if (i === 120) sim.heal()
      if (i === 150) sim.crash('c')
      if (i === 170) await sim.restart('c')
      if (!sim.isRunning(id)) continue
      sim.replica(id).transact((tx) => tx.upsert('t', { id: i % 7, v: `${id}${i}` }))
      await sim.advance(30)
    }
    await sim.settle()
    await sim.advance(20_000)
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).replicator.divergences()).toEqual([])
  })
})
