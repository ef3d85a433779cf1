/**
 * Which shard data crosses a link: a shard this replica holds, from a peer it accepts the
 * shard from, to a peer that accepts it from this replica (Replica.setLinkPolicy). Checked
 * where shard data is applied or sent, after reassembly, so nothing slips past in a
 * message type or a fragment.
 */
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

export class ShardLinks<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>

  constructor(ctx: ReplicationContext<S>) {
    this.ctx = ctx
  }

  /** A shard this replica should hold, or null if data for it is not for this replica. */
  target(id: string): S | null {
    const host = this.ctx.host
    if (!host.holds(host.nodeId, host.region, id)) return null
    return host.shardFor(id)
  }

  /** Whether this replica applies what `peer` sends of `shard`; counted in `filtered` when not. */
  acceptsFrom(peer: string, shard: string): boolean {
    const p = this.ctx.host.linkPolicy
    if (p === null || p.accepts(this.ctx.host.nodeId, peer, shard)) return true
    this.ctx.stats.filtered++
    return false
  }

  /** Whether `peer` applies what this replica sends of `shard`: if not, sending is wasted (or leaks). */
  deliversTo(peer: string, shard: string): boolean {
    const p = this.ctx.host.linkPolicy
    return p === null || p.accepts(peer, this.ctx.host.nodeId, shard)
  }
}
