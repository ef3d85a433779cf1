/**
 * The replication protocol of one replica over a `Transport` (docs/decisions/0010-replication.md),
 * talking to its replica only through `ReplicationHost`. This file holds the session with
 * peers (HELLO, who is known, receiving and dispatching messages, the anti-entropy timer);
 * the protocol's parts are gossip.ts (fresh updates), anti-entropy.ts (digests, diffs,
 * generations, divergence), fragments.ts (sending, pacing, reassembly) and positions.ts
 * (LSN acknowledgements, lag, peer status).
 *
 * Every message is decoded defensively; anything malformed is counted in `rejected` and
 * dropped whole. What one message applies is settled as one batch (`host.batch`).
 *
 * Invariant: shard state leaves this node only once it is durable here. Gossip carries
 * local updates after storage has them; diffs and generations, encoded from the shard
 * as it is in memory, wait until every storage write issued before the encoding is
 * complete (`host.whenDurable`). Otherwise a node killed before its write was durable
 * would restart without a write its peers hold: its next write to that row, under a new
 * Yjs client id, would race the lost one, and Yjs breaks that tie by client id, so a
 * write acknowledged after the restart could lose to one that never was.
 */
import { scopeIncoming, writesIncoming, type PeerScopes, type PeerWriteChecks } from './peer-scope.js'
import type { Transport } from '../api.js'
import type { TableInfo } from '../types.js'
import { AntiEntropy } from './anti-entropy.js'
import { DivergenceWatch, type Divergence } from './divergence-watch.js'
import { PeerCalls, type CallHandler } from './peer-calls.js'
import { FederatedReads, type ReadPart, type FederatedReadOptions, type FederatedRows } from './federated-reads.js'
import { Fragments } from './fragments.js'
import { Gossip, TOPIC_ALL, regionTopic, type GossipUpdate } from './gossip.js'
import { DEFAULT_MAX_MESSAGE_BYTES, DecodeError, MAX_HEARTBEAT_PEERS, MAX_REASSEMBLED_BYTES, MessageType, decodeMessage, encodeMessage, type Message } from './messages.js'
import { CatalogPacing } from './catalog-pacing.js'
import { PeerConfirmations } from './peer-confirmations.js'
import { RelayedReports } from './relayed-reports.js'
import { MAX_PEER_RECORDS, Positions, type PeerStatus } from './positions.js'
import { newReplicatorStats, type PeerInfo, type ReplicationContext, type ReplicatorStats } from './replication-context.js'
import type { ReplicatedShard, ReplicationHost } from './replication-host.js'
import { ShardLinks } from './shard-links.js'

export interface ReplicatorOptions {
  /** Milliseconds between anti-entropy rounds; default 1000. 0 disables the timer. */
  antiEntropyIntervalMs?: number
  /** Upper bound on one encoded message; default 64 MiB (larger ones travel in fragments). */
  maxMessageBytes?: number
  /** Timeout and result limit of federated reads (federated-reads.ts). */
  federatedRead?: FederatedReadOptions
  /**
   * Peers' catalog changes are applied at most once per this many milliseconds, those that
   * came in between together (catalog-pacing.ts); default CATALOG_PACING_MS. 0: each at once.
   */
  catalogPacingMs?: number
}

/** Default of `catalogPacingMs`. */
export const CATALOG_PACING_MS = 50
/**
 * Anti-entropy intervals after which a live member neither connected nor heard from is
 * taken for away: fresh updates stop being gossiped for it (update-audience.ts). One whose
 * link went down and that was not heard from since is taken for away at once.
 */
const AWAY_AFTER_ROUNDS = 5

