import { describe, expect, it } from 'vitest'
import type { Scheduler } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import { RowCheckpoint } from './row-checkpoint.js'

/** Timers driven by the test: `advance(ms)` runs those due, in order. */
function manualClock(): { scheduler: Scheduler; now: () => number; advance(ms: number): Promise<void>; advanceInside(ms: number): Promise<void> } {
  let t = 0
  let timers: Array<{ at: number; fn: () => void }> = []
  return {
    scheduler: {
      setTimeout(ms, fn) {
        const timer = { at: t + ms, fn }
        timers.push(timer)
        return () => (timers = timers.filter((x) => x !== timer))
      },
    },
    now: () => t,
    // Time passing inside a running timer (its work takes `ms`); timers due meanwhile run later.
    async advanceInside(ms) {
      t += ms
      await Promise.resolve()
    },
    async advance(ms) {
      const end = t + ms
      for (let i = 0; i < 1000; i++) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0]
        if (!due) break
        timers = timers.filter((x) => x !== due)
        t = due.at
        due.fn()
        // Let the checkpoint's storage writes settle before the next timer.
        for (let j = 0; j < 20; j++) await Promise.resolve()
        await new Promise((r) => setTimeout(r, 0))
      }
      t = Math.max(t, end)
    },
  }
}

const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

describe('row checkpoints', () => {
  it('stores the rows after a quiet second, not while rows keep changing, and a write drops the checkpoint', async () => {
    const storage = new MemoryStorage()
    const clock = manualClock()
    const replica = await Replica.open({ nodeId: 'p', storage, antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0, scheduler: clock.scheduler })
    replica.transact((tx) => tx.createTable(table))
    const checkpoint = new RowCheckpoint(replica, { scheduler: clock.scheduler, now: clock.now, quietMs: 1000 })
    for (let i = 0; i < 5; i++) {
      replica.transact((tx) => tx.upsert('t', { id: i, v: `v${i}` }))
      await clock.advance(600) // a change every 600 ms: never quiet for a second
      expect(replica.rowsCheckpointed).toBe(false)
    }
    await clock.advance(2000)
    expect(replica.rowsCheckpointed).toBe(true)
    expect(checkpoint.stored).toBe(1)
    await clock.advance(5000) // nothing changed: no second checkpoint
    expect(checkpoint.stored).toBe(1)

    // The next open (no close: a reload) starts from the checkpointed rows.
    const reopened = await Replica.open({ nodeId: 'p', storage: MemoryStorage.fromSnapshot(storage.snapshot()), antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 })
    const shard = [...reopened.shards.values()].find((s) => s.viewName() === 't')!
    expect(shard.isDeferred).toBe(true)
    expect([...reopened.scan('t')].length).toBe(5)
    await reopened.close()

    replica.transact((tx) => tx.upsert('t', { id: 9, v: 'later' }))
    expect(replica.rowsCheckpointed).toBe(false)
    await clock.advance(2000)
    expect(replica.rowsCheckpointed).toBe(true)
    expect(checkpoint.stored).toBe(2)
    checkpoint.stop()
    replica.transact((tx) => tx.upsert('t', { id: 10, v: 'after stop' }))
    await clock.advance(5000)
    expect(replica.rowsCheckpointed).toBe(false)
    expect(checkpoint.stored).toBe(2)
    await replica.close()
  })

  it('waits costFactor times the last checkpoint\'s duration before the next, however quiet', async () => {
    const clock = manualClock()
    let listener: () => void = () => {}
    let current = false
    const runs: number[] = []
    const target = {
      get rowsCheckpointed() {
        return current
      },
      on: (_event: string, fn: () => void) => {
        listener = fn
        return () => {}
      },
      // Each checkpoint takes 500 ms of the clock.
      checkpointRows: async () => {
        runs.push(clock.now())
        await clock.advanceInside(500)
        current = true
        return true
      },
    }
    const checkpoint = new RowCheckpoint(target as never, { scheduler: clock.scheduler, now: clock.now, quietMs: 1000, costFactor: 4 })
    await clock.advance(1000)
    expect(runs).toEqual([1000])
    // It ended at 1500. A change then: quiet again at 2500, but the next waits until 1500 + 4 x 500 ms.
    expect(clock.now()).toBe(1500)
    current = false
    listener()
    await clock.advance(1900)
    expect(runs).toEqual([1000])
    await clock.advance(200)
    expect(runs).toEqual([1000, 3500])
    checkpoint.stop()
  })
})
