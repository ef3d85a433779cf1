/**
 * The core `Transport` of a browser replica: `@concord/p2p`'s session transport (the
 * same '/concord/sync/1.0.0' sessions, gossip envelope, libp2p node and join loop as
 * node peers) over WebSockets only.
 *
 * A page cannot listen, so every connection is one we dial: the `join` targets, plus the
 * WebSocket addresses node peers tell us about in PEERS frames (kept as targets too, so
 * the replica reconnects to every node it has met). A lost connection is redialed with
 * exponential backoff and jitter (250 ms up to 10 s); a target whose peer is already up
 * is not dialed. `setOnline(false)` hangs up and stops dialing until `setOnline(true)`,
 * which redials at once. The app observes peers and targets (`onChange`).
 *
 * Invariants: peers are named by replica node id above this module; a frame that does
 * not decode drops that peer's connection and nothing else; queues and messages are
 * bounded; no timer or dial runs after `stop`.
 */
import { webSockets } from '@libp2p/websockets'
import type { Scheduler, Transport } from '@concord/core'
import { createLibp2pNode, decodeBrowserToken, peerIdOf, SessionTransport, type DialState, type JoinTarget, type Libp2pNode, type LogLevel } from '@concord/p2p'
import { denyDial, exchangeCandidates } from './dial-policy.js'
import { describeDialError } from './dial-error.js'
import { joinAddresses } from './join-address.js'

export type { DialState } from '@concord/p2p'

export interface BrowserTransportOptions {
  nodeId: string
  /** Node peers' WebSocket listeners: multiaddrs, `host:ws-port`, `ws(s)://` URLs (join-address.ts). */
  join: string | string[]
  /** Dial `host:port` entries with `wss` (the page is HTTPS); default: from `location.protocol`. */
  secure?: boolean
  /** Must match the node peers' gossip signing (node default: signed). */
  signGossip?: boolean
  /** Largest direct or gossip message; default 16 MiB. */
  maxMessageBytes?: number
  /** Timeout of dials, stream opens and the HELLO; default 10 s. */
  handshakeTimeoutMs?: number
  backoff?: { initialMs?: number; maxMs?: number }
  /** Start disconnected (a page reloaded while the user had chosen offline). */
  offline?: boolean
  /**
   * A scoped browser token (`SELECT concord_browser_token(..)` on the node): the replica
   * connects with the identity it carries, so the node serves it only the token's tables.
   * Absent: a fresh identity, which a node with a member list refuses.
   */
  token?: string
  scheduler?: Scheduler
  log?: (level: 'info' | 'warn', message: string) => void
}

/** A connected node peer, as the app shows it. */
export interface PeerInfo {
  nodeId: string
  peerId: string
  addr: string
}

/** One row per dial target: what the reconnect loop is doing. */
export interface TargetInfo {
  addr: string
  state: DialState
  attempt: number
  connected: boolean
  /** Why the last dial failed, readable; absent once a dial succeeds. */
  lastError?: string
}

const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
/** Targets learned from peer exchange, at most (plus the join list). */
const MAX_LEARNED_TARGETS = 16

export class BrowserTransport extends SessionTransport implements Transport {
  private readonly listeners = new Set<() => void>()
  private online: boolean
  /** The browser's own view of the network (`navigator.onLine`, `online`/`offline` events). */
  private network = true
  private learnedTargets = 0
  private readonly lastErrors = new Map<string, string>()
  private readonly maxMessageBytes: number

  private readonly options: BrowserTransportOptions

  constructor(options: BrowserTransportOptions) {
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE
    super({
      nodeId: options.nodeId,
      maxMessageBytes,
      maxQueuedBytes: 2 * maxMessageBytes,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      backoff: { initialMs: options.backoff?.initialMs ?? 250, maxMs: options.backoff?.maxMs ?? 10_000 },
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    })
    this.options = options
    this.maxMessageBytes = maxMessageBytes
    this.online = options.offline !== true
    const secure = options.secure ?? (typeof location !== 'undefined' && location.protocol === 'https:')
    for (const addr of joinAddresses(options.join, secure)) this.addTarget(addr)
  }

