/**
 * Sessions of the '/concord/sync/1.0.0' protocol, shared by the Node transport and the
 * browser transport (no Node built-ins).
 *
 * Each side of a libp2p connection opens one outbound stream to the other and writes a
 * HELLO naming its replica node id, then DATA and PEERS frames (sync-frame.ts). A session
 * is "up" once the peer's HELLO arrived on our inbound stream and our outbound stream to
 * it is open; only then can the replica send to it. What a transport does around that
 * (peer exchange, dialing, online state, observers) comes in through hooks.
 *
 * Invariants: a frame that does not decode drops that peer's connection and nothing else;
 * each peer's write queue is bounded by `maxQueuedBytes`; frames are written in batches
 * (one write per batch, DESIGN.md decision 13); nothing runs after `stop`.
 */
import '../node/promise-with-resolvers.js'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { Connection, PeerId, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { FrameSplitter } from './length-prefix.js'
import { decodeSyncFrame, encodeSyncFrame, MAX_ADDRS, SYNC_PROTOCOL, type SyncFrame } from './sync-frame.js'

/** Frames written to a stream in one write. */
const MAX_FRAMES_PER_WRITE = 256

export interface SyncSession {
  readonly peerId: string
  nodeId?: string
  /** Addresses the peer advertised in its HELLO. */
  addrs: string[]
  /** The address we reached it on. */
  remoteAddr?: string
  out?: LengthPrefixedStream<Stream>
  outStream?: Stream
  inStream?: Stream
  queue: Uint8Array[]
  queuedBytes: number
  writing: boolean
  up: boolean
  closed: boolean
}

/** The part of a libp2p node sessions use. */
export interface SyncNode {
  getConnections(): Connection[]
  dialProtocol(peer: PeerId, protocol: string, options: { signal: AbortSignal }): Promise<Stream>
}

export interface SyncSessionHooks {
  /** Addresses to advertise in our HELLO. */
  helloAddrs(): string[]
  /** Whether an inbound sync stream may be accepted now. */
  accepting(): boolean
  /** Addresses a peer told us about, in its HELLO or a PEERS frame. */
  learned(addrs: string[], from: SyncSession, source: 'hello' | 'peers'): void
  up(session: SyncSession): void
  down(session: SyncSession, reason: string): void
  /** A DATA frame (the replica's message) from a peer's node id. */
  message(from: string, data: Uint8Array): void
  /**
   * Whether frames from this libp2p peer may still be delivered (a member removed while
   * its connection closes); absent: every connected peer.
   */
  admitted?(peerId: string): boolean
  /**
   * Whether the libp2p peer may speak as the node id its HELLO names: a reason to refuse
   * it (its node id is bound to another PeerId, or it is bound to another node id), or
   * null. Asked before the HELLO changes anything, so a refused claim never replaces the
   * session of the node that holds that id. Absent: every claim is taken.
   */
  claimRefused?(nodeId: string, peerId: string): string | null
  /** Any change of the session set (for observers). */
  changed?(): void
  log(level: 'info' | 'warn', message: string): void
}

export interface SyncCounters {
  messagesSent: number
  messagesReceived: number
  messagesDropped: number
  bytesSent: number
  bytesReceived: number
  framesRejected: number
  /** HELLOs refused because the peer may not speak as the node id they name (`claimRefused`). */
  claimsRefused: number
}

export class SyncSessions {
  readonly counters: SyncCounters = {
    messagesSent: 0, messagesReceived: 0, messagesDropped: 0, bytesSent: 0, bytesReceived: 0, framesRejected: 0, claimsRefused: 0,
  }
  private readonly byPeer = new Map<string, SyncSession>()
  private readonly peerOfNode = new Map<string, string>()
  private node?: SyncNode
  private stopped = false

  private readonly options: { nodeId: string; maxMessageBytes: number; maxQueuedBytes: number; handshakeTimeoutMs: number }
  private readonly hooks: SyncSessionHooks

  constructor(
    options: { nodeId: string; maxMessageBytes: number; maxQueuedBytes: number; handshakeTimeoutMs: number },
    hooks: SyncSessionHooks,
  ) {
    this.options = options
    this.hooks = hooks
  }

  /** Starts serving: the node's streams and connection events are routed here by the transport. */
  attach(node: SyncNode): void {
    this.node = node
  }

  get protocol(): string {
    return SYNC_PROTOCOL
  }

  all(): Iterable<SyncSession> {
    return this.byPeer.values()
  }

  ofPeer(peerId: string): SyncSession | undefined {
    return this.byPeer.get(peerId)
  }

  ofNode(nodeId: string): SyncSession | undefined {
    const peerId = this.peerOfNode.get(nodeId)
    return peerId === undefined ? undefined : this.byPeer.get(peerId)
  }

  /** Node ids of the peers that are up. */
  upNodeIds(): string[] {
    const out: string[] = []
    for (const s of this.byPeer.values()) if (s.up && s.nodeId) out.push(s.nodeId)
    return out
  }

  /** A connection opened: open our outbound stream. */
  connected(peerId: string): void {
    if (this.stopped) return
    const session = this.session(peerId)
    if (!session.out && !session.outStream) void this.openOutbound(session)
  }

  /** A connection closed. */
  disconnected(peerId: string): void {
    const session = this.byPeer.get(peerId)
    if (session) this.close(session, 'disconnected', false)
  }

  /** Sends the replica's message to a peer that is up; false (and counted) if it cannot. */
  send(nodeId: string, data: Uint8Array): boolean {
    const session = this.ofNode(nodeId)
    if (!session?.up || !session.out) {
      this.counters.messagesDropped++
      return false
    }
    if (data.length > this.options.maxMessageBytes) {
      this.counters.messagesDropped++
      this.hooks.log('warn', `dropped a ${data.length}-byte message to ${nodeId}: larger than ${this.options.maxMessageBytes}`)
      return false
    }
    this.enqueue(session, encodeSyncFrame({ type: 'data', data }))
    return true
  }

  /** Bytes queued for a peer and not yet written (0 if it has no session). */
  backlog(nodeId: string): number {
    return this.ofNode(nodeId)?.queuedBytes ?? 0
  }

  /** Tells a peer about addresses (peer exchange). */
  sendPeers(session: SyncSession, addrs: string[]): void {
    if (addrs.length > 0) this.enqueue(session, encodeSyncFrame({ type: 'peers', addrs: addrs.slice(0, MAX_ADDRS) }))
  }

  stop(): void {
    if (this.stopped) return
    for (const s of [...this.byPeer.values()]) this.close(s, 'stopping', false)
    this.stopped = true
  }

  private session(peerId: string): SyncSession {
    let s = this.byPeer.get(peerId)
    if (!s) {
      s = { peerId, addrs: [], queue: [], queuedBytes: 0, writing: false, up: false, closed: false }
      this.byPeer.set(peerId, s)
    }
    return s
  }

  private async openOutbound(session: SyncSession): Promise<void> {
    const node = this.node
    if (!node) return
    try {
      const conn = node.getConnections().find((c) => c.remotePeer.toString() === session.peerId)
      if (!conn) return
      session.remoteAddr = conn.remoteAddr.toString()
      const signal = AbortSignal.timeout(this.options.handshakeTimeoutMs)
      const stream = await node.dialProtocol(conn.remotePeer, SYNC_PROTOCOL, { signal })
      if (session.closed || this.stopped) {
        stream.abort(new Error('session closed'))
        return
      }
      session.outStream = stream
      // Written only: what comes back from this peer arrives on its own stream (`inbound`).
      const out = lpStream(stream)
      const hello = encodeSyncFrame({ type: 'hello', nodeId: this.options.nodeId, addrs: this.hooks.helloAddrs().slice(0, MAX_ADDRS) })
      await out.write(hello, { signal: AbortSignal.timeout(this.options.handshakeTimeoutMs) })
      session.out = out
      this.maybeUp(session)
    } catch (err) {
      if (this.stopped || session.closed) return
      this.hooks.log('warn', `sync stream to ${session.peerId} failed: ${errorText(err)}`)
      this.close(session, 'sync stream failed', true)
    }
  }

  /**
   * An inbound sync stream: its HELLO, then frames until the stream ends, each handled in
   * the turn its bytes arrive (cut by `FrameSplitter`, not read through `lpStream`, whose
   * reads take a promise per byte of a frame's prefix and a thrown RangeError, stack
   * trace and all, per prefix longer than a byte: docs/benchmarks.md, "Frames handled as
   * they arrive").
   */
  inbound(stream: Stream, connection: Connection): void {
    if (this.stopped || !this.hooks.accepting()) {
      stream.abort(new Error('not accepting'))
      return
    }
    const session = this.session(connection.remotePeer.toString())
    if (session.inStream) session.inStream.abort(new Error('replaced by a newer sync stream'))
    session.inStream = stream
    const frames = new FrameSplitter(this.options.maxMessageBytes + 16)
    let hello = false
    const current = (): boolean => !this.stopped && !session.closed && session.inStream === stream
    const ended = (): void => {
      clearTimeout(helloTimer)
      stream.removeEventListener('message', onMessage)
      stream.removeEventListener('close', onClose)
      stream.removeEventListener('remoteCloseWrite', onRemoteCloseWrite)
    }
    const refuse = (err: unknown): void => {
      ended()
      if (!current()) return
      this.counters.framesRejected++
      this.hooks.log('warn', `dropping peer ${session.nodeId ?? session.peerId}: bad sync frame (${errorText(err)})`)
      this.close(session, 'bad frame', true)
    }
    const onMessage = (evt: StreamMessageEvent): void => {
      if (!current()) return ended()
      try {
        for (const chunk of chunksOf(evt.data)) {
          for (const bytes of frames.push(chunk)) {
            if (!current()) return ended()
            const frame = decodeSyncFrame(bytes)
            if (hello) {
              this.onFrame(session, frame)
              continue
            }
            if (frame.type !== 'hello') throw new Error(`expected HELLO, got ${frame.type.toUpperCase()}`)
            hello = true
            clearTimeout(helloTimer)
            const refused = this.hooks.claimRefused?.(frame.nodeId, session.peerId) ?? null
            if (refused !== null) {
              ended()
              this.counters.claimsRefused++
              this.hooks.log('warn', `refused peer ${session.peerId}: its HELLO names node id ${frame.nodeId}, but ${refused} `
                + '(connection closed, nothing it sends is applied)')
              this.close(session, 'node id claim refused', true)
              return
            }
            this.onHello(session, frame)
          }
        }
      } catch (err) {
        refuse(err)
      }
    }
    const onClose = (evt: StreamCloseEvent): void => {
      const name = evt.error?.name
      if (evt.error === undefined || name === 'StreamResetError' || name === 'StreamClosedError') return onRemoteCloseWrite()
      refuse(evt.error)
    }
    const onRemoteCloseWrite = (): void => {
      ended()
      if (current()) this.close(session, 'sync stream closed', true)
    }
    // A HELLO that does not come in time is a slow or silent peer, not a malformed frame
    // (a node busy applying a large diff was counted as sending bad frames).
    const helloTimer = setTimeout(() => {
      if (hello || !current()) return
      ended()
      const within = this.options.handshakeTimeoutMs
      this.hooks.log('warn', `dropping peer ${session.peerId}: no HELLO within ${within} ms (it is dialed again)`)
      this.close(session, 'no hello', true)
    }, this.options.handshakeTimeoutMs)
    stream.addEventListener('message', onMessage)
    stream.addEventListener('close', onClose)
    stream.addEventListener('remoteCloseWrite', onRemoteCloseWrite)
  }

  private onHello(session: SyncSession, hello: Extract<SyncFrame, { type: 'hello' }>): void {
    if (hello.nodeId === this.options.nodeId) throw new Error('peer claims our own node id')
    const previous = this.peerOfNode.get(hello.nodeId)
    if (previous !== undefined && previous !== session.peerId) {
      // The node restarted with a new libp2p identity; the old session is stale.
      const old = this.byPeer.get(previous)
      if (old) this.close(old, 'replaced by a newer connection', true)
    }
    session.nodeId = hello.nodeId
    session.addrs = hello.addrs
    this.peerOfNode.set(hello.nodeId, session.peerId)
    this.hooks.learned(hello.addrs, session, 'hello')
    this.maybeUp(session)
  }

  private onFrame(session: SyncSession, frame: SyncFrame): void {
    switch (frame.type) {
      case 'data':
        if (!this.deliverable(session)) {
          this.counters.messagesDropped++
          return
        }
        this.counters.messagesReceived++
        this.counters.bytesReceived += frame.data.length
        this.hooks.message(session.nodeId!, frame.data)
        return
      case 'peers':
        this.hooks.learned(frame.addrs, session, 'peers')
        return
      case 'hello':
        throw new Error('second HELLO on a sync stream')
    }
  }

  /** Whether a session's DATA frames may still be delivered: its peer admitted, its node id still its own. */
  private deliverable(session: SyncSession): boolean {
    if (this.hooks.admitted && !this.hooks.admitted(session.peerId)) return false
    return (this.hooks.claimRefused?.(session.nodeId!, session.peerId) ?? null) === null
  }

  private maybeUp(session: SyncSession): void {
    if (session.up || session.closed || !session.nodeId || !session.out) return
    session.up = true
    this.hooks.log('info', `peer ${session.nodeId} up (${session.remoteAddr ?? session.peerId})`)
    this.hooks.up(session)
    this.hooks.changed?.()
  }

  /** Ends a session; with `hangUp`, also the libp2p connections to that peer. */
  close(session: SyncSession, reason: string, hangUp: boolean): void {
    if (session.closed) return
    session.closed = true
    this.byPeer.delete(session.peerId)
    if (session.nodeId && this.peerOfNode.get(session.nodeId) === session.peerId) this.peerOfNode.delete(session.nodeId)
    session.queue.length = 0
    session.queuedBytes = 0
    session.outStream?.abort(new Error(reason))
    session.inStream?.abort(new Error(reason))
    const wasUp = session.up
    session.up = false
    if (wasUp && session.nodeId && !this.stopped) {
      this.hooks.log('info', `peer ${session.nodeId} down (${reason})`)
      this.hooks.down(session, reason)
    }
    if (hangUp && this.node && !this.stopped) {
      for (const c of this.node.getConnections()) if (c.remotePeer.toString() === session.peerId) c.abort(new Error(reason))
    }
    this.hooks.changed?.()
  }

  private enqueue(session: SyncSession, frame: Uint8Array): void {
    if (session.queuedBytes + frame.length > this.options.maxQueuedBytes) {
      this.counters.messagesDropped++
      return
    }
    session.queue.push(frame)
    session.queuedBytes += frame.length
    if (!session.writing) void this.pump(session)
  }

  private async pump(session: SyncSession): Promise<void> {
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
        this.hooks.log('warn', `write to ${session.nodeId ?? session.peerId} failed: ${errorText(err)}`)
        this.close(session, 'write failed', true)
      }
    } finally {
      session.writing = false
    }
  }
}

/** The arrays a message event carries: one, or a `Uint8ArrayList`'s parts in order. */
function chunksOf(data: Uint8Array | Iterable<Uint8Array>): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
