import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { afterEach, describe, expect, it } from 'vitest'
import type { JournalWrite } from '@concord/sql-facade'
import { LmdbChangeJournal } from './lmdb-change-journal.js'
import { untilIssued } from './failing-lmdb.fixture.js'
import { LmdbStorage } from './lmdb-storage.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-journal-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const EPOCH = '0123456789ab'
const change = (table: string, seq: number, op: 'insert' | 'update' | 'delete' = 'insert'): JournalWrite['changes'][number] => ({ table, seq, op, row: `{"id":${seq}}` })

describe('lmdb-js write transactions', () => {
  it('run their callback after the current task', async () => {
    const dir = tempDir()
    const db = open(dir, { encoding: 'binary' })
    const seen: string[] = []
    const p = db.transaction(() => void seen.push('callback'))
    seen.push('same task')
    await Promise.resolve()
    seen.push('microtask')
    await p
    expect(seen).toEqual(['same task', 'microtask', 'callback'])
    await db.close()
  })
})

describe('LmdbChangeJournal', () => {
  it('reads back what was written after the storage is opened again; floors drop older changes', async () => {
    const dir = tempDir()
    let storage = new LmdbStorage({ path: dir, durable: false })
    let journal = new LmdbChangeJournal(storage)
    expect(journal.load()).toBeNull()
    const durable: number[] = []
    journal.write({ epoch: EPOCH, seq: 0, floors: [{ table: 'a', floor: 0 }, { table: 'b', floor: 0 }], changes: [] }, () => durable.push(0))
    journal.write({ epoch: EPOCH, seq: 3, floors: [], changes: [change('a', 1), change('b', 2), change('a', 3, 'delete')] }, () => durable.push(3))
    journal.write({ epoch: EPOCH, seq: 4, floors: [{ table: 'a', floor: 1 }], changes: [change('a', 4, 'update')] }, () => durable.push(4))
    await journal.close()
    expect(durable).toEqual([0, 3, 4])
    await storage.close()

    storage = new LmdbStorage({ path: dir, durable: false })
    journal = new LmdbChangeJournal(storage)
    expect(journal.load()).toEqual({
      epoch: EPOCH,
      seq: 4,
      tables: [
        { table: 'a', floor: 1, changes: [{ seq: 3, op: 'delete', row: '{"id":3}' }, { seq: 4, op: 'update', row: '{"id":4}' }] },
        { table: 'b', floor: 0, changes: [{ seq: 2, op: 'insert', row: '{"id":2}' }] },
      ],
    })
    await journal.close()
    await storage.close()
  })

  it('rides in the transaction of a shard append issued in the same task: both are on disk, or neither', async () => {
    const dir = tempDir()
    const storage = new LmdbStorage({ path: dir, durable: false })
    const journal = new LmdbChangeJournal(storage)
    journal.load()
    let flushes = 0
    const flushRider = storage.flushRider.bind(storage)
    storage.flushRider = () => {
      flushes++
      return flushRider()
    }
    // As the replica does: the append first, then (listeners, same task) the journal write.
    const appended = storage.append([{ shard: 's1', record: { generation: 1, kind: 'update', data: Uint8Array.of(1) } }])
    let onDisk = false
    journal.write({ epoch: EPOCH, seq: 1, floors: [{ table: 't', floor: 0 }], changes: [change('t', 1)] }, () => (onDisk = true))
    await appended
    // The append's transaction carried the entry (the journal's own one found nothing left).
    expect(onDisk).toBe(true)
    expect(flushes).toBe(1)
    await journal.close()
    await storage.close()
  })

  it('rides with an append to a shard that exists, issued in the same task (a transaction, not a batch)', async () => {
    const dir = tempDir()
    const storage = new LmdbStorage({ path: dir, durable: false })
    const journal = new LmdbChangeJournal(storage)
    journal.load()
    await storage.append([{ shard: 's1', record: { generation: 1, kind: 'update', data: Uint8Array.of(1) } }])
    const appended = storage.append([{ shard: 's1', record: { generation: 1, kind: 'update', data: Uint8Array.of(2) } }])
    let onDisk = false
    journal.write({ epoch: EPOCH, seq: 1, floors: [{ table: 't', floor: 0 }], changes: [change('t', 1)] }, () => (onDisk = true))
    await appended
    expect(onDisk).toBe(true)
    await journal.close()
    await storage.close()
  })

  it('a damaged journal is not served: load answers null, and the first write drops it', async () => {
    const dir = tempDir()
    let storage = new LmdbStorage({ path: dir, durable: false })
    let journal = new LmdbChangeJournal(storage)
    journal.load()
    journal.write({ epoch: EPOCH, seq: 1, floors: [{ table: 't', floor: 0 }], changes: [change('t', 1)] }, () => {})
    await journal.close()
    await storage.close()
    // Flip a byte of the change's value behind the storage's back.
    const raw = open(dir, { encoding: 'binary' })
    const key = ['j', 't', 1]
    const value = Uint8Array.from(raw.get(key) as Uint8Array)
    value[value.length - 1]! ^= 1
    await raw.put(key, value)
    await raw.close()

    storage = new LmdbStorage({ path: dir, durable: false })
    journal = new LmdbChangeJournal(storage)
    expect(journal.load()).toBeNull()
    expect(journal.damage).toMatch(/cannot be read/)
    journal.write({ epoch: 'ffffffffffff', seq: 0, floors: [{ table: 'u', floor: 0 }], changes: [] }, () => {})
    await journal.close()
    await storage.close()
    storage = new LmdbStorage({ path: dir, durable: false })
    journal = new LmdbChangeJournal(storage)
    expect(journal.load()).toEqual({ epoch: 'ffffffffffff', seq: 0, tables: [{ table: 'u', floor: 0, changes: [] }] })
    await journal.close()
    await storage.close()
  })
})

describe('LmdbChangeJournal writes while a flush is under way', () => {
  it('are carried by a later transaction, with nothing else written', async () => {
    const dir = tempDir()
    const storage = new LmdbStorage({ path: dir, durable: false })
    const journal = new LmdbChangeJournal(storage)
    journal.load()
    const durable: number[] = []
    journal.write({ epoch: EPOCH, seq: 0, floors: [{ table: 'a', floor: 0 }], changes: [] }, () => durable.push(0))
    // After the first transaction took its write, before it committed.
    await untilIssued()
    journal.write({ epoch: EPOCH, seq: 1, floors: [], changes: [change('a', 1)] }, () => durable.push(1))
    for (let i = 0; i < 200 && durable.length < 2; i++) await new Promise((r) => setTimeout(r, 5))
    expect(durable).toEqual([0, 1])
    await journal.close()
    await storage.close()
  })
})
