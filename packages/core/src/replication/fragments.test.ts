import { describe, expect, it } from 'vitest'
import type { Transport, TransportHandler } from '../api.js'
import { Replica } from '../replica.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'
import { MessageType, decodeMessage, encodeMessage } from './messages.js'

/**
 * Two transports joined by a link that behaves like the libp2p sync sessions: frames
 * queue per direction, the queue refuses what would take it past `limit` bytes (those
 * sends are lost), and the link writes at most `perTick` frames every millisecond.
 */
class QueuedLink {
  readonly ends: QueuedEnd[] = []
  dropped = 0
  readonly limit: number
  readonly perTick: number
  readonly time: VirtualTime

  constructor(limit: number, perTick: number, time: VirtualTime) {
    this.limit = limit
    this.perTick = perTick
    this.time = time
  }
}

class QueuedEnd implements Transport {
  handler: TransportHandler | null = null
  queue: Uint8Array[] = []
  queued = 0
  private stopPump: (() => void) | null = null

  private readonly link: QueuedLink
  private readonly id: string
  private readonly peer: string

  constructor(link: QueuedLink, id: string, peer: string) {
    this.link = link
    this.id = id
    this.peer = peer
    link.ends.push(this)
  }

  start(handler: TransportHandler): void {
    this.handler = handler
    this.stopPump = this.link.time.every(1, () => this.pump())
    queueMicrotask(() => {
      const other = this.other()
      if (other?.handler) {
        other.handler.onPeerUp(this.id)
        this.handler?.onPeerUp(this.peer)
      }
    })
  }

  private other(): QueuedEnd | undefined {
    return this.link.ends.find((e) => e !== this)
  }

  private pump(): void {
    for (let i = 0; i < this.link.perTick && this.queue.length > 0; i++) {
      const frame = this.queue.shift()!
      this.queued -= frame.length
      this.other()?.handler?.onMessage(this.id, frame)
    }
  }

  send(_peer: string, data: Uint8Array): void {
    if (this.queued + data.length > this.link.limit) {
      this.link.dropped++
      return
    }
    this.queue.push(data.slice())
    this.queued += data.length
  }

  backlog(): number {
    return this.queued
  }

  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    return [this.peer]
  }
  stop(): void {
    this.stopPump?.()
  }
}

