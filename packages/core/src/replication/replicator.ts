/**
 * The replication protocol of one replica over a `Transport`.
 *
 * Two paths (DESIGN.md decision 10):
 * - Gossip: each durable local update is published on the topics of the regions that
 *   hold its shard (`concord/all` for shards every region holds). Best effort only.
 * - Anti-entropy: every interval the replica sends one random peer a DIGEST (shard id,
 *   generation, 32-bit hash of state vector + delete set) of the shards both should hold.
 *   For each shard that differs the peer answers with SYNC_REQ carrying its state vector;
 *   the replica answers SYNC_DIFF (exactly what the peer lacks, plus its own state
 *   vector); the peer applies it and, if it still has something the replica lacks, sends
 *   a final SYNC_DIFF back. So one round repairs both sides, and only differing shards
 *   cost more than a hash. A peer that was away, or lost gossip, catches up this way.
 *
 * Every message is decoded defensively; anything malformed is counted in `rejected` and
 * dropped whole. Replies are split to stay under the message size limit.
 *
 * Invariant: shard state leaves this node only once it is durable here. Gossip carries
 * local updates after storage has them; diffs and generations, encoded from the shard
 * as it is in memory, wait until every storage write issued before the encoding is
 * complete (`Replica.whenDurable`). Otherwise a node killed before its write was durable
 * would restart without a write its peers hold: its next write to that row, under a new
 * Yjs client id, would race the lost one, and Yjs breaks that tie by client id, so a
 * write acknowledged after the restart could lose to one that never was.
 */
import * as Y from 'yjs'
import type { Transport } from '../api.js'
import type { Replica } from '../replica.js'
import type { Shard } from '../rows/shard.js'
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DecodeError,
  MAX_FRAGMENTS,
  MAX_REASSEMBLED_BYTES,
  MessageType,
  decodeMessage,
  encodeMessage,
  type Message,
  type ShardDiff,
  type ShardDigest,
  type ShardStateVector,
  type ShardUpdate,
} from './messages.js'

export const TOPIC_ALL = 'concord/all'
export function regionTopic(region: string): string {
  return `concord/region/${region}`
}

/** Updates larger than this are not gossiped; anti-entropy carries them instead. */
const MAX_GOSSIP_BYTES = 1024 * 1024
const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())

/** How often a paced fragmented send checks the transport's backlog, and how long it keeps trying. */
const STALE_ANSWER_INTERVAL_MS = 1000
const MAX_STALE_ANSWERS = 10_000
const FRAGMENT_PACING_MS = 5
const FRAGMENT_PACING_LIMIT_MS = 10 * 60 * 1000

export interface ReplicatorStats {
  messagesSent: number
  messagesReceived: number
  bytesSent: number
  bytesReceived: number
  /** Messages rejected by the decoder or whose content failed to apply. */
  rejected: number
  updatesApplied: number
  digestsSent: number
  diffsSent: number
  /** Bytes of Yjs updates received through anti-entropy (repair traffic). */
  repairBytes: number
  /** Messages too large even to fragment (beyond MAX_REASSEMBLED_BYTES), not sent. */
  oversize: number
  /** Anti-entropy rounds that threw (see lastRoundError); the next round runs anyway. */
  roundsFailed: number
  /** Shard entries of received messages not applied because the link does not carry them (setLinkPolicy). */
  filtered: number
  /** Messages sent, and received whole, as fragments. */
  fragmentedSent: number
  fragmentedReceived: number
}

interface PeerInfo {
  region: string
}

/** What this replica knows about one peer, for monitoring views (pg_stat_replication, pg_nodes). */
export interface PeerStatus {
  nodeId: string
  region: string
  /** Said hello and not reported down since. */
  connected: boolean
  /** Wall-clock ms of the last message from it; null if none. */
  lastSeen: number | null
  /** How far it durably holds this replica's own changes (LSN); 0 if it never said. */
  ackedLsn: number
  /** Wall-clock ms when that acknowledgement arrived. */
  ackedAt: number | null
  /** Commit-to-acknowledgement time of the change at `ackedLsn`, ms; null if unknown. */
  lagMs: number | null
  /** How far this replica durably holds the peer's changes (the peer's LSN). */
  receivedLsn: number
}