  override async stop(): Promise<void> {
    if (this.stopped) return
    await super.stop()
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
    return this.joins.targets.map((t) => {
      const connected = t.peerId !== undefined && this.isUp(t.peerId)
      if (connected) this.lastErrors.delete(t.text)
      const lastError = this.lastErrors.get(t.text)
      return { addr: t.text, state: t.state, attempt: t.attempt, connected, ...(lastError !== undefined ? { lastError } : {}) }
    })
  }

  /** Whether the app wants to be online (false after `setOnline(false)`). */
  get isOnline(): boolean {
    return this.online
  }

  /** Whether the browser says it has a network (false after its `offline` event). */
  get networkAvailable(): boolean {
    return this.network
  }

  /** Goes offline (hangs up, stops dialing) or back online (redials every target now). */
  async setOnline(online: boolean): Promise<void> {
    if (this.stopped || online === this.online) return
    const before = this.mayDial()
    this.online = online
    await this.dialingChanged(before)
  }

  /**
   * The browser's `offline` / `online` event. Offline: hang up at once rather than wait
   * for the WebSockets to time out (Chromium keeps a dead one open for 10-15 s), and stop
   * dialing. Online: redial every target now instead of waiting out a backoff delay.
   */
  async setNetworkAvailable(available: boolean): Promise<void> {
    if (this.stopped || available === this.network) return
    const before = this.mayDial()
    this.network = available
    await this.dialingChanged(before)
  }

  private async dialingChanged(before: boolean): Promise<void> {
    const now = this.mayDial()
    if (before && !now) {
      this.joins.pause()
      for (const s of [...this.sync.all()]) this.sync.close(s, 'offline', true)
      this.emit()
      await Promise.all((this.node?.getConnections() ?? []).map((c) => c.close().catch(() => c.abort(new Error('offline')))))
    } else if (!before && now) {
      this.joins.dialAll()
    }
    this.emit()
  }

  /** Listens for peer and dial changes; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  // ---- the environment -----------------------------------------------------------------

  protected createNode(): Promise<Libp2pNode> {
    return createLibp2pNode({
      name: 'concord-browser',
      listen: [],
      transports: [webSockets()],
      denyDial: (addr) => denyDial(addr.toString()),
      ...(this.options.token !== undefined ? { privateKey: decodeBrowserToken(this.options.token).privateKey } : {}),
      signGossip: this.options.signGossip !== false,
      maxMessageBytes: this.maxMessageBytes,
    })
  }

  protected accepting(): boolean {
    return !this.stopped && this.mayDial()
  }

  /** A page listens on nothing, so it advertises no addresses. */
  protected helloAddrs(): string[] {
    return []
  }

  /** Peer exchange: WebSocket addresses of nodes we have not met become targets. */
  protected learned(addrs: string[]): void {
    for (const a of exchangeCandidates(addrs, 16)) {
      if (this.learnedTargets >= MAX_LEARNED_TARGETS) return
      let target: JoinTarget | undefined
      try {
        target = this.addTarget(a)
      } catch {
        continue
      }
      if (!target) continue
      this.learnedTargets++
      void this.joins.dial(target)
    }
  }

  protected override mayDial(): boolean {
    return this.online && this.network
  }

  protected override satisfied(target: JoinTarget): boolean {
    return target.peerId !== undefined && this.isUp(target.peerId)
  }

  protected override dialFailed(target: JoinTarget, err: unknown): void {
    const reason = describeDialError(err)
    this.lastErrors.set(target.text, reason)
    this.log('info', `dial ${target.text} failed (attempt ${target.attempt + 1}): ${reason}`)
  }

  protected override changed(): void {
    this.emit()
  }

  protected log(level: LogLevel, message: string): void {
    this.options.log?.(level === 'error' ? 'warn' : level, message)
  }

  // ---- targets ---------------------------------------------------------------------------

  /** A new join target, or undefined if its address or its peer is a target already. */
  private addTarget(addr: string): JoinTarget | undefined {
    const text = addr.trim()
    if (this.joins.targets.some((t) => t.text === text)) return undefined
    const peerId = peerIdOf(text)
    if (peerId !== undefined && this.joins.targets.some((t) => t.peerId === peerId)) return undefined
    return this.joins.add(text)
  }

  private isUp(peerId: string): boolean {
    return this.sync.ofPeer(peerId)?.up === true
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
}
