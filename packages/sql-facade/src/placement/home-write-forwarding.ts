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
 * Not forwarded, refused (0A000) as before: rows of several regions in one statement (no
 * statement spans regions atomically), an UPDATE or DELETE not pinned to one region that
 * reaches a row homed elsewhere (which region holds it is not known here), a statement
 * calling `current_region()` (it would answer R there), and what write-forwarding.ts
 * does not forward (RETURNING, binary parameters). Inside a transaction block such a
 * write fails at COMMIT with 0A000, the block's other writes with it.
 *
 * Invariants: a statement goes to at most one region, and only when every row it writes
 * here was found homed there; this node applies nothing of it
 * (docs/decisions/0030-homed-write-forwarding.md).
 */
import { homeColumn, homeShardId, type Replica, type RowsHomedElsewhere, type TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { nameList } from '../parser/name-list.js'
import { homeRegionsRead } from './home-region-filter.js'
import { writeTargets, type NameSource } from './statement-federation.js'

/** What deciding needs of the replica. */
export type HomeHost = Pick<Replica, 'region' | 'holdsHere' | 'members'>

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