/** A shard whose rows differ from a peer's under equal Yjs state this long is reported diverged. */
export const DIVERGENCE_CONFIRM_MS = 10_000
/** (peer, shard) pairs tracked for divergence, at most. */
const MAX_DIVERGENCE_TRACKED = 100_000

/** A shard whose content differs from a peer's although both hold the same Yjs state. */
export interface Divergence {
  peer: string
  shard: string
  /** Wall ms of the first comparison that found the difference (the latest ones still do). */
  since: number
  /** Seen often and long enough (DIVERGENCE_CONFIRM_MS) not to be a schema change still in flight. */
  confirmed: boolean
}

/** Seen differing in at least three comparisons spanning DIVERGENCE_CONFIRM_MS, none equal in between. */
function confirmed(m: { since: number; last: number; seen: number }): boolean {
  return m.seen >= 3 && m.last - m.since >= DIVERGENCE_CONFIRM_MS
}

/** LSN ranges remembered per peer while waiting for an earlier one. */
const MAX_RANGES_AHEAD = 256
/** Recent local commits remembered for lag measurement, by default. */
export const DEFAULT_COMMIT_LOG_LIMIT = 4096

export class Replicator {
  readonly stats: ReplicatorStats = {
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    rejected: 0,
    updatesApplied: 0,
    digestsSent: 0,
    diffsSent: 0,
    repairBytes: 0,
    oversize: 0,
    filtered: 0,
    roundsFailed: 0,
    fragmentedSent: 0,
    fragmentedReceived: 0,
  }
  private readonly replica: Replica
  private readonly transport: Transport | null
  private readonly peers = new Map<string, PeerInfo>()
  /** Per peer ever heard from: monitoring state, kept after it goes away. */
  private readonly status = new Map<string, PeerStatus>()
  /** (end LSN, wall ms) of recent local commits, oldest first. */
  private readonly commits: Array<[number, number]> = []
  private commitsDropped = false
  /** How many recent commits are remembered for lag measurement (see setCommitLogLimit). */
  private commitLogLimit = DEFAULT_COMMIT_LOG_LIMIT
  /** Per peer: the digest LSN a repair started from, and the shards still to arrive. */
  private readonly repairs = new Map<string, { lsn: number; shards: Set<string> }>()
  /** Per peer: LSN ranges received ahead of a gap, start -> end. */
  private readonly ahead = new Map<string, Map<number, number>>()
  private readonly maxBytes: number
  /** Per peer: the fragmented message being reassembled (one at a time; a newer id replaces it). */
  private readonly reassembly = new Map<string, { id: number; total: number; count: number; chunks: Map<number, Uint8Array>; bytes: number }>()
  private nextFragmentId = 1
  /** What the last failed anti-entropy round threw. */
  lastRoundError: unknown = null
  /** Per (peer, shard): when a stale update from it was last answered with the generation. */
  private readonly staleAnswered = new Map<string, { generation: number; at: number }>()
  /** Per (peer U+0000 shard): rows seen differing under equal state (see noteRows). */
  private readonly mismatched = new Map<string, { since: number; last: number; seen: number; reported: boolean }>()
  /** Called once when a divergence is confirmed (for the log). */
  onDivergence: (d: Divergence) => void = () => {}
  private cancelTimer: (() => void) | null = null
  private stopped = false

  constructor(replica: Replica, transport: Transport | null) {
    this.replica = replica
    this.transport = transport
    this.maxBytes = replica.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  }

  async start(): Promise<void> {
    const t = this.transport
    if (t === null) {
      // Alone: no peers to sync with, but generation housekeeping still runs on the timer.
      this.schedule()
      return
    }
    await t.start({
      onMessage: (from, data) => this.receive(from, data),
      onPeerUp: (peer) => this.hello(peer, false),
      onPeerDown: (peer) => {
        this.peers.delete(peer)
        // A message half received from it will not be finished.
        this.reassembly.delete(peer)
        const st = this.status.get(peer)
        if (st !== undefined) st.connected = false
      },
    })
    t.subscribe(TOPIC_ALL)
    t.subscribe(regionTopic(this.replica.region))
    for (const peer of t.peers()) this.hello(peer, false)
    this.schedule()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
    await this.transport?.stop()
  }

