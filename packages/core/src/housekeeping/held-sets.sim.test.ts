import { describe, expect, it } from 'vitest'
import type { Replica } from '../replica.js'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

/**
 * Held-by sets (held-sets.ts, docs/decisions/0036-held-by-sets.md): in a cluster where the
 * builder holds a link to few of a shard's holders, it learns that all of them hold its
 * state from the sets its peers gossip, and drops the tombstones within a few tens of
 * rounds (26 with this seed). Asking each holder, and relays two hops away, reach a bounded
 * number of holders per round: without held-by sets no tombstone had gone after 100 rounds.
 */
const PEERS = 120
const ROWS = 20
const everywhere: TableSpec = { name: 'everywhere', columns: [{ name: 'id', type: 'int' }, { name: 'a', type: 'text' }], primaryKey: ['id'] }

function shardOf(r: Replica, table: string) {
  return [...r.shards.values()].find((s) => s.table?.info.name === table)
}

describe('held-by sets', () => {
  it('make deletes stable at a builder linked to few of 120 holders, in 40 rounds', async () => {
    const sim = new Simulation({ seed: 21, antiEntropyIntervalMs: 300, links: { target: 4, max: 8 } })
    const ids: string[] = []
    for (let i = 0; i < PEERS; i++) {
      ids.push(`n${i}`)
      await sim.addNode({ id: `n${i}`, options: { compaction: { minGarbage: 2, ratio: 0.05, departAfterMs: 3_600_000 } } })
    }
    sim.replica('n0').transact((tx) => tx.createTable(everywhere))
    await sim.settle()
    for (let row = 0; row < ROWS; row++) sim.replica(ids[(row * 7) % PEERS]!).transact((tx) => tx.insert('everywhere', { id: row, a: `v${row}` }))
    await sim.settle()
    for (let row = 0; row < ROWS; row++) sim.replica(ids[(row * 7 + 3) % PEERS]!).transact((tx) => tx.delete('everywhere', [row]))
    await sim.settle()
    const builder = sim.replica('n0').builderOf(shardOf(sim.replica('n0'), 'everywhere')!.id)!
    expect(builder).not.toBeNull()
    expect(shardOf(sim.replica(builder), 'everywhere')!.tombstonesDropped).toBe(0)
    // Forty anti-entropy rounds, quiet.
    await sim.advance(12_000)
    await sim.settle()

    expect(sim.linkedPeers(builder).length, 'the builder is linked to few holders').toBeLessThanOrEqual(8)
    const built = shardOf(sim.replica(builder), 'everywhere')!
    expect(built.tombstonesDropped).toBe(ROWS)
    expect(sim.replica(builder).housekeeper.heldLearned, 'holders the builder learned of from held-by sets').toBeGreaterThan(PEERS / 2)
    for (const id of ids) {
      const shard = shardOf(sim.replica(id), 'everywhere')!
      expect(shard.generation, `${id} switched to the new generation`).toBe(built.generation)
      expect([...sim.replica(id).scan('everywhere')]).toEqual([])
    }
  }, 900_000)
})