export class Replicator<S extends ReplicatedShard = ReplicatedShard> {
  readonly stats: ReplicatorStats = newReplicatorStats()
  /** What the last failed anti-entropy round threw. */
  lastRoundError: unknown = null
  /**
   * Restricted peers (browser replicas holding a scoped token): what each may read and
   * write (peer-scope.ts); null: every peer is unrestricted. Set by the environment.
   */
  peerScopes: PeerScopes | null = null
  /** Full peers some of whose writes are refused (node-server member-rights.ts); null: none. */
  peerWriteChecks: PeerWriteChecks | null = null
  /** A full peer's write refused by `peerWriteChecks`: what, by shard. */
  onWriteRefused: ((peer: string, shards: string[]) => void) | null = null
  /** Told what a scoped peer sent outside its scope (dropped, never applied or relayed). */
  onOutOfScope: ((peer: string, refused: string[]) => void) | null = null
  private readonly host: ReplicationHost<S>
  private readonly transport: Transport | null
  private readonly interval: number
  private readonly maxBytes: number
  private readonly peers = new Map<string, PeerInfo>()
  private readonly linked = new Set<string>()
  private linksVersion = 0
  /** What connected peers reported holding (`syncState`). */
  readonly confirmations = new PeerConfirmations()
  private readonly fragments: Fragments<S>
  private readonly positions: Positions<S>
  private readonly antiEntropy: AntiEntropy<S>
  private readonly gossiping: Gossip<S>
  private readonly federated: FederatedReads<S>
  private readonly calls: PeerCalls<S>
  /** Relayed state reports (stability of deletes beyond the builder's connections). */
  readonly reports: RelayedReports<S>
  private readonly pacing: CatalogPacing
  private cancelTimer: (() => void) | null = null
  private stopped = false
  /**
   * Whether each round also sends a HEARTBEAT to every known peer (failure detection,
   * see `heldBy`). Off by default: a layer that needs it (active-passive failover) turns it on.
   */
  heartbeats = false

  constructor(host: ReplicationHost<S>, transport: Transport | null, options: ReplicatorOptions = {}) {
    this.host = host
    this.transport = transport
    this.interval = options.antiEntropyIntervalMs ?? 1000
    this.maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    const replicator = this
    const ctx: ReplicationContext<S> = {
      host,
      transport,
      stats: this.stats,
      peers: this.peers,
      linked: this.linked,
      get linksVersion() {
        return replicator.linksVersion
      },
      maxBytes: this.maxBytes,
      confirmations: this.confirmations,
      scopeOf: (peer) => replicator.peerScopes?.(peer) ?? null,
      get stopped() {
        return replicator.stopped
      },
    }
    const links = new ShardLinks(ctx)
    this.fragments = new Fragments(ctx)
    this.positions = new Positions(ctx, this.fragments)
    this.antiEntropy = new AntiEntropy(ctx, this.fragments, this.positions, links, new DivergenceWatch())
    this.gossiping = new Gossip(ctx, this.antiEntropy, this.positions, links, this.fragments, AWAY_AFTER_ROUNDS * Math.max(this.interval, 100))
    this.federated = new FederatedReads(ctx, this.fragments, (table, incarnation, filter, parts) => host.readRows(table, incarnation, filter, parts), options.federatedRead)
    this.calls = new PeerCalls(ctx, this.fragments)
    this.reports = new RelayedReports(ctx, this.fragments, (peer, shardId) => this.askState(peer, shardId))
    this.pacing = new CatalogPacing(
      {
        scheduler: host.scheduler,
        now: () => host.now(),
        dispatch: (from, msg) => {
          if (!this.stopped && !host.isClosed) this.dispatch(from, msg)
        },
        batch: (fn) => host.batch(fn),
        applyCatalogTogether: (fn) => host.applyCatalogTogether(fn),
        failed: () => this.stats.rejected++,
        paced: () => this.stats.pacedMessages++,
      },
      options.catalogPacingMs ?? CATALOG_PACING_MS,
    )
  }

  async start(): Promise<void> {
    const t = this.transport
    // Alone: no peers to sync with.
    if (t === null) return
    await t.start({
      onMessage: (from, data) => this.receive(from, data),
      onPeerUp: (peer) => {
        this.linked.add(peer)
        this.linksVersion++
        this.hello(peer, false)
      },
      onPeerDown: (peer) => {
        this.linked.delete(peer)
        this.peers.delete(peer)
        this.linksVersion++
        this.fragments.forget(peer)
        this.positions.peerDown(peer, this.host.now())
        this.antiEntropy.peerDown(peer)
        this.confirmations.forget(peer)
        this.federated.peerDown(peer)
        this.calls.peerDown(peer)
      },
    })
    t.subscribe(TOPIC_ALL)
    t.subscribe(regionTopic(this.host.region))
    for (const peer of t.peers()) this.hello(peer, false)
    this.schedule()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.pacing.stop()
    this.federated.stop()
    this.calls.stop()
    this.cancelTimer?.()
    this.cancelTimer = null
    await this.transport?.stop()
  }

