/**
 * Gossip (docs/decisions/0010-replication.md): fresh local updates, once durable here,
 * published on the topics of the regions that hold their shard (`concord/all` for shards
 * every region holds). Best effort: what gossip loses, anti-entropy repairs. A topic
 * whose every live hearer is linked here goes to them as direct frames instead
 * (update-audience.ts, docs/decisions/0040-direct-updates.md): the same message, the
 * same receivers, no signature and no gossip router.
 *
 * Each update covers the LSN range [start, end) of this replica's change sequence; a
 * message says which range it carries, so a receiver can tell whether it holds everything
 * before it (positions.ts).
 *
 * Bounds: a message carries at most MAX_GOSSIP_BYTES of updates; a larger update is not
 * gossiped (anti-entropy carries it; gossipsub has no backpressure).
 */
import { assert } from '../errors/assert.js'
import type { AntiEntropy } from './anti-entropy.js'
import { MessageType, encodeMessage, type ShardUpdate } from './messages.js'
import type { Fragments } from './fragments.js'
import type { Positions } from './positions.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'
import type { ShardLinks } from './shard-links.js'
import { UpdateAudience } from './update-audience.js'

export const TOPIC_ALL = 'concord/all'
export function regionTopic(region: string): string {
  return `concord/region/${region}`
}

/** Updates larger than this are not gossiped; anti-entropy carries them instead. */
const MAX_GOSSIP_BYTES = 1024 * 1024
/** A writer behind by a generation is sent it at most this often (per shard), however many stale updates it sends. */
const STALE_ANSWER_INTERVAL_MS = 1000
const MAX_STALE_ANSWERS = 10_000

/** A durable local update to publish. */
export interface GossipUpdate<S> {
  shard: S
  /** The generation it was made in. */
  generation: number
  update: Uint8Array
  start: number
  end: number
}

export class Gossip<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly antiEntropy: AntiEntropy<S>
  private readonly positions: Positions<S>
  private readonly links: ShardLinks<S>
  private readonly fragments: Fragments<S>
  private readonly audience: UpdateAudience<S>
  /** Per (peer, shard): when a stale update from it was last answered with the generation. */
  private readonly staleAnswered = new Map<string, { generation: number; at: number }>()

  constructor(ctx: ReplicationContext<S>, antiEntropy: AntiEntropy<S>, positions: Positions<S>, links: ShardLinks<S>, fragments: Fragments<S>, awayAfterMs: number) {
    this.ctx = ctx
    this.antiEntropy = antiEntropy
    this.positions = positions
    this.links = links
    this.fragments = fragments
    this.audience = new UpdateAudience(ctx, (peer) => positions.lastSeen(peer), (peer) => positions.downAt(peer), awayAfterMs)
  }

  /** Publishes durable local updates to the regions that hold their shards. */
  publish(updates: Array<GossipUpdate<S>>): void {
    const t = this.ctx.transport
    if (t === null || this.ctx.stopped) return
    const byTopic = new Map<string, { region: string | null; list: Array<ShardUpdate & { start: number; end: number; stale: boolean }> }>()
    let oversize = false
    for (const { shard, generation, update, start, end } of updates) {
      if (update.length > MAX_GOSSIP_BYTES) {
        oversize = true
        continue
      }
      // Made in a generation the shard has since left (its entries were carried into the
      // new one, which travels whole): its structs belong to the old document, and applied
      // to the new one they would reuse its ids. Only its LSN range still goes out, so
      // receivers see no gap.
      const stale = generation !== shard.generation
      const scope = this.ctx.host.scopeOf(shard.id)
      for (const region of scope ?? [null]) {
        const topic = region === null ? TOPIC_ALL : regionTopic(region)
        let entry = byTopic.get(topic)
        if (entry === undefined) {
          entry = { region, list: [] }
          byTopic.set(topic, entry)
        }
        entry.list.push({ shard: shard.id, generation, update, start, end, stale })
      }
    }
    let up: string[] | null
    try {
      up = t.peers()
    } catch {
      up = null
    }
    for (const [topic, { region, list }] of byTopic) {
      // Connected peers not known (the transport failed to say): gossiped.
      const direct = up === null ? null : this.audience.direct(topic, region, up)
      // No live member but this one hears the topic: nothing to encode or send.
      if (direct !== null && direct.length === 0) continue
      let batch: Array<ShardUpdate & { start: number; end: number; stale: boolean }> = []
      let size = 0
      const flush = () => {
        if (batch.length === 0) return
        const updates = batch.filter((u) => !u.stale).map(({ shard, generation, update }) => ({ shard, generation, update }))
        const prevLsn = batch[0]!.start
        const lsn = batch[batch.length - 1]!.end
        assert(prevLsn <= lsn, 'a gossiped LSN range is not reversed')
        const bytes = encodeMessage({ type: MessageType.Updates, prevLsn, lsn, updates })
        if (direct !== null) {
          this.ctx.stats.updatesSentDirect++
          for (const peer of direct) this.fragments.sendEncoded(peer, bytes)
        } else {
          this.ctx.stats.messagesSent++
          this.ctx.stats.bytesSent += bytes.length
          this.ctx.stats.updatesGossiped++
          t.publish(topic, bytes)
        }
        batch = []
        size = 0
      }
      for (const u of list) {
        if (size + u.update.length > MAX_GOSSIP_BYTES) flush()
        batch.push(u)
        size += u.update.length + u.shard.length + 16
      }
      flush()
    }
    if (oversize) for (const peer of this.ctx.peers.keys()) this.antiEntropy.syncWith(peer)
  }

  /** Gossiped updates from `from`, covering the LSN range [prevLsn, lsn) of its changes. */
  onUpdates(from: string, prevLsn: number, lsn: number, updates: ShardUpdate[]): void {
    const host = this.ctx.host
    const stats = this.ctx.stats
    let ok = true
    for (const u of updates) {
      const shard = this.links.target(u.shard)
      // Not applied, but processed: the LSN range is still acknowledged.
      if (shard === null || !this.links.acceptsFrom(from, u.shard)) continue
      const result = host.applyRemoteAt(shard, u.generation, u.update)
      // The writer is behind by a generation: hand it the new one, so it re-applies there
      // (once per second per peer and shard: every update it still has in flight would
      // otherwise bring the whole generation again).
      if (u.generation < shard.generation) {
        const key = `${from}\u0000${shard.id}`
        const last = this.staleAnswered.get(key)
        const now = host.now()
        if (last === undefined || last.generation !== shard.generation || now - last.at >= STALE_ANSWER_INTERVAL_MS) {
          if (this.staleAnswered.size >= MAX_STALE_ANSWERS) this.staleAnswered.clear()
          this.staleAnswered.set(key, { generation: shard.generation, at: now })
          this.antiEntropy.sendGeneration(from, shard)
        }
      }
      if (result === 'applied') stats.updatesApplied++
      else if (result === 'rejected') {
        stats.rejected++
        ok = false
      } else if (result === 'ahead') {
        // The sender is on a newer generation: fetch it now rather than at the next round.
        ok = false
        this.antiEntropy.syncWith(from)
      } else if (result === 'stale') {
        // For a generation already dropped here: its writer re-applies it on moving over.
        ok = false
      }
    }
    if (ok) this.positions.received(from, prevLsn, lsn)
  }
}
