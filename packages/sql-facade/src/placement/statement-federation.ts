/**
 * A statement over tables this node's region does not hold, before it runs: a write to
 * one is refused (unheld-write.ts); every one it reads (named in it, or in a view it
 * reads, at any depth) is read whole from a holder into the session's `RemoteRows`, so
 * the statement then runs locally as if the rows were here: joins, GROUP BY, ORDER BY,
 * subqueries over them are finished here. A read the walk did not foresee (a function's
 * body) fails with `UnheldRead`, and the session reads that table and runs the
 * statement again (`readUnheld`).
 *
 * What the holder sends is its committed rows at that moment (eventually consistent, as
 * any read here is). If no holder answers, the statement fails (08001) before it runs;
 * nothing is ever answered from fewer rows.
 */
import type { Replica, TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import { readView, relationsRead, type ViewSource } from '../catalog/view-def.js'
import type { RemoteRows } from './remote-rows.js'
import { refuseUnheldWrite } from './unheld-write.js'

/** Where a statement's names resolve: the running transaction's catalog (or the replica's). */
export interface NameSource extends ViewSource {
  table(name: string): TableInfo | undefined
}

/** Most views followed from one statement (a view reading views ..), against cycles and blow-up. */
const MAX_VIEWS = 256

/** Statements that read table rows; DDL over a table (DROP, ALTER, CREATE INDEX ..) reads none. */
const READS_ROWS = ['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt', 'DeclareCursorStmt', 'CreateTableAsStmt']

/** The relations a statement writes rows of (INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY FROM). */
function writeTargets(node: Node): string[] {
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
 */
export async function federateStatement(node: Node, names: NameSource, remote: RemoteRows, replica: Pick<Replica, 'readFromHolder'>): Promise<void> {
  refuseUnheldWrites(node, names, remote.region)
  if (!READS_ROWS.some((k) => k in node)) return
  const seen = new Set<string>()
  const pending = relationsRead(node)
  const unheld: TableInfo[] = []
  while (pending.length > 0 && seen.size < MAX_VIEWS) {
    const name = pending.pop()!
    if (seen.has(name)) continue
    seen.add(name)
    const info = names.table(name)
    if (info !== undefined) {
      // A partition's rows are its partitioned table's (plan/partition-view.ts).
      const parent = tableMeta(info).partitionOf
      if (parent) pending.push(parent)
      else if (!remote.holds(info) && !remote.has(info)) unheld.push(info)
      continue
    }
    const view = readView(names, name)
    if (view !== undefined) pending.push(...view.relations)
  }
  for (const info of unheld) await readUnheld(info, remote, replica)
}

/** Reads one table not held here from a holder into `remote`. */
export async function readUnheld(info: TableInfo, remote: RemoteRows, replica: Pick<Replica, 'readFromHolder'>): Promise<void> {
  const got = await replica.readFromHolder(info.name)
  remote.add(info, got.rows)
}
