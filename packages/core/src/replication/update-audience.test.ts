import { describe, expect, it } from 'vitest'
import type { TableSpec } from '../types.js'
import { Simulation } from '../sim/simulation.js'
import { MessageType } from './messages.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'
import { UpdateAudience } from './update-audience.js'

const products: TableSpec = {
  name: 'products',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
  ],
  primaryKey: ['id'],
}

/** Counts the fresh-update messages each node gossiped, and those it sent as direct frames. */
function countUpdates(sim: Simulation): { gossiped: Map<string, string[]>; direct: Map<string, string[]> } {
  const gossiped = new Map<string, string[]>()
  const direct = new Map<string, string[]>()
  const note = (m: Map<string, string[]>, from: string, what: string) => m.set(from, [...(m.get(from) ?? []), what])
  const publish = sim.publish.bind(sim)
  sim.publish = (from: string, topic: string, data: Uint8Array) => {
    if (data[1] === MessageType.Updates) note(gossiped, from, topic)
    publish(from, topic, data)
  }
  const deliver = sim.deliver.bind(sim)
  sim.deliver = (from: string, to: string, data: Uint8Array) => {
    if (data[1] === MessageType.Updates) note(direct, from, to)
    deliver(from, to, data)
  }
  return { gossiped, direct }
}

describe('fresh updates go directly to their hearers when every one is connected', () => {
  it('sent as direct frames in a full mesh, still direct once a member crashed (nothing of it heard since), and nothing is lost', async () => {
    const sim = new Simulation({ seed: 40 })
    for (const id of ['a', 'b', 'c']) await sim.addNode({ id })
    sim.replica('a').transact((tx) => tx.createTable(products))
    await sim.settle()
    const sent = countUpdates(sim)
    for (let i = 0; i < 10; i++) sim.replica('a').transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    await sim.settle()
    expect(sent.gossiped.get('a') ?? []).toEqual([])
    expect(new Set(sent.direct.get('a'))).toEqual(new Set(['b', 'c']))
    expect(sim.replica('a').replicator.stats.updatesSentDirect).toBeGreaterThan(0)
    for (const id of ['b', 'c']) expect(sim.replica(id).rowCount('products')).toBe(10)

    // c crashed: still a live member, but nothing of it arrived since its link went down,
    // so gossip could not reach it either: taken for away at once, updates stay direct.
    sim.crash('c')
    const gossipedBefore = sim.replica('a').replicator.stats.updatesGossiped
    const directBefore = sim.replica('a').replicator.stats.updatesSentDirect
    for (let i = 10; i < 20; i++) sim.replica('a').transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    await sim.advance(500)
    expect(sim.replica('a').replicator.stats.updatesGossiped).toBe(gossipedBefore)
    expect(sim.replica('a').replicator.stats.updatesSentDirect).toBeGreaterThan(directBefore)
    expect(sim.replica('b').rowCount('products')).toBe(20)
    await sim.advance(3000)
    sim.replica('a').transact((tx) => tx.insert('products', { id: 100, name: 'while c is away' }))
    await sim.advance(500)
    expect(sim.replica('a').replicator.stats.updatesGossiped).toBe(gossipedBefore)
    expect(sim.replica('b').get('products', [100])?.name).toBe('while c is away')

    await sim.restart('c')
    await sim.settle()
    expect(sim.replica('c').rowCount('products')).toBe(21)
    // Everyone connected again: direct once more.
    const directAgain = sim.replica('a').replicator.stats.updatesSentDirect
    const gossipedAgain = sim.replica('a').replicator.stats.updatesGossiped
    sim.replica('a').transact((tx) => tx.insert('products', { id: 20, name: 'p20' }))
    await sim.settle()
    expect(sim.replica('a').replicator.stats.updatesSentDirect).toBeGreaterThan(directAgain)
    expect(sim.replica('a').replicator.stats.updatesGossiped).toBe(gossipedAgain)
    for (const id of ['b', 'c']) expect(sim.replica(id).get('products', [20])?.name).toBe('p20')
  })

  it('a node alone sends its updates to no one: no message is made for them', async () => {
    const sim = new Simulation({ seed: 42 })
    await sim.addNode({ id: 'a' })
    sim.replica('a').transact((tx) => tx.createTable(products))
    await sim.settle()
    const sent = countUpdates(sim)
    for (let i = 0; i < 10; i++) sim.replica('a').transact((tx) => tx.insert('products', { id: i, name: `p${i}` }))
    await sim.settle()
    expect(sim.replica('a').rowCount('products')).toBe(10)
    expect(sent.gossiped.get('a') ?? []).toEqual([])
    expect(sent.direct.get('a') ?? []).toEqual([])
    const { updatesSentDirect, updatesGossiped } = sim.replica('a').replicator.stats
    expect({ updatesSentDirect, updatesGossiped }).toEqual({ updatesSentDirect: 0, updatesGossiped: 0 })
    // A second node joins: it gets the rows, and later updates go to it.
    await sim.addNode({ id: 'b' })
    await sim.settle()
    sim.replica('a').transact((tx) => tx.insert('products', { id: 10, name: 'after b' }))
    await sim.settle()
    expect(sim.replica('b').rowCount('products')).toBe(11)
    expect(sim.replica('a').replicator.stats.updatesSentDirect + sim.replica('a').replicator.stats.updatesGossiped).toBeGreaterThan(0)
  })

  it("a region's topic goes direct when its region's members are connected, whoever else is away", async () => {
    const sim = new Simulation({ seed: 41 })
    await sim.addNode({ id: 'us1', region: 'us-west' })
    await sim.addNode({ id: 'us2', region: 'us-west' })
    await sim.addNode({ id: 'eu1', region: 'eu-central' })
    sim.replica('us1').transact((tx) => {
      tx.createTable({ ...products, regions: ['us-west'] })
      tx.createTable({ ...products, name: 'everywhere' })
    })
    await sim.settle()
    const sent = countUpdates(sim)
    sim.crash('eu1')
    sim.replica('us1').transact((tx) => tx.insert('products', { id: 1, name: 'local' }))
    await sim.advance(500)
    // eu1 hears only concord/all and its own region's topic: us-west's topic is complete.
    expect(sent.gossiped.get('us1') ?? []).toEqual([])
    expect(sent.direct.get('us1')).toEqual(['us2'])
    expect(sim.replica('us2').get('products', [1])?.name).toBe('local')
    // A table every region holds is heard by eu1 too, which crashed (nothing of it heard
    // since its link went down): away, so direct to the rest as well.
    sim.replica('us1').transact((tx) => tx.insert('everywhere', { id: 1, name: 'global' }))
    await sim.advance(500)
    expect(sent.gossiped.get('us1') ?? []).toEqual([])
    expect(sent.direct.get('us1')).toEqual(['us2', 'us2'])
    expect(sim.replica('us2').get('everywhere', [1])?.name).toBe('global')
    await sim.restart('eu1')
    await sim.settle()
    expect(sim.replica('eu1').get('everywhere', [1])?.name).toBe('global')
    expect(sim.replica('eu1').rowCount('products')).toBe(0)
  })
})

