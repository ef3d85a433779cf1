/**
 * What the parts of replication (gossip, anti-entropy, fragments, positions) share: the
 * host, the transport, the counters, the peers that said hello, and whether replication
 * stopped. Owned by the Replicator.
 */
import type { PeerScope } from './peer-scope.js'
import type { Transport } from '../api.js'
import type { PeerConfirmations } from './peer-confirmations.js'
import type { ReplicatedShard, ReplicationHost } from './replication-host.js'

export interface ReplicatorStats {
  messagesSent: number
  /** Messages of fresh local updates sent as direct frames to every hearer of their topic (update-audience.ts). */
  updatesSentDirect: number
  /** Messages of fresh local updates gossiped: some live hearer of their topic is not linked here. */
  updatesGossiped: number
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
  /** Messages from scoped peers that held something outside their scope (peer-scope.ts; those parts dropped). */
  outOfScope: number
  /** Updates from a full peer refused by its write check (a member without the admin right). */
  writesRefused: number
  /** Messages sent, and received whole, as fragments. */
  fragmentedSent: number
  fragmentedReceived: number
  /** Anti-entropy answers sent as slices (anti-entropy.ts SLICE_STRUCTS), and slices of one received before its last. */
  slicedAnswersSent: number
  slicesReceived: number
  /** Messages held back by catalog pacing (catalog-pacing.ts) before they were dispatched. */
  pacedMessages: number
}

export function newReplicatorStats(): ReplicatorStats {
  return {
    messagesSent: 0,
    updatesSentDirect: 0,
    updatesGossiped: 0,
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
    outOfScope: 0,
    writesRefused: 0,
    roundsFailed: 0,
    fragmentedSent: 0,
    fragmentedReceived: 0,
    slicedAnswersSent: 0,
    slicesReceived: 0,
    pacedMessages: 0,
  }
}

/** A peer that said hello. */
export interface PeerInfo {
  region: string
}

export interface ReplicationContext<S extends ReplicatedShard> {
  readonly host: ReplicationHost<S>
  readonly transport: Transport | null
  readonly stats: ReplicatorStats
  /** Peers that have said hello, with their regions. */
  readonly peers: ReadonlyMap<string, PeerInfo>
  /**
   * Peers the transport reports connected to this replica directly (onPeerUp until
   * onPeerDown): names a transport vouches for, unlike a gossip envelope's origin, which
   * is whatever its sender wrote. Bounds on peer records never push these out.
   */
  readonly linked: ReadonlySet<string>
  /** Moves whenever `peers` or `linked` changes (what is derived from them is kept per version). */
  readonly linksVersion: number
  /** Set once replication stopped: nothing is sent any more. */
  readonly stopped: boolean
  /** Upper bound on one encoded message (larger ones travel in fragments). */
  readonly maxBytes: number
  /** The state hashes connected peers reported (what `Replica.syncState` is made of). */
  readonly confirmations: PeerConfirmations
  /** A restricted peer's scope (peer-scope.ts); null for every unrestricted peer. */
  scopeOf(peer: string): PeerScope | null
}
