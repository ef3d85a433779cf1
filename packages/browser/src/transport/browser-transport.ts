/**
 * The core `Transport` of a browser replica: libp2p 3 over WebSockets to node peers,
 * Noise, Yamux, identify, ping and gossipsub, speaking exactly what node-server's
 * Libp2pTransport speaks, with the same code (wire.ts: the '/concord/sync/1.0.0'
 * sessions with HELLO, DATA and PEERS frames, and gossip in an envelope naming its
 * origin).
 *
 * A page cannot listen, so every connection is one we dial: the `join` targets, plus the
 * WebSocket addresses node peers tell us about in PEERS frames (kept as targets too, so
 * the replica reconnects to every node it has met). A lost connection is redialed with
 * exponential backoff and jitter. `setOnline(false)` hangs up and stops dialing until
 * `setOnline(true)`, which redials at once.
 *
 * Invariants: peers are named by replica node id above this module; a frame that does
 * not decode drops that peer's connection and nothing else; queues and messages are
 * bounded; no timer or dial runs after `stop`.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, StrictNoSign, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { Scheduler, Transport, TransportHandler } from '@concord/core'
import { backoffDelay, encodeSyncFrame, GossipTopics, SessionTransport, SYNC_PROTOCOL, SyncSessions } from './wire.js'
import { denyDial, exchangeCandidates, peerIdOf } from './dial-policy.js'

export interface BrowserTransportOptions {
  nodeId: string
  /** Multiaddrs of node peers' WebSocket listeners, with `/p2p/<peer id>`. */
  join: string[]
  /** Must match the node peers' gossip signing (node default: signed). */
  signGossip?: boolean
  /** Largest direct or gossip message; default 16 MiB. */
  maxMessageBytes?: number
  /** Timeout of dials, stream opens and the HELLO; default 10 s. */
  handshakeTimeoutMs?: number
  backoff?: { initialMs?: number; maxMs?: number }
  /** Start disconnected (a page reloaded while the user had chosen offline). */
  offline?: boolean
  scheduler?: Scheduler
  log?: (level: 'info' | 'warn', message: string) => void
}

/** A connected node peer, as the app shows it. */
export interface PeerInfo {
  nodeId: string
  peerId: string
  addr: string
}

export type DialState = 'idle' | 'dialing' | 'waiting'

/** One row per dial target: what the reconnect loop is doing. */
export interface TargetInfo {
  addr: string
  state: DialState
  attempt: number
  connected: boolean
}

/** Raw traffic, for observers (the connection monitor). Called after the replica handled it. */
export type TrafficTap = (from: string, data: Uint8Array) => void

interface JoinTarget {
  readonly addr: Multiaddr
  readonly text: string
  readonly peerId: string | undefined
  attempt: number
  state: DialState
  cancelTimer?: () => void
}

const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
/** Targets learned from peer exchange, at most (plus the join list). */
const MAX_LEARNED_TARGETS = 16

const realScheduler: Scheduler = {
  setTimeout(ms, fn) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
}

export class BrowserTransport extends SessionTransport implements Transport {
  private node?: Libp2p<{ pubsub: GossipSub }>
  private handler?: TransportHandler
  protected readonly sync: SyncSessions
  private readonly targets: JoinTarget[] = []
  protected readonly gossip: GossipTopics
  private readonly listeners = new Set<() => void>()
  private tap?: TrafficTap
  private online: boolean
  private stopped = false
  private learned = 0
  private readonly maxMessageBytes: number
  private readonly handshakeTimeoutMs: number
  private readonly scheduler: Scheduler

  constructor(private readonly options: BrowserTransportOptions) {
    super()
    encodeSyncFrame({ type: 'hello', nodeId: options.nodeId, addrs: [] }) // validates the node id
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
    this.scheduler = options.scheduler ?? realScheduler
    this.gossip = new GossipTopics(
      { nodeId: options.nodeId, maxMessageBytes: this.maxMessageBytes },
      { message: (from, data) => this.deliver(from, data), log: (level, message) => this.log(level, message) },
    )
    this.sync = new SyncSessions(
      { nodeId: options.nodeId, maxMessageBytes: this.maxMessageBytes, maxQueuedBytes: 2 * this.maxMessageBytes, handshakeTimeoutMs: this.handshakeTimeoutMs },
      {
        // A page listens on nothing, so it advertises no addresses.
        helloAddrs: () => [],
        accepting: () => this.accepting(),
        learned: (addrs) => this.learn(addrs),
        up: (session) => this.handler?.onPeerUp(session.nodeId!),
        down: (session) => this.handler?.onPeerDown(session.nodeId!),
        message: (from, data) => this.deliver(from, data),
        changed: () => this.emit(),
        log: (level, message) => this.log(level, message),
      },
    )
    this.online = options.offline !== true
    for (const addr of options.join) this.addTarget(addr)
  }

