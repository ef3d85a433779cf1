import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { promisifyRequest } from 'idb-keyval'
import { openDatabase } from '@concord/sql-facade'
import { decodeShardDirectory, type StoredRecord } from '@concord/core'
import { openReplica } from '../open-replica.js'
import { deleteIdbStorage, IdbStorage } from './idb-storage.js'
import { raw, rawWrite } from './idb-raw.fixture.js'
import { CorruptIdbRecordError, decodeIdbRecord, metaKey, openMeta, recordKey } from './idb-record.js'

/**
 * What IdbStorage does with a database that changed under it: a damaged value is refused
 * at open, naming the database and the key, and never reaches a query; a database written
 * before checksums (format 1) opens with its data and is rewritten; a newer format is
 * refused. The damage is made through a second connection to the same IndexedDB
 * database, as a broken disk or extension would leave it.
 */
let n = 0
const fresh = (): string => `integrity-${process.pid}-${n++}`
const update = (g: number, ...bytes: number[]): StoredRecord => ({ generation: g, kind: 'update', data: new Uint8Array(bytes) })
const MILK = [...new TextEncoder().encode('milk')]

type Entry = [IDBValidKey, unknown]

/** Storages handed to openDatabase, which does not close them: closed after each test, so deleting their database is not blocked. */
const opened: IdbStorage[] = []
function storageOf(name: string): IdbStorage {
  const s = new IdbStorage({ name })
  opened.push(s)
  return s
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close()
})

const rawEntries = (name: string): Promise<Entry[]> =>
  raw(name, 'readonly', async (s) => {
    const [keys, values] = await Promise.all([promisifyRequest(s.getAllKeys()), promisifyRequest(s.getAll())])
    return keys.map((k, i): Entry => [k, values[i]])
  })


const isRecordKey = (key: IDBValidKey): boolean => Array.isArray(key) && key[0] === 'r'
const isMetaKey = (key: IDBValidKey): boolean => Array.isArray(key) && key[0] === 'm'

/** The bytes a stored record keeps its Yjs data in, in either format (format 1 kept them in `d`). */
function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  return (value as { d: Uint8Array }).d
}

function indexOf(bytes: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

/** Changes stored records in place through another connection; `damage` returns the new value, or undefined to leave one as it is. */
async function damageRecords(name: string, damage: (key: IDBValidKey, value: unknown) => unknown): Promise<IDBValidKey[]> {
  const changed: Array<[IDBValidKey, unknown]> = []
  for (const [key, value] of await rawEntries(name)) {
    if (!isRecordKey(key)) continue
    const next = damage(key, value)
    if (next !== undefined) changed.push([key, next])
  }
  await rawWrite(name, (s) => {
    for (const [key, value] of changed) s.put(value, key)
  })
  return changed.map(([key]) => key)
}

/** A database holding 'milk' and 'bread', closed. */
async function todoDatabase(name: string): Promise<void> {
  const db = await openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })
  await db.query('CREATE TABLE todo (id SERIAL PRIMARY KEY, title TEXT NOT NULL)')
  await db.query("INSERT INTO todo (title) VALUES ('milk'), ('bread')")
  await db.close()
}

/** Rewrites a format-2 database as the version before checksums wrote it: record objects, bare metadata, no format key. */
async function toFormat1(name: string): Promise<void> {
  const entries = await rawEntries(name)
  await rawWrite(name, (s) => {
    for (const [key, value] of entries) {
      if (isRecordKey(key)) {
        const r = decodeIdbRecord(value, 'test')
        s.put({ v: 1, g: r.generation, k: r.kind === 'snapshot' ? 's' : 'u', d: r.data }, key)
      } else if (isMetaKey(key)) {
        s.put(openMeta(value, 'test'), key)
      } else {
        s.delete(key)
      }
    }
  })
}

