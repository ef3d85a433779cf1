/**
 * The core `Transport` of a Node peer (DESIGN.md decision 10): `@concord/p2p`'s session
 * transport with what only a server has.
 *
 * - Listens on TCP and WebSockets (browser replicas dial the latter); optional private
 *   network (cluster key, cluster-key.ts) so a node without the key cannot connect; a
 *   stable identity (peer-key.ts).
 * - Advertises its listen addresses in HELLO. Peer exchange: when a peer comes up, it is
 *   told the others' addresses and they its own; addresses learned from PEERS frames are
 *   dialed once each, so a cluster meshes. `join(addr)` targets are redialed with backoff
 *   until `stop` (p2p's join loop).
 *
 * - With `admitPeer` (the cluster's member list), only admitted libp2p identities connect.
 *
 * Invariants: those of `SessionTransport`; at most MAX_EXCHANGE_DIALS peer-exchange dials
 * in flight; a listener beyond loopback exists only with a cluster key (the constructor
 * refuses otherwise: an open peer port gives anyone who reaches it every row and write).
 */
// First: @concord/p2p gives Node 20 what libp2p needs before any libp2p module loads.
import { createLibp2pNode, SessionTransport, type Libp2pNode, type LogLevel, type SyncSession } from '@concord/p2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { preSharedKey } from '@libp2p/pnet'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import type { Scheduler, Transport } from '@concord/core'
import { errorMessage, silentLogger, type Logger } from '../log/logger.js'
import { isLoopbackHost, multiaddrHost } from './loopback-host.js'

export interface Libp2pTransportOptions {
  /** This replica's node id: how peers name us. */
  nodeId: string
  /** Multiaddrs to listen on; default TCP and WebSockets on 127.0.0.1, free ports. Beyond loopback needs `clusterKey`. */
  listen?: string[]
  /** Stable libp2p identity (see peer-key.ts); a fresh one if absent. */
  privateKey?: PrivateKey
  /** Contents of a libp2p swarm key file (see cluster-key.ts); absent: open network. */
  clusterKey?: Uint8Array
  /**
   * Whether a libp2p peer (PeerId string) may connect and take part: the cluster's member
   * list (node/peer-membership.ts). A refused peer's connection ends right after the Noise
   * handshake, before any stream; asked again for every connection and every message, so a
   * removed member's frames and signed gossip stop at once. Absent: every peer that has
   * the cluster key.
   */
  admitPeer?(peerId: string): boolean
  /**
   * Whether an admitted peer is restricted (a scoped browser replica): kept out of gossip
   * both ways, so it is served only through direct messages, which the replica filters by
   * its scope (core replication/peer-scope.ts).
   */
  restrictedPeer?(peerId: string): boolean
  /** Sign gossip (default true). Unsigned gossip is about 4x faster; use it with a cluster key. */
  signGossip?: boolean
  /** Largest direct or gossip message; default 64 MiB. */
  maxMessageBytes?: number
  /** Bytes that may wait to be written to one peer before sends are dropped; default 2 x maxMessageBytes. */
  maxQueuedBytes?: number
  /** Timeout for dials, stream opens and the HELLO; default 10 s. */
  handshakeTimeoutMs?: number
  /** Reconnect delays of `join` targets (default 250 ms doubling up to 30 s). */
  backoff?: { initialMs?: number; maxMs?: number }
  scheduler?: Scheduler
  logger?: Logger
}

export interface TransportStats {
  peers: number
  messagesSent: number
  messagesReceived: number
  messagesDropped: number
  bytesSent: number
  bytesReceived: number
  gossipPublished: number
  gossipReceived: number
  framesRejected: number
}

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
/** Peer-exchange dials in flight at once. */
const MAX_EXCHANGE_DIALS = 16

export class Libp2pTransport extends SessionTransport implements Transport {
  private readonly exchangeDials = new Set<string>()
  private readonly maxMessageBytes: number
  private readonly handshakeTimeoutMs: number
  private readonly logger: Logger

  private readonly options: Libp2pTransportOptions

  constructor(options: Libp2pTransportOptions) {
    const open = (options.listen ?? []).filter((a) => !isLoopbackHost(multiaddrHost(a) ?? ''))
    if (open.length > 0 && options.clusterKey === undefined) {
      throw new Error(`libp2p would listen beyond loopback (${open.join(' ')}) without a cluster key; give it one (concord gen-cluster-key)`)
    }
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
    super({
      nodeId: options.nodeId,
      maxMessageBytes,
      maxQueuedBytes: options.maxQueuedBytes ?? 2 * maxMessageBytes,
      handshakeTimeoutMs,
      backoff: options.backoff ?? {},
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    })
    this.options = options
    this.maxMessageBytes = maxMessageBytes
    this.handshakeTimeoutMs = handshakeTimeoutMs
    this.logger = options.logger ?? silentLogger
  }