  async start(handler: TransportHandler): Promise<void> {
    if (this.node) throw new Error('transport already started')
    this.handler = handler
    const node = await createLibp2p({
      nodeInfo: { name: 'concord-browser', version: '0.1.0', userAgent: 'concord-browser/0.1.0' },
      addresses: { listen: [] },
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: async (ma: Multiaddr) => denyDial(ma.toString()) },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          emitSelf: false,
          globalSignaturePolicy: this.options.signGossip === false ? StrictNoSign : StrictSign,
          maxInboundDataLength: this.maxMessageBytes + 1024,
          maxOutboundBufferSize: 2 * this.maxMessageBytes,
        }),
      },
    })
    this.node = node
    this.sync.attach(node)
    await node.handle(SYNC_PROTOCOL, (stream, connection) => this.sync.inbound(stream, connection), { maxInboundStreams: 4, maxOutboundStreams: 4 })
    node.addEventListener('peer:connect', (e) => this.onConnect(e.detail))
    node.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail))
    this.gossip.attach(node.services.pubsub)
    if (this.online) for (const t of this.targets) void this.dialTarget(t)
  }

  // ---- core Transport ----------------------------------------------------------------

  protected accepting(): boolean {
    return !this.stopped && this.online
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.targets) t.cancelTimer?.()
    this.sync.stop()
    await this.node?.stop()
    this.emit()
  }

  // ---- what the app sees -----------------------------------------------------------

  /** Connected node peers. */
  peerInfos(): PeerInfo[] {
    const out: PeerInfo[] = []
    for (const s of this.sync.all()) if (s.up && s.nodeId) out.push({ nodeId: s.nodeId, peerId: s.peerId, addr: s.remoteAddr ?? '' })
    return out.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
  }

  targetInfos(): TargetInfo[] {
    return this.targets.map((t) => ({ addr: t.text, state: t.state, attempt: t.attempt, connected: t.peerId !== undefined && this.isUp(t.peerId) }))
  }

  get isOnline(): boolean {
    return this.online
  }

  /** Goes offline (hangs up, stops dialing) or back online (redials every target now). */
  async setOnline(online: boolean): Promise<void> {
    if (this.stopped || online === this.online) return
    this.online = online
    if (!online) {
      for (const t of this.targets) {
        t.cancelTimer?.()
        t.cancelTimer = undefined
        t.state = 'idle'
        t.attempt = 0
      }
      for (const s of [...this.sync.all()]) this.sync.close(s, 'offline', true)
      await Promise.all((this.node?.getConnections() ?? []).map((c) => c.close().catch(() => c.abort(new Error('offline')))))
    } else {
      for (const t of this.targets) void this.dialTarget(t)
    }
    this.emit()
  }

  /** Called with every message from a peer, after the replica handled it. */
  setTap(tap: TrafficTap | undefined): void {
    this.tap = tap
  }

  /** Listens for peer and dial changes; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- sessions (same protocol as node-server's Libp2pTransport) ---------------------

  private isUp(peerId: string): boolean {
    return this.sync.ofPeer(peerId)?.up === true
  }

  private onConnect(peerId: PeerId): void {
    if (this.stopped) return
    this.sync.connected(peerId.toString())
  }

  private onDisconnect(peerId: PeerId): void {
    const id = peerId.toString()
    this.sync.disconnected(id)
    for (const t of this.targets) if (t.peerId === id && t.state === 'idle') this.scheduleRedial(t)
    this.emit()
  }

  private deliver(from: string, data: Uint8Array): void {
    try {
      this.handler?.onMessage(from, data)
    } catch (err) {
      this.log('warn', `replica failed on a message from ${from}: ${String(err)}`)
    }
    try {
      this.tap?.(from, data)
    } catch {
      // An observer must not break replication.
    }
  }

  // ---- dialing -------------------------------------------------------------------------

  private addTarget(addr: string): JoinTarget | undefined {
    const text = addr.trim()
    if (this.targets.some((t) => t.text === text)) return undefined
    const peerId = peerIdOf(text)
    if (peerId !== undefined && this.targets.some((t) => t.peerId === peerId)) return undefined
    const target: JoinTarget = { addr: multiaddr(text), text, peerId, attempt: 0, state: 'idle' }
    this.targets.push(target)
    return target
  }

  /** Peer exchange: WebSocket addresses of nodes we have not met become targets. */
  private learn(addrs: string[]): void {
    for (const a of exchangeCandidates(addrs, 16)) {
      if (this.learned >= MAX_LEARNED_TARGETS) return
      let target: JoinTarget | undefined
      try {
        target = this.addTarget(a)
      } catch {
        continue
      }
      if (!target) continue
      this.learned++
      if (this.online && this.node) void this.dialTarget(target)
    }
  }

  private async dialTarget(target: JoinTarget): Promise<void> {
    const node = this.node
    if (!node || this.stopped || !this.online || target.state === 'dialing') return
    if (target.peerId !== undefined && this.isUp(target.peerId)) return
    target.cancelTimer?.()
    target.cancelTimer = undefined
    target.state = 'dialing'
    this.emit()
    try {
      const conn = await node.dial(target.addr, { signal: AbortSignal.timeout(this.handshakeTimeoutMs) })
      target.attempt = 0
      target.state = 'idle'
      if (conn.status !== 'open') this.scheduleRedial(target)
    } catch (err) {
      target.state = 'idle'
      if (this.stopped || !this.online) return
      this.log('info', `dial ${target.text} failed (attempt ${target.attempt + 1}): ${String(err)}`)
      this.scheduleRedial(target)
    }
    this.emit()
  }

  private scheduleRedial(target: JoinTarget): void {
    if (this.stopped || !this.online) return
    target.cancelTimer?.()
    const delay = backoffDelay(target.attempt++, { initialMs: this.options.backoff?.initialMs ?? 250, maxMs: this.options.backoff?.maxMs ?? 10_000 })
    target.state = 'waiting'
    target.cancelTimer = this.scheduler.setTimeout(delay, () => {
      target.cancelTimer = undefined
      target.state = 'idle'
      void this.dialTarget(target)
    })
  }

  private emit(): void {
    for (const fn of this.listeners) {
      try {
        fn()
      } catch {
        // Listeners are the app's; they cannot break the transport.
      }
    }
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.options.log?.(level, message)
  }

}
