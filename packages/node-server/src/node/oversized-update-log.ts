/**
 * What a node says when it refuses a replicated update carrying a value past its row
 * limit (core replication/oversized-values.ts): one warning per shard, since anti-entropy
 * offers the same update again every round and the log must not fill with it.
 *
 * Invariants: at most MAX_SHARDS shards are remembered (then the set starts over), so a
 * peer naming many shards cannot grow the node's memory through this log.
 */
import type { Logger } from '../log/logger.js'

const MAX_SHARDS = 1024

export function oversizedLog(log: Logger, limit: number): (shardId: string, bytes: number) => void {
  const told = new Set<string>()
  return (shardId, bytes) => {
    if (told.has(shardId)) return
    if (told.size >= MAX_SHARDS) told.clear()
    told.add(shardId)
    log.warn(
      `refused a replicated update of shard ${shardId}: it carries a value of ${bytes} bytes, more than this node's row limit ` +
        `(--max-row-bytes ${limit}); not applied (a peer with a larger limit wrote it); the shard's other changes from that peer wait behind it`,
    )
  }
}
