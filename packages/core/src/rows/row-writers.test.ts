import { describe, expect, it } from 'vitest'
import { canonicalRows } from '../sim/campaign.js'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

const items: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
    { name: 'qty', type: 'int' },
  ],
  primaryKey: ['id'],
}

// A shard keeps no per-row writer map while it has one writer (shard.ts `rowWriters`);
// these check the rows written before a second writer are still resolved from both.
describe('rows of a shard that gains a second writer', () => {
  it('concurrent writes of rows one node wrote alone merge per column on every replica', async () => {
    const sim = new Simulation({ seed: 5 })
    for (const id of ['a', 'b']) await sim.addNode({ id })
    sim.replica('a').transact((tx) => tx.createTable(items))
    await sim.settle()
    sim.replica('a').transact((tx) => {
      for (let i = 0; i < 50; i++) tx.insert('items', { id: i, name: `item ${i}`, qty: 0 })
    })
    await sim.settle()
    // Concurrent: a renames, b (writing the shard for the first time) counts, the same rows.
    sim.replica('a').transact((tx) => {
      for (let i = 0; i < 10; i++) tx.update('items', [i], { name: `renamed ${i}` })
    })
    sim.replica('b').transact((tx) => {
      for (let i = 0; i < 10; i++) tx.update('items', [i], { qty: 100 + i })
      tx.delete('items', [40])
    })
    await sim.settle()
    for (const id of ['a', 'b']) {
      const r = sim.replica(id)
      expect(r.get('items', [3])).toMatchObject({ name: 'renamed 3', qty: 103 })
      expect(r.get('items', [20])).toMatchObject({ name: 'item 20', qty: 0 })
      expect(r.get('items', [40])).toBeUndefined()
    }
    expect(canonicalRows(sim.replica('b').scan('items'))).toBe(canonicalRows(sim.replica('a').scan('items')))
    // A node that receives both writers' entries at once resolves the same rows.
    await sim.addNode({ id: 'c' })
    await sim.settle()
    expect(canonicalRows(sim.replica('c').scan('items'))).toBe(canonicalRows(sim.replica('a').scan('items')))
    // Later writes by either still resolve from both entries.
    sim.replica('a').transact((tx) => tx.update('items', [3], { qty: 7 }))
    sim.replica('b').transact((tx) => tx.update('items', [20], { name: 'twenty' }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) {
      expect(sim.replica(id).get('items', [3])).toMatchObject({ name: 'renamed 3', qty: 7 })
      expect(sim.replica(id).get('items', [20])).toMatchObject({ name: 'twenty', qty: 0 })
    }
  })

  it('a row the first writer deleted is revived by the second writer after the delete only', async () => {
    const sim = new Simulation({ seed: 9 })
    for (const id of ['a', 'b']) await sim.addNode({ id })
    sim.replica('a').transact((tx) => tx.createTable(items))
    await sim.settle()
    sim.replica('a').transact((tx) => tx.insert('items', { id: 1, name: 'one', qty: 1 }))
    sim.replica('a').transact((tx) => tx.delete('items', [1]))
    await sim.settle()
    sim.replica('b').transact((tx) => tx.insert('items', { id: 1, name: 'again', qty: 2 }))
    await sim.settle()
    for (const id of ['a', 'b']) expect(sim.replica(id).get('items', [1])).toMatchObject({ name: 'again', qty: 2 })
    sim.replica('a').transact((tx) => tx.update('items', [1], { qty: 3 }))
    await sim.settle()
    for (const id of ['a', 'b']) expect(sim.replica(id).get('items', [1])).toMatchObject({ name: 'again', qty: 3 })
  })
})
