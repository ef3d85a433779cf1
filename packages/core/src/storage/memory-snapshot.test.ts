import { serialize, deserialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import { MemoryStorage } from './memory-storage.js'

const items = { name: 'items', columns: [{ name: 'id', type: 'int' as const }, { name: 'v', type: 'text' as const }], primaryKey: ['id'] }

function rowsOf(r: Replica): unknown[] {
  return [...r.scan('items')].map((row) => ({ ...row })).sort((a, b) => Number(a['id']) - Number(b['id']))
}

describe('MemoryStorage snapshots', () => {
  it('a replica opened on a copy of a stopped replica storage sees its rows, and writes to the copy leave the original alone', async () => {
    const original = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'snap', storage: original })
    r.transact((tx) => tx.createTable(items))
    for (let i = 0; i < 20; i++) r.transact((tx) => tx.insert('items', { id: i, v: `v${i}` }))
    await r.durable()
    await r.setMeta('app/state', Uint8Array.of(7))
    const before = rowsOf(r)
    await r.close()

    // Through v8.serialize, as a harness keeps a template across processes.
    const snapshot = deserialize(serialize(original.snapshot())) as ReturnType<MemoryStorage['snapshot']>
    const copy = MemoryStorage.fromSnapshot(snapshot)
    const again = await Replica.open({ nodeId: 'snap', storage: copy })
    expect(rowsOf(again)).toEqual(before)
    expect([...((await copy.getMeta('app/state')) ?? [])]).toEqual([7])
    again.transact((tx) => tx.insert('items', { id: 100, v: 'only in the copy' }))
    await again.durable()
    await again.close()

    const reopened = await Replica.open({ nodeId: 'snap', storage: original })
    expect(rowsOf(reopened)).toEqual(before)
    await reopened.close()
    // The snapshot shares no buffers: another copy still starts from the saved state.
    const second = await Replica.open({ nodeId: 'snap', storage: MemoryStorage.fromSnapshot(snapshot) })
    expect(rowsOf(second)).toEqual(before)
    await second.close()
  })
})
