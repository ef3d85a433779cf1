import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'

const TABLES = ['t1', 't2', 't3']

/** Two nodes holding three tables of rows, then `joiner` joins: what it received by repair, and the data's size. */
async function join(joiner: string): Promise<{ received: number; data: number; rows: number }> {
  const sim = new Simulation({ seed: 11 })
  const b = await sim.addNode({ id: 'b' })
  await sim.addNode({ id: 'c' })
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
})
