/**
 * `home_region_column`: row homing (CockroachDB's REGIONAL BY ROW), given at CREATE TABLE.
 *
 *   CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, region TEXT)
 *     WITH (home_region_column = 'region')
 *
 * Each row is stored only on the nodes of the region its column names (core
 * placement/row-homing.ts: one shard per home region, held by every node of it and of
 * every REPLICA-only region). The column is made NOT NULL and, when it has no default,
 * defaults to `current_region()`, so a row written without it is homed where it is written.
 *
 * Refused: a column that does not exist (42703) or is not text/varchar (22023); with
 * PARTITION BY, replication_regions or shard_location, and any later change of the option
 * by ALTER TABLE .. SET/RESET (0A000: the rows would have to move between shards).
 */
import { HOME_REGION_COLUMN_OPTION, homeColumn, replicaOnlyRecord, type Json, type TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { SqlType } from '../types/sql-type.js'
import { noteHolderChange, type CatalogAccess } from './holder-change.js'

export { HOME_REGION_COLUMN_OPTION }

/** Options that place a table otherwise, refused beside home_region_column. */
const EXCLUSIVE = ['replication_regions', 'shard_location', 'shard_replication_factor']

/** The stored default `current_region()` (a parse tree, as a column's DEFAULT is stored). */
export const CURRENT_REGION_DEFAULT = { FuncCall: { funcname: [{ String: { sval: 'current_region' } }], funcformat: 'COERCE_EXPLICIT_CALL', location: -1 } }

/**
 * Checks a CREATE TABLE's home_region_column against its columns; returns the home column
 * (null when the option is not given). The caller makes it NOT NULL with its default.
 */
export function checkHomeRegionColumn(
  opts: Readonly<Record<string, string>>,
  columns: ReadonlyArray<{ name: string; type: SqlType }>,
  table: { name: string; partitioned: boolean; partition: boolean },
): string | null {
  const name = opts[HOME_REGION_COLUMN_OPTION]?.trim()
  if (name === undefined) return null
  if (name === '') throw new SqlError(SqlState.invalidParameterValue, `${HOME_REGION_COLUMN_OPTION} must name a column`)
  if (table.partitioned || table.partition) {
    throw new SqlError(SqlState.featureNotSupported, `${HOME_REGION_COLUMN_OPTION} cannot be combined with partitioning ("${table.name}")`, {
      hint: 'Home rows by region with home_region_column on an unpartitioned table, or place partitions with shard_location.',
    })
  }
  const other = EXCLUSIVE.find((o) => opts[o] !== undefined)
  if (other !== undefined) {
    throw new SqlError(SqlState.featureNotSupported, `${HOME_REGION_COLUMN_OPTION} cannot be combined with ${other}: a homed table's rows are placed by their home region`)
  }
  const col = columns.find((c) => c.name === name)
  if (col === undefined) throw new SqlError(SqlState.undefinedColumn, `column "${name}" named in ${HOME_REGION_COLUMN_OPTION} does not exist`)
  if (col.type.array || (col.type.id !== 'text' && col.type.id !== 'varchar')) {
    throw new SqlError(SqlState.invalidParameterValue, `${HOME_REGION_COLUMN_OPTION} column "${name}" must be of type text or varchar`)
  }
  return name
}

/** Refuses (0A000) an ALTER TABLE .. SET/RESET of home_region_column. */
export function refuseHomeRegionChange(opts: Readonly<Record<string, string>>, table: string): void {
  if (opts[HOME_REGION_COLUMN_OPTION] === undefined) return
  throw new SqlError(SqlState.featureNotSupported, `${HOME_REGION_COLUMN_OPTION} of "${table}" cannot be changed: it is given at CREATE TABLE`, {
    hint: 'Create a new table WITH (home_region_column = ..) and INSERT .. SELECT the rows into it on each region.',
  })
}

/** Refuses (0A000) placing a homed table otherwise (ALTER TABLE .. SET (replication_regions | shard_location)). */
export function refuseHomedPlacement(opts: Readonly<Record<string, string>>, table: { name: string; options: Readonly<Record<string, string>> }): void {
  if (table.options[HOME_REGION_COLUMN_OPTION] === undefined) return
  const other = EXCLUSIVE.find((o) => opts[o] !== undefined)
  if (other === undefined) return
  throw new SqlError(SqlState.featureNotSupported, `${other} cannot be set on "${table.name}": its rows are placed by their home region (${HOME_REGION_COLUMN_OPTION})`)
}

/**
 * A region declared REPLICA-only (CREATE REGION .. WITH (REPLICA)) holds every homed
 * table's rows from now on: its nodes catch up on each before they answer from it
 * (holder-change.ts), the nodes of every other region being the sources.
 */
export function noteReplicaRegion(tx: CatalogAccess, region: string, record: Json, tables: readonly TableInfo[], epoch: number): void {
  if (!replicaOnlyRecord(record)) return
  const sources = new Set<string>()
  for (const [, v] of tx.listCatalog('member')) {
    const r = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { region?: unknown }).region : undefined
    if (typeof r === 'string' && r !== region) sources.add(r)
  }
  for (const t of tables) if (homeColumn(t) !== null) noteHolderChange(tx, t, { regions: [...sources], nodes: [] }, epoch)
}
