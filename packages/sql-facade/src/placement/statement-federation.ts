/**
 * A statement over tables this node's region does not hold, before it runs: a write to
 * one is refused (unheld-write.ts); every one it reads (named in it, or in a view it
 * reads, at any depth) is read whole from a holder into the session's `RemoteRows`, so
 * the statement then runs locally as if the rows were here: joins, GROUP BY, ORDER BY,
 * subqueries over them are finished here. What the statement needs of a table it reads
 * directly (its conditions, the columns it reads, a LIMIT) goes with the request, so the
 * holder sends only what can matter (pushdown-read.ts). A read the walk did not foresee
 * (a function's body) fails with `UnheldRead`, and the session reads that table and runs
 * the statement again (`readUnheld`). A session that allows it answers a repeated read
 * from the node's result cache (result-cache.ts) instead of a holder.
 *
 * What the holder sends is its committed rows at that moment (eventually consistent, as
 * any read here is). If no holder answers, the statement fails (08001) before it runs;
 * nothing is ever answered from fewer rows.
 */
import { homeColumn, type Replica, type TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { readView, relationsRead, type ViewSource } from '../catalog/view-def.js'
import { nameList } from '../parser/name-list.js'
import { homeRegionsRead } from './home-region-filter.js'
import { pushdownRequest } from './pushdown-read.js'
import type { RemoteRows } from './remote-rows.js'
import { resultCacheOf } from './result-cache.js'
import { refuseUnheldWrite } from './unheld-write.js'

/** Where a statement's names resolve: the running transaction's catalog (or the replica's). */
export interface NameSource extends ViewSource {
  table(name: string): TableInfo | undefined
  tables(): readonly TableInfo[]
}

/** What a federated read needs of the replica. */
export type HolderReader = Pick<Replica, 'readFromHolder' | 'catalogVersion' | 'now'>

/** Most names followed from one statement (views reading views ..), against blow-up; what is left is read on demand. */
const MAX_STEPS = 1024
/** The catalog kind of CREATE FUNCTION definitions. */
const FUNCTION_KIND = 'function'

/** Statements that read table rows; DDL over a table (DROP, ALTER, CREATE INDEX ..) reads none. */
const READS_ROWS = ['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'DeclareCursorStmt', 'CreateTableAsStmt']

/** The relations a statement writes rows of (INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY FROM). */
export function writeTargets(node: Node): string[] {
  const name = (rv: { relname?: string } | undefined) => (rv?.relname ? [rv.relname] : [])
  if ('InsertStmt' in node) return name(node.InsertStmt.relation)
  if ('UpdateStmt' in node) return name(node.UpdateStmt.relation)
  if ('DeleteStmt' in node) return name(node.DeleteStmt.relation)
  if ('MergeStmt' in node) return name(node.MergeStmt.relation)
  if ('CopyStmt' in node && node.CopyStmt.is_from) return name(node.CopyStmt.relation)
  if ('TruncateStmt' in node) return (node.TruncateStmt.relations ?? []).flatMap((r) => ('RangeVar' in r ? name(r.RangeVar) : []))
  return []
}

/** Refuses (0A000) a statement that writes rows of a table not held in `region`. */
export function refuseUnheldWrites(node: Node, names: NameSource, region: string): void {
  for (const target of writeTargets(node)) {
    const info = names.table(target)
    if (info !== undefined) refuseUnheldWrite(info, region)
  }
}

/**
 * Refuses the statement if it writes a table not held here; reads from a holder every
 * table not held here that it reads. Throws what `Replica.readFromHolder` throws.
 * `params`: the statement's bound parameters, sent in place of its `$n` (pushdown-filter.ts).
 */
export async function federateStatement(
  node: Node, names: NameSource, remote: RemoteRows, replica: HolderReader, cacheTtlMs = 0, targetHomes?: readonly string[], params: readonly unknown[] = [],
): Promise<void> {
  refuseUnheldWrites(node, names, remote.region)
  if (!READS_ROWS.some((k) => k in node)) return
  // An UPDATE or DELETE whose rows were found homed in `targetHomes` alone (home-write-
  // forwarding.ts) reads only those regions' rows of its target: the ones held here, here.
  if (targetHomes !== undefined && ('UpdateStmt' in node || 'DeleteStmt' in node)) {
    const [name] = writeTargets(node)
    const info = name === undefined ? undefined : names.table(name)
    if (info !== undefined && homeColumn(info) !== null && !remote.holds(info)) {
      remote.add(info, (await replica.readFromHolder(info.name, '', { homeRegions: targetHomes })).rows)
    }
  }
  const pending = relationsRead(node).map((name) => ({ name, direct: true }))
  // An INSERT into a homed table checks its keys against every region's rows (found by its
  // run otherwise, which a transaction block cannot redo): they are read first.
  if ('InsertStmt' in node) {
    for (const name of writeTargets(node)) {
      const info = names.table(name)
      if (info !== undefined && homeColumn(info) !== null) pending.push({ name, direct: false })
    }
  }
  /** Views and partitions already followed. */
  const followed = new Set<string>()
  /** Tables not held here the statement reads; `indirect` when a view or partition reads it too. */
  const unheld = new Map<string, { info: TableInfo; indirect: boolean }>()
  for (let steps = 0; pending.length > 0 && steps < MAX_STEPS; steps++) {
    const { name, direct } = pending.pop()!
    const info = names.table(name)
    if (info === undefined) {
      const view = followed.has(name) ? undefined : readView(names, name)
      followed.add(name)
      if (view !== undefined) pending.push(...view.relations.map((n) => ({ name: n, direct: false })))
      continue
    }
    // A partition's rows are its partitioned table's (placement/partition-view.ts).
    const parent = tableMeta(info).partitionOf
    if (parent) {
      if (!followed.has(name)) pending.push({ name: parent, direct: false })
      followed.add(name)
      continue
    }
    if (remote.holds(info) || remote.has(info)) continue
    const seen = unheld.get(name)
    if (seen !== undefined) seen.indirect ||= !direct
    else unheld.set(name, { info, indirect: !direct })
  }
  // A filter narrows the rows every reader of the table sees this statement: only when the
  // statement's own FROM item is the one reader (no view, partition or function reads it).
  if (unheld.size === 0) return
  const functions = callsUserFunction(node, names)
  for (const { info, indirect } of unheld.values()) {
    const narrow = !indirect && !functions
    await readUnheld(info, remote, replica, narrow ? pushdownRequest(node, info, names, params) : '', cacheTtlMs, narrow ? homeRegionsRead(node, info, remote.region) : undefined)
  }
}

/** Whether `node` calls a function defined with CREATE FUNCTION (its body may read any table). */
export function callsUserFunction(node: unknown, names: NameSource): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => callsUserFunction(x, names))
  const o = node as Record<string, unknown>
  const call = o['FuncCall'] as { funcname?: Node[] } | undefined
  if (call !== undefined) {
    const name = nameList(call.funcname).pop()
    if (name !== undefined && names.getCatalog(FUNCTION_KIND, name) !== undefined) return true
  }
  return Object.values(o).some((v) => callsUserFunction(v, names))
}

