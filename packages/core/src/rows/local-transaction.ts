/**
 * A local transaction: writes buffered as per-row intents over the replica's materialized
 * rows. Reads see the transaction's own writes; nothing touches a shard until commit, so
 * a transaction that throws leaves no trace, and commit applies every intent in one
 * synchronous step (readers in this process see all of it or none of it).
 *
 * DDL goes through the same buffer: it is a set of writes to the `$catalog` table.
 */
import { ConcordError, SqlState } from '../errors/concord-error.js'
import type { Transaction } from '../api.js'
import {
  CATALOG_TABLE,
  buildTableInfo,
  columnCatalogName,
  encodeColumnDefinition,
  encodeTableDefinition,
  parseColumnDefinition,
  parseTableDefinition,
  splitColumnCatalogName,
  type ColumnDefinition,
  type TableDefinition,
} from '../catalog/catalog-schema.js'
import { changedAttributes } from '../catalog/definition-merge.js'
import { addCounter } from '../merge/counter.js'
import { parsePolicy } from '../merge/policy.js'
import type { ColumnSpec, Json, PartitionSpec, PolicySpec, Row, TableInfo, TableSpec, Value } from '../types.js'
import { encodeRowKey } from './row-key.js'
import { NO_INCREMENTS, type RowWrite } from './shard.js'
import { RESERVED_NAME_CHARS } from './writer-entry.js'

export interface PendingRow extends RowWrite {
  keyValues: Value[]
}

/** What a transaction needs from its replica. */
export interface TransactionHost {
  baseRow(table: string, rowKey: string): Row | null
  baseRows(table: string): Iterable<[string, Row]>
  baseTable(name: string): TableInfo | undefined
  /** Causal length of a catalog row as stored (0 if absent). */
  catalogRowCl(rowKey: string): number
  now(): number
  nextId(): bigint
}

const HIDDEN_ROWID = '_rowid'

/** Causal length a row will have after a write, given its stored causal length (mirrors Shard.applyWrite). */
export function clAfter(baseCl: number, w: RowWrite): number {
  const live = baseCl % 2 === 1
  if (!w.live) return live ? baseCl + 1 : baseCl
  if (!live) return baseCl + 1
  return w.reset ? baseCl + 2 : baseCl
}

export class LocalTransaction implements Transaction {
  /** Pending row intents by table name, then row key. The catalog's are under `$catalog`. */
  readonly pending = new Map<string, Map<string, PendingRow>>()
  private readonly host: TransactionHost
  private readonly tableCache = new Map<string, TableInfo | undefined>()

  constructor(host: TransactionHost) {
    this.host = host
  }

  // ---- rows -------------------------------------------------------------

  private requireTable(name: string): TableInfo {
    const t = this.table(name)
    if (t === undefined) throw new ConcordError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    return t
  }

  private keyOf(info: TableInfo, row: Row): Value[] {
    return info.primaryKey.map((c) => {
      const v = row[c]
      if (v === null || v === undefined) {
        throw new ConcordError('23502', `null value in column "${c}" of relation "${info.name}" violates not-null constraint`)
      }
      return v
    })
  }

  private checkColumns(info: TableInfo, row: Row): void {
    for (const name in row) {
      if (!info.columns.some((c) => c.name === name)) {
        throw new ConcordError(SqlState.undefinedColumn, `column "${name}" of relation "${info.name}" does not exist`)
      }
    }
  }

  private rowsOf(table: string): Map<string, PendingRow> {
    let m = this.pending.get(table)
    if (m === undefined) {
      m = new Map()
      this.pending.set(table, m)
    }
    return m
  }

  private view(info: TableInfo, rowKey: string, p: PendingRow | undefined): Row | null {
    const base = this.host.baseRow(info.name, rowKey)
    if (p === undefined) return base
    if (!p.live) return null
    const row: Row = {}
    const fresh = p.reset || base === null
    for (const c of info.columns) row[c.name] = fresh ? null : base![c.name] ?? null
    info.primaryKey.forEach((c, i) => (row[c] = p.keyValues[i]!))
    for (const [c, v] of p.cols) row[c] = v
    for (const [c, d] of p.incr) row[c] = addCounter(row[c] ?? null, d)
    return row
  }

  get(table: string, key: Value[]): Row | undefined {
    const info = this.requireTable(table)
    const rowKey = encodeRowKey(key)
    return this.view(info, rowKey, this.pending.get(info.name)?.get(rowKey)) ?? undefined
  }

