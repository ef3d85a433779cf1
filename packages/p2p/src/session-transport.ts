/**
 * The core `Transport` over a libp2p node, as Node peers and browser replicas run it
 * alike: direct messages through the sync sessions (sync/sync-sessions.ts), gossip
 * through the topics (gossip/gossip-topics.ts), and the join/redial loop
 * (dial/join-loop.ts). A subclass is the environment: it builds the libp2p node
 * (transports, listeners, gater, private network) and decides what to advertise, what
 * to do with addresses peers tell it about, and when it takes part (started and, for a
 * page, online).
 *
 * Invariants: peers are named by replica node id above this module (never PeerId); a
 * frame that does not decode drops that peer's connection and nothing else; every queue
 * and message is bounded (`maxMessageBytes`, `maxQueuedBytes`); the replica cannot break
 * a connection by throwing; nothing runs after `stop`.
 */
import type { Scheduler, Transport, TransportHandler } from '@concord/core'
import type { BackoffOptions } from './dial/backoff.js'
import { JoinLoop, type JoinTarget } from './dial/join-loop.js'
import { timerScheduler } from './dial/timer-scheduler.js'
import { GossipTopics } from './gossip/gossip-topics.js'
import type { Libp2pNode } from './node/libp2p-node.js'
import { encodeSyncFrame, SYNC_PROTOCOL } from './sync/sync-frame.js'
import { SyncSessions, type SyncSession } from './sync/sync-sessions.js'

export interface SessionTransportOptions {
  /** This replica's node id: how peers name us. */
  nodeId: string
  /** Largest direct or gossip message. */
  maxMessageBytes: number
  /** Bytes that may wait to be written to one peer before sends are dropped. */
  maxQueuedBytes: number
  /** Timeout of dials, stream opens and the HELLO. */
  handshakeTimeoutMs: number
  /** Redial delays of join targets. */
  backoff: BackoffOptions
  scheduler?: Scheduler
}

export type LogLevel = 'info' | 'warn' | 'error'

/** Sync streams per connection and direction: each side opens one; the spare ones let a newer stream replace an old one still closing. */
const MAX_SYNC_STREAMS = 4

export abstract class SessionTransport implements Transport {
  protected readonly sync: SyncSessions
  protected readonly gossip: GossipTopics
  protected readonly joins: JoinLoop
  protected node?: Libp2pNode
  protected handler?: TransportHandler
  protected stopped = false

  constructor(options: SessionTransportOptions) {
    encodeSyncFrame({ type: 'hello', nodeId: options.nodeId, addrs: [] }) // validates the node id
    this.gossip = new GossipTopics(
      { nodeId: options.nodeId, maxMessageBytes: options.maxMessageBytes },
      {
        message: (from, data) => this.deliver(from, data),
        authorAdmitted: (peerId) => this.peerAdmitted(peerId) && !this.gossipExcluded(peerId),
        log: (level, message) => this.log(level, message),
      },
    )
    this.sync = new SyncSessions(
      {
        nodeId: options.nodeId,
        maxMessageBytes: options.maxMessageBytes,
        maxQueuedBytes: options.maxQueuedBytes,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
      },
      {
        helloAddrs: () => this.helloAddrs(),
        accepting: () => this.accepting(),
        learned: (addrs, from, source) => this.learned(addrs, from, source),
        up: (session) => this.sessionUp(session),
        down: (session) => this.handler?.onPeerDown(session.nodeId!),
        message: (from, data) => this.deliver(from, data),
        admitted: (peerId) => this.peerAdmitted(peerId),
        changed: () => this.changed(),
        log: (level, message) => this.log(level, message),
      },
    )
    this.joins = new JoinLoop(
      { dialTimeoutMs: options.handshakeTimeoutMs, backoff: options.backoff, scheduler: options.scheduler ?? timerScheduler },
      {
        online: () => this.mayDial(),
        satisfied: (target) => this.satisfied(target),
        failed: (target, err) => this.dialFailed(target, err),
        changed: () => this.changed(),
      },
    )
  }

  // ---- what an environment supplies ----------------------------------------------------

