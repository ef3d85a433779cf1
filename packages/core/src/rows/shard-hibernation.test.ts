import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Replica } from '../replica.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'
import type { Row } from '../types.js'
import type { Shard } from './shard.js'
import { ShardHibernation } from './shard-hibernation.js'

const quiet = { antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 }
const table = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }, { name: 'n', type: 'int' }], primaryKey: ['id'] }

function tableShard(r: Replica, name: string): Shard {
  return [...r.shards.values()].find((s) => s.viewName() === name)!
}

function rowsOf(r: Replica, name: string): Row[] {
  return [...r.scan(name)].sort((a, b) => Number(a['id']) - Number(b['id']))
}

/** Two replicas sharing table `t`: `a` wrote rows, overwrites and deletes, `b` wrote some of the same rows; both merged. */
async function pair(): Promise<{ a: Replica; b: Replica }> {
  const a = await Replica.open({ nodeId: 'a', ...quiet })
  a.transact((tx) => tx.createTable(table))
  a.transact((tx) => {
    for (let i = 0; i < 40; i++) tx.upsert('t', { id: i, v: `v${i}`, n: i })
  })
  a.transact((tx) => {
    for (let i = 0; i < 5; i++) tx.upsert('t', { id: i, v: `again${i}`, n: 100 + i })
    for (let i = 30; i < 35; i++) tx.delete('t', [i])
  })
  const b = await Replica.open({ nodeId: 'b', ...quiet })
  b.applyRemote(b.catalogShard, a.catalogShard.encodeState())
  expect(b.applyRemote(b.shardFor(tableShard(a, 't').id)!, tableShard(a, 't').encodeState())).toBe(true)
  expect(b.get('t', [4])).toEqual({ id: 4, v: 'again4', n: 104 })
  b.transact((tx) => {
    tx.upsert('t', { id: 7, v: 'from b', n: 700 })
    tx.delete('t', [8])
  })
  a.applyRemote(tableShard(a, 't'), tableShard(b, 't').encodeState())
  expect(a.get('t', [7])).toEqual({ id: 7, v: 'from b', n: 700 })
  expect(a.stats().malformed + b.stats().malformed).toBe(0)
  return { a, b }
}

/** Exchanges what each lacks of `t`, by state vectors, as anti-entropy does. */
function sync(x: Replica, y: Replica): void {
  const sx = tableShard(x, 't')
  const sy = tableShard(y, 't')
  y.applyRemote(sy, sx.encodeState(sy.stateVector()))
  x.applyRemote(sx, sy.encodeState(sx.stateVector()))
}

