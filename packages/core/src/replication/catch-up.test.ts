import { describe, expect, it } from 'vitest'
import { Simulation, type SimulationOptions } from '../sim/simulation.js'

const TABLES = ['t1', 't2', 't3']

/** Two nodes holding three tables of rows, then `joiner` joins: what it received by repair, and the data's size. */
async function join(joiner: string, options: Omit<SimulationOptions, 'seed'> = {}): Promise<{ received: number; data: number; rows: number }> {
  const sim = new Simulation({ seed: 11, ...options })
  const b = await sim.addNode({ id: 'b' })
  await sim.addNode({ id: 'c' })
  // A slow network: let membership settle before writing (settle could return before it starts).
  const slow = 20 * (options.faults?.maxDelayMs ?? 0)
  await sim.advance(slow)
  b.transact((tx) => {
    for (const name of TABLES) tx.createTable({ name, columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] })
  })
  for (const name of TABLES) {
    b.transact((tx) => {
      for (let i = 0; i < 2000; i++) tx.insert(name, { id: i, v: `value ${i} of ${name}` })
    })
  }
  await sim.settle()
  let data = 0
  for (const s of b.shards.values()) data += s.encodeState().length
  const j = await sim.addNode({ id: joiner })
  await sim.advance(slow)
  await sim.settle()
  let rows = 0
  for (const name of TABLES) rows += j.rowCount(name)
  return { received: j.replicator.stats.repairBytes, data, rows }
}

describe('catch-up of a joining node', () => {
  // Each shard comes from one peer, whichever starts the exchange (the lower node id does).
  for (const joiner of ['a', 'z']) {
    it(`a node joining two peers receives each shard once (joiner ${joiner}, ${joiner === 'a' ? 'lowest' : 'highest'} id)`, async () => {
      const { received, data, rows } = await join(joiner)
      expect(rows).toBe(TABLES.length * 2000)
      expect(received).toBeLessThan(1.5 * data)
    })
  }

  // Anti-entropy rounds go on while the shards travel: a joiner must not ask the same peer
  // for the whole shard again each round (it did: the state arrived once per round).
  for (const joiner of ['a', 'z']) {
    it(`a node joining over a slow network still receives each shard once (joiner ${joiner})`, async () => {
      const { received, data, rows } = await join(joiner, { antiEntropyIntervalMs: 200, faults: { minDelayMs: 1500, maxDelayMs: 2000 } })
      expect(rows).toBe(TABLES.length * 2000)
      expect(received).toBeLessThan(1.5 * data)
    })
  }
})
