/**
 * The plan of `ALTER TABLE .. REBALANCE SHARDS`, shown first by
 * `SELECT * FROM concord_rebalance_plan('orders')`: which placed shards move from which
 * nodes to which, so that the bytes (and so the rows) of the table's placed shards are
 * spread evenly over the nodes allowed to hold them.
 *
 * - Only placed shards move (`shard_location`): a shard without a placement is held by
 *   every node of the table's regions, so it weighs the same on each of them.
 * - A shard may go to the known, live nodes of the regions it is placed in now (a shard
 *   placed in eu-central stays in eu-central), and keeps its number of holders
 *   (`shard_replication_factor`).
 * - The planner starts from where shards are and moves one at a time: the largest shard
 *   of the most loaded node that fits, to the least loaded node allowed to take it, while
 *   that lowers the larger of the two loads. So a balanced table plans no move, and a
 *   node added to a region takes shards until it carries its share.
 *
 * Load is a shard's bytes (its encoded state, what a move copies), at least 1 so empty
 * shards spread by count. Every node computing a plan from the same sizes gets the same
 * plan (ties broken by node id and shard id).
 */

/** One placed shard as the planner sees it. */
export interface ShardLoad {
  id: string
  partition: number
  /** The partition (or the unpartitioned table) the shard stores. */
  name: string
  rows: number
  bytes: number
  /** The node ids that hold it now. */
  holders: string[]
  /** The node ids it may be held by. */
  allowed: string[]
}

export interface PlannedShard extends ShardLoad {
  /** The node ids that hold it once the plan has run (equal to `holders` when it stays). */
  to: string[]
}

/** Bound on the moves one plan makes. */
const MAX_MOVES = 10_000

function weight(s: ShardLoad): number {
  return Math.max(1, s.bytes)
}

/** Plans where each shard goes (see the module header). */
export function planRebalance(shards: readonly ShardLoad[]): PlannedShard[] {
  const plan = shards.map((s) => ({ ...s, to: [...s.holders] }))
  const load = new Map<string, number>()
  for (const s of plan) for (const n of s.allowed) load.set(n, load.get(n) ?? 0)
  for (const s of plan) for (const n of s.to) load.set(n, (load.get(n) ?? 0) + weight(s))
  const byLoad = () => [...load].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  for (let moves = 0; moves < MAX_MOVES; moves++) {
    let best = null as { shard: PlannedShard; from: string; to: string; peak: number } | null
    for (const [from, fromLoad] of byLoad()) {
      for (const s of plan) {
        if (!s.to.includes(from)) continue
        for (const to of s.allowed) {
          if (s.to.includes(to)) continue
          const peak = Math.max(fromLoad - weight(s), load.get(to)! + weight(s))
          if (peak >= fromLoad) continue
          if (best === null || peak < best.peak || (peak === best.peak && (s.id < best.shard.id || (s.id === best.shard.id && to < best.to)))) best = { shard: s, from, to, peak }
        }
      }
      // Only the most loaded node that can shed something moves this round.
      if (best !== null) break
    }
    if (best === null) break
    const { shard, from, to } = best
    shard.to = shard.to.map((n) => (n === from ? to : n))
    load.set(from, load.get(from)! - weight(shard))
    load.set(to, load.get(to)! + weight(shard))
  }
  return plan
}

/** Whether a planned shard changes holders. */
export function moves(s: PlannedShard): boolean {
  return s.to.some((n) => !s.holders.includes(n))
}
