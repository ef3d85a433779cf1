/**
 * Region scopes: which shards lie within a set of regions, for a peer limited to regions
 * (a browser token naming regions, docs/security.md "Scoped browser replicas"). A shard is
 * within regions R when every row it can hold is placed in R:
 * - a homed table's (row-homing.ts) shard of home region r, for r in R (partition
 *   `homePartition(r)`); its partition 0 holds no rows and is within nothing;
 * - a shard of a table that names its regions (`replication_regions`), when R holds
 *   every one of them: a table of regions eu and us is not within eu alone, since its rows
 *   are us rows too;
 * - nothing else: a table held by every region (no regions named) is placed in none in
 *   particular, a shard placed on named nodes (`shard_location`) follows nodes, not
 *   regions, and a shard of a table the catalog does not know cannot be judged.
 *
 * A scope may name regions it only reads (a token's read-only regions): it reads the
 * shards within all its regions together and writes those within the read-write ones
 * alone (`regionAccess`), so a table of eu and us is read, not written, by a scope that
 * writes eu and reads us, and a region named both ways is read only.
 *
 * Invariant: pure; answers false whenever it cannot tell (a scope never widens on doubt).
 */
import type { TableInfo } from '../types.js'
import { homeColumn, homePartition } from './row-homing.js'

/** Whether every row of `info` is placed within `regions` (its named regions all among them; never a homed table). */
export function tableWithinRegions(info: TableInfo, regions: ReadonlySet<string>): boolean {
  if (homeColumn(info) !== null || info.regions === null || info.regions.length === 0) return false
  return info.regions.every((r) => regions.has(r))
}

/**
 * Whether the shard of `info` at `partition` lies within `regions`; `placed`: the shard
 * has a placement record (then it does not).
 */
export function shardWithinRegions(info: TableInfo | undefined, partition: number, placed: boolean, regions: ReadonlySet<string>): boolean {
  if (info === undefined || placed || regions.size === 0) return false
  if (homeColumn(info) === null) return tableWithinRegions(info, regions)
  if (partition === 0) return false
  for (const r of regions) {
    if (homePartition(r) === partition && (info.regions === null || info.regions.length === 0 || info.regions.includes(r))) return true
  }
  return false
}

/** The regions whose shards a scope reads (all it names) and writes (read-write ones not also named read-only). */
export function regionAccess(regions: readonly string[], readOnlyRegions: readonly string[]): { reads: ReadonlySet<string>; writes: ReadonlySet<string> } {
  const readOnly = new Set(readOnlyRegions)
  return { reads: new Set([...regions, ...readOnlyRegions]), writes: new Set(regions.filter((r) => !readOnly.has(r))) }
}