describe('who is taken for away', () => {
  /** An audience of replica a, whose peers `up` are connected and said hello; c is a live member too. */
  function audience(up: string[], c: { seen: number | null; down: number | null }, now: number): readonly string[] | null {
    const ctx = {
      host: { nodeId: 'a', now: () => now, liveMembers: () => ({ version: 1, live: ['a', 'b', 'c'].map((nodeId) => ({ nodeId, region: 'r' })) }) },
      peers: new Map(up.map((p) => [p, { region: 'r' }])),
      linked: new Set(up),
      linksVersion: 1,
      scopeOf: () => null,
    } as unknown as ReplicationContext<ReplicatedShard>
    const at = (x: number | null) => (peer: string) => (peer === 'c' ? x : null)
    return new UpdateAudience(ctx, at(c.seen), at(c.down), 2500).direct('concord/all', null, up)
  }

  it('a member whose last word came over the link that went down is away at once: direct to the rest', () => {
    expect(audience(['b'], { seen: 9_900, down: 10_000 }, 10_100)).toEqual(['b'])
  })

  it('a member heard from since its link went down is up somewhere, reachable through others: gossiped, until not heard from for long', () => {
    expect(audience(['b'], { seen: 10_050, down: 10_000 }, 10_100)).toBeNull()
    expect(audience(['b'], { seen: 10_050, down: 10_000 }, 12_600)).toEqual(['b'])
  })

  it('a member never linked here and heard from lately (through others) is gossiped to; one not heard from that long is away', () => {
    expect(audience(['b'], { seen: 10_000, down: null }, 10_100)).toBeNull()
    expect(audience(['b'], { seen: 10_000, down: null }, 12_600)).toEqual(['b'])
    expect(audience(['b', 'c'], { seen: 10_000, down: null }, 10_100)).toEqual(['b', 'c'])
  })
})
