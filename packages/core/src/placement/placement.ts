/**
 * Placement: which replicas hold which shards, and which shard a row lives in.
 *
 * A shard of a table is held by the nodes of the table's regions (every node when it has
 * none); the catalog by every node; a shard of a table not known yet counts as held by
 * everyone, so a replica takes it in before its schema arrives. A row stays in the shard
 * that holds it; a new row of a partitioned table goes to the partition `partitionOf`
 * picks (every node must route alike), others to partition 0.
 *
 * A replica reads and writes only rows of tables its region holds (`holdsTable`): rows it
 * does not hold are not here to read, and a row written here would replicate nowhere
 * (peers of the table's regions do not accept the shard from this node's region). A
 * transaction's row operations refuse such a table with `notHeldHere`, never a short answer.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { Row, TableInfo, Value } from '../types.js'
import { CATALOG_SHARD, parseShardId, shardId } from './shard-id.js'

/** Routes a row of a partitioned table to its partition (ReplicaOptions.partitionOf). */
export type PartitionOf = (table: TableInfo, row: Row) => number

/** What placement needs of its replica. */
export interface PlacementHost<S> {
  /** The table a shard's (storage name, incarnation) belongs to; `dropped` for an incarnation that is gone. */
  tableOfShard(table: string, incarnation: number): { info: TableInfo | undefined; dropped: boolean }
  /** The shards of a table's current incarnation. */
  shardList(table: string): readonly S[]
  shard(id: string): S | undefined
  /** Creates an empty shard (it joins its table, see CatalogView.attach). */
  createShard(id: string): S
}

/** Whether nodes of `region` hold the rows of `info` (every region does when it names none). */
export function holdsTable(region: string, info: TableInfo): boolean {
  return info.regions === null || info.regions.includes(region)
}

/** The refusal of a row read or write of a table this node's region does not hold. */
export function notHeldHere(info: TableInfo, region: string): ConcordError {
  const regions = (info.regions ?? []).join(', ')
  return new ConcordError(
    'featureNotSupported',
    `relation "${info.name}" is not held on this node: its rows live only in region(s) ${regions}, and this node is in region ${region}`,
  )
}

export class Placement<S extends { rowCl(rowKey: string): number }> {
  private readonly host: PlacementHost<S>
  partitionOf: PartitionOf | undefined

  constructor(host: PlacementHost<S>, partitionOf: PartitionOf | undefined) {
    this.host = host
    this.partitionOf = partitionOf
  }

  /** Whether a node of `region` holds the shard. Unknown tables count as held by everyone. */
  holds(region: string, id: string): boolean {
    if (id === CATALOG_SHARD) return true
    const parsed = parseShardId(id)
    if (parsed === null) return false
    const { info, dropped } = this.host.tableOfShard(parsed.table, parsed.incarnation)
    if (dropped) return false
    if (info === undefined) return true
    return holdsTable(region, info)
  }

  /** Regions that hold a shard, null meaning all. */
  scopeOf(id: string): string[] | null {
    const parsed = parseShardId(id)
    if (parsed === null) return null
    return this.host.tableOfShard(parsed.table, parsed.incarnation).info?.regions ?? null
  }

  /** The shard for an id, created empty if absent. Null when the id belongs to a dropped incarnation (or is no shard id). */
  shardFor(id: string): S | null {
    const existing = this.host.shard(id)
    if (existing !== undefined) return existing
    const parsed = parseShardId(id)
    if (id !== CATALOG_SHARD && parsed === null) return null
    if (parsed !== null && this.host.tableOfShard(parsed.table, parsed.incarnation).dropped) return null
    return this.host.createShard(id)
  }

  /** The shard a row lives in, or the one its partition routes it to (created if needed). */
  locate(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): S {
    const list = this.host.shardList(info.name)
    if (list.length === 1 && info.partitioning === null) return list[0]!
    for (const s of list) if (s.rowCl(rowKey) > 0) return s
    let partition = 0
    if (this.partitionOf !== undefined && info.partitioning !== null) {
      const row: Row = {}
      info.primaryKey.forEach((c, i) => (row[c] = w.keyValues[i]!))
      for (const [c, v] of w.cols) row[c] = v
      partition = this.partitionOf(info, row)
    }
    const id = shardId(info.storage ?? info.name, info.incarnation, partition)
    return this.host.shard(id) ?? this.host.createShard(id)
  }
}
