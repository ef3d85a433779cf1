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
 * placed shard held elsewhere is refused at commit (`RowsPlacedElsewhere`, naming where every
 * row of the table goes): written here it would replicate nowhere. Refusals are `featureNotSupported`, never a short answer.
 *
 * A homed table (row-homing.ts, SQL `home_region_column`) keeps each row in the shard of
 * its home region, held by that region's nodes (and REPLICA-only regions'): no node holds
 * it whole but a REPLICA-only one, and a row is written only where its home shard is held.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { Json, Row, TableInfo, Value } from '../types.js'
import { isSystemShard, parseShardId, shardId } from './shard-id.js'
import { catchUpName, CAUGHT_UP_KIND, type CatchUp } from './catch-up.js'
import { JOIN_CAUGHT_UP_KIND, type JoinCatchUp } from './join-catch-up.js'
import type { ShardPlacement, ShardPlacements } from './shard-placement.js'
import { homeColumn, homeMove, homeShardId, RowsHomedElsewhere, unknownHomeRegion, type HomeRegions } from './row-homing.js'
import { RowsPlacedElsewhere, type RoutedPart } from './rows-placed-elsewhere.js'
import { shardWithinRegions } from './region-scope.js'

/** Routes a row of a partitioned table to its partition (ReplicaOptions.partitionOf). */
export type PartitionOf = (table: TableInfo, row: Row) => number

/** What an exchange with a caught-up peer earned: catalog records, and tables caught up on since joining. */
export interface CaughtUpThrough {
  records: Array<{ kind: string; name: string; value: Json }>
  joinMarks: string[]
}

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
  if (homeColumn(info) !== null) {
    return new ConcordError(
      'featureNotSupported',
      `relation "${info.name}" is held on this node only in part: its rows homed in other regions (home_region_column "${homeColumn(info)}") live on their regions' nodes` +
        ` (an UPDATE or DELETE of rows homed in one other region is forwarded there when its WHERE names the region: "${homeColumn(info)}" = '..')`,
    )
  }
  return new ConcordError(
    'featureNotSupported',
    `relation "${info.name}" is held on this node only in part: some of its partitions are placed on other nodes (shard_location)`,
  )
}

/**
 * The refusal of a row read of a table this node holds but has not caught up on (after
 * joining on empty storage, join-catch-up.ts, or a change of holders, catch-up.ts): its
 * copy may still lack rows, so it answers nothing from it rather than answer short. Class
 * 08, as when no holder is reachable: the client retries, or reads through a caught-up
 * node (the SQL layer does so itself).
 */
export function notCaughtUp(info: TableInfo): ConcordError {
  return new ConcordError(
    'sqlclientUnableToEstablishSqlconnection',
    `relation "${info.name}" is not caught up on this node yet: it joined or started holding it and has not yet received every row from a caught-up holder (retry, or read it through a caught-up node)`,
  )
}

/** Bound on the catch-ups whose covered parts are remembered at once. */
const MAX_CATCH_UPS_TRACKED = 10_000

export class Placement<S extends { rowCl(rowKey: string): number; readonly id: string }> {
  private readonly host: PlacementHost<S>
  private readonly placements: ShardPlacements
  readonly catchUp: CatchUp
  readonly joinCatchUp: JoinCatchUp
  readonly homes: HomeRegions
  partitionOf: PartitionOf | undefined
  /** Per catch-up record (and mark name): the parts of the table exchanges have covered so far. */
  private readonly covered = new Map<string, Set<string>>()

  constructor(host: PlacementHost<S>, placements: ShardPlacements, catchUp: CatchUp, joinCatchUp: JoinCatchUp, homes: HomeRegions, partitionOf: PartitionOf | undefined) {
    this.host = host
    this.placements = placements
    this.catchUp = catchUp
    this.joinCatchUp = joinCatchUp
    this.homes = homes
    this.partitionOf = partitionOf
  }

  /** Whether node `nodeId` of `region` holds the shard. Unknown tables count as held by everyone. */
  holds(nodeId: string, region: string, id: string): boolean {
    if (isSystemShard(id)) return true
    const parsed = parseShardId(id)
    if (parsed === null) return false
    const { info, dropped } = this.host.tableOfShard(parsed.table, parsed.incarnation)
    if (dropped) return false
    const placed = this.placements.of(id)
    if (placed !== null) return placed.nodes.includes(nodeId)
    if (info === undefined) return true
    if (!holdsTable(region, info)) return false
    return homeColumn(info) === null || this.homes.holds(region, parsed.partition)
  }

  /** Whether shard `id` lies within `regions` (region-scope.ts): false for the catalog, unknown tables and dropped incarnations. */
  withinRegions(id: string, regions: ReadonlySet<string>): boolean {
    const parsed = parseShardId(id)
    if (parsed === null) return false
    const { info, dropped } = this.host.tableOfShard(parsed.table, parsed.incarnation)
    return !dropped && shardWithinRegions(info, parsed.partition, this.placements.of(id) !== null, regions)
  }

