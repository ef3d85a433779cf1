import { describe, expect, it } from 'vitest'
import type { Replica } from '../replica.js'
import type { ShardLog } from '../storage/shard-log.js'
import { ChangePipeline } from './change-pipeline.js'
import { Simulation } from '../sim/simulation.js'
import type { TableSpec } from '../types.js'

const items: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
  ],
  primaryKey: ['id'],
}

/**
 * A writer and a follower whose hand-offs of peers' rows (ReplicaOptions.handOffRemote)
 * wait in `due` until the test runs them; the table is on both, at rest.
 */
async function pair(): Promise<{ sim: Simulation; w: Replica; f: Replica; due: Array<() => void>; runDue(): void }> {
  const due: Array<() => void> = []
  const runDue = (): void => {
    for (const fn of due.splice(0)) fn()
  }
  const sim = new Simulation({ seed: 7 })
  const w = await sim.addNode({ id: 'w' })
  await sim.addNode({ id: 'f', options: { handOffRemote: (fn) => due.push(fn) } })
  w.transact((tx) => tx.createTable(items))
  for (let i = 0; i < 100 && !(sim.replica('f').table('items') !== undefined && sim.replica('f').isDurable() && due.length === 0); i++) {
    runDue()
    await sim.advance(20)
  }
  const f = sim.replica('f')
  expect(f.table('items')).toBeDefined()
  return { sim, w, f, due, runDue }
}

/** Advances until the follower holds row `id` (its hand-offs left waiting). */
async function untilHeld(sim: Simulation, f: Replica, id: number): Promise<void> {
  for (let i = 0; i < 200 && f.get('items', [id]) === undefined; i++) await sim.advance(2)
  expect(f.get('items', [id])).toEqual({ id, name: `item ${id}` })
}

describe('the hand-off of a peer’s rows to storage (handOffRemote)', () => {
  it('comes after the row is readable, and what waits for durability waits for it', async () => {
    const { sim, w, f, due, runDue } = await pair()
    w.transact((tx) => tx.insert('items', { id: 1, name: 'item 1' }))
    await untilHeld(sim, f, 1)
    expect(due).toHaveLength(1)
    expect(f.isDurable()).toBe(false)
    let durable = false
    f.whenDurable(() => (durable = true))
    // Turns of the real loop, no virtual time (in which the node's row checkpoint takes the records along).
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(durable).toBe(false)
    runDue()
    await sim.advance(200)
    expect(durable).toBe(true)
    expect(f.isDurable()).toBe(true)
  })

  it('is taken along by a local write before it runs, in the order applied, and kept across a crash', async () => {
    const { sim, w, f, due, runDue } = await pair()
    w.transact((tx) => tx.insert('items', { id: 1, name: 'item 1' }))
    await untilHeld(sim, f, 1)
    f.transact((tx) => tx.insert('items', { id: 2, name: 'item 2' }))
    for (let i = 0; i < 50 && !f.isDurable(); i++) await sim.advance(5)
    expect(f.isDurable()).toBe(true)
    // The scheduled hand-off then finds nothing left to hand over.
    runDue()
    expect(f.isDurable()).toBe(true)
    sim.partition(['w'], ['f'])
    sim.crash('f')
    const again = await sim.restart('f')
    expect(again.get('items', [1])).toEqual({ id: 1, name: 'item 1' })
    expect(again.get('items', [2])).toEqual({ id: 2, name: 'item 2' })
  })

  it('is taken along by a row checkpoint, which then names the row', async () => {
    const { sim, w, f, due } = await pair()
    w.transact((tx) => tx.insert('items', { id: 1, name: 'item 1' }))
    await untilHeld(sim, f, 1)
    expect(due).toHaveLength(1)
    expect(await f.checkpointRows()).toBe(true)
    expect(f.rowsCheckpointed).toBe(true)
    sim.partition(['w'], ['f'])
    sim.crash('f')
    const again = await sim.restart('f')
    expect(again.get('items', [1])).toEqual({ id: 1, name: 'item 1' })
  })

  it('lost to a crash before it runs, the row comes back from its writer', async () => {
    const { sim, w, f, runDue } = await pair()
    w.transact((tx) => tx.insert('items', { id: 1, name: 'item 1' }))
    await untilHeld(sim, f, 1)
    sim.crash('f')
    const again = await sim.restart('f')
    expect(again.get('items', [1])).toBeUndefined()
    for (let i = 0; i < 100 && !(again.get('items', [1]) !== undefined && again.isDurable()); i++) {
      runDue()
      await sim.advance(50)
    }
    expect(again.get('items', [1])).toEqual({ id: 1, name: 'item 1' })
    expect(again.isDurable()).toBe(true)
  })
})

describe('ChangePipeline.whenHandedOff', () => {
  it('runs every wait of a hand-off when one of them throws, then throws its error', () => {
    const kept: string[] = []
    const appended: string[][] = []
    const log = {
      isEmpty: () => kept.length === 0,
      take: () => (kept.length === 0 ? null : kept.splice(0)),
      setMeta: () => {},
      append: (batch: string[], done: () => void) => {
        appended.push(batch)
        done()
      },
    }
    const due: Array<() => void> = []
    const pipeline = new ChangePipeline({ log: log as unknown as ShardLog, publish: () => {}, beforeSettle: () => {}, loading: () => false, handOffRemote: (fn) => due.push(fn) })
    const ran: string[] = []
    pipeline.run(() => {
      kept.push('a peer’s record')
      pipeline.whenHandedOff(() => {
        ran.push('first')
        throw new Error('boom')
      })
      pipeline.whenHandedOff(() => ran.push('second'))
    })
    expect(due).toHaveLength(1)
    expect(appended).toEqual([])
    expect(ran).toEqual([])
    expect(() => pipeline.flush()).toThrow('boom')
    expect(appended).toEqual([['a peer’s record']])
    expect(ran).toEqual(['first', 'second'])
    // The scheduled hand-off then has nothing left to do.
    due[0]!()
    expect(appended).toHaveLength(1)
  })
})

