/**
 * Fuzz campaign over core's replication protocol, what any peer can send: mutated
 * encodings of every message type (real frames captured from two replicas replicating,
 * plus hand-built samples of the types they did not send) through `decodeMessage`, and
 * the same bytes, and sequences of damaged FRAGMENTs, into a live Replicator.
 *
 * Properties: the decoder throws only DecodeError; what it accepts re-encodes to a frame
 * that decodes to the same message; a replica fed garbage never throws out of `receive`
 * and afterwards still commits, reads and answers an honest peer.
 */
import { describe, expect, it } from 'vitest'
import {
  DecodeError,
  MessageType,
  Replica,
  decodeMessage,
  crc32c,
  encodeMessage,
  type Message,
  type SeededRandom,
  type Transport,
  type TransportHandler,
} from '@concord/core'
import { VirtualTime } from '../../packages/core/src/sim/virtual-time.fixture.js'
import { mutate, randomBytes } from './byte-mutator.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

/** An in-memory link between replicas that keeps a copy of every frame sent. */
class CapturingNet {
  readonly frames: Uint8Array[] = []
  readonly ends = new Map<string, CapturingEnd>()
  readonly time: VirtualTime
  constructor(time: VirtualTime) {
    this.time = time
  }
}

class CapturingEnd implements Transport {
  handler: TransportHandler | null = null
  private readonly net: CapturingNet
  private readonly id: string
  constructor(net: CapturingNet, id: string) {
    this.net = net
    this.id = id
    net.ends.set(id, this)
  }
  start(handler: TransportHandler): void {
    this.handler = handler
    for (const [id, end] of this.net.ends) {
      if (id === this.id || end.handler === null) continue
      end.handler.onPeerUp(this.id)
      handler.onPeerUp(id)
    }
  }
  send(peer: string, data: Uint8Array): void {
    this.net.frames.push(data.slice())
    this.net.time.scheduler.setTimeout(1, () => this.net.ends.get(peer)?.handler?.onMessage(this.id, data))
  }
  publish(_topic: string, data: Uint8Array): void {
    for (const id of this.net.ends.keys()) if (id !== this.id) this.send(id, data)
  }
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    return [...this.net.ends.keys()].filter((id) => id !== this.id)
  }
  stop(): void {
    this.handler = null
  }
}

/** A transport that delivers nothing: the victim's replies are only counted. */
class SinkTransport implements Transport {
  sent = 0
  handler: TransportHandler | null = null
  start(handler: TransportHandler): void {
    this.handler = handler
  }
  send(): void {
    this.sent++
  }
  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    return []
  }
  stop(): void {}
}

const TABLE = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'] }

