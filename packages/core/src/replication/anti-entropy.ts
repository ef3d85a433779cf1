/**
 * Anti-entropy (docs/decisions/0010-replication.md): repair of whatever gossip lost.
 *
 * A replica sends a peer a DIGEST (shard id, generation, 32-bit hash of state vector and
 * delete set, hash of the rows) of the shards both should hold. For each shard that
 * differs the peer answers with SYNC_REQ carrying its state vector; the replica answers
 * SYNC_DIFF (exactly what the peer lacks, plus its own state vector); the peer applies
 * it and, if it still has something the replica lacks, sends a final SYNC_DIFF back. So
 * one round repairs both sides, and only differing shards cost more than a hash. A peer
 * behind by a generation is sent the new generation whole (GENERATION). Equal states
 * with different rows are watched for divergence (divergence-watch.ts).
 *
 * A shard a replica holds nothing of is fetched from one peer at a time: a joining node
 * hears digests from every peer at once, and asking each would bring the whole shard
 * once per peer. It asks the first peer that lists it, and the others only once that
 * peer has gone silent for FETCH_PATIENCE_MS or left. A peer whose digest leaves out
 * shards it should hold is sent a digest back to ask from, not the shards themselves. A
 * shard asked from a peer is not asked from it again while the answer may still come
 * (requests-in-flight.ts): digests arrive every round, a large answer takes longer.
 * A shard whose diff or generation from a peer was refused (the peer may not write what
 * it carries: peer-scope.ts) is not asked from that peer again until the peer's digest of
 * it changes, and a diff answering that peer's request for it is final (the peer must not
 * send its side back): either would bring the same refused state every round.
 *
 * An answer of more than SLICE_STRUCTS Yjs structs (a joiner's whole shard) goes as
 * slices, one SYNC_DIFF message each (yjs/update-slices.ts, docs/decisions/0019-sliced-catch-up.md):
 * the receiver applies each in its own transaction and serves peers and clients between
 * them. Every slice carries the sender's state vector; a diff is the last of its answer
 * when the receiver's state vector covers it after applying (a whole diff always does).
 * Only then is the request answered, the repair counted in and a diff sent back: a slice
 * before it only shows the answer is on its way (and a lost slice leaves the repair open,
 * asked again once the peer goes quiet).
 *
 * Invariant: diffs and generations, encoded from a shard as it is in memory, leave only
 * once every storage write issued before the encoding is complete (host.whenDurable).
 */
import * as Y from 'yjs'
import { comparableRows, NOT_COMPARABLE, type DivergenceWatch } from './divergence-watch.js'
import type { Fragments } from './fragments.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'
import { MessageType, type HeldSet, type Message, type ShardDiff, type ShardDigest, type ShardStateVector } from './messages.js'
import type { Positions } from './positions.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard, StateSlices } from './replication-host.js'
import { RequestsInFlight } from './requests-in-flight.js'
import type { ShardLinks } from './shard-links.js'

const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())

/** How long the peer a lacking shard was asked from may stay silent before another peer is asked (ms). */
export const FETCH_PATIENCE_MS = 5000
/** Refused shards remembered per peer (the oldest forgotten first). */
const MAX_REFUSED_PER_PEER = 1024
/**
 * Most Yjs structs (about one row entry each) in one slice of an answer: what a receiver
 * applies in one synchronous step (tens of ms on this machine, idle).
 */
export const SLICE_STRUCTS = 4096
/** A peer whose digest leaves shards out is sent a digest back at most this often (ms). */
const ANSWER_GAP_MS = 1000
/** A peer is asked for a digest at the end of a repair, and answers such an ask, at most this often (ms). */
const ASK_GAP_MS = 100

/** Whether state vector `a` includes every update `b` counts (false for a malformed one). */
function covers(a: Uint8Array, b: Uint8Array): boolean {
  let have: Map<number, number>
  let need: Map<number, number>
  try {
    have = Y.decodeStateVector(a)
    need = Y.decodeStateVector(b)
  } catch {
    return false
  }
  for (const [client, clock] of need) if ((have.get(client) ?? 0) < clock) return false
  return true
}

