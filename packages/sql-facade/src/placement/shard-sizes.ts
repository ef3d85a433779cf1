/**
 * How big each placed shard is (rows, and bytes: its encoded Yjs state, what a move
 * copies), as its holders report it: the input of a rebalance plan (rebalance-plan.ts).
 * A node answers for the shards it holds and has caught up on, through a peer call on
 * topic `placement/shard-sizes` (core replication/peer-calls.ts); a shard held here is
 * measured here.
 *
 * Invariants: a size comes from a holder of the shard that has caught up on its table,
 * never from a partial copy; a shard no holder reported is absent from the answer (the
 * caller refuses to plan without it). Bodies are JSON, decoded defensively and bounded.
 */
import { parseShardId, type Replica } from '@concord/core'

export const SHARD_SIZES_TOPIC = 'placement/shard-sizes'
/** Most shards one call asks about. */
const MAX_SHARDS_PER_CALL = 4096
/** How long one holder may take to answer (ms of the replica's scheduler). */
const SIZES_TIMEOUT_MS = 5_000

export interface ShardSize {
  rows: number
  bytes: number
}

/**
 * The size of a shard held here, when this node holds it and has caught up on its table;
 * else null. A shard of such a table never written here (no row ever reached it) is empty.
 */
export function localShardSize(replica: Replica, id: string): ShardSize | null {
  if (!replica.holdsHere(id)) return null
  const s = replica.shards.get(id)
  if (s === undefined) {
    const p = parseShardId(id)
    const info = p === null ? undefined : replica.tables().find((t) => (t.storage ?? t.name) === p.table && t.incarnation === p.incarnation)
    return info !== undefined && replica.caughtUp(info) ? { rows: 0, bytes: 0 } : null
  }
  if (s.table === null || !replica.caughtUp(s.table.info)) return null
  return { rows: s.rows.size, bytes: s.encodeState().length }
}

/** The handler of size requests on a holder (registered with `Replica.handleCalls(SHARD_SIZES_TOPIC, ..)`). */
export function answerShardSizes(replica: Replica): (from: string, body: Uint8Array) => Promise<Uint8Array> {
  return (_from, body) => {
    const asked = (JSON.parse(new TextDecoder().decode(body)) as { shards?: unknown }).shards
    const ids = Array.isArray(asked) ? asked.filter((x): x is string => typeof x === 'string').slice(0, MAX_SHARDS_PER_CALL) : []
    const sizes: Array<[string, number, number]> = []
    for (const id of ids) {
      const size = localShardSize(replica, id)
      if (size !== null) sizes.push([id, size.rows, size.bytes])
    }
    return Promise.resolve(new TextEncoder().encode(JSON.stringify({ sizes })))
  }
}

function decodeSizes(body: Uint8Array): Array<[string, ShardSize]> {
  const got = (JSON.parse(new TextDecoder().decode(body)) as { sizes?: unknown }).sizes
  if (!Array.isArray(got)) return []
  const out: Array<[string, ShardSize]> = []
  for (const e of got) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || !Number.isSafeInteger(e[1]) || !Number.isSafeInteger(e[2])) continue
    out.push([e[0], { rows: Math.max(0, e[1] as number), bytes: Math.max(0, e[2] as number) }])
  }
  return out
}

/**
 * The sizes of `shards`, each from a holder that answers: measured here when held here,
 * else asked of its holders (connected ones, one call per node, a shard asked again of
 * its next holder while unanswered). Shards no holder reported are left out.
 */
export async function fetchShardSizes(replica: Replica, shards: ReadonlyArray<{ id: string; nodes: readonly string[] }>): Promise<Map<string, ShardSize>> {
  const out = new Map<string, ShardSize>()
  const tried = new Set<string>()
  for (const s of shards) {
    const size = localShardSize(replica, s.id)
    if (size !== null) out.set(s.id, size)
  }
  tried.add(replica.nodeId)
  for (let round = 0; round < 64; round++) {
    // The next untried holder of each shard still missing, grouped by node.
    const ask = new Map<string, string[]>()
    for (const s of shards) {
      if (out.has(s.id)) continue
      const node = s.nodes.find((n) => !tried.has(n))
      if (node === undefined) continue
      const list = ask.get(node) ?? []
      list.push(s.id)
      ask.set(node, list)
    }
    if (ask.size === 0) break
    await Promise.all(
      [...ask].map(async ([node, ids]) => {
        tried.add(node)
        try {
          const body = await replica.call(node, SHARD_SIZES_TOPIC, new TextEncoder().encode(JSON.stringify({ shards: ids.slice(0, MAX_SHARDS_PER_CALL) })), SIZES_TIMEOUT_MS)
          for (const [id, size] of decodeSizes(body)) if (ids.includes(id)) out.set(id, size)
        } catch {
          // Unreachable or silent: the shard's next holder is asked.
        }
      }),
    )
  }
  return out
}
