/**
 * Shard placement records: a shard pinned to named nodes (SQL `ALTER TABLE .. SET
 * (shard_location = ..)`). The record is a catalog object of kind `shard_placement`,
 * named by the shard id (`t:<incarnation>:<partition>:<storage>`), so every node knows
 * every placement and agrees on who holds the shard; a shard without a record is held by
 * every node of its table's regions.
 *
 * The layer above resolves a location (a node, or a region and a replication factor) to
 * node ids when the statement runs; core only keeps the result. A node added later takes
 * over nothing until the location is set again: placement moves only when asked.
 *
 * Invariants: a record is decoded defensively (the catalog replicates from peers): a
 * record without at least one node id is ignored, never read as "held by nobody". The
 * decoded records are cached per catalog version, so a lookup costs one map read.
 */
import type { Json } from '../types.js'
import { parseShardId } from './shard-id.js'

/** Catalog kind of placement records. */
export const SHARD_PLACEMENT_KIND = 'shard_placement'
/** Most nodes one placement names (a replication factor beyond this is refused above). */
export const MAX_PLACEMENT_NODES = 64

/** Where one shard lives. */
export interface ShardPlacement {
  /** The location as the user named it (a node id, a node name or a region). */
  location: string
  /** The node ids that hold the shard. */
  nodes: string[]
  /** Their regions: the gossip topics of the shard's updates. */
  regions: string[]
}

/** What the cache reads of the catalog. */
export interface PlacementSource {
  /** Moves whenever an object of `kind` is set, changed or removed (it may move more often). */
  version(kind: string): number
  /** The objects of `kind`, sorted by name (a fresh array). */
  list(kind: string): Array<[string, Json]>
  /** One object; undefined when absent or malformed. */
  get(kind: string, name: string): Json | undefined
  /** The objects of `kind` in no particular order, without copying. */
  entries(kind: string): Iterable<[string, Json]>
}

function strings(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_PLACEMENT_NODES) return null
  return v.every((x) => typeof x === 'string' && x.length > 0) ? (v as string[]) : null
}

/** Decodes a placement record; null when it is malformed. */
export function parsePlacement(value: Json): ShardPlacement | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null
  const o = value as Record<string, unknown>
  const nodes = strings(o['nodes'])
  const regions = strings(o['regions'])
  if (typeof o['location'] !== 'string' || nodes === null || regions === null) return null
  return { location: o['location'], nodes, regions }
}

/** The placement records of the catalog, decoded once per catalog version. */
export class ShardPlacements {
  private readonly source: PlacementSource
  private version = -1
  private byShard = new Map<string, ShardPlacement>()
  /** Placed shards per table storage (`storage U+0000 incarnation`). */
  private byTable = new Map<string, Array<{ id: string; partition: number; placement: ShardPlacement }>>()

  constructor(source: PlacementSource) {
    this.source = source
  }

  private fresh(): void {
    const v = this.source.version(SHARD_PLACEMENT_KIND)
    if (v === this.version) return
    this.version = v
    this.byShard = new Map()
    this.byTable = new Map()
    for (const [id, value] of this.source.list(SHARD_PLACEMENT_KIND)) {
      const parsed = parseShardId(id)
      const placement = parsePlacement(value)
      if (parsed === null || placement === null) continue
      this.byShard.set(id, placement)
      const key = `${parsed.table}\u0000${parsed.incarnation}`
      let list = this.byTable.get(key)
      if (list === undefined) {
        list = []
        this.byTable.set(key, list)
      }
      list.push({ id, partition: parsed.partition, placement })
    }
  }

  /** The placement of a shard; null when it is not placed (its table's regions hold it). */
  of(id: string): ShardPlacement | null {
    this.fresh()
    return this.byShard.get(id) ?? null
  }

  /** The placed shards of one table storage and incarnation. */
  ofTable(storage: string, incarnation: number): ReadonlyArray<{ id: string; partition: number; placement: ShardPlacement }> {
    this.fresh()
    return this.byTable.get(`${storage}\u0000${incarnation}`) ?? []
  }
}
