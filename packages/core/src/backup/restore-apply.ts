/**
 * Applying a checked restore plan (restore-plan.ts): into an empty storage, as a data
 * directory a node then opens (`concord restore`), or into an empty running replica
 * (`RESTORE DATABASE`).
 *
 * Invariants: both refuse a target that holds data (objectNotInPrerequisiteState): a
 * restore never merges a backup into live data. The restored node gets its own identity
 * (node id, Yjs client id); the backup's rows keep their writers. A restored node is no
 * brand-new joiner: it answers from the backup's rows at once.
 */
import type { Storage } from '../api.js'
import type { Replica } from '../replica.js'
import type { RestorePlan } from './restore-plan.js'
import { ConcordError } from '../errors/concord-error.js'
import { previousId } from '../generations/generation-id.js'
import { CATALOG_SHARD } from '../placement/shard-id.js'
import { JOINED_KIND } from '../placement/join-catch-up.js'

/** Writes the plan into `storage`, which must be empty: one snapshot per shard and overlay. */
export async function restoreIntoStorage(plan: RestorePlan, storage: Storage): Promise<void> {
  if ((await storage.shards()).length > 0) {
    throw new ConcordError('objectNotInPrerequisiteState', 'cannot restore into a data directory that holds data: restore into a new one')
  }
  for (const s of plan.shards) {
    await storage.compact(s.shard, { generation: s.generation, kind: 'snapshot', data: s.state })
    for (const o of s.overlays) await storage.compact(previousId(s.shard, o.generation), { generation: o.generation, kind: 'snapshot', data: o.state })
  }
}

/**
 * Applies the plan to a running replica holding no user table, as if a peer had sent
 * each shard: persisted and published to peers. The catalog goes first (it creates the
 * tables the other shards belong to). A shard's older generations kept as overlays go
 * before its current state, oldest first, each adopted as a generation (or applied, when
 * the shard is in that generation already): the shard ends in the backup's generation
 * with the older ones held as overlays, as on the node that took the backup.
 */
export function restoreIntoReplica(plan: RestorePlan, replica: Replica): void {
  if (replica.tables().length > 0) {
    throw new ConcordError('objectNotInPrerequisiteState', 'RESTORE DATABASE needs a node holding no user table: restore into a new node')
  }
  const order = [...plan.shards].sort((a, b) => (a.shard === CATALOG_SHARD ? -1 : b.shard === CATALOG_SHARD ? 1 : 0))
  for (const s of order) {
    const shard = s.shard === CATALOG_SHARD ? replica.catalogShard : replica.shardFor(s.shard)
    if (shard === null) throw new ConcordError('dataCorrupted', `backup ${plan.backup.id} holds shard ${s.shard}, which its catalog does not know`)
    const pieces = [...[...s.overlays].sort((a, b) => a.generation - b.generation), { generation: s.generation, state: s.state }]
    for (const p of pieces) {
      if (p.generation > shard.generation) replica.housekeeper.adoptGeneration(shard, p.generation, p.state)
      else if (p.generation === shard.generation) {
        if (!replica.applyRemote(shard, p.state)) throw new ConcordError('dataCorrupted', `backup ${plan.backup.id}: shard ${s.shard} does not apply`)
      } else throw new ConcordError('objectNotInPrerequisiteState', `shard ${s.shard} is in a newer generation here than in the backup`)
    }
  }
  // Restored, it holds every table as of the backup, as a node restarted after an outage
  // does: no brand-new joiner waiting to catch up (placement/join-catch-up.ts).
  if (replica.getCatalog(JOINED_KIND, replica.nodeId) !== undefined) replica.transact((tx) => tx.setCatalog(JOINED_KIND, replica.nodeId, null))
}
