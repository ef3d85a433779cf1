/**
 * The peer port's second lock, after the cluster key: the member list (the catalog's
 * `peer_member` entries, @concord/sql-facade cluster/peer-members.ts) decides which libp2p
 * identities may connect and have their data applied.
 *
 * - Membership off (no entry yet): every peer holding the cluster key is admitted, as
 *   before the list existed.
 * - Membership on: only live members and this node itself. The transport asks `admits`
 *   when a connection's Noise handshake has authenticated the remote PeerId (a refused
 *   peer gets no stream, no gossip, no HELLO), for every direct frame, and for every
 *   signed gossip message (a relayed message signed by a non-member is dropped).
 * - When the list changes (a local ALTER SYSTEM, or a catalog update from a peer), every
 *   connection to a peer no longer admitted is closed at once.
 *
 * Invariants: the set is recomputed from the catalog after every `peer_member` change
 * (never edited by hand); before the catalog is attached every peer is refused (a start
 * must not admit anyone the list would refuse); each refused PeerId is logged once
 * (bounded to MAX_LOGGED ids).
 */
import type { Replica } from '@concord/core'
import { listPeerMembers, PEER_MEMBER_KIND } from '@concord/sql-facade'
import type { Logger } from '../log/logger.js'

const MAX_LOGGED = 1024

export interface MembershipTransport {
  readonly peerId: string
  connectedPeerIds(): string[]
  disconnectPeer(peerId: string, reason: string): void
}

export class PeerMembership {
  private replica: Replica | undefined
  private transport: MembershipTransport | undefined
  private on = false
  private members = new Set<string>()
  private readonly logged = new Set<string>()
  private unsubscribe: () => void = () => {}
  private readonly log: Logger

  private readonly alsoAdmitted: (peerId: string) => boolean

  /** `alsoAdmitted`: peers let in besides members (scoped browser replicas, browser-grants.ts), never cut off here. */
  constructor(log: Logger, alsoAdmitted: (peerId: string) => boolean = () => false) {
    this.log = log
    this.alsoAdmitted = alsoAdmitted
  }

  /** Starts reading the list from the replica's catalog and enforcing it on the transport. */
  attach(replica: Replica, transport: MembershipTransport): void {
    this.replica = replica
    this.transport = transport
    this.refresh()
    this.unsubscribe = replica.on('catalog', (changes) => {
      if (changes.some((c) => c.kind === PEER_MEMBER_KIND)) this.refresh()
    })
  }

  /** Whether the cluster has a member list (from its first entry on, for good). */
  get enforced(): boolean {
    return this.on
  }

  /** Whether a libp2p peer may connect and have its data applied. */
  admits(peerId: string): boolean {
    if (this.replica === undefined) return false
    if (!this.on || this.members.has(peerId)) return true
    if (!this.logged.has(peerId) && this.logged.size < MAX_LOGGED) {
      this.logged.add(peerId)
      this.log.warn(`refused peer ${peerId}: not a member of the cluster (a member admits it with ALTER SYSTEM ADD NODE '${peerId}', or it joins with a join token)`)
    }
    return false
  }

  stop(): void {
    this.unsubscribe()
  }

  private refresh(): void {
    const replica = this.replica
    const transport = this.transport
    if (replica === undefined || transport === undefined) return
    const entries = listPeerMembers(replica)
    this.on = entries.length > 0
    this.members = new Set(entries.filter((e) => !e.removed).map((e) => e.peerId))
    this.members.add(transport.peerId)
    for (const id of this.members) this.logged.delete(id)
    if (!this.on) return
    for (const peerId of transport.connectedPeerIds()) {
      if (this.members.has(peerId) || this.alsoAdmitted(peerId)) continue
      this.log.warn(`peer ${peerId} is not a member of the cluster (removed, or never admitted): connection closed`)
      transport.disconnectPeer(peerId, 'not a member of the cluster')
    }
  }
}
