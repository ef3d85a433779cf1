/**
 * Positions: how far each peer durably holds this replica's changes, and how far this
 * replica holds each peer's, in LSNs (positions in a replica's own change sequence), and
 * what this replica knows of each peer for monitoring (pg_stat_replication, pg_nodes).
 *
 * A gossip message carries the LSN range of the updates in it; a receiver that holds
 * everything before that range acknowledges its end with ACK once durable (ranges that
 * arrive early wait, bounded, until the gap fills, by gossip or by an anti-entropy repair
 * acknowledging a digest's LSN: the position then follows on through them). The sender
 * turns each acknowledgement into the peer's position and a commit-to-acknowledgement lag.
 *
 * Bounds: MAX_RANGES_AHEAD ranges per peer; the commit log for lag measurement keeps the
 * last `setCommitLogLimit` commits (a peer further behind shows its position, no lag);
 * at most MAX_PEER_RECORDS peers are remembered. A message names its sender as the
 * transport gives it, and a gossip envelope's origin is whatever its sender wrote, so one
 * peer could otherwise grow this table without bound by naming a fresh origin per
 * message (found by the replication-messages fuzz campaign). Past the bound, the record
 * remembered longest of a peer the transport does not link directly makes room (`ReplicationContext.linked`); a linked peer is never forgotten, and when every
 * record is a linked peer's a newcomer is not remembered.
 */
import { CommitLog } from './commit-log.js'
import { MessageType } from './messages.js'
import type { Fragments } from './fragments.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

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
  /** Wall-clock ms of the last HEARTBEAT from it; null if none. */
  lastHeartbeat: number | null
  /** Wall-clock ms its link to this replica last went down; null if it never did. */
  downAt: number | null
}

/** LSN ranges remembered per peer while waiting for an earlier one. */
const MAX_RANGES_AHEAD = 256
/** Peers remembered at most; far above any real cluster (browser replicas included). */
export const MAX_PEER_RECORDS = 4096
/** Recent local commits remembered for lag measurement, by default. */
export const DEFAULT_COMMIT_LOG_LIMIT = 4096