  /** Builds the (started) libp2p node, with `createLibp2pNode`. */
  protected abstract createNode(): Promise<Libp2pNode>
  /** Whether this transport takes part now: publishes gossip and accepts sync streams. */
  protected abstract accepting(): boolean
  /** Addresses to advertise in our HELLO. */
  protected abstract helloAddrs(): string[]
  /** Addresses a peer told us about, in its HELLO or a PEERS frame. */
  protected abstract learned(addrs: string[], from: SyncSession, source: 'hello' | 'peers'): void
  protected abstract log(level: LogLevel, message: string): void

  /** A peer's session came up. */
  protected sessionUp(session: SyncSession): void {
    this.handler?.onPeerUp(session.nodeId!)
  }

  /**
   * Whether a libp2p peer may take part (its direct frames and the gossip it signs are
   * delivered). An environment with a member list overrides it; the default admits all.
   */
  protected peerAdmitted(_peerId: string): boolean {
    return true
  }

  /** Whether a libp2p peer is kept out of gossip (a scoped browser replica: direct frames only). */
  protected gossipExcluded(_peerId: string): boolean {
    return false
  }

  /** The libp2p PeerId of a peer's session, by replica node id. */
  peerIdOf(nodeId: string): string | undefined {
    return this.sync.ofNode(nodeId)?.peerId
  }

  /** Closes every connection to a libp2p peer (a member removed from the cluster). */
  disconnectPeer(peerId: string, reason: string): void {
    const session = this.sync.ofPeer(peerId)
    if (session) this.sync.close(session, reason, true)
    for (const c of this.node?.getConnections() ?? []) if (c.remotePeer.toString() === peerId) c.abort(new Error(reason))
  }

  /** libp2p peers connected now (any state of their sync session). */
  connectedPeerIds(): string[] {
    return [...new Set((this.node?.getConnections() ?? []).map((c) => c.remotePeer.toString()))]
  }

  /** Whether join targets may be dialed now (besides being started). */
  protected mayDial(): boolean {
    return true
  }

  /** Whether a join target needs no dial now. */
  protected satisfied(_target: JoinTarget): boolean {
    return false
  }

  protected dialFailed(target: JoinTarget, err: unknown): void {
    this.log('warn', `dial ${target.text} failed (attempt ${target.attempt + 1}): ${errorText(err)}`)
  }

  /** Sessions or dial targets changed (for observers). */
  protected changed(): void {}

  // ---- core Transport ------------------------------------------------------------------

  async start(handler: TransportHandler): Promise<void> {
    if (this.node) throw new Error('transport already started')
    this.handler = handler
    const node = await this.createNode()
    this.node = node
    this.sync.attach(node)
    await node.handle(SYNC_PROTOCOL, (stream, connection) => this.sync.inbound(stream, connection), {
      maxInboundStreams: MAX_SYNC_STREAMS,
      maxOutboundStreams: MAX_SYNC_STREAMS,
    })
    node.addEventListener('peer:connect', (e) => {
      if (!this.stopped) this.sync.connected(e.detail.toString())
    })
    node.addEventListener('peer:disconnect', (e) => {
      const peerId = e.detail.toString()
      this.sync.disconnected(peerId)
      this.joins.disconnected(peerId)
      this.changed()
    })
    this.gossip.attach(node.services.pubsub)
    this.started()
    this.joins.attach(node)
  }

  /** The node is up and routed here; join targets are dialed next. */
  protected started(): void {}

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.joins.stop()
    this.sync.stop()
    await this.node?.stop()
  }

  send(peer: string, data: Uint8Array): void {
    this.sync.send(peer, data)
  }

  backlog(peer: string): number {
    return this.sync.backlog(peer)
  }

  publish(topic: string, data: Uint8Array): void {
    if (this.accepting()) this.gossip.publish(topic, data)
  }

  subscribe(topic: string): void {
    this.gossip.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    this.gossip.unsubscribe(topic)
  }

  peers(): string[] {
    return this.sync.upNodeIds()
  }

  /** Hands a peer's message (direct or gossip) to the replica. */
  protected deliver(from: string, data: Uint8Array): void {
    try {
      this.handler?.onMessage(from, data)
    } catch (err) {
      // The replica must not be able to kill a connection by throwing.
      this.log('error', `replica failed on a message from ${from}: ${errorText(err)}`)
    }
  }

  protected requireNode(): Libp2pNode {
    if (!this.node) throw new Error('transport not started')
    return this.node
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
