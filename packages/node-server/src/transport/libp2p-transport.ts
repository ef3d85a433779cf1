/**
 * The core `Transport` on libp2p 3 (DESIGN.md decision 10).
 *
 * - Listens on TCP and WebSockets; Noise, Yamux, identify, ping; optional private network
 *   (cluster key) so a node without the key cannot connect.
 * - `publish`/`subscribe`: gossipsub. Each message is wrapped in an envelope naming its
 *   origin node, because gossip is relayed (gossip-envelope.ts).
 * - `send`: the '/concord/sync/1.0.0' protocol. Each side of a connection opens one
 *   outbound stream to the other and writes a HELLO naming its replica node id, then DATA
 *   and PEERS frames (sync-frame.ts). A peer is "up" once its HELLO arrived on our inbound
 *   stream and our outbound stream to it is open; only then can the replica send to it.
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
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { Scheduler, Transport, TransportHandler } from '@concord/core'
import { backoffDelay } from './backoff.js'
import { decodeLengthPrefix, MAX_PREFIX_BYTES } from './length-prefix.js'
import { decodeGossipEnvelope, encodeGossipEnvelope } from './gossip-envelope.js'
import { decodeSyncFrame, encodeSyncFrame, MAX_ADDRS, SYNC_PROTOCOL, type SyncFrame } from './sync-frame.js'
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

interface PeerSession {
  readonly peerId: string
  nodeId?: string
  addrs: string[]
  out?: LengthPrefixedStream<Stream>
  outStream?: Stream
  inStream?: Stream
  queue: Uint8Array[]
  queuedBytes: number
  writing: boolean
  up: boolean
  closed: boolean
}

interface JoinTarget {
  readonly addr: Multiaddr
  attempt: number
  peerId?: string
  cancelTimer?: () => void
  dialing: boolean
}

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024
/** Frames written to a stream in one write (one syscall, DESIGN.md decision 13). */
const MAX_FRAMES_PER_WRITE = 256
/** Peer-exchange dials in flight at once. */
const MAX_EXCHANGE_DIALS = 16

const realScheduler: Scheduler = {
  setTimeout(ms: number, fn: () => void) {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return () => clearTimeout(t)
  },
}

export class Libp2pTransport implements Transport {
  private node?: Libp2p<{ pubsub: GossipSub }>
  private handler?: TransportHandler
  private readonly sessions = new Map<string, PeerSession>()
  private readonly peerOfNode = new Map<string, string>()
  private readonly targets: JoinTarget[] = []
  private readonly exchangeDials = new Set<string>()
  private readonly topics = new Set<string>()
  private stopped = false
  private readonly maxMessageBytes: number
  private readonly maxQueuedBytes: number
  private readonly handshakeTimeoutMs: number
  private readonly scheduler: Scheduler
  private readonly log: Logger
  private readonly counters: Omit<TransportStats, 'peers'> = {
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    bytesSent: 0,
    bytesReceived: 0,
    gossipPublished: 0,
    gossipReceived: 0,
    framesRejected: 0,
  }