function holdsNothing(stateVector: Uint8Array): boolean {
  return stateVector.length === EMPTY_STATE_VECTOR.length && stateVector.every((b, i) => b === EMPTY_STATE_VECTOR[i])
}

export class AntiEntropy<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly fragments: Fragments<S>
  private readonly positions: Positions<S>
  private readonly links: ShardLinks<S>
  readonly divergence: DivergenceWatch
  /** Per peer: the digest LSN a repair started from, the shards still to arrive, and every shard its digest listed. */
  private readonly repairs = new Map<string, { lsn: number; shards: Set<string>; listed: ReadonlySet<string> | null; fetched: boolean }>()
  /** Per shard this replica held nothing of when it asked: the peer asked, and when. */
  private readonly fetching = new Map<string, { peer: string; at: number }>()
  /** Per peer: when it was last sent a digest because its own left shards out. */
  private readonly answered = new Map<string, number>()
  /** Per peer: when it was last asked for a digest (`askAgain`), and when its ask was last answered. */
  private readonly askedAt = new Map<string, number>()
  private readonly askAnswered = new Map<string, number>()
  /** Peers an ask waits for (`askAgain`: one at most per peer). */
  private readonly askLater = new Set<string>()
  /** Shards asked from each peer whose answer may still come. */
  private readonly inFlight = new RequestsInFlight(FETCH_PATIENCE_MS)
  /** Per peer: shards whose answer from it was refused, with its digest hash of them then (null: not heard since). */
  private readonly refused = new Map<string, Map<string, number | null>>()
  /**
   * Per peer and shard: the generation, digest and state vector of the shard when its state
   * was last sent to the peer. What is sent back after the peer's diff is only what it lacks
   * beyond that state (`lacking`): nothing while the shard is still at that digest. A
   * joiner's own diffs (it answers requests too) each asked for the whole shard back while
   * the first answer was still on its way, and a large answer is taken in for longer than
   * any fixed patience (a joiner applied a 1,000,000-row shard for 10 s; the rest of it was
   * sent again, whole, once the answer was 5 s old).
   */
  private readonly sentState = new Map<string, Map<string, { generation: number; hash: number; stateVector: Uint8Array }>>()

  constructor(ctx: ReplicationContext<S>, fragments: Fragments<S>, positions: Positions<S>, links: ShardLinks<S>, divergence: DivergenceWatch) {
    this.ctx = ctx
    this.fragments = fragments
    this.positions = positions
    this.links = links
    this.divergence = divergence
  }

  /** Starts an anti-entropy exchange with one peer; `ask`: the peer answers with its digest (see `askAgain`). */
  syncWith(peer: string, ask = false): void {
    const info = this.ctx.peers.get(peer)
    if (info === undefined) return
    const host = this.ctx.host
    const digests: ShardDigest[] = []
    for (const shard of host.shards()) {
      if (!host.holds(peer, info.region, shard.id)) continue
      digests.push({ shard: shard.id, generation: shard.generation, hash: host.reportedDigest(shard), rows: comparableRows(shard) })
    }
    this.ctx.stats.digestsSent++
    const lsn = host.lsn
    this.fragments.sendChunked(peer, digests, (d) => d.shard.length + 12, (digests) => (ask ? { type: MessageType.Digest, lsn, digests, ask } : { type: MessageType.Digest, lsn, digests }))
  }

  /** A peer's held-by sets: merged, and answered with ours where we know of more holders (never an answer to an answer). */
  onHeld(from: string, answer: boolean, sets: readonly HeldSet[]): void {
    if (!this.ctx.peers.has(from)) return
    const mine = this.ctx.host.noteHeld(from, sets)
    if (!answer && mine.length > 0) this.fragments.sendChunked(from, mine, (h) => h.shard.length + h.bits.length + 16, (sets) => ({ type: MessageType.Held, answer: true, sets }))
  }

  /** Sends a shard's current generation, whole, to every known peer that holds it. */
  announceGeneration(shard: S, state?: Uint8Array): void {
    const whole = state ?? shard.encodeState()
    for (const [peer, info] of this.ctx.peers) if (this.ctx.host.holds(peer, info.region, shard.id)) this.sendGeneration(peer, shard, whole)
  }

  /** Sends a peer behind by a generation the shard's current one, whole. */
  sendGeneration(peer: string, shard: S, state?: Uint8Array): void {
    if (!this.links.deliversTo(peer, shard.id) || shard.isHeld) return
    this.ctx.stats.diffsSent++
    this.sendDurable(peer, [shard.id], { type: MessageType.Generation, shard: shard.id, generation: shard.generation, state: state ?? shard.encodeState() })
  }

  /**
   * Sends a message holding shard state encoded now, once that state is durable here
   * (see the invariant in the module header). Usually at once.
   */
  private sendDurable(peer: string, shards: string[], msg: Message): void {
    this.ctx.host.whenDurable(() => this.fragments.send(peer, msg), { shards, send: true })
  }

  onGeneration(from: string, id: string, generation: number, state: Uint8Array): void {
    const host = this.ctx.host
    // Also for a shard of another region this node wrote to: it must move to the new
    // generation to re-apply its writes there.
    const shard = this.links.target(id) ?? host.shard(id) ?? null
    if (shard === null || !this.links.acceptsFrom(from, id)) return
    if (generation === shard.generation) {
      if (!host.applyRemote(shard, state)) this.ctx.stats.rejected++
      return
    }
    if (generation < shard.generation) {
      this.sendGeneration(from, shard)
      return
    }
    try {
      Y.decodeUpdate(state)
    } catch {
      this.ctx.stats.rejected++
      return
    }
    this.ctx.stats.repairBytes += state.length
    this.inFlight.answered(from, id)
    host.adoptGeneration(shard, generation, state)
    this.fetching.delete(id)
  }

  onDigest(from: string, lsn: number, digests: ShardDigest[], ask = false): void {
    const info = this.ctx.peers.get(from)
    if (info === undefined) return
    if (ask) this.answerAsk(from)
    const host = this.ctx.host
    const requests: ShardStateVector[] = []
    /** Shards the peer keeps a copy of without holding them, and we have every update of: it may drop them. */
    const copies: ShardStateVector[] = []
    const listed = new Set<string>()
    /** Some shard was left for the peer it is being fetched from: this exchange does not bring all the peer had. */
    let deferred = false
    /** The peer's catalog was ours: it knew of every change of holders we know of when it listed its shards. */
    let sameCatalog = false
    /** Some shard was asked from this peer before and its answer is still on its way. */
    let awaiting = false
    const now = host.now()
    const askedAt = this.askedAt.get(from)
    /**
     * Some shard is fetched: asked while this replica held nothing of it (a joiner's, a new
     * holder's), or this digest may answer our ask after such a repair (the chain goes on
     * until an exchange under the same catalog confirms it).
     */
    let fetched = askedAt !== undefined && now - askedAt < FETCH_PATIENCE_MS
    /** Shards the peer holds exactly as we do. */
    const equal: string[] = []
    for (const d of digests) {
      listed.add(d.shard)
      this.ctx.confirmations.note(from, d.shard, d.hash)
      if (!host.holds(host.nodeId, host.region, d.shard) || !this.links.acceptsFrom(from, d.shard)) continue
      const shard = host.shard(d.shard)
      if (shard !== undefined && d.generation < shard.generation) {
        // The peer is behind by a generation: it needs the new one whole.
        this.sendGeneration(from, shard)
        continue
      }
      if (shard !== undefined && d.generation === shard.generation && shard.digest() === d.hash) {
        // Rows follow from the state alone only without overlays: an older generation held
        // here, or by the peer (rows NOT_COMPARABLE), shows writers' entries the current one
        // lacks, until drained. No judgement then.
        if (shard.prevs.length === 0 && d.rows !== NOT_COMPARABLE) {
          this.divergence.noteRows(from, d.shard, comparableRows(shard) === d.rows, host.now())
        }
        host.noteEqualState(d.shard, from)
        equal.push(d.shard)
        if (d.shard === CATALOG_SHARD) sameCatalog = true
        // The peer keeps a copy it does not hold: our state vector tells it we have it all.
        if (!host.holds(from, info.region, d.shard)) copies.push({ shard: d.shard, generation: shard.generation, stateVector: shard.stateVector() })
        continue
      }
      if (this.inFlight.pending(from, d.shard, now)) {
        awaiting = true
        continue
      }
      if (this.stillRefused(from, d.shard, d.hash)) {
        deferred = true
        continue
      }
      const stateVector = shard ? shard.stateVector() : EMPTY_STATE_VECTOR
      // A shard partly in from the peer it is fetched from (its answer comes in slices) is
      // not asked elsewhere either while that peer is heard from.
      if (holdsNothing(stateVector) || this.fetching.has(d.shard)) {
        if (this.fetchingElsewhere(d.shard, from)) {
          deferred = true
          continue
        }
        this.fetching.set(d.shard, { peer: from, at: now })
        fetched = true
      }
      // Asking with our (older) generation makes the peer answer with its generation whole.
      requests.push({ shard: d.shard, generation: shard?.generation ?? 0, stateVector })
      this.inFlight.sent(from, d.shard, now)
    }
    this.fragments.sendChunked(from, [...requests, ...copies], (r) => r.shard.length + r.stateVector.length + 16, (requests) => ({ type: MessageType.SyncRequest, requests }))
    // Of the shards the peer holds as we do, who else is known to: where tombstones wait for it (held-sets.ts).
    const sets = equal.length === 0 ? [] : host.heldSets(from, equal)
    if (sets.length > 0) this.fragments.sendChunked(from, sets, (h) => h.shard.length + h.bits.length + 16, (sets) => ({ type: MessageType.Held, answer: false, sets }))
    // Shards the peer should hold but did not list: it has nothing of them. Our digest lets
    // it ask for them, from one peer (see `fetching`).
    if (this.leftOut(from, info.region, listed)) this.answer(from)
    // Every shard we should both hold matches: we hold everything the peer had when it sent
    // this. Otherwise we will once the diffs we asked for are applied (unless some shard
    // comes from another peer: then a later exchange tells).
    if (requests.length === 0 && !deferred && !awaiting) {
      this.repairs.delete(from)
      this.positions.acknowledge(from, lsn)
      if (sameCatalog) host.heldEverythingOf(from, listed)
    } else if (deferred) {
      this.repairs.delete(from)
    } else if (awaiting) {
      // The answer on its way may hold less than this digest lists: only the repair that
      // asked for it (an older digest's LSN) can be acknowledged, once it and these are in.
      const repair = this.repairs.get(from)
      for (const r of requests) repair?.shards.add(r.shard)
      if (repair !== undefined && fetched) repair.fetched = true
    } else {
      this.repairs.set(from, { lsn, shards: new Set(requests.map((r) => r.shard)), listed: sameCatalog ? listed : null, fetched })
    }
  }

  /** True while a shard this replica holds nothing of is asked from a peer other than `from` that has not gone silent or left. */
  private fetchingElsewhere(id: string, from: string): boolean {
    const f = this.fetching.get(id)
    if (f === undefined || f.peer === from) return false
    const heard = this.positions.statusOf(f.peer).lastSeen ?? f.at
    if (this.ctx.peers.has(f.peer) && this.ctx.host.now() - Math.max(f.at, heard) <= FETCH_PATIENCE_MS) return true
    this.fetching.delete(id)
    return false
  }

  /** Whether this replica holds a shard `peer` (of `region`) should hold and is sent, but did not list. */
  private leftOut(peer: string, region: string, listed: ReadonlySet<string>): boolean {
    const host = this.ctx.host
    for (const shard of host.shards()) {
      if (!listed.has(shard.id) && host.holds(peer, region, shard.id) && this.links.deliversTo(peer, shard.id)) return true
    }
    return false
  }

  /**
   * A repair from `from` that fetched a shard (held nothing of it when asked) is complete,
   * but the digest it answered was listed under another catalog than ours, so it cannot
   * tell that this replica now holds everything the peer had (the catch-up marks of
   * join-catch-up.ts wait for that). A joiner's first exchanges are all so: its own member
   * and join records differ from the peer's catalog until they travel. Ask the peer for a
   * digest now (ours goes with the ask, after the diffs this repair sent back, so the peer
   * lists under a catalog holding them) instead of waiting for its next round, up to an
   * interval later. At most once per ASK_GAP_MS per peer; only after a fetch, so repairs
   * while catalogs churn (a large cluster forming) keep the pace of the rounds.
   */
  private askAgain(from: string): void {
    if (this.due(this.askedAt, from, ASK_GAP_MS)) {
      this.syncWith(from, true)
      return
    }
    // Asked moments ago (the repair the last ask started was a small one): ask once the
    // gap is over rather than not at all, which left it to the next round.
    if (this.askLater.has(from)) return
    this.askLater.add(from)
    const wait = Math.max(0, ASK_GAP_MS - (this.ctx.host.now() - (this.askedAt.get(from) ?? 0)))
    this.ctx.host.scheduler.setTimeout(wait, () => {
      this.askLater.delete(from)
      if (this.ctx.stopped || !this.ctx.peers.has(from)) return
      this.askAgain(from)
    })
  }

  /** A peer asked for our digest (`askAgain`): sent at most once per ASK_GAP_MS, never with an ask of its own. */
  private answerAsk(from: string): void {
    if (this.due(this.askAnswered, from, ASK_GAP_MS)) this.syncWith(from)
  }

  /** Sends a peer whose digest left shards out a digest of ours, at most once per ANSWER_GAP_MS. */
  private answer(peer: string): void {
    if (this.due(this.answered, peer, ANSWER_GAP_MS)) this.syncWith(peer)
  }

  /** True, noting now in `last`, when `peer` was last noted there `gapMs` ago or more (or never). */
  private due(last: Map<string, number>, peer: string, gapMs: number): boolean {
    const now = this.ctx.host.now()
    const at = last.get(peer)
    if (at !== undefined && now - at < gapMs) return false
    last.set(peer, now)
    return true
  }

  /** Notes that the state of `shard` in `generation` at digest `hash` and `stateVector` was sent to `peer` now. */
  private noteSent(peer: string, shard: string, generation: number, hash: number, stateVector: Uint8Array): void {
    let m = this.sentState.get(peer)
    if (m === undefined) this.sentState.set(peer, (m = new Map()))
    m.set(shard, { generation, hash, stateVector })
  }

  /**
   * The state vector to diff against for what `peer`, holding `have`, lacks of `shard`: its
   * own, raised to the state last sent to it (`sentState`), which is on its way or in.
   * Null when that leaves nothing to send: no update beyond what was sent, and the shard's
   * digest (its deletes too) as it was when sent.
   */
  private lacking(peer: string, shard: string, have: Uint8Array, now: { generation: number; stateVector: Uint8Array; hash: number }): Uint8Array | null {
    const sent = this.sentState.get(peer)?.get(shard)
    // A state vector of another generation counts another document's updates.
    if (sent === undefined || sent.generation !== now.generation) return have
    let merged: Map<number, number>
    try {
      merged = Y.decodeStateVector(have)
      for (const [client, clock] of Y.decodeStateVector(sent.stateVector)) if ((merged.get(client) ?? 0) < clock) merged.set(client, clock)
    } catch {
      return have
    }
    const base = Y.encodeStateVector(merged)
    return sent.hash === now.hash && covers(base, now.stateVector) ? null : base
  }

  /** A peer left: shards asked from it may be asked from others at once. */
  peerDown(peer: string): void {
    this.sentState.delete(peer)
    for (const [id, f] of this.fetching) if (f.peer === peer) this.fetching.delete(id)
    this.answered.delete(peer)
    this.askedAt.delete(peer)
    this.askAnswered.delete(peer)
    this.inFlight.forget(peer)
    this.refused.delete(peer)
  }

  /** What `peer` sent of `shard` was refused (peer-scope.ts): not asked again while its state stays the same. */
  noteRefused(peer: string, shard: string): void {
    this.inFlight.answered(peer, shard)
    let m = this.refused.get(peer)
    if (m === undefined) this.refused.set(peer, (m = new Map()))
    m.delete(shard)
    m.set(shard, null)
    if (m.size > MAX_REFUSED_PER_PEER) m.delete(m.keys().next().value!)
  }

  /** Whether `shard` of `peer`, whose digest is now `hash`, is still the state refused before. */
  private stillRefused(peer: string, shard: string, hash: number): boolean {
    const m = this.refused.get(peer)
    if (m === undefined || !m.has(shard)) return false
    const seen = m.get(shard)
    // The first digest after a refusal names the state refused (a refusal answers a request, which followed a digest).
    if (seen === null) {
      m.set(shard, hash)
      return true
    }
    if (seen === hash) return true
    m.delete(shard)
    return false
  }

  /** A fragment of a message came from `peer`: an answer asked from it is on its way. */
  noteFragment(peer: string): void {
    this.inFlight.receiving(peer, this.ctx.host.now())
  }

  private sendDiffs(peer: string, diffs: ShardDiff[]): void {
    if (diffs.length === 0) return
    this.ctx.stats.diffsSent += diffs.length
    const shards = [...new Set(diffs.map((d) => d.shard))]
    this.ctx.host.whenDurable(
      () => this.fragments.sendChunked(peer, diffs, (d) => d.shard.length + d.update.length + d.stateVector.length + 24, (diffs) => ({ type: MessageType.SyncDiff, diffs })),
      { shards, send: true },
    )
  }

  onSyncRequest(from: string, requests: ShardStateVector[]): void {
    const info = this.ctx.peers.get(from)
    if (info === undefined) return
    const host = this.ctx.host
    const diffs: ShardDiff[] = []
    const sliced: Array<{ answer: Omit<ShardDiff, 'update'>; slices: StateSlices }> = []
    for (const r of requests) {
      if (!host.holds(from, info.region, r.shard) || !this.links.deliversTo(from, r.shard)) continue
      const shard = host.shardFor(r.shard)
      // Held by a sliced commit: answered once it ends (the peer's repair stays open and it asks again).
      if (shard === null || shard.isHeld) continue
      if (!host.holds(host.nodeId, host.region, r.shard)) {
        // A copy of a shard placed elsewhere, and `from` holds it: released once `from` has every update of it.
        if (r.generation === shard.generation && shard.prevs.length === 0 && covers(r.stateVector, shard.stateVector())) {
          host.releaseCopy(shard)
          continue
        }
      }
      if (r.generation < shard.generation) {
        this.sendGeneration(from, shard)
        continue
      }
      if (r.generation > shard.generation) continue
      let slices: StateSlices
      try {
        slices = shard.sliceState(r.stateVector, SLICE_STRUCTS)
      } catch {
        this.ctx.stats.rejected++
        continue
      }
      // What the peer would send back was refused here: it must not send it again (final).
      const final = this.refused.get(from)?.has(r.shard) === true
      const answer = { shard: r.shard, generation: shard.generation, hash: shard.digest(), final, stateVector: shard.stateVector() }
      this.noteSent(from, r.shard, answer.generation, answer.hash, answer.stateVector)
      if (slices.whole) diffs.push({ ...answer, update: slices.next()! })
      else sliced.push({ answer, slices })
    }
    // Whole diffs first: the catalog's among them lets the receiver resolve each slice's rows as it lands.
    this.sendDiffs(from, diffs)
    for (const { answer, slices } of sliced) this.sendSlices(from, answer, slices)
  }

  /**
   * Sends the slices of one answer, one message each, in order, encoding the next only
   * after a turn of the event loop (see the module header): the sender's encoding, the
   * transfer and the receiver's applying overlap, and neither side blocks for the whole
   * shard. Stops when the shard moved to another generation or replication stopped (the
   * receiver's repair stays open and it asks again).
   */
  private sendSlices(peer: string, answer: Omit<ShardDiff, 'update'>, slices: StateSlices): void {
    this.ctx.stats.diffsSent++
    this.ctx.stats.slicedAnswersSent++
    const host = this.ctx.host
    const step = (): void => {
      const shard = host.shardFor(answer.shard)
      if (this.ctx.stopped || host.isClosed || !this.ctx.peers.has(peer) || shard?.generation !== answer.generation || shard.isHeld) return
      let update: Uint8Array | null
      try {
        update = slices.next()
      } catch {
        // Never a crash from a timer: the receiver's repair stays open and it asks again.
        this.ctx.stats.rejected++
        return
      }
      if (update === null) return
      this.fragments.send(peer, { type: MessageType.SyncDiff, diffs: [{ ...answer, update }] })
      host.scheduler.setTimeout(0, step)
    }
    host.whenDurable(step, { shards: [answer.shard], send: true })
  }

  onSyncDiff(from: string, diffs: ShardDiff[]): void {
    const host = this.ctx.host
    const back: ShardDiff[] = []
    const sliced: Array<{ answer: Omit<ShardDiff, 'update'>; slices: StateSlices }> = []
    if (this.ctx.peers.has(from)) for (const d of diffs) this.ctx.confirmations.note(from, d.shard, d.hash)
    for (const d of diffs) {
      const shard = this.links.target(d.shard)
      if (shard === null || !this.links.acceptsFrom(from, d.shard) || d.generation !== shard.generation) {
        this.inFlight.answered(from, d.shard)
        if (shard !== null && d.generation > shard.generation && this.links.acceptsFrom(from, d.shard)) this.syncWith(from)
        continue
      }
      this.ctx.stats.repairBytes += d.update.length
      if (!host.applyRemote(shard, d.update)) {
        this.inFlight.answered(from, d.shard)
        this.ctx.stats.rejected++
        continue
      }
      // A final diff carries no state vector: it is always whole.
      if (!d.final && !covers(shard.stateVector(), d.stateVector)) {
        // A slice, and more of the answer follows (see the module header).
        this.ctx.stats.slicesReceived++
        this.inFlight.receiving(from, host.now())
        continue
      }
      this.inFlight.answered(from, d.shard)
      this.fetching.delete(d.shard)
      const repair = this.repairs.get(from)
      if (repair !== undefined && repair.shards.delete(d.shard) && repair.shards.size === 0) {
        this.repairs.delete(from)
        this.positions.acknowledge(from, repair.lsn)
        if (repair.listed !== null) host.heldEverythingOf(from, repair.listed)
        else if (repair.fetched) this.askAgain(from)
      }
      if (shard.digest() === d.hash) {
        // The peer's state (durable when its diff left) is exactly ours now: an equal
        // report, as a matching digest is (the builder's asks rely on it for stability).
        host.noteEqualState(d.shard, from)
        continue
      }
      if (d.final || shard.isHeld) continue
      // What the peer lacks beyond what is on its way to it already (our answer to its request).
      const hash = shard.digest()
      const stateVector = shard.stateVector()
      const base = this.lacking(from, d.shard, d.stateVector, { generation: shard.generation, stateVector, hash })
      if (base === null) continue
      let slices: StateSlices
      try {
        slices = shard.sliceState(base, SLICE_STRUCTS)
      } catch {
        this.ctx.stats.rejected++
        continue
      }
      this.noteSent(from, d.shard, shard.generation, hash, stateVector)
      // Large (a peer back after its link dropped mid-answer): in slices, as an answer is.
      if (slices.whole) back.push({ shard: d.shard, generation: shard.generation, update: slices.next()!, hash, final: true, stateVector: new Uint8Array(0) })
      else sliced.push({ answer: { shard: d.shard, generation: shard.generation, hash, final: false, stateVector }, slices })
    }
    this.sendDiffs(from, back)
    for (const { answer, slices } of sliced) this.sendSlices(from, answer, slices)
  }
}
