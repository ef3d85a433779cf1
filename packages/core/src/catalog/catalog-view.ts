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
 *
 * Renames: a renamed table's catalog row names the storage (name, incarnation) its
 * shards and column rows keep (`TableDefinition.storage`), so its data never moves and
 * writes of nodes that still use the old name land in it. Storage is owned by at most one
 * table: of tables renamed concurrently from one table, the one renamed last (HLC of the
 * rename, then name) is shown, the others are not; a storage a live table claims is
 * never forgotten.
 */
import { decodeRowKey, encodeRowKey } from '../codec/row-key.js'
import { parsePolicy } from '../merge/policy.js'
import { parseShardId } from '../placement/shard-id.js'
import type { CatalogChange, Json, PolicySpec, Row, RowChange, TableInfo, Value } from '../types.js'
import {
  buildTableInfo,
  columnCatalogName,
  parseColumnDefinition,
  parseTableDefinition,
  splitColumnCatalogName,
  storageName,
  tableStorage,
  type ColumnDefinition,
  type TableDefinition,
} from './catalog-schema.js'
import { tableView, type TableView } from './table-view.js'

/** What the catalog view needs of a shard. */
export interface ViewedShard {
  readonly id: string
  readonly rows: Map<string, Row>
  rowCl(rowKey: string): number
  setView(view: TableView | null): RowChange[]
  /** Name of the table whose view the shard has (undefined: none). */
  viewName(): string | undefined
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
  /** `tables()`, kept until `tableInfos` changes. */
  private sortedTables: readonly TableInfo[] | null = null
  private readonly tableShards = new Map<string, S[]>()
  /** Storage key (`storage U+0000 incarnation`) of each table row's claim, by table name. */
  private readonly claimOf = new Map<string, string>()
  /** Table rows claiming each storage key. */
  private readonly claims = new Map<string, Set<string>>()
  /** The table shown for each storage key. */
  private readonly owners = new Map<string, string>()
  /**
   * Bumped synchronously on every change to the catalog shard (a local commit or a peer's
   * update), before anyone is told: whatever was derived from the catalog (cached plans)
   * is stale once it moved.
   */
  version = 0

  constructor(host: CatalogViewHost<S>) {
    this.host = host
  }

  /**
   * Every table, sorted by name. The same array until a table changes: statements read
   * it several times each (inheritance walks, foreign keys), and sorting it per read was
   * a share of every UPDATE's allocation.
   */
  tables(): readonly TableInfo[] {
    return (this.sortedTables ??= Object.freeze([...this.tableInfos.values()].sort((a, b) => (a.name < b.name ? -1 : 1))))
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
    const owner = this.owners.get(storageKey(parsed.table, parsed.incarnation))
    const info = owner === undefined ? undefined : this.tableInfos.get(owner)
    if (info !== undefined) {
      this.shardList(info.name).push(shard)
      shard.setView(this.viewOf(info))
    }
  }

  /** A shard leaving this replica (a copy released to its holders): it no longer holds rows of its table here. */
  detach(shard: S): void {
    for (const list of this.tableShards.values()) {
      const i = list.indexOf(shard)
      if (i >= 0) list.splice(i, 1)
    }
  }

  /**
   * The table a shard id's rows belong to, and whether the id names a dropped incarnation
   * (a table still stores under its name at a later one, and no table owns this one).
   */
  tableOfShard(table: string, incarnation: number): { info: TableInfo | undefined; dropped: boolean } {
    const key = storageKey(table, incarnation)
    const owner = this.owners.get(key)
    if (owner !== undefined) return { info: this.tableInfos.get(owner), dropped: false }
    if ((this.claims.get(key)?.size ?? 0) > 0) return { info: undefined, dropped: false }
    const t = this.tableInfos.get(table)
    return { info: undefined, dropped: t !== undefined && storageName(t) === table && incarnation < t.incarnation }
  }

  /** Records which storage the table row `name` claims now (none once it is deleted). */
  private noteClaim(name: string): void {
    const old = this.claimOf.get(name)
    if (old !== undefined) {
      this.claims.get(old)?.delete(name)
      if (this.claims.get(old)?.size === 0) this.claims.delete(old)
      this.claimOf.delete(name)
    }
    const def = this.tableDefinition(name)
    if (def === null) return
    const at = tableStorage(name, this.host.catalogShard.rowCl(encodeRowKey(['table', name])), def)
    const key = storageKey(at.storage, at.incarnation)
    this.claimOf.set(name, key)
    let set = this.claims.get(key)
    if (set === undefined) {
      set = new Set()
      this.claims.set(key, set)
    }
    set.add(name)
  }

  private tableDefinition(name: string): TableDefinition | null {
    const row = this.host.catalogShard.rows.get(encodeRowKey(['table', name]))
    return row === undefined ? null : parseTableDefinition(row.value)
  }