  *scan(table: string): Iterable<Row> {
    const info = this.requireTable(table)
    const pend = this.pending.get(info.name)
    for (const [k, row] of this.host.baseRows(info.name)) {
      if (pend?.has(k)) continue
      yield row
    }
    if (pend === undefined) return
    for (const [k, p] of pend) {
      const r = this.view(info, k, p)
      if (r !== null) yield r
    }
  }

  private fillRowId(info: TableInfo, row: Row): Row {
    if (info.primaryKey.length === 1 && info.primaryKey[0] === HIDDEN_ROWID && (row[HIDDEN_ROWID] ?? null) === null) {
      return { ...row, [HIDDEN_ROWID]: this.host.nextId() }
    }
    return row
  }

  insert(table: string, row: Row): void {
    const info = this.requireTable(table)
    this.insertInto(info, this.fillRowId(info, row))
  }

  private insertInto(info: TableInfo, row: Row): void {
    this.checkColumns(info, row)
    const keyValues = this.keyOf(info, row)
    const rowKey = encodeRowKey(keyValues)
    const rows = this.rowsOf(info.name)
    const p = rows.get(rowKey)
    if (this.exists(info, rowKey, p)) {
      throw new ConcordError(
        SqlState.uniqueViolation,
        `duplicate key value violates unique constraint "${info.name}_pkey"`,
      )
    }
    const cols = new Map<string, Value>()
    const pk = info.primaryKey
    for (const c in row) if (pk.length === 1 ? pk[0] !== c : !pk.includes(c)) cols.set(c, row[c]!)
    rows.set(rowKey, { live: true, reset: p?.reset ?? false, cols, incr: NO_INCREMENTS, keyValues })
  }

  upsert(table: string, row: Row): void {
    const info = this.requireTable(table)
    const filled = this.fillRowId(info, row)
    const key = this.keyOf(info, filled)
    if (!this.update(table, key, filled)) this.insertInto(info, filled)
  }

  private exists(info: TableInfo, rowKey: string, p: PendingRow | undefined): boolean {
    if (p !== undefined) return p.live
    return this.host.baseRow(info.name, rowKey) !== null
  }

  update(table: string, key: Value[], changes: Row): boolean {
    const info = this.requireTable(table)
    this.checkColumns(info, changes)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    if (!this.exists(info, rowKey, rows.get(rowKey))) return false
    const movesKey = info.primaryKey.some((c, i) => c in changes && !sameValue(changes[c] ?? null, key[i] ?? null))
    if (movesKey) {
      const current = this.view(info, rowKey, rows.get(rowKey))!
      this.delete(table, key)
      this.insertInto(info, { ...current, ...changes })
      return true
    }
    let p = rows.get(rowKey)
    if (p === undefined) {
      p = { live: true, reset: false, cols: new Map(), incr: NO_INCREMENTS, keyValues: key.slice() }
      rows.set(rowKey, p)
    }
    for (const [c, v] of Object.entries(changes)) {
      if (info.primaryKey.includes(c)) continue
      p.cols.set(c, v)
      if (p.incr.has(c)) (p.incr as Map<string, number | bigint>).delete(c)
    }
    return true
  }

  increment(table: string, key: Value[], column: string, delta: number | bigint): boolean {
    const info = this.requireTable(table)
    const col = info.columns.find((c) => c.name === column)
    if (col === undefined) throw new ConcordError(SqlState.undefinedColumn, `column "${column}" of relation "${table}" does not exist`)
    if (col.kind !== 'counter') throw new ConcordError('42804', `column "${column}" is not a counter column`)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    if (this.view(info, rowKey, rows.get(rowKey)) === null) return false
    let p = rows.get(rowKey)
    if (p === undefined) {
      p = { live: true, reset: false, cols: new Map(), incr: NO_INCREMENTS, keyValues: key.slice() }
      rows.set(rowKey, p)
    }
    if (p.cols.has(column)) p.cols.set(column, addCounter(p.cols.get(column) ?? null, delta))
    else {
      if (p.incr === NO_INCREMENTS) p.incr = new Map()
      ;(p.incr as Map<string, number | bigint>).set(column, addCounter(p.incr.get(column) ?? 0, delta) as number | bigint)
    }
    return true
  }

  delete(table: string, key: Value[]): boolean {
    const info = this.requireTable(table)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    if (this.view(info, rowKey, rows.get(rowKey)) === null) return false
    rows.set(rowKey, { live: false, reset: true, cols: new Map(), incr: NO_INCREMENTS, keyValues: key.slice() })
    return true
  }

  // ---- catalog ------------------------------------------------------------

  private catalogKey(kind: string, name: string): string {
    return encodeRowKey([kind, name])
  }