export class Positions<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly fragments: Fragments<S>
  /** Per peer ever heard from: monitoring state, kept after it goes away. */
  private readonly status = new Map<string, PeerStatus>()
  /** (end LSN, wall ms) of recent local commits (see setCommitLogLimit). */
  private readonly commits = new CommitLog(DEFAULT_COMMIT_LOG_LIMIT)
  /** Per peer: LSN ranges received ahead of a gap, start -> end. */
  private readonly ahead = new Map<string, Map<number, number>>()
  /** Per peer: how far it said (last HEARTBEAT) it holds each node's changes. */
  private readonly reported = new Map<string, Map<string, number>>()

  constructor(ctx: ReplicationContext<S>, fragments: Fragments<S>) {
    this.ctx = ctx
    this.fragments = fragments
  }

  /** Every peer heard from since start, sorted by node id. */
  peerStatus(): PeerStatus[] {
    return [...this.status.values()].map((s) => ({ ...s })).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
  }

  /**
   * The monitoring record of a peer, created on first contact (see Bounds: past
   * MAX_PEER_RECORDS, a record that is not kept when no room can be made).
   */
  statusOf(peer: string): PeerStatus {
    let st = this.status.get(peer)
    if (st === undefined) {
      st = { nodeId: peer, region: '', connected: false, lastSeen: null, ackedLsn: 0, ackedAt: null, lagMs: null, receivedLsn: 0, lastHeartbeat: null, downAt: null }
      if (this.status.size < MAX_PEER_RECORDS || this.makeRoom()) this.status.set(peer, st)
    }
    return st
  }

  /**
   * Forgets the peer remembered longest (first in the map's order) that is not linked;
   * false when every peer is. The walk skips only linked peers, so it stays short.
   */
  private makeRoom(): boolean {
    for (const peer of this.status.keys()) {
      if (this.ctx.linked.has(peer)) continue
      this.status.delete(peer)
      this.ahead.delete(peer)
      this.reported.delete(peer)
      return true
    }
    return false
  }

  /** When a message from a peer last arrived (its own, direct or relayed); null: none remembered. */
  lastSeen(peer: string): number | null {
    return this.status.get(peer)?.lastSeen ?? null
  }

  /** A peer said hello (from `region`). */
  peerUp(peer: string, region: string): void {
    const st = this.statusOf(peer)
    st.region = region
    st.connected = true
  }

  /** The transport reports a peer's link gone at `now` (its record stays, for monitoring). */
  peerDown(peer: string, now: number): void {
    const st = this.status.get(peer)
    if (st === undefined) return
    st.connected = false
    st.downAt = now
  }

  /** When its link to this replica last went down; null if it never did. */
  downAt(peer: string): number | null {
    return this.status.get(peer)?.downAt ?? null
  }

  /**
   * How many recent commits to remember for lag measurement: a peer further behind shows
   * its position but no lag time. Bounded to keep memory bounded.
   */
  setCommitLogLimit(n: number): void {
    this.commits.setLimit(Math.max(16, Math.min(1_000_000, Math.floor(n))))
  }

  /** Records a durable local commit ending at `lsn`, for lag measurement. */
  noteCommit(lsn: number, at: number): void {
    this.commits.note(lsn, at)
  }

  /**
   * Acknowledges to `peer`, once durable, that this replica holds its changes up to `lsn`,
   * and beyond, through the ranges that came early and follow on from there (an
   * anti-entropy repair acknowledges a digest's LSN while later gossip already waits
   * ahead: without following on, the position stayed at the digest's LSN until the next
   * digest from that peer, and a failover picked a standby that held less).
   */
  acknowledge(peer: string, lsn: number): void {
    const st = this.statusOf(peer)
    if (lsn <= st.receivedLsn) return
    lsn = this.followOn(peer, lsn)
    st.receivedLsn = lsn
    // Once what was received is on disk here (at once, with synchronous storage).
    this.ctx.host.whenDurable(() => this.fragments.send(peer, { type: MessageType.Ack, lsn }), { send: true })
  }

  /**
   * The LSN range [prevLsn, lsn) of `from`'s changes was applied here: acknowledged, with
   * every range that came early and now follows on, once nothing before it is missing.
   */
  received(from: string, prevLsn: number, lsn: number): void {
    const st = this.statusOf(from)
    if (prevLsn > st.receivedLsn) {
      // Arrived ahead of a range still missing (reordered or lost): remember it, bounded.
      if (!this.status.has(from)) return
      let ahead = this.ahead.get(from)
      if (ahead === undefined) {
        ahead = new Map()
        this.ahead.set(from, ahead)
      }
      if (ahead.size < MAX_RANGES_AHEAD) ahead.set(prevLsn, Math.max(lsn, ahead.get(prevLsn) ?? 0))
      return
    }
    // Contiguous with what we hold of the sender's changes, and so may be what came early
    // (acknowledge follows on through it).
    this.acknowledge(from, lsn)
  }

  /**
   * How far this replica holds `from`'s changes given it holds them up to `lsn`: through
   * every range received ahead that starts at or before that point (applied when it came,
   * so held once all before it is). Drops the ranges it passes. At most MAX_RANGES_AHEAD
   * ranges, each visited once per pass that advances.
   */
  private followOn(from: string, lsn: number): number {
    const ahead = this.ahead.get(from)
    if (ahead === undefined) return lsn
    let upTo = lsn
    for (let moved = true; moved; ) {
      moved = false
      for (const [start, end] of ahead) {
        if (start > upTo) continue
        ahead.delete(start)
        if (end > upTo) {
          upTo = end
          moved = true
        }
      }
    }
    if (ahead.size === 0) this.ahead.delete(from)
    return upTo
  }

  /** A HEARTBEAT from `from`: it is alive, and holds each listed node's changes up to the LSN given. */
  onHeartbeat(from: string, held: Array<[string, number]>): void {
    this.statusOf(from).lastHeartbeat = this.ctx.host.now()
    if (this.status.has(from)) this.reported.set(from, new Map(held))
  }

  /** How far this replica holds `origin`'s changes (0 if it never heard from it). */
  receivedFrom(origin: string): number {
    return this.status.get(origin)?.receivedLsn ?? 0
  }

  /** How far `peer` last said it holds `origin`'s changes (0 if it never said). */
  heldBy(peer: string, origin: string): number {
    return this.reported.get(peer)?.get(origin) ?? 0
  }

  /** What a HEARTBEAT from this replica says it holds: every peer's changes, as far as received. */
  heldNow(): Array<[string, number]> {
    return [...this.status.values()].map((s): [string, number] => [s.nodeId, s.receivedLsn])
  }

  /** A peer acknowledged holding this replica's changes up to `lsn`: its position and lag. */
  onAck(from: string, lsn: number): void {
    const st = this.statusOf(from)
    if (lsn > this.ctx.host.lsn) {
      this.ctx.stats.rejected++
      return
    }
    if (lsn < st.ackedLsn) return
    const now = this.ctx.host.now()
    st.ackedLsn = lsn
    st.ackedAt = now
    const at = this.commits.timeOf(lsn)
    st.lagMs = at === null ? null : Math.max(0, now - at)
  }
}
