/**
 * Makes subscriptions directional.
 *
 * Core replicates every shard a peer's region holds, in both directions. This wrapper of
 * the node's transport installs, once it has the replica (`bind`), a core link policy
 * (`Replica.setLinkPolicy`) answering from `LinkTable.acceptsFrom`: the replica then
 * applies a peer's updates, diffs and generations of a shard only if this node accepts
 * that shard from that peer, and sends diffs and generations only to peers that accept
 * them. Core checks where each shard's data is applied, after a fragmented message is
 * reassembled, so no message type or fragment slips past (an earlier version decoded and
 * filtered messages here, twice per message, and missed both).
 *
 * With no subscription in the cluster every shard flows both ways. Until `bind`, inbound
 * messages wait in a bounded queue, so nothing is applied before the policy is in place.
 */
import { type LinkPolicy, type Replica, type Transport, type TransportHandler } from '@concord/core'
import { LinkTable, PUBLICATION_KIND, SUBSCRIPTION_KIND } from './replication-catalog.js'

const MAX_QUEUED = 1024

export interface DirectionFilterStats {
  /** Shard entries of received messages not applied because the link does not carry them. */
  filtered: number
}

export class DirectionFilter implements Transport {
  private replica: Replica | null = null
  private links: LinkTable | null = null
  private handler: TransportHandler | null = null
  private queue: Array<[string, Uint8Array]> = []
  private offCatalog: (() => void) | null = null

  readonly inner: Transport

  constructor(inner: Transport) {
    this.inner = inner
  }

  get stats(): DirectionFilterStats {
    return { filtered: this.replica?.replicator.stats.filtered ?? 0 }
  }

  /** Starts applying subscriptions with the replica's catalog; delivers what arrived before. */
  bind(replica: Replica): void {
    this.replica = replica
    this.offCatalog = replica.on('catalog', (changes) => {
      // Tables too: a renamed table's shards keep the name it is stored under.
      if (changes.some((c) => c.kind === SUBSCRIPTION_KIND || c.kind === PUBLICATION_KIND || c.kind === 'table')) this.links = null
    })
    const policy: LinkPolicy = { accepts: (receiver, sender, shard) => this.linkTable().acceptsFrom(receiver, sender, shard) }
    replica.setLinkPolicy(policy)
    const queued = this.queue
    this.queue = []
    for (const [from, data] of queued) this.handler?.onMessage(from, data)
  }

  private linkTable(): LinkTable {
    this.links ??= new LinkTable(this.replica!)
    return this.links
  }

  start(handler: TransportHandler): void | Promise<void> {
    this.handler = handler
    return this.inner.start({
      onMessage: (from, data) => {
        if (this.replica !== null) handler.onMessage(from, data)
        else if (this.queue.length < MAX_QUEUED) this.queue.push([from, data])
      },
      onPeerUp: (peer) => handler.onPeerUp(peer),
      onPeerDown: (peer) => handler.onPeerDown(peer),
    })
  }

  send(peer: string, data: Uint8Array): void {
    this.inner.send(peer, data)
  }

  backlog(peer: string): number {
    return this.inner.backlog?.(peer) ?? 0
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