/**
 * Reads one table not held here from a holder into `remote` (only what `request` asks
 * for, when given: pushdown-read.ts; of a homed table, only rows homed in `homeRegions`,
 * when given: home-region-filter.ts). With `cacheTtlMs` above 0, an answer to the same
 * read kept in the node's result cache no older than that serves instead (result-cache.ts).
 */
export async function readUnheld(info: TableInfo, remote: RemoteRows, replica: HolderReader, request = '', cacheTtlMs = 0, homeRegions?: string[]): Promise<void> {
  const cache = resultCacheOf(replica)
  // The regions read are part of what was asked: a read of other regions must not answer from it.
  const asked = homeRegions === undefined ? request : `${request} -- rows homed in ${homeRegions.join(', ')}`
  const hit = cache.lookup(info, asked, replica.catalogVersion, replica.now(), cacheTtlMs)
  if (hit !== undefined) {
    remote.add(info, hit.rows)
    return
  }
  const version = replica.catalogVersion
  const got = await replica.readFromHolder(info.name, request, homeRegions === undefined ? undefined : { homeRegions })
  // Kept only when the catalog did not change during the wait (the answer is of the catalog it was asked under).
  if (replica.catalogVersion === version) cache.store(info, asked, version, replica.now(), got.from, got.rows)
  remote.add(info, got.rows)
}
