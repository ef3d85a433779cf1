/**
 * Concord's cluster views from the seed: pg_regions (the regions the catalog names and
 * the nodes serving each) and pg_shards (where partitions are placed). Node membership
 * comes from the catalog objects each node writes when it opens (kind 'node'); liveness
 * from the transport's current peers. The replication views are in
 * replication/replication-views.ts.
 */
import type { Replica } from '@concord/core'
import { nodeRecords } from '../replication/replication-views.js'
import { T } from '../types/sql-type.js'
import { view, type SystemView } from '../runtime/system-view.js'

function peers(replica: Replica): Set<string> {
  return new Set(replica.options.transport?.peers() ?? [])
}

const pgRegions = view([['region_name', T.text], ['status', T.text], ['roles', T.text], ['node_count', T.int4]], ({ replica }) => {
  const regions = new Map<string, string>()
  for (const [n, v] of replica.listCatalog('region')) regions.set(n, ((v as { roles?: string[] }).roles ?? []).join(','))
  const members = nodeRecords(replica)
  for (const m of members) if (!regions.has(m.region)) regions.set(m.region, '')
  const live = peers(replica)
  return [...regions.entries()].sort().map(([r, roles]) => {
    const here = members.filter((m) => m.region === r)
    const up = here.some((m) => m.nodeId === replica.nodeId || live.has(m.nodeId))
    return [r, here.length === 0 ? 'configured' : up ? 'online' : 'unreachable', roles, here.length]
  })
})

const pgShards = view([['table_name', T.text], ['partition_of', T.text], ['shard_location', T.text]], ({ exec }) =>
  exec.allTables()
    .filter((t) => t.partitioning || (t.meta as { partitionOf?: string } | null)?.partitionOf)
    .map((t) => [t.name, (t.meta as { partitionOf?: string } | null)?.partitionOf ?? null, t.options.shard_location ?? null]))

export const CLUSTER_VIEWS: Record<string, SystemView> = {
  pg_regions: pgRegions,
  pg_shards: pgShards,
}
