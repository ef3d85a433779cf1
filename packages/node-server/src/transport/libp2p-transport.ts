/**
 * The core `Transport` on libp2p 3 (DESIGN.md decision 10).
 *
 * - Listens on TCP and WebSockets; Noise, Yamux, identify, ping; optional private network
 *   (cluster key) so a node without the key cannot connect.
 * - `publish`/`subscribe`: gossipsub. Each message is wrapped in an envelope naming its
 *   origin node, because gossip is relayed (gossip-envelope.ts).
 * - `send`: the '/concord/sync/1.0.0' protocol, whose sessions (HELLO, DATA, PEERS
 *   frames; a peer is "up" once both directions are open) live in sync-sessions.ts,
 *   shared with the browser transport.
 * - `join(addr)` keeps dialing an address with backoff until `stop`. Peers learned from
 *   HELLO and PEERS frames are dialed once each (peer exchange), so a cluster meshes.
 *
 * Invariants: peers are named by node id (never PeerId) above this module; a frame that
 * does not decode drops that peer's connection and nothing else; every queue and message
 * is bounded (`maxMessageBytes`, `maxQueuedBytes`); nothing runs after `stop`.
 */
import '../polyfill.js'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, StrictNoSign, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import { preSharedKey } from '@libp2p/pnet'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Scheduler, Transport, TransportHandler } from '@concord/core'
import { backoffDelay } from './backoff.js'
import { GossipTopics } from './gossip-topics.js'
import { encodeSyncFrame, SYNC_PROTOCOL } from './sync-frame.js'
import { SyncSessions } from './sync-sessions.js'
import { SessionTransport } from './session-transport.js'
import { errorMessage, silentLogger, type Logger } from '../log/logger.js'

export interface Libp2pTransportOptions {
  /** This replica's node id: how peers name us. */
  nodeId: string
  /** Multiaddrs to listen on; default TCP and WebSockets on 0.0.0.0, free ports. */
  listen?: string[]
  /** Stable libp2p identity (see peer-key.ts); a fresh one if absent. */
  privateKey?: PrivateKey
  /** Contents of a libp2p swarm key file (see cluster-key.ts); absent: open network. */
  clusterKey?: Uint8Array
  /** Sign gossip (default true). Unsigned gossip is about 4x faster; use it with a cluster key. */
  signGossip?: boolean
  /** Largest direct or gossip message; default 64 MiB. */
  maxMessageBytes?: number
  /** Bytes that may wait to be written to one peer before sends are dropped; default 2 x maxMessageBytes. */
  maxQueuedBytes?: number
  /** Timeout for dials, stream opens and the HELLO; default 10 s. */
  handshakeTimeoutMs?: number
  /** Reconnect delays of `join` targets. */
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

interface JoinTarget {
  readonly addr: Multiaddr
  attempt: number
  peerId?: string
  cancelTimer?: () => void
  dialing: boolean
}

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
/** Peer-exchange dials in flight at once. */
const MAX_EXCHANGE_DIALS = 16

const realScheduler: Scheduler = {
  setTimeout(ms: number, fn: () => void) {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return () => clearTimeout(t)
  },
}

export class Libp2pTransport extends SessionTransport implements Transport {
  private node?: Libp2p<{ pubsub: GossipSub }>
  private handler?: TransportHandler
  protected readonly sync: SyncSessions
  private readonly targets: JoinTarget[] = []
  private readonly exchangeDials = new Set<string>()
  private stopped = false
  private readonly maxMessageBytes: number
  private readonly maxQueuedBytes: number
  private readonly handshakeTimeoutMs: number
  private readonly scheduler: Scheduler
  private readonly log: Logger
  protected readonly gossip: GossipTopics

