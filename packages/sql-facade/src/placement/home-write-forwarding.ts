/**
 * Writes of rows homed in another region (home_region_column, home-region-column.ts) go to
 * a node of that region as a forwarded write (write-forwarding.ts: peer call on topic
 * `sql/forward`), which runs the same statement there and answers once it is durable; the
 * client gets that node's command tag and row count, or its error with its SQLSTATE.
 *
 * Forwarded: a statement of its own (outside a transaction block, not itself forwarded)
 * every row of which is homed in one region R that this node does not hold:
 * - an UPDATE or DELETE whose WHERE clause pins the home column to R alone
 *   (`region = 'eu-central'`, home-region-filter.ts), before anything runs here;
 * - any other write (an INSERT, INSERT .. SELECT, ON CONFLICT DO NOTHING): it runs here
 *   first, and core refuses it at commit, before anything is applied, naming the home of
 *   every row it writes (`RowsHomedElsewhere`); when that is R alone, it goes to R.
 *
 * An UPDATE or DELETE not pinned to one region (`WHERE id = 101`) is located first: a
 * SELECT DISTINCT of the home column of the rows it matches (`locateQuery`: the same
 * target, FROM/USING items and WHERE), read as any federated read. No row: it runs here
 * over no rows of other regions (`UPDATE 0`, nothing written); rows homed only in regions
 * held here: it runs here over those regions' rows alone; rows homed in one other region
 * R: it goes to R pinned there (the holder reads only its rows homed in R and locates
 * nothing); rows of several regions: 0A000 naming them. A row written in another region
 * between the locate and the run is not touched, as if the statement ran just before it.
 * Located only when the statement's rows are the target's alone (`unpinnedHomeWrite`):
 * no other mention of the table, no view, user function or trigger that could read it, no
 * foreign key of the table to itself, no SET of a key or unique column (their checks would
 * see one region); anything else stays refused as before (0A000).
 *
 * Not forwarded, refused (0A000) as before: rows of several regions in one statement (no
 * statement spans regions atomically), a statement calling `current_region()` (it would
 * answer R there), and what write-forwarding.ts does not forward (binary parameters).
 * Inside a transaction block such a write fails at COMMIT with 0A000, the block's other
 * writes with it.
 *
 * Invariants: a statement goes to at most one region, and only when every row it writes
 * here (or, located, every row it matched) was found homed there; this node applies
 * nothing of it (docs/decisions/0030-homed-write-forwarding.md).
 */
