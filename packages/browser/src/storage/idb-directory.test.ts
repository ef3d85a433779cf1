import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { promisifyRequest } from 'idb-keyval'
import { decodeShardDirectory, type StoredRecord } from '@concord/core'
import { openDatabase } from '@concord/sql-facade'
import { deleteIdbStorage, IdbStorage } from './idb-storage.js'
import { CorruptIdbRecordError, shardRange } from './idb-record.js'
import { markerKey } from './idb-markers.js'
import { DIRECTORY_KEY } from './idb-directory.js'
import { raw, rawWrite, rec, stored } from './idb-raw.fixture.js'

/**
 * The shard directory through IdbStorage's own writes and against damage made through a
 * second connection: a shard deleted whole (records and marker) or one that appeared is
 * refused at open; shards created and removed by the storage (appends, compactions,
 * removals, DROP TABLE) reopen; a format-3 database (markers, no directory) gets its
 * directory once.
 */
let n = 0
const fresh = (): string => `directory-${process.pid}-${n++}`


/** What the directory lists and which shards have a marker: they must be equal. */
async function listedAndMarked(name: string): Promise<{ listed: string[]; marked: string[] }> {
  return raw(name, 'readonly', async (s) => {
    const [keys, directory] = await Promise.all([promisifyRequest(s.getAllKeys(IDBKeyRange.bound(['k'], ['k', []]))), promisifyRequest(s.get(DIRECTORY_KEY))])
    return { listed: [...decodeShardDirectory(directory as Uint8Array)].sort(), marked: keys.map((k) => (k as string[])[1]!).sort() }
  })
}

/** A database holding shards 'a' (two records) and 'b' (one). */
async function written(): Promise<string> {
  const name = fresh()
  const s = new IdbStorage({ name })
  await s.append([{ shard: 'a', record: rec('update', 1) }, { shard: 'b', record: rec('update', 2) }])
  await s.append([{ shard: 'a', record: rec('update', 3) }])
  s.close()
  return name
}

