import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Replica } from '../replica.js'
import { Simulation } from '../sim/simulation.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import { canonicalRows, maxResolver } from '../sim/campaign.js'
import type { RowChange, TableSpec } from '../types.js'
import type { Storage } from '../api.js'

const items: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
    { name: 'price', type: 'numeric' },
    { name: 'qty', type: 'int' },
  ],
  primaryKey: ['id'],
}

const dataShard = (r: Replica, table = 'items') => [...r.shards.values()].find((s) => s.id.endsWith(`:${table}`))!
const encoded = (r: Replica) => Y.encodeStateAsUpdate(dataShard(r).doc).length
const eager = { minGarbage: 8, ratio: 0.1, departAfterMs: 3_600_000 }

describe('generations: storage follows live data', () => {
  it('after many updates a new generation is as small as after one write, and restarts to the same rows', async () => {
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'solo', storage, antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable(items))
    r.transact((tx) => {
      for (let i = 0; i < 1000; i++) tx.insert('items', { id: i, name: `item ${i}`, price: `${i}.99`, qty: 0 })
    })
    const oneWrite = encoded(r)
    for (let u = 1; u <= 100; u++) {
      r.transact((tx) => {
        for (let i = 0; i < 1000; i++) tx.update('items', [i], { qty: u })
      })
    }
    const grown = encoded(r)
    expect(grown).toBeGreaterThan(3 * oneWrite)
    const before = canonicalRows(r.scan('items'))
    r.compactionRound()
    expect(dataShard(r).generation).toBeGreaterThan(0)
    expect(encoded(r)).toBeLessThanOrEqual(2 * oneWrite)
    expect(canonicalRows(r.scan('items'))).toBe(before)
    await r.durable()
    const shardId = dataShard(r).id
    expect(storage.load(shardId)).toHaveLength(1)
    expect(storage.load(shardId)[0]!.data.length).toBeLessThanOrEqual(2 * oneWrite)
    await r.close()
    const again = await Replica.open({ nodeId: 'solo', storage, antiEntropyIntervalMs: 0 })
    expect(canonicalRows(again.scan('items'))).toBe(before)
    again.transact((tx) => tx.update('items', [1], { qty: -1 }))
    expect(again.get('items', [1])?.qty).toBe(-1)
  })

  it('a large shard\'s generation is built in parts, the event loop served between; a write meanwhile drops the build, the next round builds again', async () => {
    const time = new VirtualTime()
    const storage = new MemoryStorage()
    const r = await Replica.open({ nodeId: 'solo', storage, antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0, scheduler: time.scheduler })
    r.transact((tx) => tx.createTable(items))
    const ROWS = 24_000 // five parts of 5,000 entries
    r.transact((tx) => {
      for (let i = 0; i < ROWS; i++) tx.insert('items', { id: i, name: `item ${i}`, price: `${i}.99`, qty: 0 })
    })
    for (let u = 1; u <= 2; u++) r.transact((tx) => {
      for (let i = 0; i < ROWS; i++) tx.update('items', [i], { qty: u })
    })
    const before = canonicalRows(r.scan('items'))
    const grown = encoded(r)
    expect(dataShard(r).garbage()).toBeGreaterThan(0)
    // The first part runs in the round; the rest wait for turns of the scheduler.
    r.compactionRound()
    expect(dataShard(r).generation).toBe(0)
    expect(time.pending).toBeGreaterThan(0)
    // A write between two parts: the build is dropped at its end.
    r.transact((tx) => tx.update('items', [5], { qty: 7 }))
    while (await time.runNext());
    expect(dataShard(r).generation).toBe(0)
    expect(r.housekeeper.buildsDropped).toBe(1)
    // The next round builds again, undisturbed: the same rows, its history gone.
    r.compactionRound()
    let turns = 0
    while (time.pending > 0) {
      expect(canonicalRows(r.scan('items'))).not.toBe(before) // the write of qty 7 shows throughout
      await time.runNext()
      turns++
    }
    expect(turns).toBeGreaterThanOrEqual(4)
    expect(dataShard(r).generation).toBeGreaterThan(0)
    expect(encoded(r)).toBeLessThan(grown)
    expect(dataShard(r).garbage()).toBe(0)
    r.transact((tx) => tx.update('items', [5], { qty: 2 }))
    expect(canonicalRows(r.scan('items'))).toBe(before)
    await r.durable()
    await r.close()
    const again = await Replica.open({ nodeId: 'solo', storage, antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 })
    expect(canonicalRows(again.scan('items'))).toBe(before)
    await again.close()
  })

  it('every replica switches generation and readers never see a row disappear', async () => {
    const sim = new Simulation({ seed: 31 })
    for (const id of ['a', 'b', 'c']) await sim.addNode({ id, options: { compaction: eager } })
    sim.replica('a').transact((tx) => tx.createTable(items))
    await sim.settle()
    for (let u = 0; u < 30; u++) {
      const id = ['a', 'b', 'c'][u % 3]!
      sim.replica(id).transact((tx) => {
        for (let i = 0; i < 20; i++) tx.upsert('items', { id: i, qty: u })
      })
    }
    const vanished: RowChange[] = []
    for (const id of ['a', 'b', 'c']) sim.replica(id).on('change', (cs) => vanished.push(...cs.filter((c) => c.after === null)))
    await sim.settle()
    await sim.advance(3000)
    await sim.settle()
    const gens = ['a', 'b', 'c'].map((id) => dataShard(sim.replica(id)).generation)
    expect(gens[0]).toBeGreaterThan(0)
    expect(new Set(gens).size).toBe(1)
    expect(vanished).toEqual([])
    const rows = ['a', 'b', 'c'].map((id) => canonicalRows(sim.replica(id).scan('items')))
    expect(rows[1]).toBe(rows[0])
    expect(rows[2]).toBe(rows[0])
    expect(sim.replica('a').get('items', [3])?.qty).toBe(29)
  })
})