/** Real frames of every kind two replicas exchange (a small message limit forces FRAGMENTs), plus hand-built ones. */
async function sampleCorpus(): Promise<Uint8Array[]> {
  const time = new VirtualTime()
  const net = new CapturingNet(time)
  const common = { clock: time.clock, scheduler: time.scheduler, random: () => 0.5, maxMessageBytes: 1024 }
  const a = await Replica.open({ nodeId: 'a', transport: new CapturingEnd(net, 'a'), ...common })
  a.transact((tx) => tx.createTable(TABLE))
  for (let i = 0; i < 40; i++) a.transact((tx) => tx.insert('t', { id: i, v: `value ${i} `.repeat(8) }))
  const b = await Replica.open({ nodeId: 'b', transport: new CapturingEnd(net, 'b'), ...common })
  await time.advance(3000)
  b.transact((tx) => tx.update('t', [1], { v: 'changed on b' }))
  a.transact((tx) => tx.delete('t', [2]))
  await time.advance(3000)
  await a.close()
  await b.close()
  const handBuilt: Message[] = [
    { type: MessageType.Hello, nodeId: 'n1', region: 'eu', reply: true },
    { type: MessageType.Ack, lsn: 12345 },
    { type: MessageType.Generation, shard: 's:t', generation: 3, state: new Uint8Array([0, 0]) },
    { type: MessageType.Fragment, id: 7, index: 1, count: 3, total: 30, chunk: new Uint8Array(10).fill(9) },
    { type: MessageType.Heartbeat, lsn: 99, held: [['a', 1], ['b', 2]] },
    { type: MessageType.RowsRequest, id: 5, table: 't', incarnation: 1, filter: 'id > 3', unplaced: true, shards: ['t:1:2:t'] },
    { type: MessageType.Notice, topic: 'pg_notify', body: new Uint8Array([123, 34, 99, 34, 125]) },
    { type: MessageType.Call, id: 8, topic: 'sql/forward', body: new Uint8Array([123, 125]) },
    { type: MessageType.Reply, id: 8, status: 0, body: new Uint8Array([123, 125]) },
    {
      type: MessageType.Rows,
      id: 5,
      status: 0,
      message: '',
      columns: ['a', 'b', 'c', 'd'],
      rows: [[null, true, 1.5, 12345678901234567890n], ['text', new Uint8Array([1, 2]), false, -3n]],
    },
    { type: MessageType.Rows, id: 6, status: 1, message: 'not held', columns: [], rows: [] },
    { type: MessageType.SyncRequest, requests: [{ shard: 's:t', generation: 0, stateVector: new Uint8Array([0]) }] },
    {
      type: MessageType.SyncDiff,
      diffs: [{ shard: 's:t', generation: 0, update: new Uint8Array([0, 0]), hash: 1, final: true, stateVector: new Uint8Array() }],
    },
    { type: MessageType.Digest, lsn: 3, digests: [{ shard: 's:t', generation: 0, hash: 77, rows: 0 }] },
    { type: MessageType.Updates, prevLsn: 1, lsn: 2, updates: [{ shard: 's:t', generation: 0, update: new Uint8Array([0, 0]) }] },
    { type: MessageType.ReportsAsk, shard: 's:t', generation: 1, hops: 2, holders: ['n2', 'n3'] },
    {
      type: MessageType.Held,
      answer: false,
      sets: [{ shard: 's:t', generation: 1, hash: 77, holders: 0x1234abcd, bits: new Uint8Array([0b1011, 0x80]) }],
    },
    {
      type: MessageType.Reports,
      shard: 's:t',
      generation: 1,
      groups: [{ stateVector: new Uint8Array([1, 7, 3]), holders: ['n2'] }, { stateVector: new Uint8Array([0]), holders: [] }],
    },
  ]
  return [...net.frames, ...handBuilt.map(encodeMessage)]
}

/** Rewrites the trailing CRC-32C so a mutated body gets past the checksum and into the grammar. */
function reseal(frame: Uint8Array): Uint8Array {
  if (frame.length < 6) return frame
  const out = frame.slice()
  new DataView(out.buffer).setUint32(out.length - 4, crc32c(out.subarray(0, out.length - 4)))
  return out
}

function damaged(rng: SeededRandom, corpus: readonly Uint8Array[]): Uint8Array {
  const m = mutate(rng, rng.pick(corpus), { maxLength: 8192 })
  return rng.chance(0.9) ? reseal(m) : m
}

const typesOf = (corpus: readonly Uint8Array[]) => new Set(corpus.map((f) => decodeMessage(f).type))

