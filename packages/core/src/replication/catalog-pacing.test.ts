import { describe, expect, it } from 'vitest'
import { Simulation } from '../sim/simulation.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'
import { CatalogPacing, MAX_HELD_MESSAGES, type CatalogPacingHost } from './catalog-pacing.js'
import { MessageType, type Message } from './messages.js'

const catalogUpdate = (n: number): Message => ({ type: MessageType.Updates, prevLsn: n, lsn: n + 1, updates: [{ shard: CATALOG_SHARD, generation: 0, update: new Uint8Array([n]) }] })
const rowsUpdate = (n: number): Message => ({ type: MessageType.Updates, prevLsn: n, lsn: n + 1, updates: [{ shard: 't:1:0', generation: 0, update: new Uint8Array([n]) }] })
const ack = (lsn: number): Message => ({ type: MessageType.Ack, lsn })

/** A host that records what was dispatched, and which dispatches ran in one catalog transaction. */
function recordingHost(time: VirtualTime) {
  const log: string[] = []
  let together = 0
  const host: CatalogPacingHost = {
    scheduler: time.scheduler,
    now: time.clock,
    dispatch: (from, msg) => {
      if (from === 'bad') throw new Error('boom')
      log.push(`${together > 0 ? 'T' : '-'}${msg.type === MessageType.Updates ? `${msg.updates[0]!.shard === CATALOG_SHARD ? 'c' : 'r'}${msg.prevLsn}` : `ack${msg.type === MessageType.Ack ? msg.lsn : ''}`}`)
    },
    batch: (fn) => fn(),
    applyCatalogTogether: (fn) => {
      together++
      try {
        fn()
      } finally {
        together--
      }
      log.push('|')
    },
    failed: () => log.push('failed'),
    paced: () => {},
  }
  return { host, log }
}