  /** Whether the shard is addressed by id in a federated read: a placed shard, or a homed table's home shard. */
  private byId(id: string): boolean {
    if (this.placements.of(id) !== null) return true
    const info = this.tableOfId(id)
    return info !== undefined && homeColumn(info) !== null
  }

  /** The table the catalog knows shard `id` to hold (undefined: unknown yet, dropped, or no shard id). */
  private tableOfId(id: string): TableInfo | undefined {
    const parsed = parseShardId(id)
    return parsed === null ? undefined : this.host.tableOfShard(parsed.table, parsed.incarnation).info
  }

  /**
   * Whether node `nodeId` of `region` has caught up (`caughtUp`) on the table of shard
   * `id`; false while the catalog does not know that table: rows that came before it are
   * no state to build a generation from (housekeeping/housekeeper.ts).
   */
  caughtUpOnShard(nodeId: string, region: string, id: string): boolean {
    const info = this.tableOfId(id)
    return info !== undefined && this.caughtUp(nodeId, region, info)
  }

  /** Whether node `nodeId` of `region` holds the shard a federated read asks for by id (placed or homed). */
  servesById(nodeId: string, region: string, id: string): boolean {
    return this.byId(id) && this.holds(nodeId, region, id)
  }

  /**
   * The home parts of a homed table a read needs: one per home region (its shard, the
   * regions whose nodes hold it). Empty for other tables.
   */
  homeParts(info: TableInfo): Array<{ shard: string; home: string; regions: string[] }> {
    if (homeColumn(info) === null) return []
    const replicas = this.homes.replicaOnlyRegions().filter((r) => holdsTable(r, info))
    return this.homes.homeRegions()
      .filter((r) => holdsTable(r, info))
      .map((home) => ({ shard: homeShardId(info, home), home, regions: [home, ...replicas.filter((r) => r !== home)] }))
  }

  /**
   * Whether node `nodeId` of `region` holds every shard of the table and has caught up on
   * them (catch-up.ts): only then are its rows read there. `sinceJoining` false leaves out
   * the catch-up since joining on empty storage (join-catch-up.ts): a replica that answers
   * before catching up (ReplicaOptions.answerBeforeCatchUp) reads what it holds.
   */
  holdsWhole(nodeId: string, region: string, info: TableInfo, sinceJoining = true): boolean {
    if (!holdsTable(region, info)) return false
    if (homeColumn(info) !== null && !this.homes.isReplicaOnly(region)) return false
    for (const p of this.placements.ofTable(info.storage ?? info.name, info.incarnation)) if (!p.placement.nodes.includes(nodeId)) return false
    return sinceJoining ? this.caughtUp(nodeId, region, info) : this.caughtUpOnRecord(nodeId, region, info)
  }

  /**
   * Whether node `nodeId` of `region` has caught up on the table since it started holding
   * it (catch-up.ts) and since it joined on empty storage (join-catch-up.ts); true if it
   * always held it.
   */
  caughtUp(nodeId: string, region: string, info: TableInfo): boolean {
    return this.caughtUpOnRecord(nodeId, region, info) && this.joinCatchUp.caughtUp(nodeId, info)
  }

  /** Caught up under the table's catch-up record: a source, marked, or holding none of the parts that changed holders. */
  private caughtUpOnRecord(nodeId: string, region: string, info: TableInfo): boolean {
    const storage = info.storage ?? info.name
    if (this.catchUp.caughtUp(nodeId, region, storage, info.incarnation)) return true
    const changed = this.catchUp.record(storage, info.incarnation)?.parts ?? null
    return changed !== null && !this.partsHeld(nodeId, region, info).some((p) => changed.includes(p))
  }

  /**
   * The parts of a table node `nodeId` of `region` holds: '' for the shards without a
   * placement (when its region holds the table), and each placed shard naming it.
   */
  private partsHeld(nodeId: string, region: string, info: TableInfo): string[] {
    if (homeColumn(info) !== null) return this.homeParts(info).filter((p) => p.regions.includes(region)).map((p) => p.shard)
    const out = holdsTable(region, info) ? [''] : []
    for (const p of this.placedShards(info)) if (p.placement.nodes.includes(nodeId)) out.push(p.id)
    return out
  }

