/**
 * Committing a transaction: its buffered writes applied to shards in one synchronous
 * step, with one HLC for all of them. Catalog writes go first (one Yjs transaction on the
 * catalog shard), then secrets (one on the secrets shard), then each table's rows, one Yjs transaction per shard: a table held by
 * one shard takes its rows as they are, others are routed row by row (a row stays in the
 * shard holding it; a new one goes where its partition says). Readers in this process see
 * all of it or none of it.
 *
 * A change an open transaction made to a stored row that was deleted (or deleted and
 * inserted again) before it committed was concurrent with that delete and loses to it,
 * as a concurrent update from another node does (delete wins): it is dropped here
 * instead of bringing the row back.
 */
import { homeColumn } from '../placement/row-homing.js'
import { CATALOG_TABLE, SECRETS_TABLE } from '../catalog/catalog-schema.js'
import type { TableInfo, Value } from '../types.js'
import type { PendingRow } from './local-transaction.js'
import type { Shard } from './shard.js'

/** Where a commit's writes go. */
export interface CommitTarget {
  readonly nodeId: string
  readonly catalogShard: Shard
  readonly secretsShard: Shard
  table(name: string): TableInfo | undefined
  /** The shards of a table's current incarnation. */
  shardList(table: string): readonly Shard[]
  /** The shard a row lives in or is routed to (created if needed). */
  locate(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): Shard
}

function stale(shard: Shard, rowKey: string, w: PendingRow): boolean {
  return w.baseCl !== undefined && shard.rowCl(rowKey) !== w.baseCl
}

/** Applies `pending` (table name -> row key -> write) as `target.nodeId`, at `hlc`. */
export function commitWrites(pending: ReadonlyMap<string, ReadonlyMap<string, PendingRow>>, hlc: number, target: CommitTarget): void {
  const { nodeId } = target
  for (const [name, shard] of [[CATALOG_TABLE.name, target.catalogShard], [SECRETS_TABLE.name, target.secretsShard]] as const) {
    const writes = pending.get(name)
    if (writes === undefined || writes.size === 0) continue
    shard.transactLocal(() => {
      for (const [rowKey, w] of writes) {
        shard.applyWrite(rowKey, w, nodeId, hlc, w.keyValues)
        if (w.scrub) shard.dropOtherEntries(rowKey, nodeId, hlc)
      }
    })
  }
  for (const [shard, rows] of planRowWrites(pending, target)) shard.transactLocal(() => applyRowWrites(shard, rows, nodeId, hlc))
}

/** A commit's row writes to one shard: a table's own map when one shard holds it (not copied). */
export type ShardWrites = [Shard, ReadonlyMap<string, PendingRow> | Array<[string, PendingRow]>]

/**
 * Where the row writes of `pending` go, shard by shard (catalog and secrets writes left
 * out): a table held by one shard takes its rows as they are, others are routed row by row.
 */
export function planRowWrites(pending: ReadonlyMap<string, ReadonlyMap<string, PendingRow>>, target: CommitTarget): ShardWrites[] {
  const out: ShardWrites[] = []
  const byShard = new Map<Shard, Array<[string, PendingRow]>>()
  for (const [table, rows] of pending) {
    if (table === CATALOG_TABLE.name || table === SECRETS_TABLE.name || rows.size === 0) continue
    const info = target.table(table)
    if (info === undefined) continue
    const shards = target.shardList(info.name)
    if (shards.length === 1 && info.partitioning === null && homeColumn(info) === null) {
      // One shard holds the whole table: no routing, no grouping.
      out.push([shards[0]!, rows])
      continue
    }
    for (const [rowKey, w] of rows) {
      const shard = target.locate(info, rowKey, w)
      let list = byShard.get(shard)
      if (list === undefined) {
        list = []
        byShard.set(shard, list)
      }
      list.push([rowKey, w])
    }
  }
  for (const entry of byShard) out.push(entry)
  return out
}

/** Applies row writes to `shard` as `nodeId` at `hlc`; inside its `transactLocal`. */
export function applyRowWrites(shard: Shard, rows: ReadonlyMap<string, PendingRow> | Iterable<readonly [string, PendingRow]>, nodeId: string, hlc: number): void {
  const apply = (w: PendingRow, rowKey: string): void => {
    if (!stale(shard, rowKey, w)) shard.applyWrite(rowKey, w, nodeId, hlc, w.keyValues)
  }
  // A map by forEach: for-of over it makes an [key, value] array per row.
  if (rows instanceof Map) rows.forEach(apply)
  else for (const [rowKey, w] of rows as Iterable<readonly [string, PendingRow]>) apply(w, rowKey)
}
