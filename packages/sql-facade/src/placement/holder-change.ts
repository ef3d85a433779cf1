/**
 * A statement that makes nodes hold a table they did not (a region added to its
 * `replication_regions`, a `shard_location` set or reset) records who was caught up then:
 * core's catch-up record (core placement/catch-up.ts). The new holders read the table from
 * a caught-up holder, not from the rows they have received so far, until anti-entropy with
 * a caught-up node has brought them everything; so a read there is never short.
 *
 * When a record already exists (an earlier change is still being caught up on), the
 * sources stay its sources plus the nodes that have caught up under it since.
 */
import { CATCH_UP_KIND, CAUGHT_UP_KIND, catchUpName, parseCatchUp, type Json, type TableInfo, type Transaction } from '@concord/core'

/** What recording a change of holders reads and writes: the running transaction's catalog. */
export type CatalogAccess = Pick<Transaction, 'table' | 'getCatalog' | 'listCatalog' | 'setCatalog'>

/** Nodes that held a table's rows before a change: every node of `regions` (null: of every region), and `nodes`. */
export interface Holders {
  regions: string[] | null
  nodes: string[]
  /** Nodes known caught up now: kept as sources even when an earlier change is still being caught up on. */
  confirmed?: string[]
}

/**
 * Records that holders of `table` change now, `before` having held it (see the module
 * header). `parts` names the parts whose holders change ('' the shards without a
 * placement, a placed shard's id; undefined: every part): nodes holding none of them
 * have nothing to catch up on.
 */
export function noteHolderChange(tx: CatalogAccess, table: TableInfo, before: Holders, epoch: number, parts?: readonly string[]): void {
  const storage = table.storage ?? table.name
  const name = catchUpName(storage, table.incarnation)
  const existing = tx.getCatalog(CATCH_UP_KIND, name)
  const old = existing === undefined ? null : parseCatchUp(existing)
  let sources = before
  let changed: string[] | null = parts === undefined ? null : [...parts]
  if (old !== null) {
    changed = old.parts === null || changed === null ? null : [...new Set([...old.parts, ...changed])]
    const prefix = `${name}/`
    const marked = tx.listCatalog(CAUGHT_UP_KIND).filter(([n, v]) => n.startsWith(prefix) && (v as { epoch?: unknown } | null)?.epoch === old.epoch)
    sources = { regions: old.regions, nodes: [...new Set([...old.nodes, ...marked.map(([n]) => n.slice(prefix.length)), ...(before.confirmed ?? [])])] }
  }
  // Every node held it: whoever holds it now has it all.
  if (sources.regions === null) return
  const record: Record<string, unknown> = { epoch, regions: sources.regions, nodes: sources.nodes }
  if (changed !== null) record['parts'] = changed
  tx.setCatalog(CATCH_UP_KIND, name, record as unknown as Json)
}

/** Whether `after` (null: every region) names a region `before` did not. */
export function addsRegion(before: readonly string[] | null, after: readonly string[] | null): boolean {
  if (before === null) return false
  if (after === null) return true
  return after.some((r) => !before.includes(r))
}
