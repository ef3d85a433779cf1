import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { promisifyRequest } from 'idb-keyval'
import { decodeMarker, type StoredRecord } from '@concord/core'
import { deleteIdbStorage, IdbStorage } from './idb-storage.js'
import { CorruptIdbRecordError, recordKey } from './idb-record.js'
import { markerKey } from './idb-markers.js'
import { raw, rawWrite, rec } from './idb-raw.fixture.js'

/**
 * Shard markers through IdbStorage's own writes: after appends, compactions and removals
 * (awaited or queued together) every shard's marker still counts its records across a
 * reopen; a format-2 database (checksums, no markers) gets them once; a format-3 one that
 * lost its markers is refused.
 */
let n = 0
const fresh = (): string => `markers-${process.pid}-${n++}`


/** Every shard's stored marker, and what its record keys say: they must be equal. */
async function markersAndRecords(name: string): Promise<{ markers: Record<string, unknown>; records: Record<string, unknown> }> {
  return raw(name, 'readonly', async (s) => {
    const [keys, values] = await Promise.all([promisifyRequest(s.getAllKeys()), promisifyRequest(s.getAll())])
    const markers: Record<string, unknown> = {}
    const seqs: Record<string, number[]> = {}
    keys.forEach((key, i) => {
      const [kind, shard, seq] = key as [string, string, number]
      if (kind === 'k') markers[shard] = decodeMarker(values[i] as Uint8Array)
      if (kind === 'r') (seqs[shard] ??= []).push(seq)
    })
    const records: Record<string, unknown> = {}
    for (const [shard, list] of Object.entries(seqs)) records[shard] = { first: list[0], next: list[list.length - 1]! + 1, count: list.length }
    return { markers, records }
  })
}

describe('IdbStorage shard markers', () => {
  it('appends, compactions and removals keep every marker equal to its records across close and reopen', async () => {
    const name = fresh()
    let s = new IdbStorage({ name })
    await s.append([
      { shard: 'a', record: rec('update', 1) },
      { shard: 'b', record: rec('update', 2) },
      { shard: 'a', record: rec('update', 3) },
    ])
    await s.append([{ shard: 'c', record: rec('update', 4) }])
    // Queued together, not awaited one by one: each transaction counts what the one before committed.
    await Promise.all([s.append([{ shard: 'a', record: rec('update', 5) }]), s.compact('a', rec('snapshot', 6)), s.append([{ shard: 'a', record: rec('update', 7) }]), s.remove('b')])
    s.close()
    const first = await markersAndRecords(name)
    expect(first.markers).toEqual(first.records)
    expect(first.markers).toEqual({ a: { first: 5, next: 7, count: 2 }, c: { first: 3, next: 4, count: 1 } })

    s = new IdbStorage({ name })
    expect((await s.load('a')).map((r) => r.data[0])).toEqual([6, 7])
    expect((await s.shards()).sort()).toEqual(['a', 'c'])
    await s.remove('c')
    await s.compact('d', rec('snapshot', 8))
    await s.append([{ shard: 'd', record: rec('update', 9) }])
    s.close()
    const second = await markersAndRecords(name)
    expect(second.markers).toEqual(second.records)
    expect(Object.keys(second.markers).sort()).toEqual(['a', 'd'])

    s = new IdbStorage({ name })
    expect((await s.load('d')).map((r) => r.data[0])).toEqual([8, 9])
    s.close()
    await deleteIdbStorage(name)
  })

  it('a damaged marker is refused at open, naming the database, shard and key', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 'a', record: rec('update', 1) }])
    s.close()
    const stored = await raw(name, 'readonly', (st) => promisifyRequest(st.get(markerKey('a')))) as Uint8Array
    stored[stored.length - 1]! ^= 1
    await rawWrite(name, (st) => st.put(stored, markerKey('a')))
    const again = new IdbStorage({ name })
    await expect(again.load('a')).rejects.toThrow(`concord:${name} is damaged: shard "a" marker ["k","a"]: checksum mismatch`)
    again.close()
    await deleteIdbStorage(name)
  })

  it('a format-2 database (checksums, no markers) opens with its records and gets its markers once; a later deletion is refused', async () => {
    const name = fresh()
    let s = new IdbStorage({ name })
    await s.append([{ shard: 'a', record: rec('update', 1) }])
    await s.append([{ shard: 'a', record: rec('update', 2) }, { shard: 'b', record: rec('update', 3) }])
    s.close()
    // As today's format 2 left it: no marker at all.
    await rawWrite(name, (st) => {
      st.delete(IDBKeyRange.bound(['k'], ['k', []]))
      st.put(2, ['f', 'format'])
    })

    s = new IdbStorage({ name })
    expect((await s.load('a')).map((r) => r.data[0])).toEqual([1, 2])
    s.close()
    expect(await raw(name, 'readonly', (st) => promisifyRequest(st.get(['f', 'format'])))).toBe(4)
    const upgraded = await markersAndRecords(name)
    expect(upgraded.markers).toEqual({ a: { first: 0, next: 2, count: 2 }, b: { first: 2, next: 3, count: 1 } })

    await rawWrite(name, (st) => st.delete(recordKey('a', 1)))
    s = new IdbStorage({ name })
    await expect(s.load('a')).rejects.toThrow(`concord:${name} is damaged: shard "a": holds 1 record (seq 0 to 0) but its marker counts 2 records (seq 0 to 1)`)
    s.close()
    await deleteIdbStorage(name)
  })

  it('a format-3 database that lost every marker is refused, not re-counted', async () => {
    const name = fresh()
    const s = new IdbStorage({ name })
    await s.append([{ shard: 'a', record: rec('update', 1) }])
    s.close()
    await rawWrite(name, (st) => st.delete(IDBKeyRange.bound(['k'], ['k', []])))
    const again = new IdbStorage({ name })
    await expect(again.load('a')).rejects.toThrow(CorruptIdbRecordError)
    await expect(again.load('a')).rejects.toThrow(`concord:${name} is damaged: shard "a": holds 1 record (seq 0 to 0) but has no marker`)
    again.close()
    await deleteIdbStorage(name)
  })
})