  constructor(private readonly options: Libp2pTransportOptions) {
    super()
    encodeSyncFrame({ type: 'hello', nodeId: options.nodeId, addrs: [] }) // validates the node id
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
    this.maxQueuedBytes = options.maxQueuedBytes ?? 2 * this.maxMessageBytes
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
    this.scheduler = options.scheduler ?? realScheduler
    this.log = options.logger ?? silentLogger
    this.gossip = new GossipTopics(
      { nodeId: options.nodeId, maxMessageBytes: this.maxMessageBytes },
      { message: (from, data) => this.deliver(from, data), log: (level, message) => (level === 'info' ? this.log.info(message) : this.log.warn(message)) },
    )
    this.sync = new SyncSessions(
      { nodeId: options.nodeId, maxMessageBytes: this.maxMessageBytes, maxQueuedBytes: this.maxQueuedBytes, handshakeTimeoutMs: this.handshakeTimeoutMs },
      {
        helloAddrs: () => this.addresses(),
        accepting: () => this.accepting(),
        // Peer exchange: dial what peers tell us about (PEERS frames); HELLO addresses are
        // passed on to the others when the peer comes up.
        learned: (addrs, _from, source) => {
          if (source === 'peers') for (const addr of addrs) this.exchangeDial(addr)
        },
        up: (session) => {
          const others = [...this.sync.all()].filter((x) => x.up && x !== session)
          this.sync.sendPeers(session, others.flatMap((x) => x.addrs.slice(0, 4)))
          for (const x of others) this.sync.sendPeers(x, session.addrs)
          this.handler?.onPeerUp(session.nodeId!)
        },
        down: (session) => this.handler?.onPeerDown(session.nodeId!),
        message: (from, data) => this.deliver(from, data),
        log: (level, message) => (level === 'info' ? this.log.info(message) : this.log.warn(message)),
      },
    )
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

  async start(handler: TransportHandler): Promise<void> {
    if (this.node) throw new Error('transport already started')
    this.handler = handler
    const maxMessageBytes = this.maxMessageBytes
    const node = await createLibp2p({
      ...(this.options.privateKey ? { privateKey: this.options.privateKey } : {}),
      nodeInfo: { name: 'concord', version: '0.1.0', userAgent: 'concord/0.1.0' },
      addresses: { listen: this.options.listen ?? ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'] },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      ...(this.options.clusterKey ? { connectionProtector: preSharedKey({ psk: this.options.clusterKey }) } : {}),
      // Why: cluster members commonly sit on private and loopback addresses.
      connectionGater: { denyDialMultiaddr: async () => false },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          globalSignaturePolicy: this.options.signGossip === false ? StrictNoSign : StrictSign,
          maxInboundDataLength: maxMessageBytes + 1024,
          maxOutboundBufferSize: 2 * maxMessageBytes,
        }),
      },
    })
    this.node = node
    this.sync.attach(node)
    await node.handle(SYNC_PROTOCOL, (stream, connection) => this.sync.inbound(stream, connection), {
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
    })
    node.addEventListener('peer:connect', (e) => this.onConnect(e.detail))
    node.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail))
    this.gossip.attach(node.services.pubsub)
    this.log.info(`libp2p ${node.peerId.toString()} listening on ${this.addresses().join(' ')}`)
    for (const target of this.targets) void this.dialTarget(target)
  }

  protected accepting(): boolean {
    return !this.stopped
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
    const target: JoinTarget = { addr: typeof addr === 'string' ? multiaddr(addr) : addr, attempt: 0, dialing: false }
    this.targets.push(target)
    if (this.node && !this.stopped) void this.dialTarget(target)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.targets) t.cancelTimer?.()
    this.sync.stop()
    await this.node?.stop()
  }

  // --- connections and sessions -------------------------------------------------------

  private onConnect(peerId: PeerId): void {
    if (this.stopped) return
    this.sync.connected(peerId.toString())
  }

  private onDisconnect(peerId: PeerId): void {
    const id = peerId.toString()
    this.sync.disconnected(id)
    for (const t of this.targets) if (t.peerId === id && !t.dialing) this.scheduleRedial(t)
  }

  private deliver(from: string, data: Uint8Array): void {
    try {
      this.handler?.onMessage(from, data)
    } catch (err) {
      // The replica must not be able to kill a connection by throwing.
      this.log.error(`replica failed on a message from ${from}: ${errorMessage(err)}`)
    }
  }

  // --- dialing ----------------------------------------------------------------------------

  private async dialTarget(target: JoinTarget): Promise<void> {
    if (this.stopped || target.dialing) return
    target.dialing = true
    try {
      const conn = await this.requireNode().dial(target.addr, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      target.peerId = conn.remotePeer.toString()
      target.attempt = 0
      if (conn.status !== 'open') this.scheduleRedial(target)
    } catch (err) {
      if (this.stopped) return
      this.log.warn(`dial ${target.addr.toString()} failed (attempt ${target.attempt + 1}): ${errorMessage(err)}`)
      this.scheduleRedial(target)
    } finally {
      target.dialing = false
    }
  }

  private scheduleRedial(target: JoinTarget): void {
    if (this.stopped) return
    target.cancelTimer?.()
    const delay = backoffDelay(target.attempt++, this.options.backoff)
    target.cancelTimer = this.scheduler.setTimeout(delay, () => {
      target.cancelTimer = undefined
      void this.dialTarget(target)
    })
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
      .catch((err: unknown) => this.log.info(`peer-exchange dial ${addr} failed: ${errorMessage(err)}`))
      .finally(() => this.exchangeDials.delete(addr))
  }

  private requireNode(): Libp2p<{ pubsub: GossipSub }> {
    if (!this.node) throw new Error('transport not started')
    return this.node
  }
}
