/**
 * Sending messages to peers, and the fragments large ones travel in (see messages.ts).
 *
 * A message over the size limit is sent as FRAGMENTs: slices of its frame under one id,
 * handed to the transport only while its backlog for that peer stays under one message,
 * so a transport that drops past a queue limit never drops a slice. A whole message
 * waits (bounded) behind a large one the same way. The receiver reassembles one message
 * per peer at a time.
 *
 * Bounds: a message is at most MAX_REASSEMBLED_BYTES and MAX_FRAGMENTS fragments (larger
 * ones are counted in `oversize` and not sent); a paced send gives up after
 * FRAGMENT_PACING_LIMIT_MS (a later anti-entropy round sends the message again); at most
 * MAX_REASSEMBLING peers have a message half received at once (a sender is named by
 * whatever it wrote in a gossip envelope, so one peer could otherwise start one per forged
 * name): a newcomer past it discards the oldest unfinished one, which anti-entropy resends.
 */
import type { Transport } from '../api.js'
import { assert } from '../errors/assert.js'
import { scopeOutgoing } from './peer-scope.js'
import { MAX_FRAGMENTS, MAX_REASSEMBLED_BYTES, MessageType, encodeMessage, type Message } from './messages.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** How often a paced send checks the transport's backlog, and how long it keeps trying. */
const FRAGMENT_PACING_MS = 5
const FRAGMENT_PACING_LIMIT_MS = 10 * 60 * 1000

/** Peers with a message half received at once. */
const MAX_REASSEMBLING = 64

/** A fragment as decoded. */
export interface Fragment {
  id: number
  index: number
  count: number
  total: number
  chunk: Uint8Array
}

export class Fragments<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  /** Per peer: the fragmented message being reassembled (one at a time; a newer id replaces it). */
  private readonly reassembly = new Map<string, { id: number; total: number; count: number; chunks: Map<number, Uint8Array>; bytes: number }>()
  private nextFragmentId = 1

  constructor(ctx: ReplicationContext<S>) {
    this.ctx = ctx
  }

  /** Sends one message to a peer: whole, or in paced fragments when it is over the limit. */
  send(peer: string, message: Message): void {
    const t = this.ctx.transport
    if (t === null || this.ctx.stopped) return
    const { stats, host, maxBytes } = this.ctx
    // A scoped peer (a browser replica with a token) gets only the shards it may read.
    const scope = this.ctx.scopeOf(peer)
    const msg = scope === null ? message : scopeOutgoing(scope, message)
    if (msg === null) return
    const bytes = encodeMessage(msg)
    if (bytes.length <= maxBytes) {
      this.sendWhole(t, peer, bytes, host.now() + FRAGMENT_PACING_LIMIT_MS)
      return
    }
    if (bytes.length > MAX_REASSEMBLED_BYTES) {
      stats.oversize++
      return
    }
    // Too large for one message: send slices of the frame (each fragment adds at most
    // 64 bytes of framing), reassembled by the receiver.
    const slice = Math.max(1, maxBytes - 64)
    const count = Math.ceil(bytes.length / slice)
    if (count > MAX_FRAGMENTS) {
      stats.oversize++
      return
    }
    const id = this.nextFragmentId++
    stats.fragmentedSent++
    let index = 0
    const deadline = host.now() + FRAGMENT_PACING_LIMIT_MS
    // Paced by the transport's backlog: at most about one message's worth queued at a
    // time. Bounded: each step sends at least one fragment or waits; it gives up at the
    // deadline (a later anti-entropy round sends the message again).
    const step = () => {
      if (this.ctx.stopped) return
      while (index < count && (t.backlog?.(peer) ?? 0) <= maxBytes) {
        const frame = encodeMessage({ type: MessageType.Fragment, id, index, count, total: bytes.length, chunk: bytes.subarray(index * slice, (index + 1) * slice) })
        index++
        stats.messagesSent++
        stats.bytesSent += frame.length
        t.send(peer, frame)
      }
      if (index < count && host.now() < deadline) host.scheduler.setTimeout(FRAGMENT_PACING_MS, step)
    }
    step()
  }

  /** Sends items in as many messages as the size limit needs. */
  sendChunked<T>(peer: string, items: T[], sizeOf: (item: T) => number, make: (items: T[]) => Message): void {
    if (items.length === 0) return
    const budget = this.ctx.maxBytes - 64
    let batch: T[] = []
    let size = 0
    for (const item of items) {
      const s = sizeOf(item)
      if (batch.length > 0 && size + s > budget) {
        this.send(peer, make(batch))
        batch = []
        size = 0
      }
      batch.push(item)
      size += s
    }
    this.send(peer, make(batch))
  }

  /**
   * Sends one whole message, waiting (bounded) while more than a message's worth is
   * queued for the peer: fragments of a large message keep the transport's queue near
   * its bound, and a message sent past it would be dropped.
   */
  private sendWhole(t: Transport, peer: string, bytes: Uint8Array, deadline: number): void {
    if (this.ctx.stopped) return
    const host = this.ctx.host
    if ((t.backlog?.(peer) ?? 0) > this.ctx.maxBytes && host.now() < deadline) {
      host.scheduler.setTimeout(FRAGMENT_PACING_MS, () => this.sendWhole(t, peer, bytes, deadline))
      return
    }
    this.ctx.stats.messagesSent++
    this.ctx.stats.bytesSent += bytes.length
    t.send(peer, bytes)
  }

  /**
   * Takes one fragment; returns the whole message once its last fragment is in. A peer
   * reassembles one message at a time: a fragment of a newer message discards an
   * unfinished older one (lost fragments are repaired by a later anti-entropy round, which
   * sends the message again). Fragments that disagree with their message's first are
   * rejected.
   */
  reassemble(from: string, f: Fragment): Uint8Array | null {
    let r = this.reassembly.get(from)
    if (r === undefined || r.id !== f.id) {
      if (r !== undefined && f.id < r.id) return null
      r = { id: f.id, total: f.total, count: f.count, chunks: new Map(), bytes: 0 }
      if (!this.reassembly.has(from) && this.reassembly.size >= MAX_REASSEMBLING) {
        this.reassembly.delete(this.reassembly.keys().next().value!)
      }
      this.reassembly.set(from, r)
    }
    if (r.count !== f.count || r.total !== f.total || r.bytes + f.chunk.length > r.total) {
      this.ctx.stats.rejected++
      this.reassembly.delete(from)
      return null
    }
    if (r.chunks.has(f.index)) return null
    r.chunks.set(f.index, f.chunk.slice())
    r.bytes += f.chunk.length
    if (r.chunks.size < r.count) return null
    this.reassembly.delete(from)
    if (r.bytes !== r.total) {
      this.ctx.stats.rejected++
      return null
    }
    const whole = new Uint8Array(r.total)
    let at = 0
    for (let i = 0; i < r.count; i++) {
      const c = r.chunks.get(i)!
      whole.set(c, at)
      at += c.length
    }
    assert(at === r.total, 'a reassembled message is exactly its fragments')
    return whole
  }

  /** A peer went away: a message half received from it will not be finished. */
  forget(peer: string): void {
    this.reassembly.delete(peer)
  }
}