  /** Received messages held back by catalog pacing, not yet dispatched (they are still on their way). */
  get heldMessages(): number {
    return this.pacing.waiting
  }

  /** Peers that have said hello, with their regions. */
  knownPeers(): Array<[string, string]> {
    return [...this.peers].map(([id, p]) => [id, p.region])
  }

  /** Every peer heard from since start, sorted by node id. */
  peerStatus(): PeerStatus[] {
    return this.positions.peerStatus()
  }

  /** How far `peer` said in its last HEARTBEAT it holds `origin`'s changes (0 if never). */
  heldBy(peer: string, origin: string): number {
    return this.positions.heldBy(peer, origin)
  }

  /** How far this replica holds `origin`'s changes (its LSN). */
  received(origin: string): number {
    return this.positions.receivedFrom(origin)
  }

  /** See Positions.setCommitLogLimit. */
  setCommitLogLimit(n: number): void {
    this.positions.setCommitLogLimit(n)
  }

  /** Records a durable local commit ending at `lsn`, for lag measurement. */
  noteCommit(lsn: number, at: number): void {
    this.positions.noteCommit(lsn, at)
  }

  /** Shards whose rows differ from a peer's under equal Yjs state (see DivergenceWatch). */
  divergences(): Divergence[] {
    return this.antiEntropy.divergence.divergences()
  }

  /** Called once when a divergence is confirmed (for the log). */
  get onDivergence(): (d: Divergence) => void {
    return this.antiEntropy.divergence.onDivergence
  }

  set onDivergence(fn: (d: Divergence) => void) {
    this.antiEntropy.divergence.onDivergence = fn
  }

  /** Calls a peer on a topic (peer-calls.ts). */
  call(peer: string, topic: string, body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    return this.calls.call(peer, topic, body, timeoutMs)
  }

  /** Registers the handler of peers' calls on a topic; returns the function that removes it. */
  handleCalls(topic: string, handler: CallHandler): () => void {
    return this.calls.handle(topic, handler)
  }

  /** Connected peers of a table's regions, nearest first (by measured round trip). */
  holdersOf(info: TableInfo): string[] {
    return this.federated.holders(info)
  }

  /** The last round trip a federated read measured to `peer`, in ms; undefined when none was. */
  roundTripOf(peer: string): number | undefined {
    return this.federated.roundTrip(peer)
  }

  /** The region a connected peer said hello from; undefined for a peer not connected. */
  peerRegion(peer: string): string | undefined {
    return this.peers.get(peer)?.region
  }

  /** The rows of a table this replica does not hold, from the nearest holder that answers (see FederatedReads). */
  readRows(info: TableInfo, filter = '', parts?: readonly ReadPart[]): Promise<FederatedRows> {
    return this.federated.read(info, filter, parts)
  }

  /** Starts an anti-entropy exchange with one peer. */
  syncWith(peer: string): void {
    this.antiEntropy.syncWith(peer)
  }

  /** Sends a shard's current generation, whole, to every known peer that holds it. */
  announceGeneration(shard: S, state?: Uint8Array): void {
    this.antiEntropy.announceGeneration(shard, state)
  }

  /**
   * Asks `peer` to report its state of a shard: a SYNC_REQ with this replica's state
   * vector, answered by a SYNC_DIFF of what the peer holds beyond it and the hash of the
   * peer's state, which anti-entropy notes as an equal report when it matches (the
   * builder's asks, housekeeping/state-report-asks.ts). False when the peer is not
   * connected, does not hold the shard, or this replica does not hold it.
   */
  askState(peer: string, shardId: string): boolean {
    const info = this.peers.get(peer)
    const shard = this.host.shard(shardId)
    if (info === undefined || shard === undefined || !this.host.holds(peer, info.region, shardId) || this.stopped) return false
    const requests = [{ shard: shardId, generation: shard.generation, stateVector: shard.stateVector() }]
    this.fragments.send(peer, { type: MessageType.SyncRequest, requests })
    return true
  }

