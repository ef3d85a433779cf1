/**
 * When a shard's storage log is rewritten as one snapshot (shard-log.ts): in proportion to
 * what was appended since the last snapshot, so a big shard updated a row at a time is not
 * re-encoded whole every 2,000 small updates; and what the log holds loads back whole.
 */
import { describe, expect, it } from 'vitest'
import type { StoredRecord } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from './memory-storage.js'

class CountingStorage extends MemoryStorage {
  compactions = 0
  override compact(shard: string, snapshot: StoredRecord): Promise<void> {
    this.compactions++
    return super.compact(shard, snapshot)
  }
}

const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }
const ROWS = 20_000

async function updates(r: Replica, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    r.transact((tx) => tx.update('t', [i % ROWS], { v: `u${i}` }))
    if (i % 200 === 0) await r.durable()
  }
  await r.durable()
}

describe('storage log compaction', () => {
  it('rewrites a big shard once the updates since its snapshot reach a share of its size, not every 2,000 small ones; the log loads back whole', async () => {
    const storage = new CountingStorage()
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0, rowSnapshots: false })
    r.transact((tx) => tx.createTable(table))
    for (let b = 0; b < ROWS; b += 5000) r.transact((tx) => { for (let i = b; i < b + 5000; i++) tx.insert('t', { id: i, v: 'x'.repeat(150) }) })
    await updates(r, 0, 2000)
    // The first 2,000 records: the snapshot's size was not known, so the count decided.
    expect(storage.compactions).toBe(1)
    // 2,100 small updates are far less than a quarter of 20,000 rows of 150 characters.
    await updates(r, 2000, 2100)
    expect(storage.compactions).toBe(1)
    await r.close()

    const again = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0, rowSnapshots: false })
    expect(again.rowCount('t')).toBe(ROWS)
    expect(again.get('t', [4099])).toEqual({ id: 4099, v: 'u4099' })
    expect(again.get('t', [1999])).toEqual({ id: 1999, v: 'u1999' })
    expect(again.get('t', [4100])).toEqual({ id: 4100, v: 'x'.repeat(150) })
    await again.close()
  })
})
