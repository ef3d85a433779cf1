/**
 * A `Transport` wrapper that makes subscriptions directional.
 *
 * Core replicates every shard a peer's region holds, in both directions. This filter sits
 * between the replica and its real transport and applies `LinkTable.acceptsFrom` to each
 * message, per shard:
 * - inbound UPDATES: entries for shards this node does not accept from the sender are
 *   removed (the message still reaches the replica, so its LSN range is acknowledged as
 *   processed); inbound SYNC_DIFF entries likewise;
 * - inbound DIGEST: an entry this node does not accept gets this node's own hash, so the
 *   replica neither asks for it nor takes it as missing, and can acknowledge the digest;
 * - inbound SYNC_REQ: requests for shards the sender would not accept from us are dropped;
 * - outbound SYNC_DIFF (direct sends): entries the peer would not accept are not sent.
 * Gossip is published to a topic, not a peer, so only its receivers filter it.
 *
 * With no subscription in the cluster every message passes through untouched (no decode).
 * Until `bind` gives it the replica, inbound messages wait in a bounded queue.
 */
import { decodeMessage, encodeMessage, DEFAULT_MAX_MESSAGE_BYTES, MessageType, type Message, type Replica, type Transport, type TransportHandler } from '@concord/core'
import { LinkTable, PUBLICATION_KIND, SUBSCRIPTION_KIND } from './replication-catalog.js'

const MAX_QUEUED = 1024

export interface DirectionFilterStats {
  /** Shard entries dropped or neutralised because the link does not carry them. */
  filtered: number
}

export class DirectionFilter implements Transport {
  readonly stats: DirectionFilterStats = { filtered: 0 }
  private replica: Replica | null = null
  private links: LinkTable | null = null
  private handler: TransportHandler | null = null
  private queue: Array<[string, Uint8Array]> = []
  private offCatalog: (() => void) | null = null

  constructor(readonly inner: Transport, private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Starts filtering with the replica's catalog; delivers what arrived before. */
  bind(replica: Replica): void {
    this.replica = replica
    this.offCatalog = replica.on('catalog', (changes) => {
      if (changes.some((c) => c.kind === SUBSCRIPTION_KIND || c.kind === PUBLICATION_KIND)) this.links = null
    })
    const queued = this.queue
    this.queue = []
    for (const [from, data] of queued) this.inbound(from, data)
  }

  private linkTable(): LinkTable {
    this.links ??= new LinkTable(this.replica!)
    return this.links
  }

  start(handler: TransportHandler): void | Promise<void> {
    this.handler = handler
    return this.inner.start({
      onMessage: (from, data) => this.inbound(from, data),
      onPeerUp: (peer) => handler.onPeerUp(peer),
      onPeerDown: (peer) => handler.onPeerDown(peer),
    })
  }

  private inbound(from: string, data: Uint8Array): void {
    const handler = this.handler
    if (handler === null) return
    const replica = this.replica
    if (replica === null) {
      if (this.queue.length < MAX_QUEUED) this.queue.push([from, data])
      return
    }
    const links = this.linkTable()
    if (links.empty || !links.isLinked(replica.nodeId, from)) {
      handler.onMessage(from, data)
      return
    }
    let msg: Message
    try {
      msg = decodeMessage(data, this.maxMessageBytes)
    } catch {
      handler.onMessage(from, data) // the replica counts and drops it
      return
    }
    const self = replica.nodeId
    const accept = (shard: string) => links.acceptsFrom(self, from, shard)
    let out: Message | null = msg
    switch (msg.type) {
      case MessageType.Updates: {
        const updates = msg.updates.filter((u) => accept(u.shard))
        if (updates.length !== msg.updates.length) out = { ...msg, updates }
        break
      }
      case MessageType.SyncDiff: {
        const diffs = msg.diffs.filter((d) => accept(d.shard))
        if (diffs.length !== msg.diffs.length) out = diffs.length === 0 ? null : { ...msg, diffs }
        break
      }
      case MessageType.Digest: {
        let changed = false
        const digests = msg.digests.flatMap((d) => {
          if (accept(d.shard)) return [d]
          changed = true
          const own = replica.shards.get(d.shard)
          return own === undefined ? [] : [{ ...d, hash: own.digest() }]
        })
        if (changed) out = { ...msg, digests }
        break
      }
      case MessageType.SyncRequest: {
        const requests = msg.requests.filter((r) => links.acceptsFrom(from, self, r.shard))
        if (requests.length !== msg.requests.length) out = requests.length === 0 ? null : { ...msg, requests }
        break
      }
      default:
        break
    }
    if (out === msg) {
      handler.onMessage(from, data)
      return
    }
    this.stats.filtered++
    if (out !== null) handler.onMessage(from, encodeMessage(out))
  }

  send(peer: string, data: Uint8Array): void {
    const replica = this.replica
    if (replica === null) {
      this.inner.send(peer, data)
      return
    }
    const links = this.linkTable()
    if (links.empty || !links.isLinked(replica.nodeId, peer)) {
      this.inner.send(peer, data)
      return
    }
    let msg: Message
    try {
      msg = decodeMessage(data, this.maxMessageBytes)
    } catch {
      this.inner.send(peer, data)
      return
    }
    if (msg.type !== MessageType.SyncDiff) {
      this.inner.send(peer, data)
      return
    }
    const diffs = msg.diffs.filter((d) => links.acceptsFrom(peer, replica.nodeId, d.shard))
    if (diffs.length === msg.diffs.length) {
      this.inner.send(peer, data)
      return
    }
    this.stats.filtered++
    if (diffs.length > 0) this.inner.send(peer, encodeMessage({ ...msg, diffs }))
  }

  publish(topic: string, data: Uint8Array): void {
    this.inner.publish(topic, data)
  }

  subscribe(topic: string): void {
    this.inner.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    this.inner.unsubscribe(topic)
  }

  peers(): string[] {
    return this.inner.peers()
  }

  stop(): void | Promise<void> {
    this.offCatalog?.()
    this.offCatalog = null
    return this.inner.stop()
  }
}
