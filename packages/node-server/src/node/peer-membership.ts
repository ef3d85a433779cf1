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
 * - Node ids are bound to PeerIds (the entries' `nodeId`, sql-facade peer-members.ts):
 *   `claimRefused` answers the transport whether a peer may speak as the node id its HELLO
 *   (or a gossip envelope it signed) names. A node id bound to another member, or a member
 *   bound to another node id, is refused: a second process started with an existing
 *   node's `--node-id` is neither taken for that node nor able to replace its session, and
 *   nothing it sends under that name is applied. This node writes its own binding as soon
 *   as the list is on; a member still unbound is bound to the first node id it is heard
 *   speaking as. A binding that changes closes the sessions it now refuses.
 *
 * - Rights (`admin` or `member`, the entries' `right`): `rightOfNode` answers what a peer
 *   speaking as a node id may write (member-rights.ts), `selfRight` what this node may.
 *   Bindings of other members are written only by admins (a member's catalog write of the
 *   list would be refused everywhere).
 *
 * Invariants: the set and the bindings are recomputed from the catalog after every `peer_member` change
 * (never edited by hand); before the catalog is attached every peer is refused (a start
 * must not admit anyone the list would refuse); each refused PeerId is logged once
 * (bounded to MAX_LOGGED ids).
 */
import type { Replica } from '@concord/core'
import { bindPeerMember, listPeerMembers, memberBindings, PEER_MEMBER_KIND, type MemberBindings, type MemberRight } from '@concord/sql-facade'
import type { Logger } from '../log/logger.js'

const MAX_LOGGED = 1024

export interface MembershipTransport {
  readonly peerId: string
  connectedPeerIds(): string[]
  disconnectPeer(peerId: string, reason: string): void
  /** The node id a connected peer's HELLO named, if it said one. */
  nodeIdOfPeer(peerId: string): string | undefined
  /** The PeerId of a connected peer's session, by the node id its HELLO named. */
  peerIdOf(nodeId: string): string | undefined
}

export class PeerMembership {
  private replica: Replica | undefined
  private transport: MembershipTransport | undefined
  private on = false
  private members = new Set<string>()
  private readonly rights = new Map<string, MemberRight>()
  private bindings: MemberBindings = { peerOfNode: new Map(), nodeOfPeer: new Map() }
  /** PeerIds whose binding is being written (one catalog write each). */
  private readonly binding = new Set<string>()
  private stopped = false
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

  /** This node's right; null while the list is off (every node may write everything). */
  selfRight(): MemberRight | null {
    if (!this.on || this.transport === undefined) return null
    return this.rights.get(this.transport.peerId) ?? 'member'
  }

  /** A live member's right, by PeerId; undefined for a non-member. */
  rightOf(peerId: string): MemberRight | undefined {
    return this.rights.get(peerId)
  }

  /**
   * The right of the peer speaking as `nodeId`: its bound member's, else (not bound yet)
   * that of the PeerId of its direct session; null while the list is off. A node id no
   * member is known to speak as gets `member`, the lesser right.
   */
  rightOfNode(nodeId: string): MemberRight | null {
    if (!this.on) return null
    const peerId = this.bindings.peerOfNode.get(nodeId) ?? this.transport?.peerIdOf(nodeId)
    if (peerId === undefined) return 'member'
    const bound = this.bindings.nodeOfPeer.get(peerId)
    if (bound !== undefined && bound !== nodeId) return 'member'
    return this.rights.get(peerId) ?? 'member'
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

  /**
   * Why `peerId` may not speak as `nodeId` (see the header), or null. A live member not
   * bound yet is bound to `nodeId` (written to the catalog shortly after).
   */
  claimRefused(nodeId: string, peerId: string): string | null {
    if (!this.on || this.replica === undefined) return null
    const boundPeer = this.bindings.peerOfNode.get(nodeId)
    if (boundPeer !== undefined && boundPeer !== peerId) return `node id ${nodeId} is bound to member ${boundPeer}`
    const boundNode = this.bindings.nodeOfPeer.get(peerId)
    if (boundNode !== undefined && boundNode !== nodeId) return `that peer is bound to node id ${boundNode}`
    if (boundNode === undefined && this.members.has(peerId)) this.bind(peerId, nodeId)
    return null
  }

  stop(): void {
    this.stopped = true
    this.unsubscribe()
  }

  /** Writes `peerId`'s binding to `nodeId` (after the current call: never inside a transport callback's stack). */
  private bind(peerId: string, nodeId: string): void {
    const replica = this.replica
    if (replica === undefined || this.binding.has(peerId) || this.selfRight() === 'member') return
    this.binding.add(peerId)
    setImmediate(() => {
      this.binding.delete(peerId)
      if (this.stopped || replica.isClosed) return
      try {
        replica.transact((tx) => bindPeerMember(tx, peerId, nodeId, replica.nodeId, replica.now()))
        this.log.info(`member ${peerId} bound to node id ${nodeId}`)
      } catch (err) {
        this.log.warn(`could not bind member ${peerId} to node id ${nodeId}: ${err instanceof Error ? err.message : String(err)}`)
      }
    })
  }

  /** Re-reads the list and closes what it no longer admits (after a change of browser grants too). */
  refresh(): void {
    const replica = this.replica
    const transport = this.transport
    if (replica === undefined || transport === undefined) return
    const entries = listPeerMembers(replica)
    this.on = entries.length > 0
    this.members = new Set(entries.filter((e) => !e.removed).map((e) => e.peerId))
    this.rights.clear()
    for (const e of entries) if (!e.removed) this.rights.set(e.peerId, e.right)
    this.members.add(transport.peerId)
    this.bindings = memberBindings(entries)
    for (const id of this.members) this.logged.delete(id)
    if (!this.on) return
    const self = entries.find((e) => e.peerId === transport.peerId)
    if (self !== undefined && !self.removed && self.nodeId !== replica.nodeId) this.bind(transport.peerId, replica.nodeId)
    for (const peerId of transport.connectedPeerIds()) {
      if (this.members.has(peerId) || this.alsoAdmitted(peerId)) {
        const nodeId = transport.nodeIdOfPeer(peerId)
        const refused = nodeId === undefined ? null : this.claimRefused(nodeId, peerId)
        if (refused === null) continue
        this.log.warn(`peer ${peerId} speaks as node id ${nodeId}, but ${refused}: connection closed`)
        transport.disconnectPeer(peerId, 'node id claim refused')
        continue
      }
      this.log.warn(`peer ${peerId} is not a member of the cluster (removed, or never admitted): connection closed`)
      transport.disconnectPeer(peerId, 'not a member of the cluster')
    }
  }
}