  /** Of the table rows claiming one storage, the one shown: renamed last (HLC, then name). */
  private claimWinner(key: string): string | undefined {
    let best: string | undefined
    let bestAt = -1
    for (const n of this.claims.get(key) ?? []) {
      const at = this.tableDefinition(n)?.changed.name ?? 0
      if (best === undefined || at > bestAt || (at === bestAt && n > best)) {
        best = n
        bestAt = at
      }
    }
    return best
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
      if (kind === 'table') {
        // Tables sharing a storage before or after this change decide its owner again.
        for (const n of this.claims.get(this.claimOf.get(name) ?? '') ?? []) affected.add(n)
        this.noteClaim(name)
        for (const n of this.claims.get(this.claimOf.get(name) ?? '') ?? []) affected.add(n)
        affected.add(name)
      } else if (kind === 'column') {
        const split = splitColumnCatalogName(name)
        if (split !== null) {
          affected.add(split[0])
          for (const n of this.claims.get(storageKey(split[0], split[1])) ?? []) affected.add(n)
        }
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

  /** Builds every table (at load: once the catalog shard is in, before the table shards). */
  rebuildAll(): void {
    for (const name of this.tableNames()) this.noteClaim(name)
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
    return tableView(info, this.clusterDefaultPolicy(), (column) => catalog.rowCl(encodeRowKey(['column', columnCatalogName(storageName(info), info.incarnation, column)])))
  }

  private rebuildTable(name: string): void {
    const catalog = this.host.catalogShard
    const key = encodeRowKey(['table', name])
    const row = catalog.rows.get(key)
    let def = row === undefined ? null : parseTableDefinition(row.value)
    const previous = this.tableInfos.get(name)
    const claim = this.claimOf.get(name)
    // A table renamed concurrently into another name that won the storage is not shown.
    if (def !== null && claim !== undefined && this.claimWinner(claim) !== name) def = null
    let info: TableInfo | undefined
    if (def !== null) {
      const at = tableStorage(name, catalog.rowCl(key), def)
      const prefix = `${at.storage}\u0000${at.incarnation}\u0000`
      const cols: Array<[string, ColumnDefinition]> = []
      for (const r of catalog.rows.values()) {
        if (r.kind !== 'column' || typeof r.name !== 'string' || !r.name.startsWith(prefix)) continue
        const c = parseColumnDefinition(r.value)
        if (c !== null) cols.push([r.name.slice(prefix.length), c])
      }
      info = buildTableInfo(name, catalog.rowCl(key), def, cols)
    }
    const previousKey = previous === undefined ? '' : storageKey(storageName(previous), previous.incarnation)
    if (previous !== undefined && (info === undefined || storageKey(storageName(info), info.incarnation) !== previousKey)) {
      // Another table (renamed from this one) may own the storage now: it keeps the shards.
      const kept = this.claimWinner(previousKey) !== undefined && this.claimWinner(previousKey) !== name
      for (const shard of this.tableShards.get(name) ?? []) {
        if (shard.viewName() === name) {
          const gone: RowChange[] = []
          for (const [key, before] of shard.rows) gone.push({ table: name, key, before, after: null, origin: 'local' })
          this.host.rowChanges(gone)
          shard.rows.clear()
          shard.setView(null)
        }
        if (!kept) this.host.forget(shard)
      }
      this.tableShards.delete(name)
      if (this.owners.get(previousKey) === name) this.owners.delete(previousKey)
    }
    if (info === undefined) {
      if (this.tableInfos.delete(name)) this.sortedTables = null
      return
    }
    this.tableInfos.set(name, info)
    this.sortedTables = null
    this.owners.set(storageKey(storageName(info), info.incarnation), name)
    const view = this.viewOf(info)
    // DDL merge can replace the primary key (an earlier concurrent CREATE won): rows keyed
    // under the other key may not decode under this one. Re-read every row from scratch,
    // so such a row is absent on every replica instead of kept as it was materialized.
    const keyChanged = previous !== undefined && previous.incarnation === info.incarnation && previous.primaryKey.join('\u0000') !== info.primaryKey.join('\u0000')
    const list: S[] = []
    for (const shard of this.host.shards()) {
      const parsed = parseShardId(shard.id)
      if (parsed === null || parsed.table !== storageName(info) || parsed.incarnation !== info.incarnation) continue
      list.push(shard)
      const adopted = shard.viewName()
      if (adopted !== undefined && adopted !== name) {
        // Storage taken over from the table it was renamed from: its rows go, this table's come.
        const gone: RowChange[] = []
        for (const [key, before] of shard.rows) gone.push({ table: adopted, key, before, after: null, origin: 'remote' })
        this.host.rowChanges(gone)
        shard.rows.clear()
      } else if (keyChanged) {
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

function storageKey(storage: string, incarnation: number): string {
  return `${storage}\u0000${incarnation}`
}
