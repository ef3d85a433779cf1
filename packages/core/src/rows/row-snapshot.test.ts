import { describe, expect, it } from 'vitest'
import type { Storage } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import type { Row } from '../types.js'
import { ROW_SNAPSHOT_META_KEY } from './row-snapshot.js'

const quiet = { antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 }
const table = {
  name: 't',
  columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }, { name: 'n', type: 'numeric' }, { name: 'b', type: 'bytea' }, { name: 'f', type: 'bool' }],
  primaryKey: ['id'],
}
const other = { name: 'u', columns: [{ name: 'k', type: 'text' }, { name: 'w', type: 'int' }], primaryKey: ['k'] }

function rowsOf(r: Replica, name: string): Row[] {
  return [...r.scan(name)].sort((a, b) => String(a['id'] ?? a['k']).localeCompare(String(b['id'] ?? b['k'])))
}

function tableShard(r: Replica, name: string) {
  return [...r.shards.values()].find((s) => s.viewName() === name)!
}

/** Writes a mix of values, overwrites and deletes from two writers (one of them a peer merged in by its state). */
async function filled(storage: Storage): Promise<Replica> {
  const r = await Replica.open({ nodeId: 'a', storage, ...quiet })
  r.transact((tx) => {
    tx.createTable(table)
    tx.createTable(other)
  })
  r.transact((tx) => {
    for (let i = 0; i < 50; i++) tx.upsert('t', { id: i, v: `v${i}`, n: BigInt(i) * 10n ** 20n, b: Uint8Array.of(i, 255, 0), f: i % 2 === 0 })
    tx.upsert('t', { id: 100, v: null, n: Number.NaN, b: null, f: null })
    tx.upsert('t', { id: 101, v: '', n: -0, b: new Uint8Array(0), f: false })
    tx.upsert('t', { id: 102, v: '["b","1"]', n: Number.NEGATIVE_INFINITY, b: null, f: true })
    for (let i = 0; i < 20; i++) tx.upsert('u', { k: `k${i}`, w: i })
  })
  r.transact((tx) => {
    for (let i = 0; i < 10; i++) tx.upsert('t', { id: i, v: `again${i}`, n: 1.5, b: null, f: false })
    for (let i = 40; i < 50; i++) tx.delete('t', [i])
  })
  // A second writer: the peer's concurrent writes merged into the same rows.
  const peer = await Replica.open({ nodeId: 'b', ...quiet })
  peer.applyRemote(peer.catalogShard, r.catalogShard.encodeState())
  peer.applyRemote(tableShard(peer, 't'), tableShard(r, 't').encodeState())
  peer.transact((tx) => {
    tx.upsert('t', { id: 3, v: 'peer', n: 0, b: null, f: true })
    tx.delete('t', [4])
    tx.upsert('t', { id: 300, v: 'peer only', n: 1, b: null, f: null })
  })
  r.applyRemote(tableShard(r, 't'), tableShard(peer, 't').encodeState())
  await peer.close()
  await r.durable()
  return r
}

/** The same storage loading asynchronously, as IndexedDB does. */
function asynchronous(base: MemoryStorage): Storage {
  return {
    append: (b) => base.append(b),
    shards: () => base.shards(),
    load: async (shard) => base.load(shard),
    compact: (shard, snapshot) => base.compact(shard, snapshot),
    remove: (shard) => base.remove(shard),
    getMeta: async (key) => base.getMeta(key),
    setMeta: (key, value) => base.setMeta(key, value),
  }
}

