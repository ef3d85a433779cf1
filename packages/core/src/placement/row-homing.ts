/**
 * Row homing (SQL `WITH (home_region_column = 'region')`, as CockroachDB's REGIONAL BY
 * ROW): each row of such a table lives in one shard per **home region**, the region its
 * home column names, and that shard is held by every node of that region (and by every
 * node of a REPLICA-only region, which holds copies of every home region's rows and
 * serves reads of them). No other node stores the row.
 *
 * The shard of home region R is partition `homePartition(R)` of the table (a number
 * derived from R alone, so every node routes alike without a catalog write per region);
 * partition 0 holds no rows. A row may be homed in a region of a member (catalog kind
 * `member`) that is not REPLICA-only (catalog kind `region`, roles without PRIMARY). A
 * read of the whole table reads the shard of every member's region (departed members'
 * and REPLICA-only regions' included: rows may have been homed there before), so a
 * region whose holders are all unreachable fails the read, never makes it short.
 *
 * Invariants: a row is written only to the shard of the region its home column names; a
 * row never changes shard (moving it is refused: delete it in its old home, insert it in
 * the new); region records are decoded defensively and cached per catalog version.
 */
import { fnv1aString } from '../codec/checksum.js'
import { ConcordError } from '../errors/concord-error.js'
import type { Json, TableInfo } from '../types.js'
import { shardId } from './shard-id.js'
import type { PlacementSource } from './shard-placement.js'

/** The table option naming the home region column. */
export const HOME_REGION_COLUMN_OPTION = 'home_region_column'

/** The home column of a homed table; null for a table placed per table or partition. */
export function homeColumn(info: TableInfo): string | null {
  const c = info.options[HOME_REGION_COLUMN_OPTION]
  return c === undefined || c === '' ? null : c
}

/** The partition holding rows homed in `region`: 1 .. 2^31-1, never 0. */
export function homePartition(region: string): number {
  return 1 + (fnv1aString(region) % 0x7fff_fffe)
}

/** The shard of `info` holding rows homed in `region`. */
export function homeShardId(info: TableInfo, region: string): string {
  return shardId(info.storage ?? info.name, info.incarnation, homePartition(region))
}

/** Whether a region record (catalog kind `region`, CREATE REGION) declares roles without PRIMARY. */
export function replicaOnlyRecord(value: Json | undefined): boolean {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) return false
  const roles = (value as { roles?: Json }).roles
  if (!Array.isArray(roles) || roles.length === 0) return false
  return !roles.some((r) => typeof r === 'string' && r.toUpperCase() === 'PRIMARY')
}

/** The refusal of a row whose home column names no home region. */
export function unknownHomeRegion(info: TableInfo, value: unknown, why: string): ConcordError {
  return new ConcordError('invalidParameterValue', `cannot home this row of relation "${info.name}" in region ${JSON.stringify(value)}: ${why}`)
}

/** The refusal of a write of a row homed in a region this node does not hold. */
export function notHomedHere(info: TableInfo, home: string | null, nodeId: string, region: string): ConcordError {
  const where = home === null ? 'in another region' : `in region ${home}`
  return new ConcordError(
    'featureNotSupported',
    `cannot write this row of relation "${info.name}" on node ${nodeId} (region ${region}): it is homed ${where} (home_region_column "${homeColumn(info) ?? ''}"), and only nodes of its home region hold it`,
  )
}

/**
 * The refusal of a statement's writes of rows homed in regions this node does not hold.
 * `homes` is the home region of every row of the table it writes (these rows and any held
 * here; null for a row naming none), so the SQL layer can forward the statement to the
 * one region that holds them all (docs/decisions/0030-homed-write-forwarding.md).
 */
export class RowsHomedElsewhere extends ConcordError {
  readonly table: string
  readonly homes: ReadonlySet<string | null>

  constructor(info: TableInfo, first: string | null, homes: ReadonlySet<string | null>, nodeId: string, region: string) {
    super('featureNotSupported', notHomedHere(info, first, nodeId, region).message)
    this.name = 'RowsHomedElsewhere'
    this.table = info.name
    this.homes = homes
  }
}

/** The refusal of an UPDATE that changes a row's home region. */
export function homeMove(info: TableInfo, from: string, to: string): ConcordError {
  return new ConcordError(
    'featureNotSupported',
    `cannot move a row of relation "${info.name}" from home region ${from} to ${to} by UPDATE: delete it on a node of ${from} and insert it on a node of ${to}`,
  )
}

/** The cluster's regions as row homing sees them, read from the catalog once per version. */
export class HomeRegions {
  private readonly source: PlacementSource
  private version = -1
  private homes: string[] = []
  private replicaOnly = new Set<string>()
  private byPartition = new Map<number, string>()
  /** Live (not departed) members per region. */
  private live = new Map<string, string[]>()

  constructor(source: PlacementSource) {
    this.source = source
  }

  private fresh(): void {
    const v = this.source.version('region') + this.source.version('member')
    if (v === this.version) return
    this.version = v
    this.replicaOnly = new Set()
    for (const [name, value] of this.source.list('region')) if (replicaOnlyRecord(value)) this.replicaOnly.add(name)
    const regions = new Set<string>()
    this.live = new Map()
    for (const [nodeId, value] of this.source.list('member')) {
      const o = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as { region?: unknown; departed?: unknown }) : {}
      const region = typeof o.region === 'string' ? o.region : 'default'
      regions.add(region)
      if (o.departed === true) continue
      const list = this.live.get(region) ?? []
      list.push(nodeId)
      this.live.set(region, list)
    }
    this.homes = [...regions].sort()
    this.byPartition = new Map(this.homes.map((r) => [homePartition(r), r]))
  }

  /** Regions rows may be homed in, or have been: those of members (sorted). */
  homeRegions(): readonly string[] {
    this.fresh()
    return this.homes
  }

  /** Whether a live member of one of `regions` other than `nodeId` exists (one that may hold what they hold). */
  othersIn(regions: readonly string[], nodeId: string): boolean {
    this.fresh()
    return regions.some((r) => (this.live.get(r) ?? []).some((n) => n !== nodeId))
  }

  /** Whether `region` is declared REPLICA-only (CREATE REGION .. WITH (REPLICA)). */
  isReplicaOnly(region: string): boolean {
    this.fresh()
    return this.replicaOnly.has(region)
  }

  /** REPLICA-only regions (they hold every home region's rows). */
  replicaOnlyRegions(): string[] {
    this.fresh()
    return [...this.replicaOnly].sort()
  }

  /** The home region a partition of a homed table holds; null when no known region maps to it. */
  regionOf(partition: number): string | null {
    this.fresh()
    return this.byPartition.get(partition) ?? null
  }

  /** Why `value` cannot be a home region; null when it can. */
  refusal(value: unknown): string | null {
    if (typeof value !== 'string' || value === '') return 'a home region is a non-empty region name'
    this.fresh()
    if (this.replicaOnly.has(value)) return `region ${value} is REPLICA-only (it holds copies, it is no home)`
    if (!this.homes.includes(value)) return `no node of the cluster is in region ${value} (regions: ${this.homes.join(', ')})`
    return null
  }

  /** Whether a node of `region` holds the home shard `partition` of a homed table. */
  holds(region: string, partition: number): boolean {
    if (partition === 0) return true
    return homePartition(region) === partition || this.isReplicaOnly(region)
  }
}