describe('IdbStorage integrity', () => {
  it('a flipped byte in a stored record is refused at open, naming the database, shard and key; the changed value never reaches a query', async () => {
    const name = fresh()
    await todoDatabase(name)
    // 'milk' -> 'milc' inside the record that holds it: still a valid Yjs update, a different value.
    const damaged = await damageRecords(name, (_key, value) => {
      const at = indexOf(bytesOf(value), MILK)
      if (at < 0) return undefined
      bytesOf(value)[at + 3] = 'c'.charCodeAt(0)
      return value
    })
    expect(damaged.length).toBeGreaterThan(0)
    const key = damaged[0] as [string, string, number]

    let served: unknown = 'not opened'
    const opened = openDatabase({ nodeId: 'browser-a', storage: storageOf(name) }).then(async (db) => {
      served = (await db.query('SELECT title FROM todo ORDER BY title')).rows
      await db.close()
    })
    const err = await opened.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(served).toBe('not opened')
    expect(err).toBeInstanceOf(CorruptIdbRecordError)
    const message = (err as Error).message
    expect(message).toContain(`concord:${name} is damaged: shard ${JSON.stringify(key[1])} record ${JSON.stringify(key)}: checksum mismatch`)
    expect(message).toContain(`deleteIdbStorage(${JSON.stringify(name)})`)
  })

  it('load refuses a flipped byte anywhere in a record, header included', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 's1', record: update(3, 1, 2, 3) }])
    s.close()
    for (let at = 0; at < 17; at++) {
      await damageRecords(name, (_key, value) => {
        const bytes = bytesOf(value)
        bytes[at] = bytes[at]! ^ 0x10
        return value
      })
      const again = new IdbStorage({ name })
      await expect(again.load('s1'), `byte ${at}`).rejects.toThrow(CorruptIdbRecordError)
      again.close()
      // Undo, so each round damages exactly one byte.
      await damageRecords(name, (_key, value) => {
        const bytes = bytesOf(value)
        bytes[at] = bytes[at]! ^ 0x10
        return value
      })
    }
    const intact = new IdbStorage({ name })
    expect((await intact.load('s1')).map((r) => [r.generation, [...r.data]])).toEqual([[3, [1, 2, 3]]])
    intact.close()
    await deleteIdbStorage(name)
  })

  it('a truncated record is refused at open', async () => {
    const name = fresh()
    await todoDatabase(name)
    const damaged = await damageRecords(name, (_key, value) => {
      if (indexOf(bytesOf(value), MILK) < 0) return undefined
      if (value instanceof Uint8Array) return value.slice(0, value.length - 5)
      const r = value as { d: Uint8Array }
      return { ...r, d: r.d.slice(0, r.d.length - 5) }
    })
    expect(damaged.length).toBeGreaterThan(0)
    await expect(openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })).rejects.toThrow(
      new RegExp(`concord:${name} is damaged: shard .* record .*: checksum mismatch`),
    )
    // Cut into its header: still named, never decoded.
    await damageRecords(name, (key) => (JSON.stringify(key) === JSON.stringify(damaged[0]) ? new Uint8Array([2, 0, 0]) : undefined))
    await expect(openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })).rejects.toThrow(/record of 3 bytes is shorter than its header/)
  })

  it('a damaged metadata value is refused by name; the page recovers by deleting the replica', async () => {
    const name = fresh()
    const first = await openReplica({ name, join: [], offline: true, nodeId: 'browser-meta' })
    await first.query('CREATE TABLE t (id INT PRIMARY KEY)')
    await first.close()
    const entries = await rawEntries(name)
    const nodeIdKey = metaKey('browser/node-id')
    const [, value] = entries.find(([key]) => JSON.stringify(key) === JSON.stringify(nodeIdKey))!
    const bytes = Uint8Array.from(value as Uint8Array)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1
    await rawWrite(name, (s) => s.put(bytes, nodeIdKey))

    await expect(openReplica({ name, join: [], offline: true })).rejects.toThrow(
      `concord:${name} is damaged: metadata ["m","browser/node-id"]: checksum mismatch`,
    )
    // The failed open closed its connection, so the delete is not blocked.
    await deleteIdbStorage(name)
    const again = await openReplica({ name, join: [], offline: true, nodeId: 'browser-meta-2' })
    expect(again.replica.nodeId).toBe('browser-meta-2')
    await again.close()
    await deleteIdbStorage(name)
  })

  it('a damaged row snapshot (derived metadata) is not used: the replica opens from its records', async () => {
    const name = fresh()
    const first = await openReplica({ name, join: [], offline: true })
    await first.query('CREATE TABLE todo (id INT PRIMARY KEY, title TEXT NOT NULL)')
    await first.query("INSERT INTO todo VALUES (1, 'milk')")
    expect(await first.checkpoint()).toBe(true)
    await first.close()
    // The table's part of the row snapshot (a metadata value of its own since format 6).
    const [key, value] = (await rawEntries(name)).find(([k]) => Array.isArray(k) && k[0] === 'm' && String(k[1]).startsWith('row-snapshot/'))!
    const bytes = Uint8Array.from(value as Uint8Array)
    const at = indexOf(bytes, MILK)
    expect(at).toBeGreaterThan(0)
    bytes[at + 3] = 'c'.charCodeAt(0)
    await rawWrite(name, (s) => s.put(bytes, key))

    const again = await openReplica({ name, join: [], offline: true })
    expect(again.replica.rowsCheckpointed).toBe(false)
    expect((await again.query('SELECT title FROM todo')).rows).toEqual([{ title: 'milk' }])
    await again.close()
    await deleteIdbStorage(name)
  })

  it('a database written before checksums (format 1) opens with its data and is rewritten as format 4, with shard markers and the shard directory', async () => {
    const name = fresh()
    await todoDatabase(name)
    await toFormat1(name)
    const before = await rawEntries(name)
    expect(before.some(([key]) => isRecordKey(key))).toBe(true)
    expect(before.every(([key, value]) => !isRecordKey(key) || !(value instanceof Uint8Array))).toBe(true)

    const db = await openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })
    expect((await db.query('SELECT title FROM todo ORDER BY title')).rows).toEqual([{ title: 'bread' }, { title: 'milk' }])
    await db.query("INSERT INTO todo (title) VALUES ('eggs')")
    await db.close()

    const after = await rawEntries(name)
    expect(after.find(([key]) => JSON.stringify(key) === '["f","format"]')?.[1]).toBe(4)
    const shardsOf = (prefix: string): string[] => [...new Set(after.filter(([key]) => Array.isArray(key) && key[0] === prefix).map(([key]) => (key as string[])[1]!))].sort()
    expect(shardsOf('k')).toEqual(shardsOf('r'))
    const directory = after.find(([key]) => JSON.stringify(key) === '["d","shards"]')?.[1] as Uint8Array
    expect([...decodeShardDirectory(directory)].sort()).toEqual(shardsOf('k'))
    expect(shardsOf('k').length).toBeGreaterThan(0)
    for (const [key, value] of after) {
      if (isRecordKey(key)) expect(() => decodeIdbRecord(value, 'test')).not.toThrow()
      if (isMetaKey(key)) expect(() => openMeta(value, 'test')).not.toThrow()
    }
    const again = await openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })
    expect((await again.query('SELECT title FROM todo ORDER BY title')).rows).toEqual([{ title: 'bread' }, { title: 'eggs' }, { title: 'milk' }])
    await again.close()
  })

  it('a format-1 record that cannot be read stops the upgrade, which changes nothing', async () => {
    const name = fresh()
    await rawWrite(name, (s) => {
      s.put({ v: 1, g: 0, k: 'u', d: new Uint8Array([1]) }, recordKey('ok', 0))
      s.put({ v: 1, g: 0, k: 'x', d: new Uint8Array([2]) }, recordKey('bad', 1))
    })
    const s = new IdbStorage({ name })
    await expect(s.load('ok')).rejects.toThrow(`concord:${name} is damaged: record ["r","bad",1]: bad kind (while upgrading to checksummed records)`)
    s.close()
    const raw = await rawEntries(name)
    expect(raw.map(([key]) => JSON.stringify(key))).toEqual(['["r","bad",1]', '["r","ok",0]'])
    expect(raw.every(([, value]) => !(value instanceof Uint8Array))).toBe(true)
    await deleteIdbStorage(name)
  })

  it('a database of a newer format is refused at open and left as it is', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 's1', record: update(0, 1) }])
    s.close()
    await rawWrite(name, (st) => st.put(5, ['f', 'format']))
    const before = await rawEntries(name)

    const newer = new IdbStorage({ name })
    await expect(newer.load('s1')).rejects.toThrow(`concord:${name}: unknown IndexedDB format 5 (this version reads 4)`)
    await expect(newer.append([{ shard: 's1', record: update(0, 2) }])).rejects.toThrow(/unknown IndexedDB format 5/)
    newer.close()
    await expect(openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })).rejects.toThrow(CorruptIdbRecordError)
    expect(await rawEntries(name)).toEqual(before)
  })

  it('a database whose format key is gone while it holds checksummed records is refused, not guessed', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 's1', record: update(0, 1) }])
    s.close()
    await rawWrite(name, (st) => st.delete(['f', 'format']))
    const again = new IdbStorage({ name })
    await expect(again.load('s1')).rejects.toThrow(/format key is missing but the record is checksummed/)
    again.close()
    await deleteIdbStorage(name)
  })

  it('a record deleted from the middle of a shard\'s log is refused at open, naming the database and shard', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    for (let i = 0; i < 3; i++) await s.append([{ shard: 's1', record: update(0, i) }])
    await s.append([{ shard: 's2', record: update(0, 9) }])
    s.close()
    await rawWrite(name, (st) => st.delete(recordKey('s1', 1)))

    const again = new IdbStorage({ name })
    await expect(again.load('s2')).rejects.toThrow(CorruptIdbRecordError)
    await expect(again.load('s1')).rejects.toThrow(`concord:${name} is damaged: shard "s1": holds 2 records (seq 0 to 2) but its marker counts 3 records (seq 0 to 2)`)
    await expect(again.shards()).rejects.toThrow(`deleteIdbStorage(${JSON.stringify(name)})`)
    again.close()
    await expect(openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })).rejects.toThrow(CorruptIdbRecordError)
  })

  it('the last record deleted from a shard\'s log is refused at open', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    for (let i = 0; i < 3; i++) await s.append([{ shard: 's1', record: update(0, i) }])
    s.close()
    await rawWrite(name, (st) => st.delete(recordKey('s1', 2)))
    const again = new IdbStorage({ name })
    await expect(again.load('s1')).rejects.toThrow(`concord:${name} is damaged: shard "s1": holds 2 records (seq 0 to 1) but its marker counts 3 records (seq 0 to 2)`)
    again.close()
  })

  it('the record holding a row, deleted whole, is refused at open instead of serving the table without it; delete and reopen recovers', async () => {
    const name = fresh()
    await todoDatabase(name)
    const entries = await rawEntries(name)
    const holding = entries.filter(([key, value]) => isRecordKey(key) && indexOf(bytesOf(value), MILK) >= 0).map(([key]) => key)
    expect(holding.length).toBeGreaterThan(0)
    await rawWrite(name, (st) => {
      for (const key of holding) st.delete(key)
    })
    let served: unknown = 'not opened'
    const opening = openDatabase({ nodeId: 'browser-a', storage: storageOf(name) }).then(async (db) => {
      served = (await db.query('SELECT title FROM todo ORDER BY title')).rows
      await db.close()
    })
    await expect(opening).rejects.toThrow(new RegExp(`concord:${name} is damaged: shard "[^"]+": (holds \\d+ records?|its marker counts)`))
    expect(served).toBe('not opened')
    for (const st of opened.splice(0)) st.close()
    await deleteIdbStorage(name)
    const fresh2 = await openDatabase({ nodeId: 'browser-a', storage: storageOf(name) })
    await fresh2.close()
  })

  it('a record added to a shard\'s log, or a shard with records and no marker, is refused at open', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 's1', record: update(0, 1) }])
    s.close()
    const valid = (await rawEntries(name)).find(([key]) => isRecordKey(key))![1]
    await rawWrite(name, (st) => st.put(valid, recordKey('s1', 5)))
    const extra = new IdbStorage({ name })
    await expect(extra.load('s1')).rejects.toThrow(`concord:${name} is damaged: shard "s1": holds 2 records (seq 0 to 5) but its marker counts 1 record (seq 0 to 0)`)
    extra.close()

    await rawWrite(name, (st) => {
      st.delete(recordKey('s1', 5))
      st.put(valid, recordKey('s9', 6))
    })
    const unmarked = new IdbStorage({ name })
    await expect(unmarked.load('s1')).rejects.toThrow(`concord:${name} is damaged: shard "s9": holds 1 record (seq 6 to 6) but has no marker`)
    unmarked.close()

    await rawWrite(name, (st) => {
      st.delete(recordKey('s9', 6))
      st.delete(recordKey('s1', 0))
    })
    const emptied = new IdbStorage({ name })
    await expect(emptied.load('s1')).rejects.toThrow(`concord:${name} is damaged: shard "s1": its marker counts 1 record (seq 0 to 0) but the shard holds none`)
    emptied.close()
  })
})