  /** Our libp2p PeerId (string form); available after `start`. */
  get peerId(): string {
    return this.requireNode().peerId.toString()
  }

  /** Dialable multiaddrs including `/p2p/<peer id>`; available after `start`. */
  addresses(): string[] {
    return this.requireNode()
      .getMultiaddrs()
      .map((a) => a.toString())
  }

  stats(): TransportStats {
    const c = this.sync.counters
    const g = this.gossip.counters
    return {
      peers: this.peers().length,
      messagesSent: c.messagesSent,
      messagesReceived: c.messagesReceived,
      messagesDropped: c.messagesDropped + g.dropped,
      bytesSent: c.bytesSent,
      bytesReceived: c.bytesReceived,
      gossipPublished: g.published,
      gossipReceived: g.received,
      framesRejected: c.framesRejected + g.rejected,
    }
  }

  /**
   * Keeps a connection to `addr` (a multiaddr, with or without `/p2p/<id>`): dials now or
   * at start, and redials with backoff whenever the connection is lost, until `stop`.
   */
  join(addr: string | Multiaddr): void {
    void this.joins.dial(this.joins.add(addr))
  }

  // ---- the environment -----------------------------------------------------------------

  protected createNode(): Promise<Libp2pNode> {
    return createLibp2pNode({
      name: 'concord',
      listen: this.options.listen ?? ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'],
      transports: [tcp(), webSockets()],
      ...(this.options.privateKey ? { privateKey: this.options.privateKey } : {}),
      ...(this.options.clusterKey ? { connectionProtector: preSharedKey({ psk: this.options.clusterKey }) } : {}),
      // Why: cluster members commonly sit on private and loopback addresses.
      denyDial: () => false,
      ...(this.options.restrictedPeer ? { gossipExcluded: (peerId: string) => this.gossipExcluded(peerId) } : {}),
      ...(this.options.admitPeer ? { denyPeer: (peerId: string) => peerId !== this.node?.peerId.toString() && !this.peerAdmitted(peerId) } : {}),
      signGossip: this.options.signGossip !== false,
      maxMessageBytes: this.maxMessageBytes,
    })
  }

  protected override started(): void {
    this.logger.info(`libp2p ${this.peerId} listening on ${this.addresses().join(' ')}`)
  }

  protected override peerAdmitted(peerId: string): boolean {
    return this.options.admitPeer?.(peerId) ?? true
  }

  protected override gossipExcluded(peerId: string): boolean {
    return this.options.restrictedPeer?.(peerId) ?? false
  }

  protected accepting(): boolean {
    return !this.stopped
  }

  protected helloAddrs(): string[] {
    return this.addresses()
  }

  /** Peer exchange: dial what peers tell us about (PEERS frames); HELLO addresses are passed on when the peer comes up. */
  protected learned(addrs: string[], _from: SyncSession, source: 'hello' | 'peers'): void {
    if (source === 'peers') for (const addr of addrs) this.exchangeDial(addr)
  }

  protected override sessionUp(session: SyncSession): void {
    const others = [...this.sync.all()].filter((x) => x.up && x !== session)
    this.sync.sendPeers(session, others.flatMap((x) => x.addrs.slice(0, 4)))
    for (const x of others) this.sync.sendPeers(x, session.addrs)
    super.sessionUp(session)
  }

  protected log(level: LogLevel, message: string): void {
    this.logger[level](message)
  }

  private exchangeDial(addr: string): void {
    if (this.stopped || this.exchangeDials.size >= MAX_EXCHANGE_DIALS || this.exchangeDials.has(addr)) return
    let ma: Multiaddr
    try {
      ma = multiaddr(addr)
    } catch {
      return
    }
    const peerId = ma.getComponents().find((c) => c.name === 'p2p')?.value
    if (!peerId || peerId === this.peerId || this.sync.ofPeer(peerId) !== undefined) return
    this.exchangeDials.add(addr)
    this.requireNode()
      .dial(ma, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      .catch((err: unknown) => this.logger.info(`peer-exchange dial ${addr} failed: ${errorMessage(err)}`))
      .finally(() => this.exchangeDials.delete(addr))
  }
}
