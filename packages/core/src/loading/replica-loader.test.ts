import { describe, expect, it } from 'vitest'
import { StorageFullError, type Storage, type StoredRecord } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from '../storage/memory-storage.js'

/**
 * Memory storage whose writes complete asynchronously, and whose next `compact` fails for
 * lack of room while the writes around it go through: a large snapshot refused by a full
 * disk where a small append still fits.
 */
class SnapshotRefusingStorage implements Storage {
  refuseNextCompact = false
  readonly base: MemoryStorage

  constructor(base = new MemoryStorage()) {
    this.base = base
  }
  async append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    await Promise.resolve()
    this.base.append(batch)
  }
  async compact(shard: string, snapshot: StoredRecord): Promise<void> {
    await Promise.resolve()
    if (this.refuseNextCompact) {
      this.refuseNextCompact = false
      throw new StorageFullError('no room for the snapshot')
    }
    this.base.compact(shard, snapshot)
  }
  async remove(shard: string): Promise<void> {
    await Promise.resolve()
    this.base.remove(shard)
  }
  async setMeta(key: string, value: Uint8Array): Promise<void> {
    await Promise.resolve()
    this.base.setMeta(key, value)
  }
  shards(): string[] {
    return this.base.shards()
  }
  load(shard: string): StoredRecord[] {
    return this.base.load(shard)
  }
  getMeta(key: string): Uint8Array | undefined {
    return this.base.getMeta(key)
  }
}

const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

describe('loading a shard', () => {
  it('leaves out an update of a new generation that reached the disk without its snapshot', async () => {
    const storage = new SnapshotRefusingStorage()
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable(table))
    for (let i = 0; i < 5; i++) r.transact((tx) => tx.upsert('t', { id: 1, v: `v${i}` }))
    await r.durable()
    const shard = [...r.shards.values()].find((s) => s.id.endsWith(':t'))!
    const before = shard.generation

    // The new generation's snapshot is refused; the write after it, issued before the
    // refusal was known, lands: the disk holds the old generation's log and an update of
    // the new one.
    storage.refuseNextCompact = true
    r.compactShard(shard)
    expect(shard.generation).toBeGreaterThan(before)
    r.transact((tx) => tx.upsert('t', { id: 2, v: 'never acknowledged' }))
    await expect(r.durable()).rejects.toMatchObject({ condition: 'diskFull' })
    const onDisk = storage.base.load(shard.id)
    expect(onDisk.at(-1)!.generation).toBe(shard.generation)
    expect(onDisk[0]!.generation).toBe(before)

    // The node stops before the snapshot is retried. It comes back as the old generation's
    // document: the update belongs to another document (and was never acknowledged).
    const again = await Replica.open({ nodeId: 'n', storage: storage.base, antiEntropyIntervalMs: 0 })
    expect(again.shards.get(shard.id)!.generation).toBe(before)
    expect(again.get('t', [1])).toEqual({ id: 1, v: 'v4' })
    expect(again.get('t', [2])).toBeUndefined()
    await again.close()
  })
})

describe('a stored row snapshot', () => {
  const reopen = async (storage: MemoryStorage): Promise<{ r: Replica; warnings: string[] }> => {
    const warnings: string[] = []
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0, onWarning: (m) => warnings.push(m) })
    return { r, warnings }
  }

  it("serves a restart's rows after a compaction, naming the log's last record by its stored checksum", async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable(table))
    // Past the first rewrite (shard-log.ts: ~3,000 single-row commits): the log is rewritten as one snapshot.
    for (let i = 0; i < 3200; i++) r.transact((tx) => tx.upsert('t', { id: i % 500, v: `v${i}` }))
    await r.durable()
    const shard = [...r.shards.values()].find((s) => s.id.endsWith(':t'))!
    expect(storage.load(shard.id).length).toBeLessThan(3200)
    expect(storage.load(shard.id)[0]!.kind).toBe('snapshot')
    await r.close()
    const { r: again, warnings } = await reopen(storage)
    expect(again.rowsRestored.exact).toBeGreaterThan(0)
    expect(again.rowCount('t')).toBe(500)
    expect(warnings).toEqual([])
    await again.close()
  })

  // Format 4 named the last record by an FNV-1a hash of its bytes; format 5 by the
  // checksum storage keeps, all parts in one value; format 6 a part per shard. A snapshot
  // of an older format is not read, and is no damage either.
  it.each([4, 5])('of format %i loads from the records, without a warning', async (version) => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable(table))
    r.transact((tx) => {
      for (let i = 0; i < 50; i++) tx.insert('t', { id: i, v: `v${i}` })
    })
    await r.close()
    const bytes = storage.getMeta('row-snapshot')!
    expect(bytes[0]).toBe(6)
    storage.setMeta('row-snapshot', Uint8Array.of(version, ...bytes.subarray(1)))
    const { r: again, warnings } = await reopen(storage)
    expect(again.rowsRestored.exact + again.rowsRestored.after).toBe(0)
    expect(again.rowCount('t')).toBe(50)
    expect(warnings).toEqual([])
    await again.close()
  })
})
