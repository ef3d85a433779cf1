import { describe, expect, it } from 'vitest'
import type { Scheduler, StoredRecord } from '../api.js'
import { MemoryStorage } from './memory-storage.js'
import { ShardLog } from './shard-log.js'

const noTimers: Scheduler = { setTimeout: () => () => {} }

/** A log over `storage` (memory by default) whose shard state is a snapshot of `size` bytes; counts the snapshots taken. */
function logOf(size: number, storage = new MemoryStorage()) {
  let snapshots = 0
  const log = new ShardLog(storage, noTimers, (): StoredRecord => {
    snapshots++
    return { generation: 0, kind: 'snapshot', data: new Uint8Array(size) }
  })
  const write = async (count: number, bytes: number) => {
    for (let i = 0; i < count; i++) {
      log.record('s', { generation: 0, kind: 'update', data: new Uint8Array(bytes) })
      log.append(log.take()!, () => {})
    }
    await log.durable()
  }
  /** Writes `count` records of `bytes`: the last of them, not one before, rewrites the log. */
  const rewrittenAt = async (count: number, bytes: number) => {
    const before = snapshots
    const records = log.recordCount('s') ?? 0
    await write(count - 1, bytes)
    expect(snapshots).toBe(before)
    expect(log.recordCount('s')).toBe(records + count - 1)
    await write(1, bytes)
    expect(snapshots).toBe(before + 1)
    expect(log.recordCount('s')).toBe(1)
  }
  return { storage, log, write, rewrittenAt, snapshots: () => snapshots }
}

describe('shard log compaction', () => {
  it('a small shard is rewritten every 2,000 records once its snapshot size is known', async () => {
    const l = logOf(1_000)
    // The first rewrite: the snapshot's size is not known, so the log's own 100 kB at its
    // 2,000th record stand for it, and the records after reach half of that at the 3,000th.
    await l.write(2_999, 50)
    expect(l.snapshots()).toBe(0)
    await l.write(1, 50)
    expect(l.snapshots()).toBe(1)
    await l.write(1_999, 50) // 100 kB of records against a 1 kB snapshot
    expect(l.snapshots()).toBe(2)
    expect(l.storage.load('s')[0]!.kind).toBe('snapshot')
  })

  it('a large shard is rewritten once its records reach half its size, and at 20,000 records whatever their size', async () => {
    const l = logOf(1_000_000)
    await l.write(3_000, 50)
    expect(l.snapshots()).toBe(1)
    await l.write(9_000, 50) // 450 kB of records: below half of the 1 MB snapshot
    expect(l.snapshots()).toBe(1)
    expect(l.log.recordCount('s')).toBe(9_001)
    await l.write(1_000, 50) // 500 kB: due
    expect(l.snapshots()).toBe(2)
    expect(l.log.recordCount('s')).toBe(1)

    const tiny = logOf(10_000_000)
    await tiny.write(2_000, 100)
    await tiny.write(1_000, 100) // the first rewrite (see above)
    expect(tiny.snapshots()).toBe(1)
    await tiny.write(19_998, 10) // 200 kB of records against 10 MB: the record count bounds the log
    expect(tiny.snapshots()).toBe(1)
    await tiny.write(1, 10)
    expect(tiny.snapshots()).toBe(2)
    expect(tiny.storage.load('s')).toHaveLength(1)
  })

  it('a log loaded from storage that starts with a snapshot is rewritten by its bytes, not at 2,000 records', async () => {
    const before = logOf(1_000_000)
    await before.write(3_000, 50)
    await before.write(10, 50)
    expect(before.snapshots()).toBe(1)
    // A start: a new log over the same storage, told what the shard's log holds.
    const after = logOf(1_000_000, before.storage)
    const stored = before.storage.load('s')
    expect(stored[0]!.kind).toBe('snapshot')
    after.log.loaded('s', stored)
    await after.write(2_500, 50) // 125 kB of records against a 1 MB snapshot: not due
    expect(after.snapshots()).toBe(0)
    await after.write(7_490, 50) // 500 kB with the 10 loaded: due
    expect(after.snapshots()).toBe(1)
    expect(after.log.recordCount('s')).toBe(1)
  })

  it('a log of updates only, loaded from storage, is rewritten once the updates after the start reach half its bytes', async () => {
    const first = logOf(1)
    // As a COPY leaves a large table: few records, large ones.
    await first.write(10, 100_000)
    const after = logOf(1_000_000, first.storage)
    after.log.loaded('s', first.storage.load('s'))
    await after.write(9_999, 50)
    expect(after.snapshots()).toBe(0) // 499,950 bytes of updates against the 1 MB it held
    await after.write(1, 50)
    expect(after.snapshots()).toBe(1)
  })

  it('a log begun with a bulk load is not rewritten at its 2,000th record: the load stands for its state', async () => {
    // 100 records of 100 kB (a COPY of a large table), then one-row updates: before, the
    // 1,900th update rewrote the table whole (a 1,000,000-row table: ~5 s of the event loop).
    const l = logOf(10_000_000)
    await l.write(100, 100_000)
    await l.write(1_900, 200)
    expect(l.snapshots()).toBe(0)
    // Judged from the 2,000th record against the 10.38 MB the log then held: due at half
    // of it in updates, or at 20,000 records.
    await l.rewrittenAt(18_000, 200)
  })

  it('a shard removed and made again is judged by its new log, not by the old snapshot', async () => {
    const l = logOf(1_000_000)
    await l.write(3_000, 50)
    expect(l.snapshots()).toBe(1) // the old shard's snapshot: 1 MB
    l.log.remove('s')
    await l.log.durable()
    await l.write(3_000, 50) // the new log's 100 kB at its 2,000th record stand for its state
    expect(l.snapshots()).toBe(2)
  })

  it('a large snapshot lets its log hold one record per kB of it before the record count rewrites it', async () => {
    const big = logOf(40_000_000)
    await big.write(3_000, 10) // the first rewrite (the 30 kB log stands for its state at first)
    expect(big.snapshots()).toBe(1)
    // 40 MB of snapshot: 40,000 records in its log (400 kB, far below half of it) at the rewrite.
    await big.rewrittenAt(39_999, 10)
  })
})
