import { describe, expect, it } from 'vitest'
import { StorageFullError, type Scheduler } from '../api.js'
import { StorageQueue } from './storage-queue.js'

/** Timers that run only when the test says so. */
class ManualScheduler implements Scheduler {
  private timers: Array<() => void> = []
  setTimeout(_ms: number, fn: () => void): () => void {
    this.timers.push(fn)
    return () => {}
  }
  /** Runs every timer due (all of them: the test stands for the passing of time). */
  fire(): void {
    const due = this.timers.splice(0)
    for (const fn of due) fn()
  }
  get scheduled(): number {
    return this.timers.length
  }
}

/** A write the test settles by hand, counting its runs. */
function deferredWrite() {
  const w = {
    runs: 0,
    settle: null as null | ((err?: unknown) => void),
    run: (): Promise<void> => {
      w.runs++
      return new Promise<void>((resolve, reject) => {
        w.settle = (err?: unknown) => (err === undefined ? resolve() : reject(err))
      })
    },
  }
  return w
}

const ticks = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

describe('StorageQueue retries after a storage failure', () => {
  it('a snapshot issued while an older one of its shard is being retried does not cost the writes parked behind it', async () => {
    const timers = new ManualScheduler()
    const q = new StorageQueue(timers)
    const oldSnapshot = deferredWrite()
    const append = deferredWrite()
    const newSnapshot = deferredWrite()
    q.store({ kind: 'snapshot', shards: ['x'], run: oldSnapshot.run })
    oldSnapshot.settle!(new StorageFullError())
    await ticks()
    expect(q.failing).toBe(true)
    let appended = false
    q.store({ kind: 'append', shards: ['y'], run: append.run, done: () => (appended = true) })

    timers.fire() // the retry takes the old snapshot first...
    await ticks()
    expect(oldSnapshot.runs).toBe(2)
    // ...and while storage works on it, a newer snapshot of the same shard replaces it.
    q.store({ kind: 'snapshot', shards: ['x'], run: newSnapshot.run })
    oldSnapshot.settle!()
    await ticks()
    expect(append.runs).toBe(1)
    append.settle!()
    await ticks()
    expect(newSnapshot.runs).toBe(1)
    newSnapshot.settle!()
    await ticks()

    expect(appended).toBe(true)
    expect(q.failing).toBe(false)
    expect(q.isDurable()).toBe(true)
    await q.durable()
  })

  it('one retry pass at a time: a write slower than the retry interval is not issued twice', async () => {
    const timers = new ManualScheduler()
    const q = new StorageQueue(timers)
    const first = deferredWrite()
    const second = deferredWrite()
    q.store({ kind: 'append', shards: ['a'], run: first.run })
    q.store({ kind: 'append', shards: ['b'], run: second.run })
    first.settle!(new StorageFullError())
    await ticks()
    timers.fire() // retry pass 1 re-issues `first`, which takes long
    await ticks()
    expect(first.runs).toBe(2)
    second.settle!(new StorageFullError()) // the write in flight meanwhile fails too: a retry is scheduled
    await ticks()
    expect(timers.scheduled).toBe(1)
    timers.fire() // pass 2 would start while pass 1 still waits on `first`
    await ticks()
    expect(first.runs).toBe(2)
    first.settle!()
    await ticks()
    expect(second.runs).toBe(2)
    second.settle!()
    await ticks()
    expect(q.isDurable()).toBe(true)
    expect(first.runs).toBe(2)
    expect(second.runs).toBe(2)
  })
})
