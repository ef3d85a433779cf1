/**
 * The catalog view: every table as the catalog shard's rows define it right now
 * (`TableInfo`), and which shards in memory hold each table's current incarnation, each
 * given its `TableView`. Rebuilt, per table, from the catalog rows whenever a catalog
 * change touches it; a table dropped (or dropped and created again) loses its old
 * incarnation's shards, in memory and in storage.
 *
 * Invariant: every shard of a table's current incarnation sees the view built from the
 * current catalog (policies, entry keys, the cluster default policy), so every replica
 * with the same catalog resolves the same rows.
 */
import { decodeRowKey, encodeRowKey } from '../codec/row-key.js'
import { parsePolicy } from '../merge/policy.js'
import { parseShardId } from '../placement/shard-id.js'
import type { CatalogChange, Json, PolicySpec, Row, RowChange, TableInfo, Value } from '../types.js'
import { buildTableInfo, columnCatalogName, parseColumnDefinition, parseTableDefinition, splitColumnCatalogName, type ColumnDefinition } from './catalog-schema.js'
import { tableView, type TableView } from './table-view.js'

/** What the catalog view needs of a shard. */
export interface ViewedShard {
  readonly id: string
  readonly rows: Map<string, Row>
  rowCl(rowKey: string): number
  setView(view: TableView | null): RowChange[]
}

/** What the catalog view needs of its replica. */
export interface CatalogViewHost<S extends ViewedShard> {
  /** The catalog's own shard. */
  readonly catalogShard: S
  /** Every shard in memory, in creation order. */
  shards(): Iterable<S>
  /** Forgets a shard of a dropped incarnation: out of memory, and removed from storage. */
  forget(shard: S): void
  /** Rows that appeared, changed or vanished with a schema change. */
  rowChanges(changes: Iterable<RowChange>): void
  catalogChange(change: CatalogChange): void
  malformed(): void
  /** True while the replica loads: tables are built once, at the end. */
  loading(): boolean
}

export class CatalogView<S extends ViewedShard> {
  private readonly host: CatalogViewHost<S>
  private readonly tableInfos = new Map<string, TableInfo>()
  private readonly tableShards = new Map<string, S[]>()
  /**
   * Bumped synchronously on every change to the catalog shard (a local commit or a peer's
   * update), before anyone is told: whatever was derived from the catalog (cached plans)
   * is stale once it moved.
   */
  version = 0

  constructor(host: CatalogViewHost<S>) {
    this.host = host
  }