describe('messages larger than the size limit', () => {
  it('travel as fragments paced by the transport backlog, so a bounded send queue drops none', async () => {
    const max = 8 * 1024
    // the queue holds two messages' worth, like the libp2p sessions (2 x maxMessageBytes)
    const time = new VirtualTime()
    const link = new QueuedLink(2 * max, 1, time)
    const on = { clock: time.clock, scheduler: time.scheduler, maxMessageBytes: max, antiEntropyIntervalMs: 50 }
    const a = await Replica.open({ nodeId: 'a', transport: new QueuedEnd(link, 'a', 'b'), ...on })
    a.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }))
    a.transact((tx) => {
      for (let i = 0; i < 2000; i++) tx.insert('t', { id: i, v: `row ${i} `.repeat(3) })
    })
    const b = await Replica.open({ nodeId: 'b', transport: new QueuedEnd(link, 'b', 'a'), ...on })
    // at most 60 virtual seconds
    for (let i = 0; i < 600 && b.rowCount('t') < 2000; i++) await time.advance(100)
    expect(b.rowCount('t')).toBe(2000)
    expect(a.replicator.stats.fragmentedSent).toBeGreaterThan(0)
    expect(b.replicator.stats.fragmentedReceived).toBeGreaterThan(0)
    // the shard needed more fragments than the queue could ever hold at once
    expect(a.replicator.stats.messagesSent).toBeGreaterThan(10)
    expect(link.dropped).toBe(0)
    await a.close()
    await b.close()
  })

  it('from a lying peer: inconsistent, duplicated or garbage fragments are rejected, and nothing else is disturbed', async () => {
    const r = await Replica.open({ nodeId: 'r', antiEntropyIntervalMs: 0 })
    r.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
    const whole = encodeMessage({ type: MessageType.Hello, nodeId: 'liar', region: 'default', reply: false })
    const frag = (id: number, index: number, count: number, total: number, chunk: Uint8Array) =>
      encodeMessage({ type: MessageType.Fragment, id, index, count, total, chunk })
    const rejected = () => r.replicator.stats.rejected
    // a fragment disagreeing with its message's first about the count or total
    r.replicator.receive('liar', frag(1, 0, 3, 90, new Uint8Array(30)))
    let before = rejected()
    r.replicator.receive('liar', frag(1, 1, 4, 90, new Uint8Array(30)))
    expect(rejected()).toBe(before + 1)
    // more bytes than the total announced
    r.replicator.receive('liar', frag(2, 0, 2, 10, new Uint8Array(8)))
    before = rejected()
    r.replicator.receive('liar', frag(2, 1, 2, 10, new Uint8Array(8)))
    expect(rejected()).toBe(before + 1)
    // all fragments in, but the reassembled bytes are not a message
    r.replicator.receive('liar', frag(3, 0, 2, 8, new Uint8Array(4).fill(7)))
    before = rejected()
    r.replicator.receive('liar', frag(3, 1, 2, 8, new Uint8Array(4).fill(7)))
    expect(rejected()).toBe(before + 1)
    // a genuine message in fragments, one slice duplicated and the order reversed, still arrives
    const half = Math.ceil(whole.length / 2)
    r.replicator.receive('liar', frag(4, 1, 2, whole.length, whole.subarray(half)))
    r.replicator.receive('liar', frag(4, 1, 2, whole.length, whole.subarray(half)))
    r.replicator.receive('liar', frag(4, 0, 2, whole.length, whole.subarray(0, half)))
    expect(r.replicator.stats.fragmentedReceived).toBe(1)
    expect(r.replicator.peerStatus().some((p) => p.nodeId === 'liar')).toBe(true)
    // two messages whose fragments interleave (a transport that reorders): both arrive
    const hello = (id: string) => encodeMessage({ type: MessageType.Hello, nodeId: id, region: 'default', reply: false })
    const [m5, m6] = [hello('liar'), hello('liar')]
    const cut = (m: Uint8Array) => [m.subarray(0, 4), m.subarray(4, 8), m.subarray(8)]
    const [a5, b5, c5] = cut(m5)
    const [a6, b6, c6] = cut(m6)
    r.replicator.receive('liar', frag(5, 0, 3, m5.length, a5!))
    r.replicator.receive('liar', frag(6, 0, 3, m6.length, a6!))
    r.replicator.receive('liar', frag(5, 1, 3, m5.length, b5!))
    r.replicator.receive('liar', frag(6, 2, 3, m6.length, c6!))
    r.replicator.receive('liar', frag(6, 1, 3, m6.length, b6!))
    expect(r.replicator.stats.fragmentedReceived).toBe(2)
    r.replicator.receive('liar', frag(5, 2, 3, m5.length, c5!))
    expect(r.replicator.stats.fragmentedReceived).toBe(3)
    // more than four unfinished at once: the oldest is given up, and its late fragments ignored
    for (let id = 7; id <= 11; id++) r.replicator.receive('liar', frag(id, 0, 2, m5.length, m5.subarray(0, 4)))
    r.replicator.receive('liar', frag(7, 1, 2, m5.length, m5.subarray(4)))
    expect(r.replicator.stats.fragmentedReceived).toBe(3)
    r.replicator.receive('liar', frag(11, 1, 2, m5.length, m5.subarray(4)))
    expect(r.replicator.stats.fragmentedReceived).toBe(4)
    r.transact((tx) => tx.insert('t', { id: 1 }))
    expect(r.get('t', [1])).toEqual({ id: 1 })
    await r.close()
  })
})

/** A transport that records what is sent, and delivers nothing. */
class Recorder implements Transport {
  sent: Array<[string, Uint8Array]> = []
  start(): void {}
  send(peer: string, data: Uint8Array): void {
    this.sent.push([peer, data])
  }
  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    return []
  }
  stop(): void {}
}

describe('a writer behind by a generation', () => {
  it('is sent the new generation once a second, however many stale updates it has in flight', async () => {
    const t = new Recorder()
    const time = new VirtualTime()
    const r = await Replica.open({ nodeId: 'r', transport: t, antiEntropyIntervalMs: 0, clock: time.clock, scheduler: time.scheduler })
    r.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
    r.transact((tx) => tx.insert('t', { id: 1 }))
    const shard = [...r.shards.values()].find((s) => s.id.endsWith(':t'))!
    r.compactShard(shard)
    expect(shard.generation).toBeGreaterThan(0)
    t.sent = []
    const stale = (lsn: number) =>
      encodeMessage({ type: MessageType.Updates, prevLsn: lsn, lsn: lsn + 1, updates: [{ shard: shard.id, generation: 0, update: new Uint8Array([0, 0]) }] })
    for (let i = 0; i < 5; i++) r.replicator.receive('w', stale(i))
    const generations = () => t.sent.filter(([peer, data]) => peer === 'w' && decodeMessage(data).type === MessageType.Generation).length
    expect(generations()).toBe(1)
    await time.advance(900)
    r.replicator.receive('w', stale(5))
    expect(generations()).toBe(1)
    await time.advance(200)
    r.replicator.receive('w', stale(6))
    expect(generations()).toBe(2)
    await r.close()
  })
})
