import { describe, expect, it } from 'vitest'
import { MessageType, type Message } from './messages.js'
import { scopeIncoming, scopeOutgoing, writesIncoming, type PeerScope } from './peer-scope.js'

const notes = 't:1:0:notes'
const secrets = 't:2:0:secrets'
const scope: PeerScope = {
  reads: (s) => s === notes || s === 'catalog',
  writes: (s) => s === notes,
  readsTable: (t) => t === 'notes',
}
const u = (shard: string) => ({ shard, generation: 0, update: new Uint8Array([1]) })

describe('peer scopes', () => {
  it('apply only the in-scope updates of a scoped peer and name the rest', () => {
    const msg: Message = { type: MessageType.Updates, prevLsn: 0, lsn: 5, updates: [u(notes), u(secrets), u('catalog')] }
    const cut = scopeIncoming(scope, msg)
    expect(cut.refused).toEqual([secrets, 'catalog'])
    expect(cut.msg?.type === MessageType.Updates && cut.msg.updates.map((x) => x.shard)).toEqual([notes])
    expect(scopeIncoming(scope, { type: MessageType.SyncDiff, diffs: [{ ...u(secrets), hash: 0, final: true, stateVector: new Uint8Array() }] }).msg).toBeNull()
    expect(scopeIncoming(scope, { type: MessageType.Generation, shard: secrets, generation: 1, state: new Uint8Array() }).msg).toBeNull()
  })

  it('refuse forwarded SQL, notices and reads of other tables from a scoped peer', () => {
    expect(scopeIncoming(scope, { type: MessageType.Call, id: 1, topic: 'sql/forward', body: new Uint8Array() }).msg).toBeNull()
    expect(scopeIncoming(scope, { type: MessageType.Notice, topic: 'x', body: new Uint8Array() }).msg).toBeNull()
    const req = (table: string): Message => ({ type: MessageType.RowsRequest, id: 1, table, incarnation: 1, filter: '', unplaced: true, shards: [] })
    expect(scopeIncoming(scope, req('secrets')).msg).toBeNull()
    expect(scopeIncoming(scope, req('notes')).msg).not.toBeNull()
  })

  it('neither take held-by sets from a scoped peer nor send it any, even of its own shards (a forged set could drop tombstones early)', () => {
    const held: Message = { type: MessageType.Held, answer: false, sets: [{ shard: notes, generation: 0, hash: 1, holders: 2, bits: new Uint8Array([1]) }] }
    expect(scopeIncoming(scope, held)).toEqual({ msg: null, refused: [`reports of ${notes}`] })
    expect(scopeOutgoing(scope, held)).toBeNull()
  })

  it('let a scoped peer read named shards it may read of a table it may not read whole (a region scope\'s home shards), nothing more', () => {
    const euHome = 't:3:77:posts'
    const usHome = 't:3:88:posts'
    const regional: PeerScope = { reads: (s) => s === euHome, writes: (s) => s === euHome, readsTable: () => false }
    const req = (unplaced: boolean, shards: string[]): Message => ({ type: MessageType.RowsRequest, id: 1, table: 'posts', incarnation: 3, filter: '', unplaced, shards })
    expect(scopeIncoming(regional, req(false, [euHome])).msg).not.toBeNull()
    expect(scopeIncoming(regional, req(false, [euHome, usHome])).msg).toBeNull()
    // The table's unplaced shards, or no shard named: the whole table, which it may not read.
    expect(scopeIncoming(regional, req(true, [euHome])).msg).toBeNull()
    expect(scopeIncoming(regional, req(false, [])).msg).toBeNull()
  })

  it('send a scoped peer only the shards it may read', () => {
    const out = scopeOutgoing(scope, { type: MessageType.Updates, prevLsn: 0, lsn: 5, updates: [u(secrets), u('catalog'), u(notes)] })
    expect(out?.type === MessageType.Updates && out.updates.map((x) => x.shard)).toEqual(['catalog', notes])
    expect(scopeOutgoing(scope, { type: MessageType.Updates, prevLsn: 0, lsn: 5, updates: [u(secrets)] })).toBeNull()
    const digest = scopeOutgoing(scope, { type: MessageType.Digest, lsn: 1, digests: [{ shard: secrets, generation: 0, hash: 1, rows: 1 }, { shard: notes, generation: 0, hash: 2, rows: 1 }] })
    expect(digest?.type === MessageType.Digest && digest.digests.map((d) => d.shard)).toEqual([notes])
    expect(scopeOutgoing(scope, { type: MessageType.SyncRequest, requests: [{ shard: secrets, generation: 0, stateVector: new Uint8Array() }] })).toBeNull()
    expect(scopeOutgoing(scope, { type: MessageType.Call, id: 1, topic: 't', body: new Uint8Array() })).toBeNull()
  })

  it('drop only the updates a full peer\'s write check refuses, and pass everything else', () => {
    const check = (shard: string, update: Uint8Array): boolean => shard !== 'catalog' || update[0] !== 2
    const msg: Message = { type: MessageType.Updates, prevLsn: 0, lsn: 5, updates: [u(notes), { shard: 'catalog', generation: 0, update: new Uint8Array([2]) }, u('catalog')] }
    const cut = writesIncoming(check, msg)
    expect(cut.refused).toEqual(['catalog'])
    expect(cut.msg?.type === MessageType.Updates && cut.msg.updates.length).toBe(2)
    expect(writesIncoming(check, { type: MessageType.Generation, shard: 'catalog', generation: 1, state: new Uint8Array([2]) }).msg).toBeNull()
    const call: Message = { type: MessageType.Call, id: 1, topic: 'sql/forward', body: new Uint8Array() }
    expect(writesIncoming(check, call)).toEqual({ msg: call, refused: [] })
  })
})
