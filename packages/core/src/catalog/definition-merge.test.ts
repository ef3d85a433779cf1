import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

const strong: TableSpec = {
  name: 'inv',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'qty', type: 'int', meta: { notNull: true, default: 100 } },
  ],
  primaryKey: ['id'],
  policy: 'first_write_wins',
  meta: { checks: ['qty >= 0'] },
}

const weak: TableSpec = {
  name: 'inv',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'note', type: 'text' },
    { name: 'qty', type: 'text', meta: { default: 0 } },
  ],
  primaryKey: ['id'],
  meta: { checks: [] },
}

async function partitioned(seed: number): Promise<Simulation> {
  const sim = new Simulation({ seed })
  await sim.addNode({ id: 'a' })
  await sim.addNode({ id: 'b' })
  await sim.settle()
  sim.partition(['a'], ['b'])
  return sim
}

describe('catalog: DDL merge', () => {
  it('the earliest of two concurrent CREATEs keeps its table and column definitions; the later one only adds its own columns', async () => {
    for (const first of ['a', 'b']) {
      const sim = await partitioned(first === 'a' ? 51 : 52)
      const second = first === 'a' ? 'b' : 'a'
      sim.replica(first).transact((tx) => tx.createTable(strong))
      await sim.advance(100)
      sim.replica(second).transact((tx) => tx.createTable(weak))
      sim.heal()
      await sim.settle()
      for (const id of ['a', 'b']) {
        const t = sim.replica(id).table('inv')!
        expect(t.columns.map((c) => [c.name, c.type, c.meta])).toEqual([
          ['id', 'int', null],
          ['qty', 'int', { notNull: true, default: 100 }],
          ['note', 'text', null],
        ])
        expect(t.policy).toBe('first_write_wins')
        expect(t.meta).toEqual({ checks: ['qty >= 0'] })
      }
    }
  })

  it('concurrent ALTERs of one column merge per attribute; meta lists are unions', async () => {
    const sim = await partitioned(53)
    sim.heal()
    sim.replica('a').transact((tx) => tx.createTable(strong))
    await sim.settle()
    sim.partition(['a'], ['b'])
    sim.replica('a').transact((tx) => {
      tx.alterColumn('inv', 'qty', { meta: { notNull: true, default: 5 } })
      tx.alterTable('inv', { meta: { checks: ['qty >= 0', 'qty < 1000'] } })
    })
    await sim.advance(10)
    sim.replica('b').transact((tx) => {
      tx.alterColumn('inv', 'qty', { meta: { default: 100 }, policy: 'last_write_wins' })
      tx.alterTable('inv', { meta: { checks: ['qty >= 0', 'qty % 2 = 0'] }, options: { fillfactor: '70' } })
    })
    sim.heal()
    await sim.settle()
    for (const id of ['a', 'b']) {
      const t = sim.replica(id).table('inv')!
      const qty = t.columns.find((c) => c.name === 'qty')!
      // a changed the default, b dropped NOT NULL later: both changes apply; b's policy too.
      expect(qty.meta).toEqual({ default: 5 })
      expect(qty.policy).toBe('last_write_wins')
      expect(t.meta).toEqual({ checks: ['qty >= 0', 'qty < 1000', 'qty % 2 = 0'] })
      expect(t.options).toEqual({ fillfactor: '70' })
    }
  })
})
