/**
 * `shard_location`: pins a partition (or an unpartitioned table) to nodes.
 *
 *   ALTER TABLE orders_shard_0 SET (shard_location = 'node1')
 *   ALTER TABLE orders_shard_1 SET (shard_location = 'eu-central', shard_replication_factor = 2)
 *
 * The location names a node (its node id, or its `node_id` label set with ALTER SYSTEM) or
 * a region. It resolves, when the statement runs, to `shard_replication_factor` nodes
 * (default 1): a node and, past the first, others of its region; a region, that many of
 * its nodes. Others are picked by rendezvous hashing of (shard, node), so every node
 * computing it picks the same and a shard's copies spread over the region. The result is
 * core's placement record of the shard (core placement/shard-placement.ts): only those
 * nodes store the shard's rows from then on; a node that had them hands them over and
 * drops them once a holder has them all; a node that did not hold the shard before reads
 * the table from a caught-up holder until it has caught up (holder-change.ts). A node
 * added later takes over nothing until the location is set again.
 *
 * Refused (22023): an unknown name, a node or region outside the table's
 * `replication_regions`, a region with fewer nodes than the factor. Refused (0A000): a
 * partitioned table (place its partitions) and a sub-partition (its rows live in the
 * root's partition shards).
 */
import { fnv1a, holdsTable, MAX_PLACEMENT_NODES, parsePlacement, SHARD_PLACEMENT_KIND, shardId, type Json, type TableInfo } from '@concord/core'
import { tableMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { partitionShard } from './partition-view.js'
import { NODE_SETTING_KIND } from '../settings/settings.js'
import { noteHolderChange, type CatalogAccess, type Holders } from './holder-change.js'

export const SHARD_LOCATION_OPTION = 'shard_location'
export const SHARD_REPLICATION_FACTOR_OPTION = 'shard_replication_factor'

/** Catalog kind of the node records each node writes when it opens (database.ts). */
const NODE_KIND = 'node'

export interface KnownNode {
  nodeId: string
  region: string
  /** Its `node_id` label (ALTER SYSTEM SET node_id), if any. */
  name: string | null
}

/** Nodes as their `node` records name them, by node id. */
export function knownNodes(tx: Pick<CatalogAccess, 'listCatalog' | 'getCatalog'>): KnownNode[] {
  const out: KnownNode[] = []
  for (const [, v] of tx.listCatalog(NODE_KIND)) {
    const r = v as { nodeId?: unknown; region?: unknown } | null
    if (typeof r?.nodeId !== 'string' || typeof r.region !== 'string') continue
    const label = tx.getCatalog(NODE_SETTING_KIND, `${r.nodeId}/node_id`)
    out.push({ nodeId: r.nodeId, region: r.region, name: typeof label === 'string' && label !== '' ? label : null })
  }
  return out.sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
}

/** Nodes of `pool` in rendezvous order for `shard`: every node computes the same. */
function rendezvous(shard: string, pool: KnownNode[]): KnownNode[] {
  const enc = new TextEncoder()
  const score = new Map(pool.map((n) => [n.nodeId, fnv1a(enc.encode(`${shard}\u0000${n.nodeId}`))]))
  return [...pool].sort((a, b) => score.get(b.nodeId)! - score.get(a.nodeId)! || (a.nodeId < b.nodeId ? -1 : 1))
}

function factorOf(text: string | undefined): number {
  if (text === undefined) return 1
  const n = Number(text)
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > MAX_PLACEMENT_NODES) {
    throw new SqlError(SqlState.invalidParameterValue, `invalid value for ${SHARD_REPLICATION_FACTOR_OPTION}: "${text}" (a whole number from 1 to ${MAX_PLACEMENT_NODES})`)
  }
  return n
}

