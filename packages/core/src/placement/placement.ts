/**
 * Placement: which replicas hold which shards, and which shard a row lives in.
 *
 * A shard of a table is held by the nodes of the table's regions (every node when it has
 * none); the catalog by every node; a shard of a table not known yet counts as held by
 * everyone, so a replica takes it in before its schema arrives. A row stays in the shard
 * that holds it; a new row of a partitioned table goes to the partition `partitionOf`
 * picks (every node must route alike), others to partition 0.
 *
 * A shard with a placement record (shard-placement.ts, SQL `shard_location`) is held by
 * the nodes the record names instead, and by no other.
 *
 * A replica reads only rows of tables it holds whole (`holdsWhole`: its region holds the
 * table and it is among the nodes of every placed shard of it): rows it does not hold are
 * not here to read. It writes rows of tables its region holds, but a row that routes to a
 * placed shard held elsewhere is refused at commit (`unheldShard`): written here it would
 * replicate nowhere. Refusals are `featureNotSupported`, never a short answer.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { Json, Row, TableInfo, Value } from '../types.js'
import { CATALOG_SHARD, parseShardId, shardId } from './shard-id.js'
import { catchUpName, CAUGHT_UP_KIND, type CatchUp } from './catch-up.js'
import { JOIN_CAUGHT_UP_KIND, type JoinCatchUp } from './join-catch-up.js'
import type { ShardPlacement, ShardPlacements } from './shard-placement.js'

/** Routes a row of a partitioned table to its partition (ReplicaOptions.partitionOf). */
export type PartitionOf = (table: TableInfo, row: Row) => number

/** What placement needs of its replica. */
export interface PlacementHost<S> {
  /** The table a shard's (storage name, incarnation) belongs to; `dropped` for an incarnation that is gone. */
  tableOfShard(table: string, incarnation: number): { info: TableInfo | undefined; dropped: boolean }
  /** The shards of a table's current incarnation. */
  shardList(table: string): readonly S[]
  /** Every table of the catalog. */
  tables(): readonly TableInfo[]
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

/** The refusal of a row read of a table some of whose placed shards are held elsewhere. */
export function notHeldWhole(info: TableInfo): ConcordError {
  return new ConcordError(
    'featureNotSupported',
    `relation "${info.name}" is held on this node only in part: some of its partitions are placed on other nodes (shard_location)`,
  )
}

/** The refusal of a write routed to a placed shard this node does not hold. */
export function unheldShard(info: TableInfo, partition: number, placement: ShardPlacement, nodeId: string): ConcordError {
  return new ConcordError(
    'featureNotSupported',
    `cannot write this row of relation "${info.name}" on node ${nodeId}: it routes to partition ${partition}, ` +
      `placed on ${placement.location} (node(s) ${placement.nodes.join(', ')})`,
  )
}

export class Placement<S extends { rowCl(rowKey: string): number; readonly id: string }> {
  private readonly host: PlacementHost<S>
  private readonly placements: ShardPlacements
  readonly catchUp: CatchUp
  readonly joinCatchUp: JoinCatchUp
  partitionOf: PartitionOf | undefined

  constructor(host: PlacementHost<S>, placements: ShardPlacements, catchUp: CatchUp, joinCatchUp: JoinCatchUp, partitionOf: PartitionOf | undefined) {
    this.host = host
    this.placements = placements
    this.catchUp = catchUp
    this.joinCatchUp = joinCatchUp
    this.partitionOf = partitionOf
  }

  /** Whether node `nodeId` of `region` holds the shard. Unknown tables count as held by everyone. */
  holds(nodeId: string, region: string, id: string): boolean {
    if (id === CATALOG_SHARD) return true
    const parsed = parseShardId(id)
    if (parsed === null) return false
    const { info, dropped } = this.host.tableOfShard(parsed.table, parsed.incarnation)
    if (dropped) return false
    const placed = this.placements.of(id)
    if (placed !== null) return placed.nodes.includes(nodeId)
    if (info === undefined) return true
    return holdsTable(region, info)
  }

  /**
   * Whether node `nodeId` of `region` holds every shard of the table and has caught up on
   * them (catch-up.ts): only then are its rows read there.
   */
  holdsWhole(nodeId: string, region: string, info: TableInfo): boolean {
    if (!holdsTable(region, info)) return false
    for (const p of this.placements.ofTable(info.storage ?? info.name, info.incarnation)) if (!p.placement.nodes.includes(nodeId)) return false
    return this.caughtUp(nodeId, region, info)
  }

  /**
   * Whether node `nodeId` of `region` has caught up on the table since it started holding
   * it (catch-up.ts) and since it joined on empty storage (join-catch-up.ts); true if it
   * always held it.
   */
  caughtUp(nodeId: string, region: string, info: TableInfo): boolean {
    return this.catchUp.caughtUp(nodeId, region, info.storage ?? info.name, info.incarnation) && this.joinCatchUp.caughtUp(nodeId, info)
  }