  private catalogValue(kind: string, name: string): string | null {
    const k = this.catalogKey(kind, name)
    const row = this.view(CATALOG_TABLE, k, this.pending.get(CATALOG_TABLE.name)?.get(k))
    if (row === null) return null
    return typeof row.value === 'string' ? row.value : null
  }

  private catalogCl(kind: string, name: string): number {
    const k = this.catalogKey(kind, name)
    const base = this.host.catalogRowCl(k)
    const p = this.pending.get(CATALOG_TABLE.name)?.get(k)
    return p === undefined ? base : clAfter(base, p)
  }

  private writeCatalog(kind: string, name: string, value: string | null): void {
    const k = this.catalogKey(kind, name)
    const rows = this.rowsOf(CATALOG_TABLE.name)
    const exists = this.view(CATALOG_TABLE, k, rows.get(k)) !== null
    if (value === null) {
      if (exists) rows.set(k, { live: false, reset: true, cols: new Map(), incr: NO_INCREMENTS, keyValues: [kind, name] })
      return
    }
    const p = rows.get(k)
    rows.set(k, { live: true, reset: p?.reset ?? false, cols: new Map([['value', value]]), incr: NO_INCREMENTS, keyValues: [kind, name] })
    this.tableCache.clear()
  }

  setCatalog(kind: string, name: string, value: Json | null): void {
    if (kind === 'table' || kind === 'column') {
      throw new ConcordError(SqlState.invalidParameterValue, `catalog kind "${kind}" is reserved`)
    }
    this.writeCatalog(kind, name, value === null ? null : JSON.stringify(value))
  }

  getCatalog(kind: string, name: string): Json | undefined {
    const v = this.catalogValue(kind, name)
    if (v === null) return undefined
    try {
      return JSON.parse(v) as Json
    } catch {
      return undefined
    }
  }

