/**
 * A full disk under SQL: the statement whose write hit it fails with SQLSTATE 53100, later
 * writes are refused with 53100 while reads keep working, and writes succeed again once
 * storage has room, with nothing lost.
 */
import { describe, expect, it } from 'vitest'
import { MemoryStorage, StorageFullError, type Storage, type StoredRecord } from '@concord/core'
import { Database } from './database.js'

function fillable(base: MemoryStorage): Storage & { full: boolean } {
  const s = {
    full: false,
    async write(fn: () => void): Promise<void> {
      await Promise.resolve()
      if (s.full) throw new StorageFullError('no space left on device')
      fn()
    },
    append: (b: Array<{ shard: string; record: StoredRecord }>) => s.write(() => base.append(b)),
    compact: (id: string, r: StoredRecord) => s.write(() => base.compact(id, r)),
    remove: (id: string) => s.write(() => base.remove(id)),
    setMeta: (k: string, v: Uint8Array) => s.write(() => base.setMeta(k, v)),
    shards: () => base.shards(),
    load: (id: string) => base.load(id),
    getMeta: (k: string) => base.getMeta(k),
  }
  return s
}

describe('a full disk under SQL', () => {
  it('fails writes with 53100, keeps serving reads, and takes writes again once there is room', async () => {
    const base = new MemoryStorage()
    const storage = fillable(base)
    const db = await Database.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0 })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await db.query("INSERT INTO t VALUES (1, 'before')")
    storage.full = true
    await expect(db.query("INSERT INTO t VALUES (2, 'hit the full disk')")).rejects.toMatchObject({ code: '53100', message: expect.stringMatching(/kept in memory/) })
    await expect(db.query("INSERT INTO t VALUES (3, 'refused')")).rejects.toMatchObject({ code: '53100', message: expect.stringMatching(/refused/) })
    await expect(db.query('CREATE TABLE u (id INT PRIMARY KEY)')).rejects.toMatchObject({ code: '53100' })
    expect((await db.query('SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }])
    storage.full = false
    const deadline = Date.now() + 5000
    while (!db.replica.isDurable() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await db.query("INSERT INTO t VALUES (3, 'after')")
    await db.close()
    const again = await Database.open({ nodeId: 'n', storage: base, antiEntropyIntervalMs: 0 })
    expect((await again.query('SELECT id, v FROM t ORDER BY id')).rows).toEqual([
      { id: 1, v: 'before' },
      { id: 2, v: 'hit the full disk' },
      { id: 3, v: 'after' },
    ])
    await again.close()
  })
})