describe('catalog pacing', () => {
  it('applies a lone catalog change at once, and holds the ones that follow within the interval, with everything behind them, in order', async () => {
    const time = new VirtualTime()
    const { host, log } = recordingHost(time)
    const pacing = new CatalogPacing(host, 50)
    pacing.deliver('a', catalogUpdate(1), 10)
    expect(log).toEqual(['-c1'])
    // rows alone are never held while nothing waits
    pacing.deliver('a', rowsUpdate(2), 10)
    expect(log).toEqual(['-c1', '-r2'])
    await time.advance(10)
    pacing.deliver('b', catalogUpdate(3), 10)
    pacing.deliver('a', rowsUpdate(4), 10)
    pacing.deliver('c', ack(5), 10)
    pacing.deliver('c', catalogUpdate(6), 10)
    pacing.deliver('d', catalogUpdate(7), 10)
    pacing.deliver('e', catalogUpdate(8), 10)
    expect(pacing.waiting).toBe(6)
    expect(log).toEqual(['-c1', '-r2'])
    // due 50 ms after the first change was applied
    await time.advance(39)
    expect(log).toEqual(['-c1', '-r2'])
    await time.advance(1)
    expect(log).toEqual(['-c1', '-r2', 'Tc3', '|', '-r4', '-ack5', 'Tc6', 'Tc7', 'Tc8', '|'])
    expect(pacing.waiting).toBe(0)
    // the flush counts as an application: the next change within 50 ms waits again
    pacing.deliver('a', catalogUpdate(9), 10)
    expect(pacing.waiting).toBe(1)
    await time.advance(50)
    expect(log.slice(-2)).toEqual(['Tc9', '|'])
    // after a quiet interval a change applies at once
    await time.advance(50)
    pacing.deliver('a', catalogUpdate(10), 10)
    expect(log.at(-1)).toBe('-c10')
  })

  it('dispatches everything held once the bound on held messages is reached', async () => {
    const time = new VirtualTime()
    const { host, log } = recordingHost(time)
    const pacing = new CatalogPacing(host, 50)
    pacing.deliver('a', catalogUpdate(0), 1)
    pacing.deliver('a', catalogUpdate(1), 1)
    for (let i = 2; i < MAX_HELD_MESSAGES; i++) pacing.deliver('a', rowsUpdate(i), 1)
    expect(pacing.waiting).toBe(MAX_HELD_MESSAGES - 1)
    pacing.deliver('a', rowsUpdate(MAX_HELD_MESSAGES), 1)
    expect(pacing.waiting).toBe(0)
    // the first at once; then the held ones and the one that reached the bound, in order
    expect(log.filter((l) => l !== '|').length).toBe(MAX_HELD_MESSAGES + 1)
    expect(log.at(-1)).toBe(`-r${MAX_HELD_MESSAGES}`)
  })

  it('a held message that throws does not stop the others; stopping drops what waits; 0 holds nothing', async () => {
    const time = new VirtualTime()
    const { host, log } = recordingHost(time)
    const pacing = new CatalogPacing(host, 50)
    pacing.deliver('a', catalogUpdate(1), 1)
    pacing.deliver('bad', catalogUpdate(2), 1)
    pacing.deliver('a', rowsUpdate(3), 1)
    await time.advance(50)
    expect(log).toEqual(['-c1', 'failed', '|', '-r3'])
    pacing.deliver('a', catalogUpdate(4), 1)
    pacing.stop()
    await time.advance(100)
    pacing.deliver('a', catalogUpdate(5), 1)
    expect(log).toEqual(['-c1', 'failed', '|', '-r3'])

    const off = recordingHost(time)
    const unpaced = new CatalogPacing(off.host, 0)
    for (let i = 0; i < 5; i++) unpaced.deliver('a', catalogUpdate(i), 1)
    expect(off.log).toEqual(['-c0', '-c1', '-c2', '-c3', '-c4'])
  })

  it('a node receiving a burst of catalog changes applies them together, keeps every one through a restart, and takes rows behind them', async () => {
    const sim = new Simulation({ seed: 11, faults: { minDelayMs: 1, maxDelayMs: 2 } })
    const a = await sim.addNode({ id: 'a' })
    const c = await sim.addNode({ id: 'c' })
    await sim.addNode({ id: 'b' })
    await sim.settle()
    const b = sim.replica('b')
    const before = b.replicator.stats.pacedMessages
    let together = 0
    const apply = b.catalogShard.applyRemoteTogether.bind(b.catalogShard)
    b.catalogShard.applyRemoteTogether = (fn) => {
      together++
      apply(fn)
    }
    // catalog changes from two writers, each a transaction of its own, with rows right behind some
    for (let i = 0; i < 10; i++) {
      a.transact((tx) => tx.createTable({ name: `a${i}`, columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
      c.transact((tx) => tx.createTable({ name: `c${i}`, columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
      await sim.advance(3)
    }
    for (let i = 0; i < 10; i++) a.transact((tx) => tx.insert(`a${i}`, { id: i }))
    await sim.settle()
    expect(b.replicator.stats.pacedMessages).toBeGreaterThan(before)
    expect(together).toBeGreaterThan(0)
    for (let i = 0; i < 10; i++) {
      expect(b.get(`a${i}`, [i])).toEqual({ id: i })
      expect(b.tables().some((t) => t.name === `c${i}`)).toBe(true)
    }
    sim.crash('b')
    const back = await sim.restart('b')
    for (let i = 0; i < 10; i++) {
      expect(back.get(`a${i}`, [i])).toEqual({ id: i })
      expect(back.tables().some((t) => t.name === `c${i}`)).toBe(true)
    }
  })

  it('a replica opened with catalogPacingMs 0 applies every catalog change as it comes', async () => {
    const sim = new Simulation({ seed: 12, faults: { minDelayMs: 1, maxDelayMs: 2 } })
    const a = await sim.addNode({ id: 'a' })
    const b = await sim.addNode({ id: 'b', options: { catalogPacingMs: 0 } })
    await sim.settle()
    for (let i = 0; i < 10; i++) a.transact((tx) => tx.createTable({ name: `t${i}`, columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
    await sim.settle()
    expect(b.tables().filter((t) => t.name.startsWith('t'))).toHaveLength(10)
    expect(b.replicator.stats.pacedMessages).toBe(0)
  })
})
