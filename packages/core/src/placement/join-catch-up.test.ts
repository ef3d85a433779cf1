import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'

describe('join catch-up and the catalog', () => {
  // A member that answers before catching up (a browser replica) records no `joined`, so it
  // is a source of every table its region holds. The catalog is no such table: a node that
  // joined on empty storage read its own catalog inside transactions, and once a browser
  // replica was a member every listing threw "relation $catalog is not caught up" (CREATE
  // TABLE with SERIAL over psql failed, and a restarting node exited at start).
  it('a joined node still lists its catalog in a transaction after an answer-before-catch-up member appears', async () => {
    const sim = new Simulation({ seed: 5 })
    const a = await sim.addNode({ id: 'a' })
    await sim.addNode({ id: 'b' })
    await sim.settle()
    expect(a.listCatalog('joined').map(([name]) => name)).toContain('a')
    await sim.addNode({ id: 'page', options: { answerBeforeCatchUp: true } })
    await sim.settle()
    expect(a.listCatalog('member').map(([name]) => name)).toContain('page')
    expect(a.listCatalog('joined').map(([name]) => name)).not.toContain('page')
    const members = a.transact((tx) => tx.listCatalog('member').map(([name]) => name))
    expect(members).toEqual(['a', 'b', 'page'])
    a.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
    a.transact((tx) => tx.insert('t', { id: 1 }))
    await sim.settle()
    expect(a.rowCount('t')).toBe(1)
  })
})
