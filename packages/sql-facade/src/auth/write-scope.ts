/**
 * A scoped browser replica's own writes (docs/security.md, "Scoped browser replicas").
 *
 * With a scoped token, a node applies the browser's updates only to the token's writable
 * tables and takes no catalog change from it. Before this, the page applied every write
 * locally and acknowledged it: an INSERT into a table outside the token, a read-only one,
 * or a CREATE TABLE ran in the page, showed in its own queries, and never reached a node.
 * Here the replica refuses them itself, with 42501, before anything is applied:
 * - rows: only of the token's writable tables and of tables within its read-write regions
 *   (core placement/region-scope.ts: placed only in them, or homed, whose rows the replica
 *   writes only when homed in its own region, which opening it takes from the token, so
 *   only when that region is a read-write one); its read-only tables, the tables within
 *   its read-only regions and every other table are refused, through
 *   Replica.tableWriteGuard, so every way of writing a row (INSERT, UPDATE, DELETE, MERGE,
 *   COPY, TRUNCATE, triggers, functions) is covered;
 * - the catalog: only the records a replica keeps about itself (its node registration, its
 *   join and catch-up marks, the serial ranges it draws ids from), through
 *   Replica.catalogWriteGuard; DDL, roles, grants, settings and setval are refused. A
 *   statement that writes nothing (CREATE TABLE IF NOT EXISTS of an existing table) runs.
 *
 * Invariant: the guards only refuse; what the node would accept from the token is exactly
 * what passes here (the same table names: a table's storage name, as shard ids carry it).
 */
import { holdsTable, homeColumn, regionAccess, tableWithinRegions, type Replica, type TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface WriteScope {
  /** Tables whose rows the replica may write. */
  tables: readonly string[]
  /** Tables it may read but not write. */
  readOnly: readonly string[]
  /** Regions whose shards it may read and write (absent: none). */
  regions?: readonly string[]
  /** Regions whose shards it may read but not write (absent: none). */
  readOnlyRegions?: readonly string[]
}

/**
 * Whether rows of `info` may be written by a replica of region `own` within `regions`:
 * placed only there, or homed and `own` one of them (the replica writes only rows homed
 * in its own region).
 */
function writableInRegions(info: TableInfo | undefined, own: string, regions: ReadonlySet<string>): boolean {
  if (info === undefined || regions.size === 0) return false
  if (homeColumn(info) !== null) return regions.has(own) && holdsTable(own, info)
  return tableWithinRegions(info, regions)
}

/**
 * Catalog records a replica writes about itself, which a node ignores from a scoped
 * browser: its registration (`node`), join and catch-up marks (core placement:
 * `joined`, `join_caught_up`, `catch_up`, `caught_up`) and the ranges and positions it
 * draws serial and sequence values from (sequences/id-slots.ts, serial-sequences.ts,
 * user-sequences.ts).
 */
const OWN_RECORDS: ReadonlySet<string> = new Set([
  'node', 'joined', 'join_caught_up', 'catch_up', 'caught_up', 'serial-slot', 'serial-position', 'sequence-position',
])

/** Makes `replica` refuse (42501) the writes a node would not take from a browser holding `scope`. */
export function restrictWrites(replica: Replica, scope: WriteScope): void {
  const writable = new Set(scope.tables)
  const readOnly = new Set(scope.readOnly)
  const regions = regionAccess(scope.regions ?? [], scope.readOnlyRegions ?? [])
  const parts = [...(scope.tables.length > 0 ? [`rows of ${scope.tables.join(', ')}`] : []), ...(regions.writes.size > 0 ? [`rows placed in region ${[...regions.writes].join(', ')}`] : [])]
  const allowed = parts.length === 0 ? 'no table' : parts.join(' and ')
  replica.tableWriteGuard = (table) => {
    if (writable.has(table)) return
    const info = replica.table(table)
    if (!readOnly.has(table) && writableInRegions(info, replica.region, regions.writes)) return
    // Within its regions, but not writable there: what it reads only, as a read-only table.
    const readsOnly = readOnly.has(table) || writableInRegions(info, replica.region, regions.reads)
    throw new SqlError(SqlState.insufficientPrivilege, `permission denied for table ${table}`, {
      detail: readsOnly
        ? `This browser replica's token lets it read "${table}" but not write it.`
        : `This browser replica's token lets it write ${allowed} only.`,
    })
  }
  replica.catalogWriteGuard = (kind) => {
    if (OWN_RECORDS.has(kind)) return
    throw new SqlError(SqlState.insufficientPrivilege, 'a browser replica with a scoped token cannot change the schema, roles or settings', {
      detail: `Its token lets it write ${allowed} only; run this on a node.`,
    })
  }
}