import { homeColumn, homeShardId, type Replica, type RowsHomedElsewhere, type TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { relationsRead } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import { homeRegionsRead, mentions } from './home-region-filter.js'
import { callsUserFunction, writeTargets, type NameSource } from './statement-federation.js'

/** What deciding needs of the replica. */
export type HomeHost = Pick<Replica, 'region' | 'holdsHere' | 'members' | 'holdsWhole'>

/** A homed table and the one region a statement's rows of it live in. */
export interface HomedWrite {
  info: TableInfo
  home: string
}

/** Whether a statement writing `info`'s rows homed in `home` goes there: a region of a member whose rows this node does not hold. */
function elsewhere(info: TableInfo, home: string, host: HomeHost): boolean {
  if (host.holdsHere(homeShardId(info, home))) return false
  return host.members().some((m) => m.region === home)
}

/** Whether `node` calls current_region() anywhere (it would name the holder's region there). */
export function callsCurrentRegion(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some(callsCurrentRegion)
  const o = node as Record<string, unknown>
  const call = o['FuncCall'] as { funcname?: Node[] } | undefined
  if (call !== undefined && nameList(call.funcname).pop() === 'current_region') return true
  return Object.values(o).some(callsCurrentRegion)
}

/** An UPDATE or DELETE of a homed table pinned by its WHERE clause to one region held elsewhere; null otherwise. */
export function pinnedHomeWrite(node: Node, names: NameSource, host: HomeHost): HomedWrite | null {
  if (!('UpdateStmt' in node) && !('DeleteStmt' in node)) return null
  const [name] = writeTargets(node)
  const info = name === undefined ? undefined : names.table(name)
  if (info === undefined || homeColumn(info) === null) return null
  const regions = homeRegionsRead(node, info, host.region)
  if (regions?.length !== 1 || !elsewhere(info, regions[0]!, host)) return null
  return { info, home: regions[0]! }
}

/** The one region held elsewhere that every row core refused lives in; null when the rows are not all of one such region. */
export function refusedHomeWrite(e: RowsHomedElsewhere, names: NameSource, host: HomeHost): HomedWrite | null {
  const [home] = e.homes
  const info = names.table(e.table)
  if (e.homes.size !== 1 || home === null || home === undefined || info === undefined) return null
  return elsewhere(info, home, host) ? { info, home } : null
}

/**
 * An UPDATE or DELETE of a homed table this node does not hold whole, not pinned to one
 * region, that can be located (see the module header): its table; null otherwise.
 */
export function unpinnedHomeWrite(node: Node, names: NameSource, host: HomeHost): TableInfo | null {
  const dml = 'UpdateStmt' in node ? node.UpdateStmt : 'DeleteStmt' in node ? node.DeleteStmt : null
  const name = dml?.relation?.relname
  const info = name === undefined ? undefined : names.table(name)
  if (dml === null || info === undefined || homeColumn(info) === null || host.holdsWhole(info)) return null
  if (dml.relation?.schemaname !== undefined && dml.relation.schemaname !== 'public') return null
  if (dml.whereClause !== undefined && 'CurrentOfExpr' in dml.whereClause) return null
  if (homeRegionsRead(node, info, host.region)?.length === 1) return null
  // Only the target's rows decide: no other reader of the table sees a part of it.
  if (mentions(node, info.name) !== 0 || callsUserFunction(node, names)) return null
  if (!relationsRead(node).every((n) => names.table(n) !== undefined)) return null
  const meta = tableMeta(info)
  if ((meta.triggers ?? []).length > 0 || meta.foreignKeys.some((fk) => fk.refTable === info.name)) return null
  if ('UpdateStmt' in node) {
    const keyed = new Set([homeColumn(info)!, ...info.primaryKey, ...meta.uniques.flat()])
    if ((node.UpdateStmt.targetList ?? []).some((t) => 'ResTarget' in t && keyed.has(t.ResTarget.name ?? ''))) return null
  }
  return info
}

/**
 * The query locating an UPDATE's or DELETE's rows: `SELECT DISTINCT <target>.<home column>
 * FROM <target>, <FROM or USING items> WHERE <its WHERE>`, under its WITH clause. Built
 * from the statement's own tree, so its parameters and positions stay those of the text.
 */
export function locateQuery(node: Node, info: TableInfo): Node {
  const dml = ('UpdateStmt' in node ? node.UpdateStmt : 'DeleteStmt' in node ? node.DeleteStmt : null)!
  const others = 'UpdateStmt' in node ? (node.UpdateStmt.fromClause ?? []) : 'DeleteStmt' in node ? (node.DeleteStmt.usingClause ?? []) : []
  const target = dml.relation!
  const qualifier = target.alias?.aliasname ?? info.name
  const column: Node = { ColumnRef: { fields: [{ String: { sval: qualifier } }, { String: { sval: homeColumn(info)! } }] } }
  return {
    SelectStmt: {
      distinctClause: [{} as Node],
      targetList: [{ ResTarget: { val: column } }],
      fromClause: [{ RangeVar: target }, ...others],
      ...(dml.whereClause !== undefined ? { whereClause: dml.whereClause } : {}),
      ...(dml.withClause !== undefined ? { withClause: dml.withClause } : {}),
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  }
}

/** The refusal of an UPDATE or DELETE whose rows are homed in several regions (`homes`, sorted). */
export function severalHomes(info: TableInfo, homes: readonly string[], region: string): SqlError {
  return new SqlError(
    SqlState.featureNotSupported,
    `cannot update or delete rows of relation "${info.name}" homed in regions ${homes.join(', ')} in one statement on this node (region ${region}): no statement commits across regions atomically; nothing was written`,
    { hint: `Run one statement per region, each pinned by its WHERE clause: AND "${homeColumn(info)}" = '${homes[0]}'.` },
  )
}