describe('fuzz: core replication messages', () => {
  it('decodeMessage throws only DecodeError on damaged frames of every type, and what it accepts round-trips', async () => {
    const corpus = await sampleCorpus()
    expect([...typesOf(corpus)].sort((x, y) => x - y)).toEqual(Object.values(MessageType).sort((x, y) => x - y))
    const { seeds, iterations } = fuzzBudget(20_000)
    let accepted = 0
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'decode-message')
      for (let i = 0; i < iterations; i++) {
        const frame = rng.chance(0.02) ? reseal(randomBytes(rng, 64)) : damaged(rng, corpus)
        let msg: Message
        try {
          msg = decodeMessage(frame, 4096)
        } catch (e) {
          const hex = Buffer.from(frame).toString('hex')
          if (!(e instanceof DecodeError)) throw new Error(`seed ${seed} iteration ${i}: ${String(e)} on ${hex}`, { cause: e })
          continue
        }
        accepted++
        expect(decodeMessage(encodeMessage(msg), 8192), `seed ${seed} iteration ${i}`).toEqual(msg)
      }
    }
    // The mutator must reach past the checksum and the grammar, or the campaign tests nothing.
    expect(accepted).toBeGreaterThan(0)
  })

  it('a replica fed damaged frames and fragment sequences from a peer never throws and keeps serving', async () => {
    const corpus = await sampleCorpus()
    const fragments = corpus.filter((f) => decodeMessage(f).type === MessageType.Fragment)
    expect(fragments.length).toBeGreaterThan(2)
    const { seeds, iterations } = fuzzBudget(6_000)
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'replicator')
      const time = new VirtualTime()
      const sink = new SinkTransport()
      const victim = await Replica.open({
        nodeId: 'victim', transport: sink, clock: time.clock, scheduler: time.scheduler, random: () => 0.25,
      })
      victim.transact((tx) => tx.createTable(TABLE))
      victim.transact((tx) => tx.insert('t', { id: 1, v: 'kept' }))
      const peers = ['a', 'b', 'evil']
      for (let i = 0; i < iterations; i++) {
        const from = rng.pick(peers)
        const frame = rng.chance(0.3) ? reseal(mutate(rng, rng.pick(fragments), { maxLength: 2048, maxStack: 1 })) : damaged(rng, corpus)
        try {
          victim.replicator.receive(from, frame)
        } catch (e) {
          throw new Error(`seed ${seed} iteration ${i}: receive threw ${String(e)} on ${Buffer.from(frame).toString('hex')}`, { cause: e })
        }
        if (i % 500 === 499) await time.advance(1500)
      }
      await time.advance(3000)
      // Still serving: local writes commit and read back, and an honest peer's request is answered.
      victim.transact((tx) => tx.insert('t', { id: 100_000 + seed, v: 'after' }))
      expect(victim.get('t', [100_000 + seed])?.['v']).toBe('after')
      const before = sink.sent
      victim.replicator.receive('honest', encodeMessage({ type: MessageType.Hello, nodeId: 'honest', region: 'default', reply: false }))
      await time.advance(100)
      expect(sink.sent).toBeGreaterThan(before)
      // Both paths ran: some frames were rejected, others decoded and reached the protocol.
      const stats = victim.stats()
      expect(stats.rejected).toBeGreaterThan(0)
      expect(stats.rejected).toBeLessThan(stats.messagesReceived)
      await victim.close()
    }
  })

  // Found by this campaign (issue 15): a gossip envelope's origin is chosen by whoever
  // sends it, and the Replicator kept a permanent record for every origin a valid message
  // named, so one peer could grow a node's memory without bound by naming a fresh origin
  // per message. Peer records are now bounded (positions.ts MAX_PEER_RECORDS).
  it('a replica receiving valid messages under 20,000 forged origins keeps a bounded peer table and serves an honest peer', async () => {
    const time = new VirtualTime()
    const sink = new SinkTransport()
    const victim = await Replica.open({ nodeId: 'victim', transport: sink, clock: time.clock, scheduler: time.scheduler })
    try {
      const kinds = (origin: string): Uint8Array[] => [
        encodeMessage({ type: MessageType.Ack, lsn: 0 }),
        encodeMessage({ type: MessageType.Heartbeat, lsn: 0, held: [[origin, 5]] }),
        encodeMessage({ type: MessageType.Hello, nodeId: origin, region: 'default', reply: true }),
        encodeMessage({ type: MessageType.Fragment, id: 1, index: 0, count: 2, total: 8, chunk: new Uint8Array(4) }),
      ]
      for (let i = 0; i < 20_000; i++) {
        const origin = `forged-${i}`
        for (const frame of kinds(origin)) victim.replicator.receive(origin, frame)
        if (i % 1000 === 999) await time.advance(10)
      }
      const table = victim.replicator.peerStatus()
      expect(table.length).toBeLessThanOrEqual(4096)
      expect(table.length).toBeGreaterThan(0)
      // Still serving: an honest peer the transport links directly is greeted, answered and tracked.
      const before = sink.sent
      sink.handler!.onPeerUp('honest')
      victim.replicator.receive('honest', encodeMessage({ type: MessageType.Hello, nodeId: 'honest', region: 'default', reply: false }))
      await time.advance(100)
      expect(sink.sent).toBeGreaterThanOrEqual(before + 2)
      expect(victim.replicator.peerStatus().find((p) => p.nodeId === 'honest')).toMatchObject({ connected: true })
    } finally {
      await victim.close()
    }
  })
})