  /**
   * Asks a few connected holders of a shard to vouch for `holders`, which this replica
   * cannot ask itself (relayed-reports.ts). False when no connected peer holds the shard.
   */
  askReports(shardId: string, holders: readonly string[]): boolean {
    return this.reports.ask(shardId, holders)
  }

  /**
   * Publishes an ephemeral notice to every node (gossip on the all-nodes topic, relayed by
   * the transport like updates): not stored, not repaired, lost for a node not reached.
   */
  notice(topic: string, body: Uint8Array): void {
    const t = this.transport
    if (t === null || this.stopped) return
    const bytes = encodeMessage({ type: MessageType.Notice, topic, body })
    this.stats.messagesSent++
    this.stats.bytesSent += bytes.length
    t.publish(TOPIC_ALL, bytes)
  }

  /** Publishes durable local updates to the regions that hold their shards (see Gossip). */
  gossip(updates: Array<GossipUpdate<S>>): void {
    this.gossiping.publish(updates)
  }

  private schedule(): void {
    if (this.interval <= 0 || this.stopped) return
    this.cancelTimer = this.host.scheduler.setTimeout(this.interval, () => {
      this.cancelTimer = null
      if (this.stopped) return
      try {
        if (this.heartbeats) this.heartbeat()
        this.antiEntropyRound()
      } catch (err) {
        // Repair goes on whatever one round ran into.
        this.stats.roundsFailed++
        this.lastRoundError = err
      }
      this.schedule()
    })
  }

  /** Sends a HEARTBEAT to every known peer: this replica's LSN and how far it holds each peer's changes. */
  heartbeat(): void {
    const held = this.positions.heldNow().slice(0, MAX_HEARTBEAT_PEERS)
    for (const peer of [...this.peers.keys()].sort()) this.fragments.send(peer, { type: MessageType.Heartbeat, lsn: this.host.lsn, held })
  }

  /** Sends a digest to one random known peer (HELLO first to connected peers not heard from). */
  antiEntropyRound(): void {
    // A connected peer that never answered HELLO (the message was lost): say it again.
    if (this.transport !== null) {
      for (const peer of this.transport.peers()) {
        if (!this.peers.has(peer)) this.hello(peer, false)
      }
    }
    const ids = [...this.peers.keys()].sort()
    if (ids.length === 0) return
    const peer = ids[Math.floor(this.host.random() * ids.length) % ids.length]!
    this.antiEntropy.syncWith(peer)
  }

  receive(from: string, data: Uint8Array): void {
    if (this.stopped || this.host.isClosed) return
    this.stats.messagesReceived++
    this.stats.bytesReceived += data.length
    let msg: Message
    try {
      msg = decodeMessage(data, this.maxBytes)
      if (msg.type === MessageType.Fragment) {
        this.positions.statusOf(from).lastSeen = this.host.now()
        this.antiEntropy.noteFragment(from)
        const whole = this.fragments.reassemble(from, msg)
        if (whole === null) return
        msg = decodeMessage(whole, MAX_REASSEMBLED_BYTES)
        if (msg.type === MessageType.Fragment) throw new DecodeError('nested fragment')
        this.stats.fragmentedReceived++
      }
    } catch {
      this.stats.rejected++
      return
    }
    const scope = this.peerScopes?.(from) ?? null
    if (scope !== null) {
      const cut = scopeIncoming(scope, msg)
      if (cut.refused.length > 0) {
        this.stats.outOfScope++
        this.onOutOfScope?.(from, cut.refused)
        if (msg.type === MessageType.SyncDiff || msg.type === MessageType.Generation) for (const shard of cut.refused) this.antiEntropy.noteRefused(from, shard)
      }
      if (cut.msg === null) return
      msg = cut.msg
    } else {
      const check = this.peerWriteChecks?.(from) ?? null
      if (check !== null) {
        const cut = writesIncoming(check, msg)
        if (cut.refused.length > 0) {
          this.stats.writesRefused++
          this.onWriteRefused?.(from, cut.refused)
          if (msg.type === MessageType.SyncDiff || msg.type === MessageType.Generation) for (const shard of cut.refused) this.antiEntropy.noteRefused(from, shard)
        }
        if (cut.msg === null) return
        msg = cut.msg
      }
    }
    this.positions.statusOf(from).lastSeen = this.host.now()
    this.pacing.deliver(from, msg, data.length)
  }