describe('shard hibernation', () => {
  it('keeps the rows and books of a put-away document, and a write after it loads the document and continues this session', async () => {
    const { a, b } = await pair()
    const shard = tableShard(a, 't')
    const rows = rowsOf(a, 't')
    const books = { digest: shard.digest(), garbage: shard.garbage(), entries: shard.entryCount, deleted: shard.deletedRowKeys().sort(), sv: shard.stateVector(), rowsHash: shard.rowsHash }
    const state = Y.encodeStateAsUpdate(shard.doc)
    const client = shard.doc.clientID

    expect(shard.hibernate()).toBe(true)
    expect(shard.isDeferred).toBe(true)
    expect(shard.hibernate()).toBe(false)
    // Everything reads and anti-entropy ask of it is answered without loading the document.
    expect(rowsOf(a, 't')).toEqual(rows)
    expect(a.get('t', [7])).toEqual({ id: 7, v: 'from b', n: 700 })
    expect({ digest: shard.digest(), garbage: shard.garbage(), entries: shard.entryCount, deleted: shard.deletedRowKeys().sort(), sv: shard.stateVector(), rowsHash: shard.rowsHash }).toEqual(books)
    expect(shard.encodeState()).toEqual(state)
    expect(shard.isDeferred).toBe(true)
    expect(shard.wakes).toBe(0)

    // A write: the document is loaded again, under this session's client id (quietly:
    // Yjs logs when it thinks another client uses a document's id).
    const log = vi.spyOn(console, 'log')
    a.transact((tx) => tx.upsert('t', { id: 1, v: 'after', n: 1 }))
    expect(log.mock.calls.map((c) => String(c[0]) + String(c[1] ?? ''))).toEqual([])
    log.mockRestore()
    expect(shard.isDeferred).toBe(false)
    expect(shard.wakes).toBe(1)
    expect(shard.wakeMismatches).toBe(0)
    expect(shard.doc.clientID).toBe(client)
    expect(shard.auditBooks()).toBeNull()
    expect(a.stats().malformed).toBe(0)
    // The peer, given only what it lacks, takes the write: the session's clock went on where it stopped.
    const sb = tableShard(b, 't')
    b.applyRemote(sb, shard.encodeState(sb.stateVector()))
    expect(b.get('t', [1])).toEqual({ id: 1, v: 'after', n: 1 })
    expect(sb.digest()).toBe(shard.digest())
    expect(rowsOf(b, 't')).toEqual(rowsOf(a, 't'))
    await Promise.all([a.close(), b.close()])
  })

  it('a remote update to a put-away document loads it, and both replicas end with the same rows and state', async () => {
    const { a, b } = await pair()
    const shard = tableShard(a, 't')
    expect(shard.hibernate()).toBe(true)
    b.transact((tx) => {
      tx.upsert('t', { id: 3, v: 'b again', n: 3 })
      tx.delete('t', [4])
      tx.upsert('t', { id: 100, v: 'new', n: 100 })
    })
    sync(a, b)
    expect(shard.wakes).toBe(1)
    expect(a.get('t', [100])).toEqual({ id: 100, v: 'new', n: 100 })
    expect(a.get('t', [4])).toBeUndefined()
    expect(rowsOf(a, 't')).toEqual(rowsOf(b, 't'))
    expect(shard.digest()).toBe(tableShard(b, 't').digest())
    expect(shard.auditBooks()).toBeNull()

    // Put away again, and again written on both sides concurrently: they still converge.
    expect(shard.hibernate()).toBe(true)
    expect(tableShard(b, 't').hibernate()).toBe(true)
    a.transact((tx) => tx.upsert('t', { id: 5, v: 'a', n: 1 }))
    b.transact((tx) => tx.upsert('t', { id: 5, v: 'b', n: 2 }))
    sync(a, b)
    expect(rowsOf(a, 't')).toEqual(rowsOf(b, 't'))
    expect(shard.digest()).toBe(tableShard(b, 't').digest())
    expect(a.stats().malformed + b.stats().malformed).toBe(0)
    await Promise.all([a.close(), b.close()])
  })

  it('a shard restarted from storage after its document was put away and loaded again has the same rows', async () => {
    const { MemoryStorage } = await import('../storage/memory-storage.js')
    const storage = new MemoryStorage()
    const a = await Replica.open({ nodeId: 'a', storage, ...quiet })
    a.transact((tx) => tx.createTable(table))
    a.transact((tx) => {
      for (let i = 0; i < 20; i++) tx.upsert('t', { id: i, v: `v${i}`, n: i })
    })
    expect(tableShard(a, 't').hibernate()).toBe(true)
    a.transact((tx) => tx.upsert('t', { id: 2, v: 'woken', n: 2 }))
    await a.durable()
    const rows = rowsOf(a, 't')
    const reopened = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(rowsOf(reopened, 't')).toEqual(rows)
    await Promise.all([a.close(), reopened.close()])
  })

  it('leaves a shard with collaborative text as it is', async () => {
    const a = await Replica.open({ nodeId: 'a', ...quiet })
    a.transact((tx) => tx.createTable({ name: 'd', columns: [{ name: 'id', type: 'int' }, { name: 'body', type: 'text', kind: 'text' }], primaryKey: ['id'] }))
    a.transact((tx) => tx.upsert('d', { id: 1, body: 'hello' }))
    expect(tableShard(a, 'd').hibernate()).toBe(false)
    expect(tableShard(a, 'd').isDeferred).toBe(false)
    await a.close()
  })

  it('puts away shards idle for a quiet spell: not those written meanwhile, not system shards, not small ones', async () => {
    const clock = new VirtualTime()
    const a = await Replica.open({ nodeId: 'a', ...quiet })
    a.transact((tx) => {
      tx.createTable(table)
      tx.createTable({ ...table, name: 'busy' })
      tx.createTable({ ...table, name: 'small' })
    })
    a.transact((tx) => {
      for (let i = 0; i < 30; i++) tx.upsert('t', { id: i, v: 'x', n: i })
      for (let i = 0; i < 30; i++) tx.upsert('busy', { id: i, v: 'x', n: i })
      for (let i = 0; i < 3; i++) tx.upsert('small', { id: i, v: 'x', n: i })
    })
    const hibernation = new ShardHibernation(a, { scheduler: clock.scheduler, quietMs: 1000, minEntries: 10 })
    for (let i = 0; i < 5; i++) {
      a.transact((tx) => tx.upsert('busy', { id: i, v: 'again', n: i }))
      await clock.advance(1000)
    }
    expect(tableShard(a, 't').isDeferred).toBe(true)
    expect(tableShard(a, 'busy').isDeferred).toBe(false)
    expect(tableShard(a, 'small').isDeferred).toBe(false)
    expect(a.catalogShard.isDeferred).toBe(false)
    expect(hibernation.hibernated).toBe(1)
    // Quiet now: `busy` follows one spell later; a read does not wake `t`.
    expect(rowsOf(a, 't').length).toBe(30)
    await clock.advance(2000)
    expect(tableShard(a, 'busy').isDeferred).toBe(true)
    expect(tableShard(a, 't').isDeferred).toBe(true)
    expect(hibernation.hibernated).toBe(2)
    // A write wakes `t`; it sleeps again only after a whole quiet spell.
    a.transact((tx) => tx.upsert('t', { id: 1, v: 'y', n: 1 }))
    await clock.advance(1000)
    expect(tableShard(a, 't').isDeferred).toBe(false)
    await clock.advance(1000)
    expect(tableShard(a, 't').isDeferred).toBe(true)
    // A peer reading what it lacks, whole or in slices, keeps it awake as a write does:
    // a catch-up is not interrupted by putting the document away under it.
    a.transact((tx) => tx.upsert('t', { id: 2, v: 'y', n: 2 }))
    const t = tableShard(a, 't')
    const empty = Y.encodeStateVector(new Y.Doc())
    const slices = t.sliceState(empty, 5)
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000)
      expect(slices.next()).not.toBeNull()
    }
    await clock.advance(1000)
    t.encodeState(empty)
    await clock.advance(1000)
    expect(t.isDeferred).toBe(false)
    await clock.advance(1000)
    expect(t.isDeferred).toBe(true)
    expect(hibernation.hibernated).toBe(4)
    hibernation.stop()
    a.transact((tx) => tx.upsert('t', { id: 1, v: 'z', n: 1 }))
    await clock.advance(5000)
    expect(tableShard(a, 't').isDeferred).toBe(false)
    expect(hibernation.hibernated).toBe(4)
    expect(a.get('t', [1])).toEqual({ id: 1, v: 'z', n: 1 })
    await a.close()
  })
})
