import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { openDatabase } from '@concord/sql-facade'
import type { StoredRecord } from '@concord/core'
import { deleteIdbStorage, IdbStorage } from './idb-storage.js'
import { createStrictStore } from './strict-store.js'
import { recordKey } from './idb-record.js'

let n = 0
const fresh = (): string => `test-${process.pid}-${n++}`
const update = (g: number, ...bytes: number[]): StoredRecord => ({ generation: g, kind: 'update', data: new Uint8Array(bytes) })

describe('IdbStorage', () => {
  it('returns appended records oldest first, per shard, after a reopen', async () => {
    const name = fresh()
    const a = new IdbStorage({ name })
    await a.append([
      { shard: 's1', record: update(0, 1) },
      { shard: 's2', record: update(0, 2) },
    ])
    await a.append([{ shard: 's1', record: update(0, 3) }])
    a.close()
    const b = new IdbStorage({ name })
    expect((await b.shards()).sort()).toEqual(['s1', 's2'])
    expect((await b.load('s1')).map((r) => [...r.data])).toEqual([[1], [3]])
    expect((await b.load('s2')).map((r) => r.kind)).toEqual(['update'])
    // Appends after a reopen continue the sequence (never overwrite older records).
    await b.append([{ shard: 's1', record: update(0, 4) }])
    expect((await b.load('s1')).map((r) => [...r.data])).toEqual([[1], [3], [4]])
    b.close()
    await deleteIdbStorage(name)
  })

  it('shard ids that prefix each other stay apart', async () => {
    const s = new IdbStorage({ name: fresh() })
    await s.append([
      { shard: 't:1:0:a', record: update(0, 1) },
      { shard: 't:1:0:ab', record: update(0, 2) },
    ])
    expect((await s.load('t:1:0:a')).map((r) => [...r.data])).toEqual([[1]])
    expect((await s.load('t:1:0:ab')).map((r) => [...r.data])).toEqual([[2]])
    expect(await s.load('missing')).toEqual([])
  })

  it('compact replaces what came before; an append issued after it survives', async () => {
    const s = new IdbStorage({ name: fresh() })
    const p1 = s.append([{ shard: 'x', record: update(0, 1) }])
    const p2 = s.compact('x', { generation: 1, kind: 'snapshot', data: new Uint8Array([9]) })
    const p3 = s.append([{ shard: 'x', record: update(1, 2) }])
    await Promise.all([p1, p2, p3])
    const records = await s.load('x')
    expect(records.map((r) => [r.kind, r.generation, [...r.data]])).toEqual([
      ['snapshot', 1, [9]],
      ['update', 1, [2]],
    ])
  })

  it('remove forgets a shard; meta round-trips', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 'gone', record: update(0, 1) }])
    await s.setMeta('node-id', new TextEncoder().encode('b-1'))
    await s.remove('gone')
    expect(await s.shards()).toEqual([])
    expect(await s.load('gone')).toEqual([])
    s.close()
    const again = new IdbStorage({ name })
    expect(await again.shards()).toEqual([])
    expect(new TextDecoder().decode(await again.getMeta('node-id'))).toBe('b-1')
    expect(await again.getMeta('absent')).toBeUndefined()
  })

  it('refuses a record it cannot decode', async () => {
    const name = fresh()
    const store = createStrictStore(`concord:${name}`, 'records')
    await store.use('readwrite', (os) => {
      os.put({ v: 99, g: 0, k: 'u', d: new Uint8Array() }, recordKey('bad', 0))
      return new Promise<void>((resolve) => (os.transaction.oncomplete = () => resolve()))
    })
    store.close()
    const s = new IdbStorage({ name })
    await expect(s.load('bad')).rejects.toThrow(/unknown record version 99/)
  })

  it('a database on IdbStorage keeps every write across a reopen', async () => {
    const name = fresh()
    const db = await openDatabase({ nodeId: 'browser-a', storage: new IdbStorage({ name }) })
    await db.query('CREATE TABLE todo (id SERIAL PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN DEFAULT false)')
    await db.query("INSERT INTO todo (title) VALUES ('milk'), ('bread')")
    await db.query("UPDATE todo SET done = true WHERE title = 'milk'")
    await db.close()
    const again = await openDatabase({ nodeId: 'browser-a', storage: new IdbStorage({ name }) })
    const r = await again.query('SELECT title, done FROM todo ORDER BY title')
    expect(r.rows).toEqual([
      { title: 'bread', done: false },
      { title: 'milk', done: true },
    ])
    await again.close()
  })
})
