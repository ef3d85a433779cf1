import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import { Simulation } from '../sim/simulation.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import type { TableSpec } from '../types.js'

const table: TableSpec = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'int' }], primaryKey: ['id'] }
const quiet = { antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 }
const ROWS = 9_000 // five slices of 2,000 rows

async function flushStorage(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

describe('sliced commits (docs/decisions/0038-sliced-commits.md)', () => {
  it('shows, stores and keeps none of a commit until its last slice, then all of it', async () => {
    const clock = new VirtualTime()
    const storage = new MemoryStorage()
    const replica = await Replica.open({ nodeId: 'a', storage, scheduler: clock.scheduler, ...quiet })
    replica.transact((tx) => {
      tx.createTable(table)
      for (let i = 0; i < 10; i++) tx.insert('t', { id: i, v: 0 })
    })
    await replica.durable()
    const changes: number[] = []
    replica.on('change', (c) => changes.push(c.length))

    let done: Promise<void> | null = null
    replica.transact(
      (tx) => {
        for (let i = 0; i < 10; i++) tx.update('t', [i], { v: 1 })
        for (let i = 10; i < ROWS; i++) tx.insert('t', { id: i, v: 1 })
      },
      { sliceAbove: 1_000, onSliced: (d) => (done = d) },
    )
    expect(done).not.toBeNull()
    let turns = 0
    // Between slices: the rows as before the commit, nothing of it in storage, and a crash
    // (storage as it is now, opened again) keeps none of it.
    while (replica.isCommitting) {
      expect(replica.rowCount('t')).toBe(10)
      expect([...replica.scan('t')].every((r) => r.v === 0)).toBe(true)
      expect(replica.isDurable()).toBe(false)
      await flushStorage()
      const crashed = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
      expect(crashed.rowCount('t')).toBe(10)
      expect([...crashed.scan('t')].every((r) => r.v === 0)).toBe(true)
      await crashed.close()
      expect(await clock.runNext()).toBe(true)
      turns++
    }
    await done
    // Five slices of 2,000 rows: at least four turns of the scheduler (other timers may run among them).
    expect(turns).toBeGreaterThanOrEqual(4)
    expect(replica.rowCount('t')).toBe(ROWS)
    expect([...replica.scan('t')].every((r) => r.v === 1)).toBe(true)
    // One change event with every row, at the end.
    expect(changes).toEqual([ROWS])
    await replica.durable()
    const restarted = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(restarted.rowCount('t')).toBe(ROWS)
    expect([...restarted.scan('t')].every((r) => r.v === 1)).toBe(true)
    await restarted.close()
    await replica.close()
  })

  it('applies in one step below the threshold, with catalog writes, or without the option', async () => {
    const clock = new VirtualTime()
    const replica = await Replica.open({ nodeId: 'a', storage: new MemoryStorage(), scheduler: clock.scheduler, ...quiet })
    let sliced = 0
    const options = { sliceAbove: 1_000, onSliced: () => sliced++ }
    replica.transact((tx) => {
      tx.createTable(table)
      for (let i = 0; i < 3_000; i++) tx.insert('t', { id: i, v: 0 })
    }, options)
    replica.transact((tx) => {
      for (let i = 3_000; i < 3_500; i++) tx.insert('t', { id: i, v: 0 })
    }, options)
    replica.transact((tx) => {
      for (let i = 3_500; i < 6_000; i++) tx.insert('t', { id: i, v: 0 })
    })
    expect(sliced).toBe(0)
    expect(replica.isCommitting).toBe(false)
    expect(replica.rowCount('t')).toBe(6_000)
    await replica.close()
  })

  it('waits for a durability wait on a held shard, and a close, until the commit is in', async () => {
    const clock = new VirtualTime()
    const replica = await Replica.open({ nodeId: 'a', storage: new MemoryStorage(), scheduler: clock.scheduler, ...quiet })
    replica.transact((tx) => tx.createTable(table))
    await replica.durable()
    let done: Promise<void> | null = null
    replica.transact(
      (tx) => {
        for (let i = 0; i < 5_000; i++) tx.insert('t', { id: i, v: 1 })
      },
      { sliceAbove: 1_000, onSliced: (d) => (done = d) },
    )
    let durable = false
    void replica.durable().then(() => (durable = true))
    const closing = replica.close()
    await flushStorage()
    expect(durable).toBe(false)
    expect(replica.isClosed).toBe(false)
    while (await clock.runNext()) await flushStorage()
    await done
    await closing
    expect(durable).toBe(true)
  })

  it('reaches peers only once all of it is in: a peer has none of it at the release, all of it after', async () => {
    const sim = new Simulation({ seed: 3 })
    await sim.addNode({ id: 'a' })
    await sim.addNode({ id: 'b' })
    sim.replica('a').transact((tx) => tx.createTable(table))
    await sim.settle()
    let atRelease = -1
    sim.replica('a').transact(
      (tx) => {
        for (let i = 0; i < ROWS; i++) tx.insert('t', { id: i, v: 1 })
      },
      { sliceAbove: 1_000, onSliced: (d) => void d.then(() => (atRelease = sim.replica('b').rowCount('t'))) },
    )
    expect(sim.replica('a').isCommitting).toBe(true)
    await sim.settle()
    expect(atRelease).toBe(0)
    expect(sim.replica('a').rowCount('t')).toBe(ROWS)
    expect(sim.replica('b').rowCount('t')).toBe(ROWS)
  })
})
