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
import { withKeptSigningKey } from './peer-key.js'

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
   * Why a libp2p peer may not speak as a replica node id (its HELLO, or the origin of gossip
   * it signed), or null: node ids bound to PeerIds by the member list
   * (node/peer-membership.ts). A refused HELLO closes that connection without touching the
   * session of the node holding the id; refused gossip is neither applied nor relayed.
   * Absent: every claim is taken.
   */
  claimRefused?(nodeId: string, peerId: string): string | null
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
  /** Certificate and key of `/tls/ws` listeners (WebSockets over TLS, for HTTPS pages). */
  webSocketsTls?: { cert: Buffer; key: Buffer }
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
      transports: [tcp(), webSockets(this.options.webSocketsTls ? { https: { cert: this.options.webSocketsTls.cert, key: this.options.webSocketsTls.key } } : {})],
      ...(this.options.privateKey ? { privateKey: withKeptSigningKey(this.options.privateKey) } : {}),
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

  protected override claimRefused(nodeId: string, peerId: string): string | null {
    return this.options.claimRefused?.(nodeId, peerId) ?? null
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

  /**
   * Peer exchange: dial what peers tell us about (PEERS frames); HELLO addresses are passed
   * on when the peer comes up, and only the ones that are the peer's own (`ownAddrs`).
   */
  protected learned(addrs: string[], from: SyncSession, source: 'hello' | 'peers'): void {
    if (source === 'hello') {
      from.addrs = this.ownAddrs(addrs, from)
      return
    }
    const fromLoopback = this.observedHosts(from.peerId).every(isLoopbackHost)
    for (const addr of addrs) this.exchangeDial(addr, fromLoopback)
  }

  /**
   * What a HELLO may make members dial (docs/security.md, "A peer"): only addresses of the
   * peer itself: its own `/p2p/` id (added when absent), on the host we observe its
   * connection coming from (any loopback address when that is loopback). A forged list
   * naming other hosts, other PeerIds or DNS names is cut to those and logged, so it can
   * no longer point the cluster at an address of the sender's choosing; what remains is
   * the sender's own host, on ports it chooses.
   */
  private ownAddrs(addrs: string[], session: SyncSession): string[] {
    const observed = this.observedHosts(session.peerId)
    const kept: string[] = []
    const dropped: string[] = []
    for (const addr of addrs) {
      const own = ownAddress(addr, session.peerId, observed)
      if (own !== undefined) kept.push(own)
      else dropped.push(addr)
    }
    if (dropped.length > 0) {
      this.logger.warn(`peer ${session.peerId} advertised ${dropped.length} address(es) that are not its own (${dropped.slice(0, 3).join(' ')}${dropped.length > 3 ? ' ..' : ''}): not dialed, not passed on`)
    }
    return kept
  }

  /** Hosts the connections to a peer come from. */
  private observedHosts(peerId: string): string[] {
    const hosts: string[] = []
    for (const c of this.node?.getConnections() ?? []) {
      if (c.remotePeer.toString() !== peerId) continue
      const host = multiaddrHost(c.remoteAddr.toString())
      if (host !== undefined) hosts.push(host)
    }
    return hosts
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

  /**
   * Dials an address a PEERS frame named: only a peer the cluster admits (a member, once
   * the list is on; never a scoped browser), and never a loopback address told by a peer
   * that is not itself on loopback (that would be this machine, not the peer's).
   */
  private exchangeDial(addr: string, fromLoopback: boolean): void {
    if (this.stopped || this.exchangeDials.size >= MAX_EXCHANGE_DIALS || this.exchangeDials.has(addr)) return
    let ma: Multiaddr
    try {
      ma = multiaddr(addr)
    } catch {
      return
    }
    const peerId = ma.getComponents().find((c) => c.name === 'p2p')?.value
    if (!peerId || peerId === this.peerId || this.sync.ofPeer(peerId) !== undefined) return
    if (!this.peerAdmitted(peerId) || this.gossipExcluded(peerId)) return
    if (!fromLoopback && isLoopbackHost(multiaddrHost(addr) ?? '')) return
    this.exchangeDials.add(addr)
    this.requireNode()
      .dial(ma, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      .catch((err: unknown) => this.logger.info(`peer-exchange dial ${addr} failed: ${errorMessage(err)}`))
      .finally(() => this.exchangeDials.delete(addr))
  }
}

/**
 * `addr` as an address of `peerId` on one of the `observed` hosts (with `/p2p/<peerId>`),
 * or undefined when it is not one: another PeerId, a host name, a host it does not
 * connect from, or not a multiaddr.
 */
export function ownAddress(addr: string, peerId: string, observed: string[]): string | undefined {
  let ma: Multiaddr
  try {
    ma = multiaddr(addr)
  } catch {
    return undefined
  }
  const ids = ma.getComponents().filter((c) => c.name === 'p2p').map((c) => c.value)
  if (ids.length > 1 || (ids.length === 1 && ids[0] !== peerId)) return undefined
  if (!/^\/ip[46]\//.test(addr)) return undefined
  const host = multiaddrHost(addr)
  if (host === undefined) return undefined
  const matches = observed.some((o) => sameHost(o, host))
  if (!matches) return undefined
  return ids.length === 1 ? addr : `${addr}/p2p/${peerId}`
}

function sameHost(observed: string, advertised: string): boolean {
  const o = observed.replace(/^::ffff:/, '')
  if (isLoopbackHost(o)) return isLoopbackHost(advertised)
  return o === advertised
}