  private dispatch(from: string, msg: Message): void {
    switch (msg.type) {
      case MessageType.Hello:
        this.onHello(from, msg.nodeId, msg.region, msg.reply)
        break
      case MessageType.Updates:
        this.gossiping.onUpdates(from, msg.prevLsn, msg.lsn, msg.updates)
        break
      case MessageType.Digest:
        this.antiEntropy.onDigest(from, msg.lsn, msg.digests, msg.ask === true)
        break
      case MessageType.Ack:
        this.positions.onAck(from, msg.lsn)
        break
      case MessageType.Generation:
        this.antiEntropy.onGeneration(from, msg.shard, msg.generation, msg.state)
        break
      case MessageType.SyncRequest:
        this.antiEntropy.onSyncRequest(from, msg.requests)
        break
      case MessageType.SyncDiff:
        this.antiEntropy.onSyncDiff(from, msg.diffs)
        break
      case MessageType.Heartbeat:
        this.positions.onHeartbeat(from, msg.held)
        break
      case MessageType.RowsRequest:
        this.federated.onRequest(from, msg.id, msg.table, msg.incarnation, msg.filter, { unplaced: msg.unplaced, shards: msg.shards })
        break
      case MessageType.Rows:
        this.federated.onRows(from, msg)
        break
      case MessageType.Notice:
        this.host.onNotice(from, msg.topic, msg.body)
        break
      case MessageType.Call:
        this.calls.onCall(from, msg.id, msg.topic, msg.body)
        break
      case MessageType.Reply:
        this.calls.onReply(from, msg.id, msg.status, msg.body)
        break
      case MessageType.ReportsAsk:
        this.reports.onAsk(from, msg.shard, msg.generation, msg.hops, msg.holders)
        break
      case MessageType.Reports:
        this.reports.onReports(from, msg.shard, msg.generation, msg.groups)
        break
      case MessageType.Held:
        this.antiEntropy.onHeld(from, msg.answer, msg.sets)
        break
    }
  }

  private hello(peer: string, reply: boolean): void {
    this.fragments.send(peer, { type: MessageType.Hello, nodeId: this.host.nodeId, region: this.host.region, reply })
  }

  /**
   * A HELLO that is not itself a reply is always answered: the peer says it again each
   * round until it hears one, so a lost HELLO in either direction never leaves one side
   * not knowing the other (it would never sync with it; found by the simulator with
   * storage delays, a restarted node that missed the reply to its HELLO).
   */
  private onHello(from: string, nodeId: string, region: string, reply: boolean): void {
    if (nodeId !== from) {
      this.stats.rejected++
      return
    }
    const known = this.peers.has(from)
    // Bounded like the peer records (positions.ts): a HELLO can arrive under a forged
    // origin. A peer the transport links directly is always heard.
    if (!known && !this.linked.has(from) && this.peers.size >= MAX_PEER_RECORDS) {
      this.stats.rejected++
      return
    }
    if (this.peers.get(from)?.region !== region) this.linksVersion++
    this.peers.set(from, { region })
    this.positions.peerUp(from, region)
    if (!known) this.confirmations.connected(from)
    if (!reply) this.hello(from, true)
    // One exchange repairs both sides, so only one of the two starts it: without this
    // rule a cold peer would be sent everything twice on first contact.
    if (!known && this.host.nodeId < from) this.antiEntropy.syncWith(from)
  }
}
