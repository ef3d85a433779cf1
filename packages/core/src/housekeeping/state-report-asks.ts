/**
 * The builder's asks for state reports, so that a shard's deletes become stable in a
 * large cluster (docs/decisions/0018-stability-within-holders.md).
 *
 * A delete is stable at the builder once every other live holder of the shard has
 * reported, after it, holding exactly the builder's state (Housekeeper.stableDeletes).
 * Reports used to come only from anti-entropy digests, which a replica sends each round
 * to one peer picked among all of them: the builder heard from a given holder about once
 * in n rounds, from all of them at once practically never past a few dozen peers (no
 * generation switch at 100 and 200 peers in the campaign). So the builder asks the holders
 * a pending delete waits for: an ask is a SYNC_REQ carrying the builder's state vector;
 * the holder's SYNC_DIFF answer carries the hash of its state (durable when the answer
 * leaves), and anti-entropy counts it as an equal report once the builder, having
 * applied the diff, has that same state.
 *
 * A holder the builder has no connection to cannot be asked: the shard's unreachable
 * holders are handed, at most once per `againAfterMs`, to `relay`, which asks connected
 * holders to vouch for them (relayed reports, replication/relayed-reports.ts).
 *
 * Invariants (limits): at most ASKS_PER_ROUND asks per round, at most ASKS_PER_SHARD of
 * them about one shard; a holder is not asked about a shard again within `againAfterMs`
 * (its answer may still be on its way); shards are served in turn across rounds, so none
 * waits behind the others; memory is one entry per holder asked, per shard with pending
 * deletes, dropped once nothing waits.
 */

/** Asks a builder sends per housekeeping round, over all its shards. */
export const ASKS_PER_ROUND = 32
/** Asks about one shard per round. */
export const ASKS_PER_SHARD = 16

/** One shard's pending deletes and the holders whose reports they wait for. */
export interface ReportsWanted {
  shard: string
  holders: readonly string[]
}

export class StateReportAsks {
  /** Per shard: when each holder was last asked (wall ms). */
  private readonly askedAt = new Map<string, Map<string, number>>()
  /** Per shard: when its unreachable holders were last handed to `relay` (wall ms). */
  private readonly relayedAt = new Map<string, number>()
  private rounds = 0
  /** Asks sent since start (for tests and metrics). */
  sent = 0
  /** Times unreachable holders were handed to relayers since start (for tests and metrics). */
  relayed = 0

  /**
   * One round: asks some of the holders each shard of `wanted` waits for, the least
   * recently asked first. `send` asks one and tells whether it could (false: the peer is
   * not connected; it is not counted, and the shard waits for it to come back or be
   * declared departed). Shards missing from `wanted` are forgotten.
   */
  round(
    wanted: readonly ReportsWanted[],
    now: number,
    againAfterMs: number,
    send: (peer: string, shard: string) => boolean,
    relay: (shard: string, holders: readonly string[]) => boolean = () => false,
  ): void {
    const live = new Set(wanted.map((w) => w.shard))
    for (const s of this.askedAt.keys()) if (!live.has(s)) this.askedAt.delete(s)
    for (const s of this.relayedAt.keys()) if (!live.has(s)) this.relayedAt.delete(s)
    if (wanted.length === 0) return
    let budget = ASKS_PER_ROUND
    const start = this.rounds++ % wanted.length
    for (let i = 0; i < wanted.length && budget > 0; i++) {
      const w = wanted[(start + i) % wanted.length]!
      let asked = this.askedAt.get(w.shard)
      if (asked === undefined) {
        asked = new Map()
        this.askedAt.set(w.shard, asked)
      }
      const waiting = new Set(w.holders)
      for (const p of asked.keys()) if (!waiting.has(p)) asked.delete(p)
      const at = (p: string) => asked.get(p) ?? Number.NEGATIVE_INFINITY
      const due = w.holders.filter((p) => now - at(p) >= againAfterMs).sort((a, b) => at(a) - at(b) || (a < b ? -1 : a > b ? 1 : 0))
      let forShard = ASKS_PER_SHARD
      const unreachable = new Set<string>()
      for (const peer of due) {
        if (budget === 0 || forShard === 0) break
        if (!send(peer, w.shard)) {
          unreachable.add(peer)
          continue
        }
        asked.set(peer, now)
        this.sent++
        budget--
        forShard--
      }
      // Holders left untried by the limits may be unreachable too: relayers vouch for them as well.
      if (budget === 0 || forShard === 0) for (const p of due) if (asked.get(p) !== now) unreachable.add(p)
      if (unreachable.size > 0 && now - (this.relayedAt.get(w.shard) ?? Number.NEGATIVE_INFINITY) >= againAfterMs) {
        if (relay(w.shard, [...unreachable])) {
          this.relayedAt.set(w.shard, now)
          this.relayed++
        }
      }
    }
  }
}
