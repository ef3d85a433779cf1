import { describe, expect, it } from 'vitest'
import { StorageFullError, type Storage, type StoredRecord } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from './memory-storage.js'
import { StorageQueue } from './storage-queue.js'

/** Memory storage whose writes fail, asynchronously, while `full` is set (like a full disk). */
class FillableStorage implements Storage {
  full = false
  failures = 0
  readonly base: MemoryStorage

  constructor(base = new MemoryStorage()) {
    this.base = base
  }
  private async write(fn: () => void): Promise<void> {
    await Promise.resolve()
    if (this.full) {
      this.failures++
      throw new StorageFullError('no space left on device, write')
    }
    fn()
  }
  append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    return this.write(() => this.base.append(batch))
  }
  compact(shard: string, snapshot: StoredRecord): Promise<void> {
    return this.write(() => this.base.compact(shard, snapshot))
  }
  remove(shard: string): Promise<void> {
    return this.write(() => this.base.remove(shard))
  }
  setMeta(key: string, value: Uint8Array): Promise<void> {
    return this.write(() => this.base.setMeta(key, value))
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

describe('a full disk', () => {
  it('fails the write that hit it with 53100, refuses writes but serves reads meanwhile, and loses nothing once space is back', async () => {
    const storage = new FillableStorage()
    const r = await Replica.open({ nodeId: 'n', storage, antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable(table))
    r.transact((tx) => tx.insert('t', { id: 1, v: 'before' }))
    await r.durable()

    storage.full = true
    r.transact((tx) => tx.insert('t', { id: 2, v: 'when the disk filled' }))
    await expect(r.durable()).rejects.toMatchObject({ condition: 'diskFull' })
    expect(r.isDurable()).toBe(false)
    // further writes are refused at once, with the same code; reads go on
    expect(() => r.transact((tx) => tx.insert('t', { id: 3, v: 'refused' }))).toThrow(expect.objectContaining({ condition: 'diskFull' }))
    expect(r.get('t', [1])).toEqual({ id: 1, v: 'before' })
    expect(r.get('t', [3])).toBeUndefined()
    const failuresWhileFull = storage.failures
    await new Promise((res) => setTimeout(res, 1100))
    expect(storage.failures).toBeGreaterThan(failuresWhileFull) // retried, still full

    storage.full = false
    const deadline = Date.now() + 5000
    while (!r.isDurable() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50))
    await r.durable()
    r.transact((tx) => tx.insert('t', { id: 3, v: 'after' }))
    await r.durable()
    await r.close()

    // everything held when the disk filled reached storage once it had room
    const again = await Replica.open({ nodeId: 'n', storage: storage.base, antiEntropyIntervalMs: 0 })
    expect([...again.scan('t')].sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: 1, v: 'before' },
      { id: 2, v: 'when the disk filled' },
      { id: 3, v: 'after' },
    ])
    await again.close()
  })
})

describe('what a storage failure is reported as', () => {
  const noTimers = { setTimeout: () => () => {} }
  const failingWith = (err: unknown): StorageQueue => {
    const queue = new StorageQueue(noTimers)
    queue.store({
      kind: 'meta',
      shards: [],
      run: () => {
        throw err
      },
    })
    return queue
  }

  it('a StorageFullError is a full disk (diskFull, 53100 over SQL), also from another copy of the module (by name)', () => {
    expect(failingWith(new StorageFullError()).failureError().condition).toBe('diskFull')
    const foreign = Object.assign(new Error('quota'), { name: 'StorageFullError' })
    expect(failingWith(foreign).failureError(true).condition).toBe('diskFull')
  })

  it('any other error is an I/O error (ioError, 58030 over SQL), whatever its message says', () => {
    const untyped = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    expect(failingWith(untyped).failureError().condition).toBe('ioError')
    expect(failingWith(new Error('Input/output error')).failureError().condition).toBe('ioError')
  })
})
