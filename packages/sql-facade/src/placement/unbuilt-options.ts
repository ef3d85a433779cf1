/**
 * Placement options Concord does not build yet: refused (0A000) when a table is created
 * or altered with them, never stored and then ignored (docs/compatibility.md, "Regions and
 * placement"). Row homing (`home_region_column`, CockroachDB's REGIONAL BY ROW) would
 * store each row only in the region its column names; placement is per table and per
 * partition (`replication_regions`, `shard_location`) instead.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

const UNBUILT: Record<string, string> = {
  home_region_column: 'row homing (home_region_column) is not supported',
}

/** Throws 0A000 when `opts` (a WITH/SET list) names a placement option not built. */
export function refuseUnbuiltPlacementOptions(opts: Readonly<Record<string, string>>): void {
  for (const [name, message] of Object.entries(UNBUILT)) {
    if (opts[name] === undefined) continue
    throw new SqlError(SqlState.featureNotSupported, message, {
      hint: "Place rows by partition: PARTITION BY LIST (region), then ALTER TABLE <partition> SET (shard_location = '<region>').",
    })
  }
}