  /**
   * The marks `self` earns through an anti-entropy exchange with `peer` that brought it
   * every shard the peer listed: for each table `self` holds and has not caught up on
   * (after a change of holders, catch-up.ts, or since joining, join-catch-up.ts). A peer
   * that has caught up on the table covers the parts of it that both hold (a former
   * holder covers nothing); the table is caught up once exchanges under the same record
   * have covered every part `self` holds (in memory: a restart starts over). Marks after a
   * change of holders are catalog records to write; join marks are table names, for the
   * node's `joined` record (JoinCatchUp.joinedWithMarks).
   */
  caughtUpThrough(self: { nodeId: string; region: string }, peer: { nodeId: string; region: string }): CaughtUpThrough {
    const out: Array<{ kind: string; name: string; value: Json }> = []
    const joinMarks: string[] = []
    const covers = (info: TableInfo, key: string, changed: readonly string[] | null): boolean => {
      if (!this.caughtUp(peer.nodeId, peer.region, info)) return false
      let mine = this.partsHeld(self.nodeId, self.region, info).filter((p) => changed === null || changed.includes(p))
      if (mine.length === 0) return false
      if (homeColumn(info) !== null) {
        // A home shard no other live node holds (the first node of a new region) has no
        // source to catch up from: nothing was homed there but by this node.
        const regionsOf = new Map(this.homeParts(info).map((p) => [p.shard, p.regions]))
        mine = mine.filter((p) => this.homes.othersIn(regionsOf.get(p) ?? [], self.nodeId))
        if (mine.length === 0) {
          this.covered.delete(key)
          return true
        }
      }
      const theirs = new Set(this.partsHeld(peer.nodeId, peer.region, info))
      let got = this.covered.get(key)
      if (got === undefined) {
        if (this.covered.size >= MAX_CATCH_UPS_TRACKED) this.covered.clear()
        got = new Set()
        this.covered.set(key, got)
      }
      for (const part of mine) if (theirs.has(part)) got.add(part)
      if (!mine.every((part) => got.has(part))) return false
      this.covered.delete(key)
      return true
    }
    for (const { storage, incarnation, record } of this.catchUp.tables()) {
      const info = this.host.tableOfShard(storage, incarnation).info
      if (info === undefined || this.caughtUpOnRecord(self.nodeId, self.region, info)) continue
      const name = `${catchUpName(storage, incarnation)}/${self.nodeId}`
      if (!covers(info, `${CAUGHT_UP_KIND}/${name}/${record.epoch}`, record.parts)) continue
      out.push({ kind: CAUGHT_UP_KIND, name, value: { epoch: record.epoch } })
    }
    const since = this.joinCatchUp.joinedSince(self.nodeId)
    if (since !== null) {
      for (const info of this.host.tables()) {
        if (!this.joinCatchUp.unmarked(self.nodeId, info)) continue
        const table = catchUpName(info.storage ?? info.name, info.incarnation)
        if (covers(info, `${JOIN_CAUGHT_UP_KIND}/${table}/${self.nodeId}/${since}`, null)) joinMarks.push(table)
      }
    }
    return { records: out, joinMarks }
  }