describe('generations: replicas that were away', () => {
  /** The same scripted run with compaction on or off: same writes at the same virtual times. */
  async function scripted(compact: boolean) {
    const sim = new Simulation({ seed: 7, faults: { drop: 0, duplicate: 0, minDelayMs: 3, maxDelayMs: 3 } })
    const compaction = compact ? eager : { enabled: false }
    for (const id of ['a', 'b', 'c']) await sim.addNode({ id, options: { compaction, resolvers: { max: maxResolver } } })
    sim.replica('a').transact((tx) => {
      tx.createTable(items)
      tx.createTable({ name: 'best', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'], policy: { custom: 'max' } })
      tx.createTable({ name: 'first', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'], policy: 'first_write_wins' })
    })
    await sim.settle()
    sim.partition(['a', 'b'], ['c'])
    // c writes while away, at different moments than a and b
    for (let round = 0; round < 6; round++) {
      sim.replica('c').transact((tx) => {
        for (let i = 0; i < 10; i++) tx.upsert('items', { id: i, name: `c${round}` })
        tx.upsert('best', { id: round % 3, v: `${round + 3}` })
        tx.upsert('first', { id: round % 3, v: `c${round}` })
      })
      await sim.advance(700)
      for (const id of ['a', 'b']) {
        sim.replica(id).transact((tx) => {
          for (let i = 5; i < 15; i++) tx.upsert('items', { id: i, qty: round, name: `${id}${round}` })
          tx.upsert('best', { id: (round + 1) % 3, v: `${round}` })
          tx.upsert('first', { id: (round + 1) % 3, v: `${id}${round}` })
        })
      }
      await sim.advance(700)
    }
    if (compact) expect(dataShard(sim.replica('a')).generation).toBeGreaterThan(0)
    sim.crash('c')
    await sim.advance(1000)
    await sim.restart('c')
    sim.heal()
    await sim.settle()
    await sim.advance(5000)
    await sim.settle()
    const out = ['a', 'b', 'c'].map((id) => ['items', 'best', 'first'].map((t) => canonicalRows(sim.replica(id).scan(t))).join('\n'))
    return { sim, out }
  }

  it('a replica away across several generations keeps its writes and resolves as without compaction', async () => {
    const plain = await scripted(false)
    const compacted = await scripted(true)
    expect(compacted.out[1]).toBe(compacted.out[0])
    expect(compacted.out[2]).toBe(compacted.out[0])
    expect(compacted.out[0]).toBe(plain.out[0])
    expect(compacted.out[0]).toContain('c5')
    const gens = ['a', 'b', 'c'].map((id) => dataShard(compacted.sim.replica(id)).generation)
    expect(new Set(gens).size).toBe(1)
  })

  it('a replica gone past the horizon is declared departed, stops holding back draining, and rejoins with its writes', async () => {
    const sim = new Simulation({ seed: 9 })
    const opts = { compaction: { minGarbage: 8, ratio: 0.1, departAfterMs: 10_000 } }
    for (const id of ['a', 'b', 'c']) await sim.addNode({ id, options: opts })
    sim.replica('a').transact((tx) => tx.createTable(items))
    await sim.settle()
    sim.partition(['a', 'b'], ['c'])
    sim.replica('c').transact((tx) => tx.upsert('items', { id: 99, name: 'written while away' }))
    sim.crash('c')
    for (let u = 0; u < 20; u++) {
      sim.replica('a').transact((tx) => {
        for (let i = 0; i < 10; i++) tx.upsert('items', { id: i, qty: u })
      })
      await sim.advance(1000)
    }
    await sim.advance(15_000)
    const members = sim.replica('b').members()
    expect(members.find((m) => m.nodeId === 'c')?.departed).toBe(true)
    expect(dataShard(sim.replica('b')).prevs).toHaveLength(0)
    sim.heal()
    await sim.restart('c')
    await sim.settle()
    await sim.advance(3000)
    await sim.settle()
    expect(sim.replica('a').members().find((m) => m.nodeId === 'c')?.departed).toBe(false)
    for (const id of ['a', 'b', 'c']) expect(sim.replica(id).get('items', [99])?.name).toBe('written while away')
    expect(canonicalRows(sim.replica('c').scan('items'))).toBe(canonicalRows(sim.replica('a').scan('items')))
  })
})

describe('generations: deleted rows', () => {
  it('stable deletes drop their tombstones, and late writes from a departed replica follow the delete rule', async () => {
    const sim = new Simulation({ seed: 11 })
    const opts = { compaction: { minGarbage: 4, ratio: 0.1, departAfterMs: 10_000 } }
    for (const id of ['a', 'b', 'c']) await sim.addNode({ id, options: opts })
    sim.replica('a').transact((tx) => tx.createTable(items))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) {
      sim.replica(id).transact((tx) => {
        for (let i = 0; i < 20; i++) tx.upsert('items', { id: i, name: `${id}${i}` })
      })
    }
    // rows 20..29 only a ever writes
    sim.replica('a').transact((tx) => {
      for (let i = 20; i < 30; i++) tx.insert('items', { id: i, name: `a${i}`, qty: 1 })
    })
    await sim.settle()
    // c goes away and, unaware, updates rows while a deletes them: row 5 (c wrote it
    // too), row 25 (only a wrote it: c's first write to it), row 7 (c overwrites every
    // column); c also inserts a new row 50 and deletes row 15
    sim.partition(['a', 'b'], ['c'])
    sim.replica('c').transact((tx) => {
      tx.update('items', [5], { name: 'late concurrent update' })
      tx.update('items', [25], { qty: 99 })
      tx.update('items', [7], { name: 'all columns', price: '1', qty: 1 })
      tx.insert('items', { id: 50, name: 'new while away' })
      tx.delete('items', [15])
    })
    sim.crash('c')
    sim.replica('a').transact((tx) => {
      for (let i = 0; i < 10; i++) tx.delete('items', [i])
      for (let i = 20; i < 30; i++) tx.delete('items', [i])
    })
    for (let t = 0; t < 40; t++) await sim.advance(1000)
    const a = sim.replica('a')
    expect(a.members().find((m) => m.nodeId === 'c')?.departed).toBe(true)
    const shard = dataShard(a)
    expect(shard.generation).toBeGreaterThan(0)
    // 20 deleted rows dropped whole: only the 10 live rows x 3 writers remain
    expect(shard.map.size).toBe(30)
    expect(shard.tombstonesDropped + dataShard(sim.replica('b')).tombstonesDropped).toBeGreaterThanOrEqual(20)
    sim.heal()
    await sim.restart('c')
    await sim.settle()
    await sim.advance(5000)
    await sim.settle()
    for (const id of ['a', 'b', 'c']) {
      const r = sim.replica(id)
      expect(r.get('items', [5])).toBeUndefined()
      expect(r.get('items', [25])).toBeUndefined()
      expect(r.get('items', [7])).toBeUndefined()
      expect(r.get('items', [15])).toBeUndefined()
      expect(r.get('items', [50])?.name).toBe('new while away')
      // rows 10..19 minus 15, plus 50
      expect(r.rowCount('items')).toBe(10)
    }
    expect(canonicalRows(sim.replica('c').scan('items'))).toBe(canonicalRows(sim.replica('a').scan('items')))
    // a row whose tombstone was dropped can be inserted again, from any replica
    sim.replica('b').transact((tx) => tx.insert('items', { id: 3, name: 'again' }))
    sim.replica('c').transact((tx) => tx.insert('items', { id: 25, name: 'again too' }))
    await sim.settle()
    for (const id of ['a', 'b', 'c']) {
      expect(sim.replica(id).get('items', [3])?.name).toBe('again')
      expect(sim.replica(id).get('items', [25])).toMatchObject({ name: 'again too', qty: null })
    }
  })

  it('a replica reports holding a state (what makes a delete stable) only once that state is durable', async () => {
    const base = new MemoryStorage()
    const held: Array<() => void> = []
    const storage: Storage = {
      append: (batch) => new Promise<void>((res) => held.push(() => res(base.append(batch)))),
      shards: () => base.shards(),
      load: (id) => base.load(id),
      compact: (id, snap) => base.compact(id, snap),
      remove: (id) => base.remove(id),
      getMeta: (k) => base.getMeta(k),
      setMeta: (k, v) => base.setMeta(k, v),
    }
    const r = await Replica.open({ nodeId: 'slow', storage, antiEntropyIntervalMs: 0 })
    for (const release of held.splice(0)) release()
    await r.durable()
    r.transact((tx) => tx.createTable(items))
    r.transact((tx) => tx.insert('items', { id: 1, name: 'x' }))
    await new Promise((res) => setTimeout(res, 0))
    const shard = dataShard(r)
    expect(held.length).toBeGreaterThan(0)
    expect(r.reportedDigest(shard)).not.toBe(shard.digest())
    for (const release of held.splice(0)) release()
    await r.durable()
    expect(r.reportedDigest(shard)).toBe(shard.digest())
  })

  it("a restarted node's writes reach peers only after its earlier session's writes", async () => {
    const storage = new MemoryStorage()
    const x = await Replica.open({ nodeId: 'x', storage, antiEntropyIntervalMs: 0, compaction: { enabled: false } })
    x.transact((tx) => tx.createTable(items))
    x.transact((tx) => tx.insert('items', { id: 1, name: 'first session' }))
    await x.durable()
    const shardId = dataShard(x).id
    const firstSession = storage.load(shardId).map((r) => r.data)
    await x.close()
    const again = await Replica.open({ nodeId: 'x', storage, antiEntropyIntervalMs: 0, compaction: { enabled: false } })
    const seen = storage.load(shardId).length
    again.transact((tx) => tx.insert('items', { id: 2, name: 'second session' }))
    await again.durable()
    const secondSession = storage.load(shardId).slice(seen).map((r) => r.data)
    expect(secondSession.length).toBeGreaterThan(0)

    const peer = await Replica.open({ nodeId: 'y', antiEntropyIntervalMs: 0 })
    peer.applyRemote(peer.shards.get('catalog')!, Y.encodeStateAsUpdate(again.shards.get('catalog')!.doc))
    const target = peer.shardFor(shardId)!
    // the second session's write alone waits: it depends on the first session's
    for (const u of secondSession) peer.applyRemote(target, u)
    expect(peer.get('items', [2])).toBeUndefined()
    for (const u of firstSession) peer.applyRemote(target, u)
    expect(peer.get('items', [1])?.name).toBe('first session')
    expect(peer.get('items', [2])?.name).toBe('second session')
  })

  it('no generation is built while a key reads as absent because its overwrite arrived before an earlier write', async () => {
    // b joins first: the oldest member, so it builds
    const b = await Replica.open({ nodeId: 'b', antiEntropyIntervalMs: 0, compaction: { minGarbage: 1, ratio: 0 } })
    const wStorage = new MemoryStorage()
    const w = await Replica.open({ nodeId: 'w', storage: wStorage, antiEntropyIntervalMs: 0, compaction: { enabled: false } })
    w.transact((tx) => tx.createTable(items))
    b.applyRemote(b.shards.get('catalog')!, Y.encodeStateAsUpdate(w.shards.get('catalog')!.doc))
    w.applyRemote(w.shards.get('catalog')!, Y.encodeStateAsUpdate(b.shards.get('catalog')!.doc))
    w.transact((tx) => tx.insert('items', { id: 1, name: 'first' }))
    await w.durable()
    const shardId = dataShard(w).id
    const target = b.shardFor(shardId)!
    const records = () => wStorage.load(shardId).map((r) => r.data)
    for (const u of records()) b.applyRemote(target, u)
    let seen = records().length
    w.transact((tx) => tx.insert('items', { id: 2, name: 'lost on the way' }))
    await w.durable()
    const lost = records().slice(seen)
    seen = records().length
    w.transact((tx) => tx.update('items', [1], { name: 'overwritten' }))
    await w.durable()
    // the overwrite arrives without the write before it: its delete of row 1's old entry
    // applies at once, its new entry waits
    for (const u of records().slice(seen)) b.applyRemote(target, u)
    expect(b.builderOf(shardId)).toBe('b')
    expect(target.hasHalfAppliedWrites(() => false)).toBe(true)
    expect(b.get('items', [1])).toBeUndefined()
    b.compactionRound()
    expect(target.generation).toBe(0)
    for (const u of lost) b.applyRemote(target, u)
    expect(b.get('items', [1])?.name).toBe('overwritten')
    b.compactionRound()
    expect(target.generation).toBeGreaterThan(0)
    expect(b.get('items', [2])?.name).toBe('lost on the way')
    await w.close()
    await b.close()
  })
})
