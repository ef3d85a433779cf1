/**
 * Writes to a table this node's region does not hold are refused (0A000) before anything
 * runs: the row would be stored here only, where no holder ever receives it (peers accept
 * a table's shards only from nodes of its regions). Forwarding such writes to a holder is
 * not built yet; a client writes on a node of one of the table's regions.
 */
import { holdsTable, type TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

/** Throws 0A000 when `info` is not held in `region`. */
export function refuseUnheldWrite(info: TableInfo, region: string): void {
  if (holdsTable(region, info)) return
  const regions = (info.regions ?? []).join(', ')
  throw new SqlError(
    SqlState.featureNotSupported,
    `cannot write to relation "${info.name}" on this node: its rows live only in region(s) ${regions}, and this node is in region ${region}`,
    { hint: `Writes to "${info.name}" are accepted on nodes of region(s) ${regions}: run the statement there.` },
  )
}