  /** Peers that have said hello, with their regions. */
  knownPeers(): Array<[string, string]> {
    return [...this.peers].map(([id, p]) => [id, p.region])
  }

  /** Every peer heard from since start, sorted by node id. */
  peerStatus(): PeerStatus[] {
    return [...this.status.values()].map((s) => ({ ...s })).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
  }

  private statusOf(peer: string): PeerStatus {
    let st = this.status.get(peer)
    if (st === undefined) {
      st = { nodeId: peer, region: '', connected: false, lastSeen: null, ackedLsn: 0, ackedAt: null, lagMs: null, receivedLsn: 0 }
      this.status.set(peer, st)
    }
    return st
  }

  /**
   * How many recent commits to remember for lag measurement: a peer further behind shows
   * its position but no lag time. Bounded to keep memory bounded.
   */
  setCommitLogLimit(n: number): void {
    this.commitLogLimit = Math.max(16, Math.min(1_000_000, Math.floor(n)))
  }

  /** Records a durable local commit ending at `lsn`, for lag measurement. */
  noteCommit(lsn: number, at: number): void {
    this.commits.push([lsn, at])
    if (this.commits.length > this.commitLogLimit) {
      this.commits.splice(0, this.commits.length - this.commitLogLimit)
      this.commitsDropped = true
    }
  }