describe('row snapshots', () => {
  it.each([
    ['synchronous storage', (s: MemoryStorage): Storage => s],
    ['asynchronous storage', asynchronous],
  ])('a replica reopened after a clean close serves the same rows from its snapshot, and its digests match a full load (%s)', async (_, wrap) => {
    const base = new MemoryStorage()
    const storage = wrap(base)
    const r1 = await filled(storage)
    const before = { t: rowsOf(r1, 't'), u: rowsOf(r1, 'u'), digest: tableShard(r1, 't').digest(), hash: tableShard(r1, 't').rowsHash }
    await r1.close()
    expect(base.getMeta(ROW_SNAPSHOT_META_KEY)!.length).toBeGreaterThan(1)
    // The same data directory without the snapshot: the reference, loaded from the records.
    const withoutSnapshot = base.snapshot()
    withoutSnapshot.meta = withoutSnapshot.meta.filter(([k]) => k !== ROW_SNAPSHOT_META_KEY)
    const full = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(withoutSnapshot), ...quiet })

    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    const shard = tableShard(r2, 't')
    expect(shard.isDeferred).toBe(true)
    // What a load from the records gives (a live -0 reloads as 0 either way).
    expect(rowsOf(r2, 't')).toEqual(rowsOf(full, 't'))
    expect(rowsOf(r2, 't')).toEqual(before.t.map((row) => (Object.is(row['n'], -0) ? { ...row, n: 0 } : row)))
    expect(rowsOf(r2, 'u')).toEqual(before.u)
    expect(shard.digest()).toBe(before.digest)
    expect(shard.rowsHash).toBe(before.hash)
    expect(shard.garbage()).toBe(tableShard(full, 't').garbage())
    expect(shard.entryCount).toBe(tableShard(full, 't').entryCount)
    expect(shard.deletedRowKeys().sort()).toEqual(tableShard(full, 't').deletedRowKeys().sort())
    expect(shard.isDeferred).toBe(true)

    // A write loads the records; afterwards both replicas resolve alike, and the books
    // kept while applying them agree with the document (each open writes under a client id
    // of its own, so the two digests differ from here on).
    for (const r of [r2, full]) r.transact((tx) => {
      tx.upsert('t', { id: 1, v: 'after', n: 2, b: null, f: true })
      tx.delete('t', [2])
      tx.upsert('t', { id: 45, v: 'back', n: 3, b: null, f: false })
    })
    expect(shard.isDeferred).toBe(false)
    expect(rowsOf(r2, 't')).toEqual(rowsOf(full, 't'))
    expect(shard.rowsHash).toBe(tableShard(full, 't').rowsHash)
    expect(shard.auditBooks()).toBeNull()
    expect(r2.stats().malformed).toBe(0)
    await Promise.all([r2.close(), full.close()])
  })

  it('a replica that crashes after writing on a snapshot-opened state reopens with its writes', async () => {
    const storage = new MemoryStorage()
    await (await filled(storage)).close()
    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    // The snapshot is cleared before anything else reaches storage.
    await r2.durable()
    expect(storage.getMeta(ROW_SNAPSHOT_META_KEY)?.length ?? 0).toBeLessThan(2)
    r2.transact((tx) => tx.upsert('u', { k: 'new', w: 1 }))
    await r2.durable()
    // No close: a crash. The next open loads the records.
    const r3 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    expect(tableShard(r3, 'u').isDeferred).toBe(false)
    expect(r3.get('u', ['new'])).toEqual({ k: 'new', w: 1 })
    expect(rowsOf(r3, 'u')).toEqual(rowsOf(r2, 'u'))
    await Promise.all([r2.close(), r3.close()])
  })

  it('a snapshot that no longer matches the stored log is not used', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    await r1.close()
    const stale = storage.getMeta(ROW_SNAPSHOT_META_KEY)!
    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    r2.transact((tx) => tx.upsert('t', { id: 7, v: 'later', n: 0, b: null, f: null }))
    await r2.durable()
    // The stale snapshot put back by hand (as a write lost out of order would leave it).
    storage.setMeta(ROW_SNAPSHOT_META_KEY, stale)
    const r3 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    expect(tableShard(r3, 't').isDeferred).toBe(false)
    expect(r3.get('t', [7])?.['v']).toBe('later')
    expect(tableShard(r3, 'u').isDeferred).toBe(true)
    await Promise.all([r2.close(), r3.close()])
  })

  it('a checkpoint while open lets a crashed replica start from its rows; the next write clears it first', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    expect(r1.rowsCheckpointed).toBe(false)
    expect(await r1.checkpointRows()).toBe(true)
    expect(r1.rowsCheckpointed).toBe(true)
    const expected = { t: rowsOf(r1, 't'), u: rowsOf(r1, 'u') }
    // No close: a page reloaded. The next open serves the checkpointed rows.
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(tableShard(r2, 't').isDeferred).toBe(true)
    expect(rowsOf(r2, 't')).toEqual(expected.t.map((row) => (Object.is(row['n'], -0) ? { ...row, n: 0 } : row)))
    expect(rowsOf(r2, 'u')).toEqual(expected.u)
    await r2.close()

    // A write after the checkpoint clears it ahead of its own record: a crash then loads the records.
    r1.transact((tx) => tx.upsert('u', { k: 'after', w: 2 }))
    expect(r1.rowsCheckpointed).toBe(false)
    await r1.durable()
    expect(storage.getMeta(ROW_SNAPSHOT_META_KEY)?.length ?? 0).toBeLessThan(2)
    const r3 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(tableShard(r3, 'u').isDeferred).toBe(false)
    expect(r3.get('u', ['after'])).toEqual({ k: 'after', w: 2 })
    expect(rowsOf(r3, 'u')).toEqual(rowsOf(r1, 'u'))
    await Promise.all([r1.close(), r3.close()])
  })
})