/** The shard a table's `shard_location` places: a partition's shard of its partitioned table, or the table's own. */
function placedShard(tx: CatalogAccess, table: TableInfo): { id: string; root: TableInfo } {
  const parentName = tableMeta(table).partitionOf
  if (parentName) {
    const parent = tx.table(parentName)
    if (parent === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${parentName}" does not exist`)
    if (tableMeta(parent).partitionOf) {
      throw new SqlError(SqlState.featureNotSupported, `shard_location cannot be set on "${table.name}": it is a partition of a partition, and its rows live in the partitions of "${tableMeta(parent).partitionOf}"`, {
        hint: `Set shard_location on the partition of "${tableMeta(parent).partitionOf}" it belongs to.`,
      })
    }
    return { id: shardId(parent.storage ?? parent.name, parent.incarnation, partitionShard(table)), root: parent }
  }
  if (table.partitioning) {
    throw new SqlError(SqlState.featureNotSupported, `shard_location cannot be set on partitioned table "${table.name}": its rows live in its partitions`, {
      hint: `Set shard_location on each partition (ALTER TABLE <partition> SET (shard_location = ..)).`,
    })
  }
  return { id: shardId(table.storage ?? table.name, table.incarnation, 0), root: table }
}

/** The nodes `location` resolves to for `shard` of `root` (see the module header); throws 22023 when it cannot. */
export function resolveLocation(tx: CatalogAccess, root: TableInfo, shard: string, location: string, factor: number): Array<{ nodeId: string; region: string }> {
  const nodes = knownNodes(tx)
  const outside = (region: string) =>
    new SqlError(SqlState.invalidParameterValue, `shard_location "${location}" is in region ${region}, outside the replication_regions of "${root.name}" (${(root.regions ?? []).join(', ')})`)
  const byName = nodes.filter((n) => n.nodeId === location || n.name === location)
  if (byName.length > 1) throw new SqlError(SqlState.invalidParameterValue, `shard_location "${location}" names more than one node: ${byName.map((n) => n.nodeId).join(', ')}`)
  let chosen: KnownNode[]
  if (byName.length === 1) {
    const node = byName[0]!
    if (!holdsTable(node.region, root)) throw outside(node.region)
    const others = rendezvous(shard, nodes.filter((n) => n.region === node.region && n !== node))
    if (others.length + 1 < factor) {
      throw new SqlError(SqlState.invalidParameterValue, `shard_replication_factor ${factor} needs ${factor} nodes in region ${node.region}, which has ${others.length + 1}`)
    }
    chosen = [node, ...others.slice(0, factor - 1)]
  } else {
    const pool = nodes.filter((n) => n.region === location)
    if (pool.length === 0) {
      throw new SqlError(SqlState.invalidParameterValue, `shard_location "${location}" names no known node or region`, {
        hint: 'Name a node by its node id or node_id label (pg_nodes), or a region with nodes (pg_regions).',
      })
    }
    if (!holdsTable(location, root)) throw outside(location)
    if (pool.length < factor) throw new SqlError(SqlState.invalidParameterValue, `shard_replication_factor ${factor} needs ${factor} nodes in region ${location}, which has ${pool.length}`)
    chosen = rendezvous(shard, pool).slice(0, factor)
  }
  return chosen.map((n) => ({ nodeId: n.nodeId, region: n.region }))
}

/**
 * Applies a table's `shard_location` and `shard_replication_factor` options as they are
 * now (after CREATE TABLE or ALTER TABLE .. SET/RESET): writes the shard's placement
 * record, or removes it when no location is set.
 */
export function applyShardLocation(
  tx: CatalogAccess, tableName: string, epoch: number, caughtUp?: (nodeId: string, region: string, table: TableInfo) => boolean,
): void {
  const table = tx.table(tableName)
  if (table === undefined) return
  const location = table.options[SHARD_LOCATION_OPTION]
  const factorText = table.options[SHARD_REPLICATION_FACTOR_OPTION]
  const factor = factorOf(factorText)
  if (location === undefined && factorText !== undefined) throw new SqlError(SqlState.invalidParameterValue, `${SHARD_REPLICATION_FACTOR_OPTION} needs ${SHARD_LOCATION_OPTION}`)
  if (location === undefined && table.partitioning && !tableMeta(table).partitionOf) return
  const { id, root } = placedShard(tx, table)
  // Who held the shard until now: nodes that hold it from now on and did not must catch up first.
  const stored = tx.getCatalog(SHARD_PLACEMENT_KIND, id)
  const previous = stored === undefined ? null : parsePlacement(stored)
  const before: Holders = previous !== null ? { regions: [], nodes: previous.nodes } : { regions: root.regions, nodes: [] }
  if (location === undefined) {
    if (previous === null) return
    tx.setCatalog(SHARD_PLACEMENT_KIND, id, null)
    noteHolderChange(tx, root, before, epoch, [''])
    return
  }
  const chosen = resolveLocation(tx, root, id, location.trim(), factor)
  // A node that has not caught up on the table could never prove it once the former holders
  // hand their copies over (no other node lists the shard then): its reads would fail for good.
  const behind = caughtUp === undefined ? undefined : chosen.find((n) => !caughtUp(n.nodeId, n.region, root))
  if (behind !== undefined) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, `cannot place "${table.name}" on node ${behind.nodeId} yet: it has not caught up on "${root.name}"`, {
      hint: `A node that joined or started holding the table moments ago catches up within seconds (pg_stat_concord_shards.caught_up on it); retry then.`,
    })
  }
  const nodes = chosen.map((n) => n.nodeId)
  tx.setCatalog(SHARD_PLACEMENT_KIND, id, { location: location.trim(), nodes, regions: [...new Set(chosen.map((n) => n.region))] } as unknown as Json)
  const newcomer = chosen.some((n) => !before.nodes.includes(n.nodeId) && before.regions !== null && !before.regions.includes(n.region))
  if (newcomer) noteHolderChange(tx, root, before, epoch, [id])
}

/** Whether a statement's WITH/SET options touch a shard's placement. */
export function placesShard(opts: Readonly<Record<string, string>>): boolean {
  return opts[SHARD_LOCATION_OPTION] !== undefined || opts[SHARD_REPLICATION_FACTOR_OPTION] !== undefined
}