  /** Wall time of the commit whose range ends at or after `lsn`; null if forgotten or unknown. */
  private commitTime(lsn: number): number | null {
    const c = this.commits
    let lo = 0
    let hi = c.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (c[mid]![0] >= lsn) hi = mid
      else lo = mid + 1
    }
    if (lo >= c.length) return null
    // The first remembered commit may stand for older ones that were forgotten.
    if (lo === 0 && this.commitsDropped && c[0]![0] !== lsn) return null
    return c[lo]![1]
  }

  /** Acknowledges to `peer`, once durable, that this replica holds its changes up to `lsn`. */
  private acknowledge(peer: string, lsn: number): void {
    const st = this.statusOf(peer)
    if (lsn <= st.receivedLsn) return
    st.receivedLsn = lsn
    // Once what was received is on disk here (at once, with synchronous storage).
    this.replica.whenDurable(() => this.send(peer, { type: MessageType.Ack, lsn }), { send: true })
  }

  private schedule(): void {
    const interval = this.replica.options.antiEntropyIntervalMs ?? 1000
    if (interval <= 0 || this.stopped) return
    this.cancelTimer = this.replica.scheduler.setTimeout(interval, () => {
      this.cancelTimer = null
      if (this.stopped) return
      try {
        this.antiEntropyRound()
      } catch (err) {
        // Housekeeping and repair go on whatever one round ran into.
        this.stats.roundsFailed++
        this.lastRoundError = err
      }
      this.schedule()
    })
  }

  /** Sends a digest to one random known peer (and runs generation housekeeping first). */
  antiEntropyRound(): void {
    this.replica.compactionRound()
    // A connected peer that never answered HELLO (the message was lost): say it again.
    if (this.transport !== null) {
      for (const peer of this.transport.peers()) {
        if (!this.peers.has(peer)) this.hello(peer, false)
      }
    }
    const ids = [...this.peers.keys()].sort()
    if (ids.length === 0) return
    const peer = ids[Math.floor(this.replica.random() * ids.length) % ids.length]!
    this.syncWith(peer)
  }

  /** Starts an anti-entropy exchange with one peer. */
  syncWith(peer: string): void {
    const info = this.peers.get(peer)
    if (info === undefined) return
    const digests: ShardDigest[] = []
    for (const [id, shard] of this.replica.shards) {
      if (!this.replica.holds(info.region, id)) continue
      digests.push({ shard: id, generation: shard.generation, hash: this.replica.reportedDigest(shard), rows: shard.rowsHash })
    }
    this.stats.digestsSent++
    const lsn = this.replica.lsn
    this.sendChunked(peer, digests, (d) => d.shard.length + 12, (digests) => ({ type: MessageType.Digest, lsn, digests }))
  }

  /** Sends a shard's current generation, whole, to every known peer that holds it. */
  announceGeneration(shard: Shard, state?: Uint8Array): void {
    const whole = state ?? Y.encodeStateAsUpdate(shard.doc)
    for (const [peer, info] of this.peers) if (this.replica.holds(info.region, shard.id)) this.sendGeneration(peer, shard, whole)
  }

  /** Whether this replica applies what `peer` sends of `shard` (see Replica.setLinkPolicy). */
  private acceptsFrom(peer: string, shard: string): boolean {
    const p = this.replica.linkPolicy
    if (p === null || p.accepts(this.replica.nodeId, peer, shard)) return true
    this.stats.filtered++
    return false
  }

  /** Whether `peer` applies what this replica sends of `shard`: if not, sending is wasted (or leaks). */
  private deliversTo(peer: string, shard: string): boolean {
    const p = this.replica.linkPolicy
    return p === null || p.accepts(peer, this.replica.nodeId, shard)
  }

  private sendGeneration(peer: string, shard: Shard, state?: Uint8Array): void {
    if (!this.deliversTo(peer, shard.id)) return
    this.stats.diffsSent++
    this.sendDurable(peer, [shard.id], { type: MessageType.Generation, shard: shard.id, generation: shard.generation, state: state ?? Y.encodeStateAsUpdate(shard.doc) })
  }

  /**
   * Sends a message holding shard state encoded now, once that state is durable here
   * (see the invariant in the module header). Usually at once.
   */
  private sendDurable(peer: string, shards: string[], msg: Message): void {
    this.replica.whenDurable(() => this.send(peer, msg), { shards, send: true })
  }

  private onGeneration(from: string, id: string, generation: number, state: Uint8Array): void {
    // Also for a shard of another region this node wrote to: it must move to the new
    // generation to re-apply its writes there.
    const shard = this.target(id) ?? this.replica.shards.get(id) ?? null
    if (shard === null || !this.acceptsFrom(from, id)) return
    if (generation === shard.generation) {
      if (!this.replica.applyRemote(shard, state)) this.stats.rejected++
      return
    }
    if (generation < shard.generation) {
      this.sendGeneration(from, shard)
      return
    }
    try {
      Y.decodeUpdate(state)
    } catch {
      this.stats.rejected++
      return
    }
    this.stats.repairBytes += state.length
    this.replica.adoptGeneration(shard, generation, state)
  }

  /**
   * Publishes durable local updates to the regions that hold their shards. Each update
   * covers the LSN range [start, end) of this replica's change sequence; a message says
   * which range it carries, so a receiver can tell whether it holds everything before.
   */
  gossip(updates: Array<{ shard: Shard; generation: number; update: Uint8Array; start: number; end: number }>): void {
    const t = this.transport
    if (t === null || this.stopped) return
    const byTopic = new Map<string, Array<ShardUpdate & { start: number; end: number; stale: boolean }>>()
    let oversize = false
    for (const { shard, generation, update, start, end } of updates) {
      if (update.length > MAX_GOSSIP_BYTES) {
        oversize = true
        continue
      }
      // Made in a generation the shard has since left (its entries were carried into the
      // new one, which travels whole): its structs belong to the old document, and applied
      // to the new one they would reuse its ids. Only its LSN range still goes out, so
      // receivers see no gap.
      const stale = generation !== shard.generation
      const scope = this.replica.scopeOf(shard.id)
      const topics = scope === null ? [TOPIC_ALL] : scope.map(regionTopic)
      for (const topic of topics) {
        let list = byTopic.get(topic)
        if (list === undefined) {
          list = []
          byTopic.set(topic, list)
        }
        list.push({ shard: shard.id, generation, update, start, end, stale })
      }
    }
    for (const [topic, list] of byTopic) {
      let batch: Array<ShardUpdate & { start: number; end: number; stale: boolean }> = []
      let size = 0
      const flush = () => {
        if (batch.length === 0) return
        const updates = batch.filter((u) => !u.stale).map(({ shard, generation, update }) => ({ shard, generation, update }))
        const bytes = encodeMessage({ type: MessageType.Updates, prevLsn: batch[0]!.start, lsn: batch[batch.length - 1]!.end, updates })
        this.stats.messagesSent++
        this.stats.bytesSent += bytes.length
        t.publish(topic, bytes)
        batch = []
        size = 0
      }
      for (const u of list) {
        if (size + u.update.length > MAX_GOSSIP_BYTES) flush()
        batch.push(u)
        size += u.update.length + u.shard.length + 16
      }
      flush()
    }
    if (oversize) for (const peer of this.peers.keys()) this.syncWith(peer)
  }

  private send(peer: string, msg: Message): void {
    const t = this.transport
    if (t === null || this.stopped) return
    const bytes = encodeMessage(msg)
    if (bytes.length <= this.maxBytes) {
      this.sendWhole(t, peer, bytes, this.replica.now() + FRAGMENT_PACING_LIMIT_MS)
      return
    }
    if (bytes.length > MAX_REASSEMBLED_BYTES) {
      this.stats.oversize++
      return
    }
    // Too large for one message: send slices of the frame (each fragment adds at most
    // 64 bytes of framing), reassembled by the receiver.
    const slice = Math.max(1, this.maxBytes - 64)
    const count = Math.ceil(bytes.length / slice)
    if (count > MAX_FRAGMENTS) {
      this.stats.oversize++
      return
    }
    const id = this.nextFragmentId++
    this.stats.fragmentedSent++
    let index = 0
    const deadline = this.replica.now() + FRAGMENT_PACING_LIMIT_MS
    // Paced by the transport's backlog: at most about one message's worth queued at a
    // time. Bounded: each step sends at least one fragment or waits; it gives up at the
    // deadline (a later anti-entropy round sends the message again).
    const step = () => {
      if (this.stopped) return
      while (index < count && (t.backlog?.(peer) ?? 0) <= this.maxBytes) {
        const frame = encodeMessage({ type: MessageType.Fragment, id, index, count, total: bytes.length, chunk: bytes.subarray(index * slice, (index + 1) * slice) })
        index++
        this.stats.messagesSent++
        this.stats.bytesSent += frame.length
        t.send(peer, frame)
      }
      if (index < count && this.replica.now() < deadline) this.replica.scheduler.setTimeout(FRAGMENT_PACING_MS, step)
    }
    step()
  }

  /**
   * Sends one whole message, waiting (bounded) while more than a message's worth is
   * queued for the peer: fragments of a large message keep the transport's queue near
   * its bound, and a message sent past it would be dropped.
   */
  private sendWhole(t: Transport, peer: string, bytes: Uint8Array, deadline: number): void {
    if (this.stopped) return
    if ((t.backlog?.(peer) ?? 0) > this.maxBytes && this.replica.now() < deadline) {
      this.replica.scheduler.setTimeout(FRAGMENT_PACING_MS, () => this.sendWhole(t, peer, bytes, deadline))
      return
    }
    this.stats.messagesSent++
    this.stats.bytesSent += bytes.length
    t.send(peer, bytes)
  }

  /**
   * Takes one fragment; returns the whole message once its last fragment is in. A peer
   * reassembles one message at a time: a fragment of a newer message discards an
   * unfinished older one (lost fragments are repaired by a later anti-entropy round, which
   * sends the message again). Fragments that disagree with their message's first are
   * rejected.
   */
  private onFragment(from: string, f: { id: number; index: number; count: number; total: number; chunk: Uint8Array }): Uint8Array | null {
    let r = this.reassembly.get(from)
    if (r === undefined || r.id !== f.id) {
      if (r !== undefined && f.id < r.id) return null
      r = { id: f.id, total: f.total, count: f.count, chunks: new Map(), bytes: 0 }
      this.reassembly.set(from, r)
    }
    if (r.count !== f.count || r.total !== f.total || r.bytes + f.chunk.length > r.total) {
      this.stats.rejected++
      this.reassembly.delete(from)
      return null
    }
    if (r.chunks.has(f.index)) return null
    r.chunks.set(f.index, f.chunk.slice())
    r.bytes += f.chunk.length
    if (r.chunks.size < r.count) return null
    this.reassembly.delete(from)
    if (r.bytes !== r.total) {
      this.stats.rejected++
      return null
    }
    const whole = new Uint8Array(r.total)
    let at = 0
    for (let i = 0; i < r.count; i++) {
      const c = r.chunks.get(i)!
      whole.set(c, at)
      at += c.length
    }
    return whole
  }

  /** Sends items in as many messages as the size limit needs. */
  private sendChunked<T>(peer: string, items: T[], sizeOf: (item: T) => number, make: (items: T[]) => Message): void {
    if (items.length === 0) return
    const budget = this.maxBytes - 64
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

  receive(from: string, data: Uint8Array): void {
    if (this.stopped || this.replica.isClosed) return
    this.stats.messagesReceived++
    this.stats.bytesReceived += data.length
    let msg: Message
    try {
      msg = decodeMessage(data, this.maxBytes)
      if (msg.type === MessageType.Fragment) {
        this.statusOf(from).lastSeen = this.replica.now()
        const whole = this.onFragment(from, msg)
        if (whole === null) return
        msg = decodeMessage(whole, MAX_REASSEMBLED_BYTES)
        if (msg.type === MessageType.Fragment) throw new DecodeError('nested fragment')
        this.stats.fragmentedReceived++
      }
    } catch {
      this.stats.rejected++
      return
    }
    this.statusOf(from).lastSeen = this.replica.now()
    switch (msg.type) {
      case MessageType.Hello:
        this.onHello(from, msg.nodeId, msg.region, msg.reply)
        break
      case MessageType.Updates:
        this.onUpdates(from, msg.prevLsn, msg.lsn, msg.updates)
        break
      case MessageType.Digest:
        this.onDigest(from, msg.lsn, msg.digests)
        break
      case MessageType.Ack:
        this.onAck(from, msg.lsn)
        break
      case MessageType.Generation:
        this.onGeneration(from, msg.shard, msg.generation, msg.state)
        break
      case MessageType.SyncRequest:
        this.onSyncRequest(from, msg.requests)
        break
      case MessageType.SyncDiff:
        this.onSyncDiff(from, msg.diffs)
        break
    }
    this.replica.afterChange()
  }

  private hello(peer: string, reply: boolean): void {
    this.send(peer, { type: MessageType.Hello, nodeId: this.replica.nodeId, region: this.replica.region, reply })
  }

  /**
   * A HELLO that is not itself a reply is always answered: the peer says it again each
   * round until it hears one, so a lost HELLO in either direction never leaves one side
   * not knowing the other (it would never sync with it; found by the simulator with
   * storage delays, a restarted node that missed the reply to its HELLO).
   */
  private onHello(from: string, nodeId: string, region: string, reply: boolean): void {
    if (nodeId !== from) {
      this.stats.rejected++
      return
    }
    const known = this.peers.has(from)
    this.peers.set(from, { region })
    const st = this.statusOf(from)
    st.region = region
    st.connected = true
    if (!reply) this.hello(from, true)
    // One exchange repairs both sides, so only one of the two starts it: without this
    // rule a cold peer would be sent everything twice on first contact.
    if (!known && this.replica.nodeId < from) this.syncWith(from)
  }

  /** A shard this replica should hold, or null if the update is not for it. */
  private target(id: string): Shard | null {
    if (!this.replica.holds(this.replica.region, id)) return null
    return this.replica.shardFor(id)
  }

  private onUpdates(from: string, prevLsn: number, lsn: number, updates: ShardUpdate[]): void {
    let ok = true
    for (const u of updates) {
      const shard = this.target(u.shard)
      // Not applied, but processed: the LSN range is still acknowledged.
      if (shard === null || !this.acceptsFrom(from, u.shard)) continue
      const result = this.replica.applyRemoteAt(shard, u.generation, u.update)
      // The writer is behind by a generation: hand it the new one, so it re-applies there
      // (once per second per peer and shard: every update it still has in flight would
      // otherwise bring the whole generation again).
      if (u.generation < shard.generation) {
        const key = `${from}\u0000${shard.id}`
        const last = this.staleAnswered.get(key)
        const now = this.replica.now()
        if (last === undefined || last.generation !== shard.generation || now - last.at >= STALE_ANSWER_INTERVAL_MS) {
          if (this.staleAnswered.size >= MAX_STALE_ANSWERS) this.staleAnswered.clear()
          this.staleAnswered.set(key, { generation: shard.generation, at: now })
          this.sendGeneration(from, shard)
        }
      }
      if (result === 'applied') this.stats.updatesApplied++
      else if (result === 'rejected') {
        this.stats.rejected++
        ok = false
      } else if (result === 'ahead') {
        // The sender is on a newer generation: fetch it now rather than at the next round.
        ok = false
        this.syncWith(from)
      } else if (result === 'stale') {
        // For a generation already dropped here: its writer re-applies it on moving over.
        ok = false
      }
    }
    if (!ok) return
    const st = this.statusOf(from)
    if (prevLsn > st.receivedLsn) {
      // Arrived ahead of a range still missing (reordered or lost): remember it, bounded.
      let ahead = this.ahead.get(from)
      if (ahead === undefined) {
        ahead = new Map()
        this.ahead.set(from, ahead)
      }
      if (ahead.size < MAX_RANGES_AHEAD) ahead.set(prevLsn, Math.max(lsn, ahead.get(prevLsn) ?? 0))
      return
    }
    // Contiguous with what we hold of the sender's changes, and so may be what came early.
    let upTo = lsn
    const ahead = this.ahead.get(from)
    if (ahead !== undefined) {
      for (let next = ahead.get(upTo); next !== undefined; next = ahead.get(upTo)) {
        ahead.delete(upTo)
        upTo = Math.max(upTo, next)
      }
      for (const k of ahead.keys()) if (k < upTo) ahead.delete(k)
    }
    this.acknowledge(from, upTo)
  }

  private onAck(from: string, lsn: number): void {
    const st = this.statusOf(from)
    if (lsn > this.replica.lsn) {
      this.stats.rejected++
      return
    }
    if (lsn < st.ackedLsn) return
    const now = this.replica.now()
    st.ackedLsn = lsn
    st.ackedAt = now
    const at = this.commitTime(lsn)
    st.lagMs = at === null ? null : Math.max(0, now - at)
  }

  private onDigest(from: string, lsn: number, digests: ShardDigest[]): void {
    const info = this.peers.get(from)
    if (info === undefined) return
    const requests: ShardStateVector[] = []
    const listed = new Set<string>()
    for (const d of digests) {
      listed.add(d.shard)
      if (!this.replica.holds(this.replica.region, d.shard) || !this.acceptsFrom(from, d.shard)) continue
      const shard = this.replica.shards.get(d.shard)
      if (shard !== undefined && d.generation < shard.generation) {
        // The peer is behind by a generation: it needs the new one whole.
        this.sendGeneration(from, shard)
        continue
      }
      if (shard !== undefined && d.generation === shard.generation && shard.digest() === d.hash) {
        this.noteRows(from, d.shard, shard.rowsHash === d.rows)
        this.replica.noteEqualState(d.shard, from)
        continue
      }
      // Asking with our (older) generation makes the peer answer with its generation whole.
      requests.push({ shard: d.shard, generation: shard?.generation ?? 0, stateVector: shard ? Y.encodeStateVector(shard.doc) : EMPTY_STATE_VECTOR })
    }
    this.sendChunked(from, requests, (r) => r.shard.length + r.stateVector.length + 16, (requests) => ({ type: MessageType.SyncRequest, requests }))
    // Shards the peer should hold but did not list: it has nothing of them, send everything.
    const missing: ShardDiff[] = []
    for (const [id, shard] of this.replica.shards) {
      if (listed.has(id) || !this.replica.holds(info.region, id) || !this.deliversTo(from, id)) continue
      if (shard.generation > 0) {
        this.sendGeneration(from, shard)
        continue
      }
      missing.push({ shard: id, generation: shard.generation, update: Y.encodeStateAsUpdate(shard.doc), hash: shard.digest(), final: true, stateVector: new Uint8Array(0) })
    }
    this.sendDiffs(from, missing)
    // Every shard we should both hold matches: we hold everything the peer had when it sent
    // this. Otherwise we will once the diffs we asked for are applied.
    if (requests.length === 0) {
      this.repairs.delete(from)
      this.acknowledge(from, lsn)
    } else {
      this.repairs.set(from, { lsn, shards: new Set(requests.map((r) => r.shard)) })
    }
  }

  /**
   * Records whether a peer holding the same Yjs state of a shard shows the same rows.
   * Rows follow from the state and the table's schema, so a difference seen repeatedly
   * over DIVERGENCE_CONFIRM_MS (longer than a schema change takes to arrive) means
   * content differing under equal Yjs ids: a divergence no exchange repairs, reported by
   * `divergences()` (pg_cluster_health, /metrics) instead of passing for healthy.
   */
  private noteRows(peer: string, shard: string, same: boolean): void {
    const key = `${peer}\u0000${shard}`
    if (same) {
      this.mismatched.delete(key)
      return
    }
    const m = this.mismatched.get(key)
    const now = this.replica.now()
    if (m === undefined) {
      if (this.mismatched.size < MAX_DIVERGENCE_TRACKED) this.mismatched.set(key, { since: now, last: now, seen: 1, reported: false })
      return
    }
    m.last = now
    m.seen++
    if (!m.reported && confirmed(m)) {
      m.reported = true
      this.onDivergence({ peer, shard, since: m.since, confirmed: true })
    }
  }

  /** Shards whose rows differ from a peer's under equal Yjs state (see noteRows). */
  divergences(): Divergence[] {
    const out: Divergence[] = []
    for (const [key, m] of this.mismatched) {
      const at = key.indexOf('\u0000')
      out.push({ peer: key.slice(0, at), shard: key.slice(at + 1), since: m.since, confirmed: confirmed(m) })
    }
    return out.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.shard < b.shard ? -1 : 1))
  }

  private sendDiffs(peer: string, diffs: ShardDiff[]): void {
    if (diffs.length === 0) return
    this.stats.diffsSent += diffs.length
    const shards = [...new Set(diffs.map((d) => d.shard))]
    this.replica.whenDurable(
      () => this.sendChunked(peer, diffs, (d) => d.shard.length + d.update.length + d.stateVector.length + 24, (diffs) => ({ type: MessageType.SyncDiff, diffs })),
      { shards, send: true },
    )
  }

  private onSyncRequest(from: string, requests: ShardStateVector[]): void {
    const info = this.peers.get(from)
    if (info === undefined) return
    const diffs: ShardDiff[] = []
    for (const r of requests) {
      if (!this.replica.holds(info.region, r.shard) || !this.deliversTo(from, r.shard)) continue
      const shard = this.replica.shardFor(r.shard)
      if (shard === null) continue
      if (r.generation < shard.generation) {
        this.sendGeneration(from, shard)
        continue
      }
      if (r.generation > shard.generation) continue
      let update: Uint8Array
      try {
        update = Y.encodeStateAsUpdate(shard.doc, r.stateVector)
      } catch {
        this.stats.rejected++
        continue
      }
      diffs.push({ shard: r.shard, generation: shard.generation, update, hash: shard.digest(), final: false, stateVector: Y.encodeStateVector(shard.doc) })
    }
    this.sendDiffs(from, diffs)
  }

  private onSyncDiff(from: string, diffs: ShardDiff[]): void {
    const back: ShardDiff[] = []
    for (const d of diffs) {
      const shard = this.target(d.shard)
      if (shard === null || !this.acceptsFrom(from, d.shard)) continue
      if (d.generation !== shard.generation) {
        if (d.generation > shard.generation) this.syncWith(from)
        continue
      }
      this.stats.repairBytes += d.update.length
      if (!this.replica.applyRemote(shard, d.update)) {
        this.stats.rejected++
        continue
      }
      const repair = this.repairs.get(from)
      if (repair !== undefined && repair.shards.delete(d.shard) && repair.shards.size === 0) {
        this.repairs.delete(from)
        this.acknowledge(from, repair.lsn)
      }
      if (d.final || shard.digest() === d.hash) continue
      let update: Uint8Array
      try {
        update = Y.encodeStateAsUpdate(shard.doc, d.stateVector)
      } catch {
        this.stats.rejected++
        continue
      }
      back.push({ shard: d.shard, generation: shard.generation, update, hash: shard.digest(), final: true, stateVector: new Uint8Array(0) })
    }
    this.sendDiffs(from, back)
  }
}
