import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

const t: TableSpec = { name: 't', columns: [{ name: 'k', type: 'text' }, { name: 'v', type: 'int' }], primaryKey: ['k'] }

describe('Replica.syncState: what connected peers confirmed', () => {
  it('confirms every shard once a peer reports the same state, not a local write until the peer has it, and drops a peer that goes', async () => {
    const sim = new Simulation({ seed: 5 })
    const a = await sim.addNode({ id: 'a' })
    const b = await sim.addNode({ id: 'b' })
    let notified = 0
    a.onSyncState(() => notified++)
    a.transact((tx) => tx.createTable(t))
    a.transact((tx) => tx.insert('t', { k: 'x', v: 1 }))
    await sim.settle()
    await sim.advance(3_000)
    const settled = a.syncState()
    expect(settled.peers).toBe(1)
    expect(settled.shards).toBeGreaterThanOrEqual(2)
    expect(settled.confirmed).toBe(settled.shards)
    expect(notified).toBeGreaterThan(0)

    // Cut off: a local write is not confirmed by anyone.
    sim.partition(['a'], ['b'])
    a.transact((tx) => tx.update('t', ['x'], { v: 2 }))
    const cut = a.syncState()
    expect(cut.confirmed).toBeLessThan(cut.shards)

    // Healed: b gets the write and reports it, so everything is confirmed again.
    sim.heal()
    await sim.settle()
    await sim.advance(3_000)
    expect(b.get('t', ['x'])?.['v']).toBe(2)
    const healed = a.syncState()
    expect(healed.confirmed).toBe(healed.shards)

    // A crashed peer is no longer counted (the transport reports it down).
    sim.crash('b')
    await sim.advance(1_000)
    expect(a.syncState()).toMatchObject({ peers: 0, confirmed: 0 })
  })

  it('a lone replica confirms nothing', async () => {
    const sim = new Simulation({ seed: 6 })
    const a = await sim.addNode({ id: 'a' })
    a.transact((tx) => tx.createTable(t))
    a.transact((tx) => tx.insert('t', { k: 'x', v: 1 }))
    expect(a.syncState()).toMatchObject({ peers: 0, confirmed: 0 })
    expect(a.syncState().shards).toBeGreaterThanOrEqual(2)
  })
})