  constructor(private readonly options: Libp2pTransportOptions) {
    encodeSyncFrame({ type: 'hello', nodeId: options.nodeId, addrs: [] }) // validates the node id
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
    this.maxQueuedBytes = options.maxQueuedBytes ?? 2 * this.maxMessageBytes
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
    this.scheduler = options.scheduler ?? realScheduler
    this.log = options.logger ?? silentLogger
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
    await node.handle(SYNC_PROTOCOL, (stream, connection) => this.onInboundStream(stream, connection), {
      maxInboundStreams: 4,
      maxOutboundStreams: 4,
    })
    node.addEventListener('peer:connect', (e) => this.onConnect(e.detail))
    node.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail))
    node.services.pubsub.addEventListener('message', (e) => {
      const msg = e.detail
      if (!this.topics.has(msg.topic)) return
      let envelope: { origin: string; data: Uint8Array }
      try {
        envelope = decodeGossipEnvelope(msg.data)
      } catch (err) {
        this.counters.framesRejected++
        this.log.warn(`dropped gossip on ${msg.topic}: ${errorMessage(err)}`)
        return
      }
      if (envelope.origin === this.options.nodeId) return
      this.counters.gossipReceived++
      this.deliver(envelope.origin, envelope.data)
    })
    for (const topic of this.topics) node.services.pubsub.subscribe(topic)
    this.log.info(`libp2p ${node.peerId.toString()} listening on ${this.addresses().join(' ')}`)
    for (const target of this.targets) void this.dialTarget(target)
  }

  send(peer: string, data: Uint8Array): void {
    const session = this.sessionOfNode(peer)
    if (!session?.up || !session.out) {
      this.counters.messagesDropped++
      return
    }
    if (data.length > this.maxMessageBytes) {
      this.counters.messagesDropped++
      this.log.warn(`dropped a ${data.length}-byte message to ${peer}: larger than ${this.maxMessageBytes}`)
      return
    }
    this.enqueue(session, encodeSyncFrame({ type: 'data', data }))
  }

  publish(topic: string, data: Uint8Array): void {
    const node = this.node
    if (!node || this.stopped) return
    if (data.length > this.maxMessageBytes) {
      this.counters.messagesDropped++
      this.log.warn(`dropped a ${data.length}-byte gossip message: larger than ${this.maxMessageBytes}`)
      return
    }
    this.counters.gossipPublished++
    node.services.pubsub.publish(topic, encodeGossipEnvelope(this.options.nodeId, data)).catch((err: unknown) => {
      this.counters.messagesDropped++
      this.log.warn(`gossip publish on ${topic} failed: ${errorMessage(err)}`)
    })
  }

  subscribe(topic: string): void {
    this.topics.add(topic)
    this.node?.services.pubsub.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic)
    this.node?.services.pubsub.unsubscribe(topic)
  }

  peers(): string[] {
    const out: string[] = []
    for (const s of this.sessions.values()) if (s.up && s.nodeId) out.push(s.nodeId)
    return out
  }

  stats(): TransportStats {
    return { peers: this.peers().length, ...this.counters }
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
    for (const s of this.sessions.values()) this.closeSession(s, undefined, false)
    await this.node?.stop()
  }

  // --- connections and sessions -------------------------------------------------------

  private onConnect(peerId: PeerId): void {
    if (this.stopped) return
    const session = this.session(peerId.toString())
    if (session.out || session.outStream) return
    void this.openOutbound(session)
  }

  private onDisconnect(peerId: PeerId): void {
    const id = peerId.toString()
    const session = this.sessions.get(id)
    if (session) this.closeSession(session, 'disconnected', false)
    for (const t of this.targets) if (t.peerId === id && !t.dialing) this.scheduleRedial(t)
  }

  private session(peerId: string): PeerSession {
    let s = this.sessions.get(peerId)
    if (!s) {
      s = { peerId, addrs: [], queue: [], queuedBytes: 0, writing: false, up: false, closed: false }
      this.sessions.set(peerId, s)
    }
    return s
  }

  private sessionOfNode(nodeId: string): PeerSession | undefined {
    const peerId = this.peerOfNode.get(nodeId)
    return peerId === undefined ? undefined : this.sessions.get(peerId)
  }

  private async openOutbound(session: PeerSession): Promise<void> {
    const node = this.requireNode()
    try {
      const remote = node.getConnections().find((c) => c.remotePeer.toString() === session.peerId)?.remotePeer
      if (!remote) return
      const stream = await node.dialProtocol(remote, SYNC_PROTOCOL, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      if (session.closed || this.stopped) {
        stream.abort(new Error('session closed'))
        return
      }
      session.outStream = stream
      const out = lpStream(stream, this.lpOptions())
      await out.write(encodeSyncFrame({ type: 'hello', nodeId: this.options.nodeId, addrs: this.addresses().slice(0, MAX_ADDRS) }), {
        signal: AbortSignal.timeout(this.handshakeTimeoutMs),
      })
      session.out = out
      this.maybeUp(session)
    } catch (err) {
      if (this.stopped || session.closed) return
      this.log.warn(`sync stream to ${session.peerId} failed: ${errorMessage(err)}`)
      this.closeSession(session, 'sync stream failed', true)
    }
  }

  private async onInboundStream(stream: Stream, connection: Connection): Promise<void> {
    const peerId = connection.remotePeer.toString()
    if (this.stopped) {
      stream.abort(new Error('stopping'))
      return
    }
    const session = this.session(peerId)
    if (session.inStream) session.inStream.abort(new Error('replaced by a newer sync stream'))
    session.inStream = stream
    const input = lpStream(stream, this.lpOptions())
    try {
      const first = decodeSyncFrame((await input.read({ signal: AbortSignal.timeout(this.handshakeTimeoutMs) })).subarray())
      if (first.type !== 'hello') throw new Error(`expected HELLO, got ${first.type.toUpperCase()}`)
      this.onHello(session, first)
      // Bounded by the stream: each iteration consumes one frame; the loop ends when the stream does.
      for (;;) {
        if (session.closed || this.stopped) return
        const frame = decodeSyncFrame((await input.read()).subarray())
        this.onFrame(session, frame)
      }
    } catch (err) {
      if (this.stopped || session.closed || session.inStream !== stream) return
      const name = err instanceof Error ? err.name : ''
      if (name === 'UnexpectedEOFError' || name === 'StreamResetError' || name === 'StreamClosedError') {
        this.closeSession(session, 'sync stream closed', true)
        return
      }
      this.counters.framesRejected++
      this.log.warn(`dropping peer ${session.nodeId ?? peerId}: bad sync frame (${errorMessage(err)})`)
      this.closeSession(session, 'bad frame', true)
    }
  }

  private onHello(session: PeerSession, hello: Extract<SyncFrame, { type: 'hello' }>): void {
    if (hello.nodeId === this.options.nodeId) throw new Error('peer claims our own node id')
    const previous = this.peerOfNode.get(hello.nodeId)
    if (previous !== undefined && previous !== session.peerId) {
      // The node restarted with a new libp2p identity; the old session is stale.
      const old = this.sessions.get(previous)
      if (old) this.closeSession(old, 'replaced by a newer connection', true)
    }
    session.nodeId = hello.nodeId
    session.addrs = hello.addrs
    this.peerOfNode.set(hello.nodeId, session.peerId)
    this.maybeUp(session)
  }

  private onFrame(session: PeerSession, frame: SyncFrame): void {
    switch (frame.type) {
      case 'data':
        this.counters.messagesReceived++
        this.counters.bytesReceived += frame.data.length
        this.deliver(session.nodeId!, frame.data)
        return
      case 'peers':
        for (const addr of frame.addrs) this.exchangeDial(addr)
        return
      case 'hello':
        throw new Error('second HELLO on a sync stream')
    }
  }

  private maybeUp(session: PeerSession): void {
    if (session.up || session.closed || !session.nodeId || !session.out) return
    session.up = true
    this.log.info(`peer ${session.nodeId} up (${session.peerId})`)
    // Peer exchange: tell the new peer about the others, and the others about it.
    const others = [...this.sessions.values()].filter((s) => s.up && s !== session)
    const known = others.flatMap((s) => s.addrs.slice(0, 4)).slice(0, MAX_ADDRS)
    if (known.length > 0) this.enqueue(session, encodeSyncFrame({ type: 'peers', addrs: known }))
    if (session.addrs.length > 0) {
      const frame = encodeSyncFrame({ type: 'peers', addrs: session.addrs.slice(0, MAX_ADDRS) })
      for (const s of others) this.enqueue(s, frame)
    }
    this.handler?.onPeerUp(session.nodeId)
  }

  private closeSession(session: PeerSession, reason: string | undefined, hangUp: boolean): void {
    if (session.closed) return
    session.closed = true
    this.sessions.delete(session.peerId)
    if (session.nodeId && this.peerOfNode.get(session.nodeId) === session.peerId) this.peerOfNode.delete(session.nodeId)
    session.queue.length = 0
    session.queuedBytes = 0
    session.outStream?.abort(new Error(reason ?? 'closed'))
    session.inStream?.abort(new Error(reason ?? 'closed'))
    const wasUp = session.up
    session.up = false
    if (wasUp && session.nodeId && !this.stopped) {
      this.log.info(`peer ${session.nodeId} down (${reason ?? 'closed'})`)
      this.handler?.onPeerDown(session.nodeId)
    }
    if (hangUp && this.node && !this.stopped) {
      const conns = this.node.getConnections().filter((c) => c.remotePeer.toString() === session.peerId)
      for (const c of conns) c.abort(new Error(reason ?? 'closed'))
    }
  }

  private deliver(from: string, data: Uint8Array): void {
    try {
      this.handler?.onMessage(from, data)
    } catch (err) {
      // The replica must not be able to kill a connection by throwing.
      this.log.error(`replica failed on a message from ${from}: ${errorMessage(err)}`)
    }
  }

  // --- writing --------------------------------------------------------------------------

  private enqueue(session: PeerSession, frame: Uint8Array): void {
    if (session.queuedBytes + frame.length > this.maxQueuedBytes) {
      this.counters.messagesDropped++
      return
    }
    session.queue.push(frame)
    session.queuedBytes += frame.length
    if (!session.writing) void this.pump(session)
  }

  private async pump(session: PeerSession): Promise<void> {
    const out = session.out
    if (!out) return
    session.writing = true
    try {
      // Bounded: each iteration removes at least one frame; enqueue refuses past maxQueuedBytes.
      while (session.queue.length > 0 && !session.closed) {
        const batch = session.queue.splice(0, MAX_FRAMES_PER_WRITE)
        let bytes = 0
        for (const f of batch) bytes += f.length
        session.queuedBytes -= bytes
        await out.writeV(batch)
        this.counters.messagesSent += batch.length
        this.counters.bytesSent += bytes
      }
    } catch (err) {
      if (!session.closed && !this.stopped) {
        this.log.warn(`write to ${session.nodeId ?? session.peerId} failed: ${errorMessage(err)}`)
        this.closeSession(session, 'write failed', true)
      }
    } finally {
      session.writing = false
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
    if (!peerId || peerId === this.peerId || this.sessions.has(peerId)) return
    this.exchangeDials.add(addr)
    this.requireNode()
      .dial(ma, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      .catch((err: unknown) => this.log.info(`peer-exchange dial ${addr} failed: ${errorMessage(err)}`))
      .finally(() => this.exchangeDials.delete(addr))
  }

  private lpOptions(): { maxDataLength: number; maxLengthLength: number; maxBufferSize: number; lengthDecoder: typeof decodeLengthPrefix } {
    return { maxDataLength: this.maxMessageBytes + 16, maxLengthLength: MAX_PREFIX_BYTES, maxBufferSize: this.maxMessageBytes + 1024, lengthDecoder: decodeLengthPrefix }
  }

  private requireNode(): Libp2p<{ pubsub: GossipSub }> {
    if (!this.node) throw new Error('transport not started')
    return this.node
  }
}