  /** Every table, sorted by name. */
  tables(): TableInfo[] {
    return [...this.tableInfos.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  table(name: string): TableInfo | undefined {
    return this.tableInfos.get(name)
  }

  /** The shards holding a table's current incarnation (empty for an unknown table). */
  shardsOf(table: string): readonly S[] {
    return this.tableShards.get(table) ?? []
  }

  /** Like `shardsOf`, for routing writes to a known table (keeps the list it returns). */
  shardList(table: string): S[] {
    let list = this.tableShards.get(table)
    if (list === undefined) {
      list = []
      this.tableShards.set(table, list)
    }
    return list
  }

  /** A shard just created: if it holds a known table's current incarnation, it joins it and gets its view. */
  attach(shard: S): void {
    const parsed = parseShardId(shard.id)
    if (parsed === null) return
    const info = this.tableInfos.get(parsed.table)
    if (info !== undefined && info.incarnation === parsed.incarnation) {
      this.shardList(parsed.table).push(shard)
      shard.setView(this.viewOf(info))
    }
  }

  /** A catalog object as the catalog shard holds it (undefined if absent or malformed). */
  getCatalog(kind: string, name: string): Json | undefined {
    const row = this.host.catalogShard.rows.get(encodeRowKey([kind, name]))
    if (row === undefined || typeof row.value !== 'string') return undefined
    try {
      return JSON.parse(row.value) as Json
    } catch {
      return undefined
    }
  }

  /** Catalog rows changed: reports them, and rebuilds the tables they touch (not while loading). */
  onCatalogRows(changes: RowChange[], origin: 'local' | 'remote'): void {
    this.version++
    const affected = new Set<string>()
    let all = false
    for (const c of changes) {
      let kind: Value
      let name: Value
      try {
        ;[kind, name] = decodeRowKey(c.key, 2)
      } catch {
        this.host.malformed()
        continue
      }
      if (typeof kind !== 'string' || typeof name !== 'string') continue
      if (kind === 'table') affected.add(name)
      else if (kind === 'column') {
        const split = splitColumnCatalogName(name)
        if (split !== null) affected.add(split[0])
      } else if (kind === 'policy') all = true
      let value: Json | null = null
      const text = c.after?.value
      if (typeof text === 'string') {
        try {
          value = JSON.parse(text) as Json
        } catch {
          this.host.malformed()
        }
      }
      this.host.catalogChange({ kind, name, value, origin })
    }
    if (this.host.loading()) return
    if (all) for (const n of this.tableNames()) affected.add(n)
    for (const name of affected) this.rebuildTable(name)
  }

  /** Builds every table (once loading is done). */
  rebuildAll(): void {
    for (const name of this.tableNames()) this.rebuildTable(name)
  }

  /** Rebuilds the tables that use custom policy `resolver` (registered or replaced). */
  rebuildUsing(resolver: string): void {
    for (const info of this.tableInfos.values()) {
      const view = this.viewOf(info)
      const uses = [...view.policies.values()].some((p) => typeof p === 'object' && p.custom === resolver)
      if (uses) this.rebuildTable(info.name)
    }
  }

  private *tableNames(): Iterable<string> {
    for (const row of this.host.catalogShard.rows.values()) if (row.kind === 'table' && typeof row.name === 'string') yield row.name
    for (const name of [...this.tableInfos.keys()]) yield name
  }

  private clusterDefaultPolicy(): PolicySpec {
    const row = this.host.catalogShard.rows.get(encodeRowKey(['policy', 'default']))
    if (row === undefined || typeof row.value !== 'string') return 'last_write_wins'
    try {
      return parsePolicy(JSON.parse(row.value)) ?? 'last_write_wins'
    } catch {
      return 'last_write_wins'
    }
  }

  private viewOf(info: TableInfo): TableView {
    const catalog = this.host.catalogShard
    return tableView(info, this.clusterDefaultPolicy(), (column) => catalog.rowCl(encodeRowKey(['column', columnCatalogName(info.name, info.incarnation, column)])))
  }

  private rebuildTable(name: string): void {
    const catalog = this.host.catalogShard
    const key = encodeRowKey(['table', name])
    const row = catalog.rows.get(key)
    const def = row === undefined ? null : parseTableDefinition(row.value)
    const previous = this.tableInfos.get(name)
    let info: TableInfo | undefined
    if (def !== null) {
      const incarnation = catalog.rowCl(key)
      const prefix = `${name}\u0000${incarnation}\u0000`
      const cols: Array<[string, ColumnDefinition]> = []
      for (const r of catalog.rows.values()) {
        if (r.kind !== 'column' || typeof r.name !== 'string' || !r.name.startsWith(prefix)) continue
        const c = parseColumnDefinition(r.value)
        if (c !== null) cols.push([r.name.slice(prefix.length), c])
      }
      info = buildTableInfo(name, incarnation, def, cols)
    }
    if (previous !== undefined && (info === undefined || info.incarnation !== previous.incarnation)) {
      for (const shard of this.tableShards.get(name) ?? []) {
        const gone: RowChange[] = []
        for (const [key, before] of shard.rows) gone.push({ table: name, key, before, after: null, origin: 'local' })
        this.host.rowChanges(gone)
        shard.rows.clear()
        shard.setView(null)
        this.host.forget(shard)
      }
      this.tableShards.delete(name)
    }
    if (info === undefined) {
      this.tableInfos.delete(name)
      return
    }
    this.tableInfos.set(name, info)
    const view = this.viewOf(info)
    // DDL merge can replace the primary key (an earlier concurrent CREATE won): rows keyed
    // under the other key may not decode under this one. Re-read every row from scratch,
    // so such a row is absent on every replica instead of kept as it was materialized.
    const keyChanged = previous !== undefined && previous.incarnation === info.incarnation && previous.primaryKey.join('\u0000') !== info.primaryKey.join('\u0000')
    const list: S[] = []
    for (const shard of this.host.shards()) {
      const parsed = parseShardId(shard.id)
      if (parsed === null || parsed.table !== name || parsed.incarnation !== info.incarnation) continue
      list.push(shard)
      if (keyChanged) {
        const gone: RowChange[] = []
        for (const [key, before] of shard.rows) gone.push({ table: name, key, before, after: null, origin: 'remote' })
        this.host.rowChanges(gone)
        shard.rows.clear()
      }
      this.host.rowChanges(shard.setView(view))
    }
    this.tableShards.set(name, list)
  }
}