  /**
   * The marks `self` earns through an anti-entropy exchange with `peer` that brought it
   * every shard in `listed`: for each table `self` holds and has not caught up on (after a
   * change of holders, catch-up.ts, or since joining, join-catch-up.ts), when the peer has
   * caught up on it and holds it whole or listed some shard of it. Each is a catalog
   * record to write.
   */
  caughtUpThrough(self: { nodeId: string; region: string }, peer: { nodeId: string; region: string }, listed: ReadonlySet<string>): Array<{ kind: string; name: string; value: Json }> {
    const out: Array<{ kind: string; name: string; value: Json }> = []
    const proves = (info: TableInfo): boolean => {
      if (!this.caughtUp(peer.nodeId, peer.region, info)) return false
      const storage = info.storage ?? info.name
      const some = [...listed].some((id) => {
        const p = parseShardId(id)
        return p !== null && p.table === storage && p.incarnation === info.incarnation
      })
      return some || this.holdsWhole(peer.nodeId, peer.region, info)
    }
    for (const { storage, incarnation, record } of this.catchUp.tables()) {
      const info = this.host.tableOfShard(storage, incarnation).info
      if (info === undefined || !holdsTable(self.region, info)) continue
      if (this.catchUp.caughtUp(self.nodeId, self.region, storage, incarnation) || !proves(info)) continue
      out.push({ kind: CAUGHT_UP_KIND, name: `${catchUpName(storage, incarnation)}/${self.nodeId}`, value: { epoch: record.epoch } })
    }
    for (const info of this.host.tables()) {
      if (!holdsTable(self.region, info) || !this.joinCatchUp.unmarked(self.nodeId, info) || !proves(info)) continue
      const mark = this.joinCatchUp.markOf(self.nodeId, info)
      if (mark !== null) out.push({ kind: JOIN_CAUGHT_UP_KIND, ...mark })
    }
    return out
  }

  /**
   * The join marks `self` writes without an exchange: for each table it holds, joined on
   * empty storage, has no mark for, and no other node is a source of (join-catch-up.ts),
   * so that nodes joining later catch up from it.
   */
  joinMarksDue(self: { nodeId: string; region: string }): Array<{ name: string; value: Json }> {
    if (this.joinCatchUp.joinedSince(self.nodeId) === null) return []
    const out: Array<{ name: string; value: Json }> = []
    for (const info of this.host.tables()) {
      if (!holdsTable(self.region, info) || !this.joinCatchUp.unmarked(self.nodeId, info) || !this.joinCatchUp.caughtUp(self.nodeId, info)) continue
      const mark = this.joinCatchUp.markOf(self.nodeId, info)
      if (mark !== null) out.push(mark)
    }
    return out
  }

  /** The placement of a shard; null when its table's regions hold it. */
  placementOf(id: string): ShardPlacement | null {
    return this.placements.of(id)
  }

  /** The placed shards of a table's current incarnation. */
  placedShards(info: TableInfo): ReadonlyArray<{ id: string; partition: number; placement: ShardPlacement }> {
    return this.placements.ofTable(info.storage ?? info.name, info.incarnation)
  }

  /** Regions that hold a shard, null meaning all. */
  scopeOf(id: string): string[] | null {
    const placed = this.placements.of(id)
    if (placed !== null) return placed.regions
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
    const id = this.routeOf(info, rowKey, w)
    return this.host.shard(id) ?? this.host.createShard(id)
  }

  /** The id of the shard `locate` picks, creating nothing. */
  routeOf(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): string {
    for (const s of this.host.shardList(info.name)) if (s.rowCl(rowKey) > 0) return s.id
    let partition = 0
    if (this.partitionOf !== undefined && info.partitioning !== null) {
      const row: Row = {}
      info.primaryKey.forEach((c, i) => (row[c] = w.keyValues[i]!))
      for (const [c, v] of w.cols) row[c] = v
      partition = this.partitionOf(info, row)
    }
    return shardId(info.storage ?? info.name, info.incarnation, partition)
  }

  /**
   * Refuses writes this node may not make: a row of `info` routed to a placed shard it does
   * not hold. Checked before a commit applies anything.
   */
  checkWrites(nodeId: string, info: TableInfo, rows: Iterable<[string, { keyValues: Value[]; cols: Map<string, Value> }]>): void {
    if (this.placedShards(info).length === 0) return
    for (const [rowKey, w] of rows) {
      const id = this.routeOf(info, rowKey, w)
      const placed = this.placements.of(id)
      if (placed !== null && !placed.nodes.includes(nodeId)) throw unheldShard(info, parseShardId(id)?.partition ?? 0, placed, nodeId)
    }
  }
}