  /**
   * The join marks `self` writes without an exchange: for each table it holds, joined on
   * empty storage, has no mark for, and no other node is a source of (join-catch-up.ts),
   * so that nodes joining later catch up from it.
   */
  joinMarksDue(self: { nodeId: string; region: string }): string[] {
    if (this.joinCatchUp.joinedSince(self.nodeId) === null) return []
    const out: string[] = []
    for (const info of this.host.tables()) {
      if (!holdsTable(self.region, info) || !this.joinCatchUp.unmarked(self.nodeId, info) || !this.joinCatchUp.caughtUp(self.nodeId, info)) continue
      out.push(catchUpName(info.storage ?? info.name, info.incarnation))
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
    const info = this.host.tableOfShard(parsed.table, parsed.incarnation).info
    if (info !== undefined && homeColumn(info) !== null && parsed.partition !== 0) {
      const home = this.homes.regionOf(parsed.partition)
      if (home !== null) return [home, ...this.homes.replicaOnlyRegions().filter((r) => r !== home)]
    }
    return info?.regions ?? null
  }

  /** The shard for an id, created empty if absent. Null when the id belongs to a dropped incarnation (or is no shard id). */
  shardFor(id: string): S | null {
    const existing = this.host.shard(id)
    if (existing !== undefined) return existing
    const parsed = parseShardId(id)
    if (!isSystemShard(id) && parsed === null) return null
    if (parsed !== null && this.host.tableOfShard(parsed.table, parsed.incarnation).dropped) return null
    return this.host.createShard(id)
  }

  /** The shard a row lives in, or the one its partition routes it to (created if needed). */
  locate(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): S {
    const list = this.host.shardList(info.name)
    if (list.length === 1 && info.partitioning === null && homeColumn(info) === null) return list[0]!
    const id = this.routeOf(info, rowKey, w)
    return this.host.shard(id) ?? this.host.createShard(id)
  }

  /** The id of the shard `locate` picks, creating nothing. */
  routeOf(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): string {
    const home = this.homeRoute(info, rowKey, w)
    if (home !== null) return home.id
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
   * not hold (naming every shard the rows route to). Checked before a commit applies anything.
   */
  checkWrites(nodeId: string, region: string, info: TableInfo, rows: Iterable<[string, { keyValues: Value[]; cols: Map<string, Value>; live: boolean }]>): void {
    if (homeColumn(info) !== null) return this.checkHomedWrites(nodeId, region, info, rows)
    if (this.placedShards(info).length === 0) return
    const parts = new Map<string, RoutedPart>()
    let refused: { partition: number; placement: ShardPlacement } | undefined
    for (const [rowKey, w] of rows) {
      const id = this.routeOf(info, rowKey, w)
      if (parts.has(id)) continue
      const placement = this.placements.of(id)
      const partition = parseShardId(id)?.partition ?? 0
      parts.set(id, { partition, placement })
      if (placement !== null && !placement.nodes.includes(nodeId)) refused ??= { partition, placement }
    }
    if (refused !== undefined) throw new RowsPlacedElsewhere(info, refused, [...parts.values()], nodeId)
  }

  /**
   * The refusal of a change to a row of `info` not stored here whose key routes it to a
   * placed shard this node does not hold; null otherwise (a homed table, a partition key
   * not within the primary key: the key alone does not tell where the row is).
   */
  placedElsewhere(nodeId: string, info: TableInfo, rowKey: string, keyValues: Value[]): RowsPlacedElsewhere | null {
    if (homeColumn(info) !== null || this.placedShards(info).length === 0) return null
    if (info.partitioning !== null && !info.partitioning.columns.every((c) => info.primaryKey.includes(c))) return null
    const id = this.routeOf(info, rowKey, { keyValues, cols: new Map() })
    const placement = this.placements.of(id)
    if (placement === null || placement.nodes.includes(nodeId)) return null
    const part = { partition: parseShardId(id)?.partition ?? 0, placement }
    return new RowsPlacedElsewhere(info, part, [part], nodeId)
  }

  /** The value of the home column a write gives; undefined when it does not set it. */
  private homeValue(info: TableInfo, w: { keyValues: Value[]; cols: Map<string, Value> }): Value | undefined {
    const col = homeColumn(info)!
    const k = info.primaryKey.indexOf(col)
    return k >= 0 ? w.keyValues[k] : w.cols.get(col)
  }

  /**
   * Where a write of a homed table's row goes (null for other tables): `id` the shard,
   * `live` the shard the row is live in here now (if any), `home` the region it names
   * (null when the write names none and the row is not here).
   */
  private homeRoute(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): { id: string; live: S | null; home: string | null } | null {
    if (homeColumn(info) === null) return null
    let live: S | null = null
    let stored: S | null = null
    for (const s of this.host.shardList(info.name)) {
      const cl = s.rowCl(rowKey)
      if (cl <= 0) continue
      stored ??= s
      if (cl % 2 === 1) live = s
    }
    const v = this.homeValue(info, w)
    if (typeof v === 'string') return { id: homeShardId(info, v), live, home: v }
    const at = live ?? stored
    if (at !== null) return { id: at.id, live, home: this.homes.regionOf(parseShardId(at.id)?.partition ?? 0) }
    // Not here and not named: partition 0, which the check refuses.
    return { id: shardId(info.storage ?? info.name, info.incarnation, 0), live, home: null }
  }

  /**
   * Refuses writes of a homed table's rows this node may not make: a row naming no home
   * region (22023), a row homed in a region whose shard it does not hold (0A000), a row
   * whose home changes (0A000: it would live in two shards).
   */
  private checkHomedWrites(nodeId: string, region: string, info: TableInfo, rows: Iterable<[string, { keyValues: Value[]; cols: Map<string, Value>; live: boolean }]>): void {
    /** The home of every row written, and the first not held here (undefined: none). */
    const homes = new Set<string | null>()
    let elsewhere: string | null | undefined
    for (const [rowKey, w] of rows) {
      const route = this.homeRoute(info, rowKey, w)!
      const v = this.homeValue(info, w)
      if (v !== undefined && w.live) {
        const why = this.homes.refusal(v)
        if (why !== null) throw unknownHomeRegion(info, v, why)
      }
      // A move first: it is never forwarded (the row's old home would keep it).
      if (route.home !== null && route.live !== null && route.live.id !== route.id) {
        throw homeMove(info, this.homes.regionOf(parseShardId(route.live.id)?.partition ?? 0) ?? 'unknown', route.home)
      }
      const home = route.home === null || parseShardId(route.id)?.partition === 0 ? null : route.home
      homes.add(home)
      if (elsewhere === undefined && (home === null || !this.holds(nodeId, region, route.id))) elsewhere = home
    }
    if (elsewhere !== undefined) throw new RowsHomedElsewhere(info, elsewhere, homes, nodeId, region)
  }
}
