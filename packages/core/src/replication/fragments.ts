/**
 * Sending messages to peers, and the fragments large ones travel in (see messages.ts).
 *
 * A message over the size limit is sent as FRAGMENTs: slices of its frame under one id,
 * handed to the transport only while its backlog for that peer stays under one message,
 * so a transport that drops past a queue limit never drops a slice. A whole message
 * waits (bounded) behind a large one the same way. The receiver reassembles up to
 * MAX_REASSEMBLING_PER_PEER messages of a peer at once, so the fragments of two messages
 * may interleave (a transport that reorders, as the simulator's does: a federated read's
 * answer sent while a catch-up diff streams was lost whole when a fragment of the diff
 * overtook the answer's last one).
 *
 * Bounds: a message is at most MAX_REASSEMBLED_BYTES and MAX_FRAGMENTS fragments (larger
 * ones are counted in `oversize` and not sent); a paced send gives up after
 * FRAGMENT_PACING_LIMIT_MS (a later anti-entropy round sends the message again); at most
 * MAX_REASSEMBLING peers have a message half received at once (a sender is named by
 * whatever it wrote in a gossip envelope, so one peer could otherwise start one per forged
 * name): a newcomer past it discards the oldest unfinished one, which anti-entropy resends;
 * a peer's unfinished messages hold at most MAX_REASSEMBLED_BYTES of fragments together (a
 * message past it discards that peer's oldest), and while some of a peer's messages are
 * unfinished, a fragment of one it discarded is ignored.
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
/** Messages of one peer half received at once (their fragments may interleave). */
const MAX_REASSEMBLING_PER_PEER = 4

/** A message being reassembled. */
interface Reassembly {
  id: number
  total: number
  count: number
  chunks: Map<number, Uint8Array>
  bytes: number
}

/** One peer's messages being reassembled, oldest (lowest id) first; ids below `floor` were given up. */
interface PeerReassembly {
  messages: Reassembly[]
  floor: number
  bytes: number
}

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
  /** Per peer: the fragmented messages being reassembled (see MAX_REASSEMBLING_PER_PEER). */
  private readonly reassembly = new Map<string, PeerReassembly>()
  private nextFragmentId = 1

  constructor(ctx: ReplicationContext<S>) {
    this.ctx = ctx
  }

  /** Sends one message to a peer: whole, or in paced fragments when it is over the limit. */
  send(peer: string, message: Message): void {
    if (this.ctx.transport === null || this.ctx.stopped) return
    // A scoped peer (a browser replica with a token) gets only the shards it may read.
    const scope = this.ctx.scopeOf(peer)
    const msg = scope === null ? message : scopeOutgoing(scope, message)
    if (msg === null) return
    this.sendEncoded(peer, encodeMessage(msg))
  }

  /**
   * Sends one encoded message to an unscoped peer (the caller checked: nothing is cut
   * for a scope here), whole or in paced fragments: one encoding for several peers.
   */
  sendEncoded(peer: string, bytes: Uint8Array): void {
    const t = this.ctx.transport
    if (t === null || this.ctx.stopped) return
    const { stats, host, maxBytes } = this.ctx
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
    let peer = this.reassembly.get(from)
    if (peer === undefined) {
      if (this.reassembly.size >= MAX_REASSEMBLING) this.reassembly.delete(this.reassembly.keys().next().value!)
      peer = { messages: [], floor: 0, bytes: 0 }
      this.reassembly.set(from, peer)
    }
    if (f.id < peer.floor) return null
    let r = peer.messages.find((m) => m.id === f.id)
    if (r === undefined) {
      r = { id: f.id, total: f.total, count: f.count, chunks: new Map(), bytes: 0 }
      peer.messages.push(r)
      peer.messages.sort((x, y) => x.id - y.id)
      while (peer.messages.length > MAX_REASSEMBLING_PER_PEER) this.giveUp(peer, peer.messages[0]!)
      if (!peer.messages.includes(r)) return null
    }
    if (r.count !== f.count || r.total !== f.total || r.bytes + f.chunk.length > r.total) {
      this.ctx.stats.rejected++
      this.drop(from, peer, r)
      return null
    }
    if (r.chunks.has(f.index)) return null
    // The peer's unfinished messages together stay within one message's bound.
    while (peer.bytes + f.chunk.length > MAX_REASSEMBLED_BYTES && peer.messages[0] !== r) this.giveUp(peer, peer.messages[0]!)
    r.chunks.set(f.index, f.chunk.slice())
    r.bytes += f.chunk.length
    peer.bytes += f.chunk.length
    if (r.chunks.size < r.count) return null
    this.drop(from, peer, r)
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

  /** Gives up the oldest unfinished message of a peer: its later fragments are ignored. */
  private giveUp(peer: PeerReassembly, r: Reassembly): void {
    peer.floor = Math.max(peer.floor, r.id + 1)
    release(peer, r)
  }

  /** A message finished or rejected: no longer held. */
  private drop(from: string, peer: PeerReassembly, r: Reassembly): void {
    release(peer, r)
    if (peer.messages.length === 0) this.reassembly.delete(from)
  }

  /** A peer went away: a message half received from it will not be finished. */
  forget(peer: string): void {
    this.reassembly.delete(peer)
  }
}

/** `r` no longer held among `peer`'s unfinished messages (if it still was). */
function release(peer: PeerReassembly, r: Reassembly): void {
  const at = peer.messages.indexOf(r)
  if (at < 0) return
  peer.messages.splice(at, 1)
  peer.bytes -= r.bytes
}
