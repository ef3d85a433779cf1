import { describe, expect, it } from 'vitest'
import { GOSSIPSUB_DEGREE } from './gossip-mesh.js'
import { Simulation } from './simulation.js'
import { trafficBetween } from './traffic-meter.js'

const TABLE = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

async function cluster(sim: Simulation, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    ids.push(`n${i}`)
    await sim.addNode({ id: `n${i}`, region: ['a', 'b', 'c'][i % 3]! })
  }
  sim.replica('n0').transact((tx) => tx.createTable(TABLE))
  await sim.settle()
  return ids
}

describe('simulated network at scale', () => {
  it('a write costs its writer at most the gossip mesh degree (D_hi) in sends, and still reaches every node', async () => {
    const sim = new Simulation({ seed: 11, antiEntropyIntervalMs: 0 })
    const ids = await cluster(sim, 40)
    // Catalog changes of the start a node still holds back (catalog pacing, at most 50 ms) go first.
    await sim.advance(100)
    const before = sim.traffic.snapshot()
    sim.replica('n7').transact((tx) => tx.insert('t', { id: 1, v: 'x' }))
    await sim.advance(500)
    const sent = trafficBetween(before, sim.traffic.snapshot())
    // No anti-entropy or housekeeping runs: the writer sends only gossip, the others relays and one ACK each.
    const sentBy = (id: string) => sent.byNode.get(id)?.messages ?? 0
    expect(sent.byKind.get('Updates')!.messages).toBeGreaterThan(GOSSIPSUB_DEGREE.d)
    // Before the mesh, the writer sent one copy to each of its 39 peers; now one to each mesh peer (at most D_hi).
    expect(sentBy('n7')).toBeLessThanOrEqual(GOSSIPSUB_DEGREE.hi)
    expect(sentBy('n7')).toBeGreaterThanOrEqual(GOSSIPSUB_DEGREE.lo)
    for (const id of ids) expect(sim.replica(id).get('t', [1])).toEqual({ id: 1, v: 'x' })
    // Every node relays to its mesh at most once: no node sends more than the mesh's upper bound of copies.
    for (const id of ids) if (id !== 'n7') expect(sentBy(id)).toBeLessThanOrEqual(GOSSIPSUB_DEGREE.hi + 1)
  })

  it('a heal and a restart greet only linked peers, not every node now reachable', async () => {
    const links = { target: 4, max: 8 }
    const sim = new Simulation({ seed: 12, links })
    const ids = await cluster(sim, 60)
    for (const id of ids) expect(sim.linkedPeers(id).length).toBeLessThanOrEqual(links.max)
    sim.partition(ids.slice(0, 30), ids.slice(30))
    await sim.advance(2000)
    sim.replica('n3').transact((tx) => tx.insert('t', { id: 2, v: 'apart' }))
    let before = sim.traffic.snapshot()
    sim.heal()
    await sim.settle()
    let sent = trafficBetween(before, sim.traffic.snapshot())
    // Fully linked, each of the 900 pairs across the cut would trade 4 HELLOs (greeting and reply each way): 3,600.
    const helloTotal = sent.byKind.get('Hello')?.messages ?? 0
    expect(helloTotal).toBeLessThanOrEqual(ids.length * 2 * links.max)
    expect(helloTotal).toBeGreaterThan(0)
    for (const id of ids) expect(sim.replica(id).get('t', [2])).toEqual({ id: 2, v: 'apart' })

    before = sim.traffic.snapshot()
    sim.crash('n9')
    await sim.restart('n9')
    await sim.advance(100)
    sent = trafficBetween(before, sim.traffic.snapshot())
    expect(sent.byKind.get('Hello')?.messages ?? 0).toBeLessThanOrEqual(4 * sim.linkedPeers('n9').length)
  })
})