  listCatalog(kind: string): Array<[string, Json]> {
    const out: Array<[string, Json]> = []
    for (const row of this.scan(CATALOG_TABLE.name)) {
      if (row.kind !== kind || typeof row.name !== 'string' || typeof row.value !== 'string') continue
      try {
        out.push([row.name, JSON.parse(row.value) as Json])
      } catch {
        // a malformed object from a broken peer is skipped, not fatal
      }
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  table(name: string): TableInfo | undefined {
    if (name === CATALOG_TABLE.name) return CATALOG_TABLE
    const touched = this.pending.get(CATALOG_TABLE.name)
    if (touched === undefined || touched.size === 0) return this.host.baseTable(name)
    if (this.tableCache.has(name)) return this.tableCache.get(name)
    const info = this.buildTable(name)
    this.tableCache.set(name, info)
    return info
  }

  private buildTable(name: string): TableInfo | undefined {
    const def = parseTableDefinition(this.catalogValue('table', name))
    if (def === null) return undefined
    const inc = this.catalogCl('table', name)
    const cols: Array<[string, ColumnDefinition]> = []
    for (const row of this.scan(CATALOG_TABLE.name)) {
      if (row.kind !== 'column' || typeof row.name !== 'string') continue
      const split = splitColumnCatalogName(row.name)
      if (split === null || split[0] !== name || split[1] !== inc) continue
      const c = parseColumnDefinition(row.value)
      if (c !== null) cols.push([split[2], c])
    }
    return buildTableInfo(name, inc, def, cols)
  }

  private columnsOf(info: TableInfo): string[] {
    return info.columns.map((c) => c.name)
  }

  createTable(spec: TableSpec): TableInfo {
    if (this.table(spec.name) !== undefined) {
      throw new ConcordError(SqlState.duplicateTable, `relation "${spec.name}" already exists`)
    }
    validateName(spec.name, 'table')
    const columns = [...spec.columns]
    let primaryKey = [...spec.primaryKey]
    if (primaryKey.length === 0) {
      columns.push({ name: HIDDEN_ROWID, type: 'bigint', meta: { hidden: true } })
      primaryKey = [HIDDEN_ROWID]
    }
    const seen = new Set<string>()
    for (const c of columns) {
      validateName(c.name, 'column')
      if (seen.has(c.name)) throw new ConcordError(SqlState.duplicateColumn, `column "${c.name}" specified more than once`)
      seen.add(c.name)
    }
    for (const k of primaryKey) {
      if (!seen.has(k)) throw new ConcordError(SqlState.undefinedColumn, `column "${k}" named in key does not exist`)
      const c = columns.find((x) => x.name === k)!
      if (c.kind !== undefined && c.kind !== 'register') {
        throw new ConcordError(SqlState.invalidTableDefinition, `column "${k}" of kind ${c.kind} cannot be part of a primary key`)
      }
    }
    const at = this.host.now()
    const def: TableDefinition = {
      primaryKey,
      policy: spec.policy ?? null,
      regions: spec.regions && spec.regions.length > 0 ? [...spec.regions] : null,
      partitioning: spec.partitioning ?? null,
      options: { ...(spec.options ?? {}) },
      meta: spec.meta ?? null,
      created: at,
      changed: {},
    }
    this.writeCatalog('table', spec.name, encodeTableDefinition(def))
    const inc = this.catalogCl('table', spec.name)
    columns.forEach((c, i) => this.writeColumn(spec.name, inc, c, [at, i]))
    return this.table(spec.name)!
  }

  private writeColumn(table: string, inc: number, c: ColumnSpec, pos: [number, number]): void {
    const def: ColumnDefinition = { type: c.type, kind: c.kind ?? 'register', policy: c.policy ?? null, meta: c.meta ?? null, pos, changed: {} }
    this.writeCatalog('column', columnCatalogName(table, inc, c.name), encodeColumnDefinition(def))
  }

  dropTable(name: string): void {
    const info = this.table(name)
    if (info === undefined) throw new ConcordError(SqlState.undefinedTable, `table "${name}" does not exist`)
    for (const c of info.columns) this.writeCatalog('column', columnCatalogName(name, info.incarnation, c.name), null)
    this.writeCatalog('table', name, null)
  }

  addColumn(table: string, column: ColumnSpec): void {
    const info = this.requireTable(table)
    validateName(column.name, 'column')
    if (this.columnsOf(info).includes(column.name)) {
      throw new ConcordError(SqlState.duplicateColumn, `column "${column.name}" of relation "${table}" already exists`)
    }
    this.writeColumn(table, info.incarnation, column, [this.host.now(), 0])
  }

  dropColumn(table: string, column: string): void {
    const info = this.requireTable(table)
    if (!this.columnsOf(info).includes(column)) {
      throw new ConcordError(SqlState.undefinedColumn, `column "${column}" of relation "${table}" does not exist`)
    }
    if (info.primaryKey.includes(column)) {
      throw new ConcordError(SqlState.featureNotSupported, `cannot drop primary key column "${column}"`)
    }
    this.writeCatalog('column', columnCatalogName(table, info.incarnation, column), null)
  }

  alterColumn(table: string, column: string, patch: { type?: string; policy?: PolicySpec | null; meta?: Json }): void {
    const info = this.requireTable(table)
    const name = columnCatalogName(table, info.incarnation, column)
    const def = parseColumnDefinition(this.catalogValue('column', name))
    if (def === null) throw new ConcordError(SqlState.undefinedColumn, `column "${column}" of relation "${table}" does not exist`)
    const before = { ...def }
    if (patch.type !== undefined) def.type = patch.type
    if (patch.policy !== undefined) def.policy = patch.policy === null ? null : parsePolicy(patch.policy)
    if (patch.meta !== undefined) def.meta = patch.meta
    this.stampChanges(before, def)
    this.writeCatalog('column', name, encodeColumnDefinition(def))
  }

  alterTable(
    name: string,
    patch: { policy?: PolicySpec | null; regions?: string[] | null; options?: Record<string, string>; meta?: Json; partitioning?: PartitionSpec | null },
  ): void {
    const def = parseTableDefinition(this.catalogValue('table', name))
    if (def === null) throw new ConcordError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    const before = { ...def }
    if (patch.policy !== undefined) def.policy = patch.policy === null ? null : parsePolicy(patch.policy)
    if (patch.regions !== undefined) def.regions = patch.regions && patch.regions.length > 0 ? [...patch.regions] : null
    if (patch.options !== undefined) def.options = { ...patch.options }
    if (patch.meta !== undefined) def.meta = patch.meta
    if (patch.partitioning !== undefined) def.partitioning = patch.partitioning
    this.stampChanges(before, def)
    this.writeCatalog('table', name, encodeTableDefinition(def))
  }

  /** Records when each attribute an ALTER changed was changed: concurrent ALTERs merge per attribute (DDL merge). */
  private stampChanges(before: TableDefinition | ColumnDefinition, after: TableDefinition | ColumnDefinition): void {
    const changed = changedAttributes(before, after)
    if (changed.length === 0) return
    const at = this.host.now()
    after.changed = { ...after.changed }
    for (const k of changed) after.changed[k] = at
  }
}

function validateName(name: string, what: string): void {
  if (typeof name !== 'string' || name.length === 0 || RESERVED_NAME_CHARS.test(name)) {
    throw new ConcordError('42602', `invalid ${what} name`)
  }
}

function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    try {
      return BigInt(a as never) === BigInt(b as never)
    } catch {
      return false
    }
  }
  return false
}
