import { describe, expect, it } from 'vitest'
import type { Replica } from '../replica.js'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

/**
 * Deletes become stable, and their tombstones are dropped, in a cluster of many peers:
 * stability waits only for the shard's holders, and the builder asks them for their
 * state (state-report-asks.ts) instead of waiting to be picked for anti-entropy, which at
 * 45 peers reached it from a given holder once in 44 rounds, and from all 14 other
 * holders of a region-scoped shard practically never.
 */
const REGIONS = ['us-west', 'eu-central', 'ap-southeast']
const PEERS = 45
const ROWS = 20
const regional: TableSpec = {
  name: 'regional',
  columns: [{ name: 'id', type: 'int' }, { name: 'a', type: 'text' }],
  primaryKey: ['id'],
  regions: ['us-west'],
}

function shardOf(r: Replica, table: string) {
  return [...r.shards.values()].find((s) => s.table?.info.name === table)
}

describe('compaction in a cluster of many peers', () => {
  it('drops the tombstones of a region-scoped table once its holders report, with 45 peers', async () => {
    const sim = new Simulation({ seed: 11, antiEntropyIntervalMs: 300 })
    const ids: string[] = []
    for (let i = 0; i < PEERS; i++) {
      ids.push(`n${i}`)
      await sim.addNode({ id: `n${i}`, region: REGIONS[i % REGIONS.length]!, options: { compaction: { minGarbage: 2, ratio: 0.05, departAfterMs: 3_600_000 } } })
    }
    sim.replica('n0').transact((tx) => tx.createTable(regional))
    await sim.settle()
    const holders = ids.filter((id) => sim.replica(id).region === 'us-west')
    expect(holders.length).toBe(15)
    // Rows written by some holders and deleted by others: no writer overwrites its own
    // entry, so only stable deletes make the shard worth a new generation.
    for (let row = 0; row < ROWS; row++) sim.replica(holders[row % 5]!).transact((tx) => tx.insert('regional', { id: row, a: `v${row}` }))
    await sim.settle()
    for (let row = 0; row < ROWS; row++) sim.replica(holders[(row % 5) + 5]!).transact((tx) => tx.delete('regional', [row]))
    await sim.settle()
    // Fifty anti-entropy rounds, quiet.
    await sim.advance(15_000)
    await sim.settle()

    const builder = sim.replica(holders[0]!).builderOf(shardOf(sim.replica(holders[0]!), 'regional')!.id)
    expect(builder).not.toBeNull()
    const built = shardOf(sim.replica(builder!), 'regional')!
    expect(built.tombstonesDropped).toBe(ROWS)
    expect(sim.replica(builder!).housekeeper.asks.sent).toBeGreaterThan(0)
    for (const id of holders) {
      const shard = shardOf(sim.replica(id), 'regional')!
      expect(shard.generation, `${id} switched to the new generation`).toBe(built.generation)
      expect(shard.generation).toBeGreaterThan(0)
      expect([...sim.replica(id).scan('regional')]).toEqual([])
    }
    // Nodes of other regions hold none of it.
    for (const id of ids) if (!holders.includes(id)) expect(shardOf(sim.replica(id), 'regional')).toBeUndefined()
    // Virtual time drives it; the bound is for a loaded machine (6 s alone, 183 s at load 45).
  }, 900_000)

  it('drops tombstones when the holders outnumber the builder\'s connections, by relayed reports', async () => {
    // Every node holds the table; each holds at most 8 links, so the builder has no
    // connection to most holders and hears of them only through peers that do.
    const peers = 30
    const sim = new Simulation({ seed: 12, antiEntropyIntervalMs: 300, links: { target: 4, max: 8 } })
    const ids: string[] = []
    for (let i = 0; i < peers; i++) {
      ids.push(`n${i}`)
      await sim.addNode({ id: `n${i}`, options: { compaction: { minGarbage: 2, ratio: 0.05, departAfterMs: 3_600_000 } } })
    }
    const everywhere: TableSpec = { name: 'everywhere', columns: [{ name: 'id', type: 'int' }, { name: 'a', type: 'text' }], primaryKey: ['id'] }
    sim.replica('n0').transact((tx) => tx.createTable(everywhere))
    await sim.settle()
    for (let row = 0; row < ROWS; row++) sim.replica(ids[(row * 7) % peers]!).transact((tx) => tx.insert('everywhere', { id: row, a: `v${row}` }))
    await sim.settle()
    for (let row = 0; row < ROWS; row++) sim.replica(ids[(row * 7 + 3) % peers]!).transact((tx) => tx.delete('everywhere', [row]))
    await sim.settle()
    await sim.advance(15_000)
    await sim.settle()

    const builder = sim.replica('n0').builderOf(shardOf(sim.replica('n0'), 'everywhere')!.id)
    expect(builder).not.toBeNull()
    const unlinked = ids.filter((id) => id !== builder && !sim.linkedPeers(builder!).includes(id))
    expect(unlinked.length, 'holders the builder has no connection to').toBeGreaterThan(peers / 2)
    const built = shardOf(sim.replica(builder!), 'everywhere')!
    expect(built.tombstonesDropped).toBe(ROWS)
    expect(sim.replica(builder!).housekeeper.asks.relayed).toBeGreaterThan(0)
    for (const id of ids) {
      const shard = shardOf(sim.replica(id), 'everywhere')!
      expect(shard.generation, `${id} switched to the new generation`).toBe(built.generation)
      expect([...sim.replica(id).scan('everywhere')]).toEqual([])
    }
  }, 900_000)
})