describe('IdbStorage shard directory', () => {
  it("a shard's records and marker deleted together are refused at open, naming the database and the shard, with the page's advice", async () => {
    const name = await written()
    await rawWrite(name, (st) => {
      st.delete(shardRange('b'))
      st.delete(markerKey('b'))
    })
    const s = new IdbStorage({ name })
    await expect(s.shards()).rejects.toThrow(CorruptIdbRecordError)
    await expect(s.load('a')).rejects.toThrow(
      `concord:${name} is damaged: shard "b": the shard directory lists it but its records and marker are gone (the shard was deleted). ` +
        `Concord does not serve damaged data: delete the local replica (deleteIdbStorage(${JSON.stringify(name)})) and open it again`,
    )
    s.close()
    const refused = new IdbStorage({ name })
    await expect(openDatabase({ nodeId: 'browser-a', storage: refused })).rejects.toThrow(CorruptIdbRecordError)
    refused.close()
    await deleteIdbStorage(name)
  })

  it('a whole shard that appeared (records and a marker the directory does not list) is refused', async () => {
    const name = await written()
    const [record, marker] = [await stored(name, ['r', 'b', 1]), await stored(name, markerKey('b'))]
    await rawWrite(name, (st) => {
      st.put(record, ['r', 'c', 1])
      st.put(marker, markerKey('c'))
    })
    const s = new IdbStorage({ name })
    await expect(s.shards()).rejects.toThrow(`concord:${name} is damaged: shard "c": it has a marker but the shard directory does not list it (a shard was added)`)
    s.close()
    await deleteIdbStorage(name)
  })

  it('a damaged or missing directory is refused at open', async () => {
    const name = await written()
    const directory = Uint8Array.from((await stored(name, DIRECTORY_KEY)) as Uint8Array)
    directory[directory.length - 1]! ^= 1
    await rawWrite(name, (st) => st.put(directory, DIRECTORY_KEY))
    let s = new IdbStorage({ name })
    await expect(s.shards()).rejects.toThrow(`concord:${name} is damaged: its shard directory ["d","shards"]: checksum mismatch`)
    s.close()
    await rawWrite(name, (st) => st.delete(DIRECTORY_KEY))
    s = new IdbStorage({ name })
    await expect(s.shards()).rejects.toThrow(`concord:${name} is damaged: its shard directory ["d","shards"] is missing. Concord does not serve damaged data`)
    s.close()
    await deleteIdbStorage(name)
  })

  it('appends, compactions of new ids and removals, queued together, keep the directory equal to the markers across reopens; an append to a known shard leaves it alone', async () => {
    const name = await written()
    let s = new IdbStorage({ name })
    // Queued together: each transaction reads the directory the one before committed.
    await Promise.all([
      s.append([{ shard: 'c', record: rec('update', 4) }, { shard: 'd', record: rec('update', 5) }, { shard: 'a', record: rec('update', 6) }]),
      // A generation switch: the old generation kept under a new id by a compact, later removed.
      s.compact('prev:4096:a', rec('snapshot', 7)),
      s.compact('a', rec('snapshot', 8)),
      s.remove('b'),
      s.remove('never there'),
      s.append([{ shard: 'e', record: rec('update', 9) }]),
      s.remove('e'),
    ])
    s.close()
    expect(await listedAndMarked(name)).toEqual({ listed: ['a', 'c', 'd', 'prev:4096:a'], marked: ['a', 'c', 'd', 'prev:4096:a'] })

    s = new IdbStorage({ name })
    expect((await s.shards()).sort()).toEqual(['a', 'c', 'd', 'prev:4096:a'])
    await s.remove('prev:4096:a')
    s.close()
    const before = await stored(name, DIRECTORY_KEY)
    s = new IdbStorage({ name })
    await s.append([{ shard: 'a', record: rec('update', 10) }, { shard: 'c', record: rec('update', 11) }])
    expect((await s.load('a')).map((r) => r.data[0])).toEqual([8, 10])
    s.close()
    expect(await stored(name, DIRECTORY_KEY)).toEqual(before)
    expect(await listedAndMarked(name)).toEqual({ listed: ['a', 'c', 'd'], marked: ['a', 'c', 'd'] })
    await deleteIdbStorage(name)
  })

  it('a table dropped through SQL leaves the directory with its shards: the replica opens again', async () => {
    const name = fresh()
    let storage = new IdbStorage({ name })
    let db = await openDatabase({ nodeId: 'browser-a', storage })
    await db.query('CREATE TABLE kept (id INT PRIMARY KEY, v TEXT)')
    await db.query('CREATE TABLE gone (id INT PRIMARY KEY, v TEXT)')
    await db.query("INSERT INTO kept VALUES (1, 'k')")
    await db.query("INSERT INTO gone VALUES (1, 'g')")
    const withGone = (await storage.shards()).length
    await db.query('DROP TABLE gone')
    await db.close()
    storage.close()

    storage = new IdbStorage({ name })
    expect((await storage.shards()).length).toBeLessThan(withGone)
    db = await openDatabase({ nodeId: 'browser-a', storage })
    expect((await db.query('SELECT v FROM kept')).rows).toEqual([{ v: 'k' }])
    await db.close()
    storage.close()
    const { listed, marked } = await listedAndMarked(name)
    expect(listed).toEqual(marked)
    await deleteIdbStorage(name)
  })

  it('a format-3 database (markers, no directory) opens and gets its directory once; a later whole-shard deletion is refused', async () => {
    const name = await written()
    await rawWrite(name, (st) => {
      st.delete(DIRECTORY_KEY)
      st.put(3, ['f', 'format'])
    })
    let s = new IdbStorage({ name })
    expect((await s.load('a')).map((r) => r.data[0])).toEqual([1, 3])
    s.close()
    expect(await stored(name, ['f', 'format'])).toBe(4)
    expect(await listedAndMarked(name)).toEqual({ listed: ['a', 'b'], marked: ['a', 'b'] })

    await rawWrite(name, (st) => {
      st.delete(shardRange('a'))
      st.delete(markerKey('a'))
    })
    s = new IdbStorage({ name })
    await expect(s.load('b')).rejects.toThrow(`concord:${name} is damaged: shard "a": the shard directory lists it but its records and marker are gone`)
    s.close()
    await deleteIdbStorage(name)
  })

  it('a database that lost its format key while it holds a shard directory is refused, not upgraded again', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.shards()
    s.close()
    await rawWrite(name, (st) => st.delete(['f', 'format']))
    const again = new IdbStorage({ name })
    await expect(again.shards()).rejects.toThrow(`concord:${name} is damaged: the format key is missing but the database has a shard directory (format 4): refusing to guess`)
    again.close()
    await deleteIdbStorage(name)
  })
})
