/**
 * A local transaction: writes buffered as per-row intents over the replica's materialized
 * rows. Reads see the transaction's own writes; nothing touches a shard until commit, so
 * a transaction that throws leaves no trace, and commit applies every intent in one
 * synchronous step (readers in this process see all of it or none of it).
 *
 * DDL goes through the same buffer: it is a set of writes to the `$catalog` table.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { CarriedRow, CarriedRows, Transaction, TransactionSavepoint } from '../api.js'
import {
  CATALOG_TABLE,
  SECRETS_TABLE,
  buildTableInfo,
  columnCatalogName,
  encodeColumnDefinition,
  encodeTableDefinition,
  parseColumnDefinition,
  parseTableDefinition,
  splitColumnCatalogName,
  storageName,
  tableStorage,
  type ColumnDefinition,
  type TableDefinition,
} from '../catalog/catalog-schema.js'
import { changedAttributes } from '../catalog/definition-merge.js'
import { clAfter } from '../merge/causal-length.js'
import { addCounter } from '../merge/counter.js'
import { MAX_COLUMN_EPOCHS } from '../merge/column-epochs.js'
import { parsePolicy } from '../merge/policy.js'
import type { ColumnKind, ColumnSpec, Json, PartitionSpec, PolicySpec, Row, TableInfo, TableSpec, Value } from '../types.js'
import { encodeRowKey } from '../codec/row-key.js'
import { NO_INCREMENTS, type RowWrite } from './row-write.js'
import { RESERVED_NAME_CHARS } from '../codec/writer-entry.js'
import { holdsTable, notCaughtUp, notHeldHere, notHeldWhole } from '../placement/placement.js'
import { catchUpName } from '../placement/catch-up.js'
import { JOIN_CAUGHT_UP_KIND } from '../placement/join-catch-up.js'

export interface PendingRow extends RowWrite {
  keyValues: Value[]
  /**
   * Causal length of the row when this transaction first changed it, in a transaction kept
   * open (`Replica.begin`): if another write deleted the row before commit, this change
   * was concurrent with that delete and loses to it, as across nodes.
   */
  baseCl?: number
  /** Catalog and secrets rows only (`replaceCatalog`, `setSecret`): every other writer's entry of the row is deleted at commit. */
  scrub?: true
}

/** What a transaction needs from its replica. */
export interface TransactionHost {
  baseRow(table: string, rowKey: string): Row | null
  baseRows(table: string): Iterable<[string, Row]>
  /** The stored rows of a table, without their keys (a plain scan reads only these). */
  baseRowValues(table: string): Iterable<Row>
  baseTable(name: string): TableInfo | undefined
  baseTables(): readonly TableInfo[]
  /** Causal length of a stored row (0 if absent). */
  rowCl(table: string, rowKey: string): number
  /** Causal length of a catalog row as stored (0 if absent). */
  catalogRowCl(rowKey: string): number
  now(): number
  nextId(): bigint
  /** This replica's region: rows of a table it does not hold are refused (placement.ts). */
  region(): string
  /** Whether this replica holds every shard of the table (placement.ts `holdsWhole`): only then are its rows read here. */
  holdsWhole(info: TableInfo): boolean
  /** Whether this replica has caught up on the table (placement.ts `caughtUp`): a read refused for that alone says so. */
  caughtUp(info: TableInfo): boolean
  /** Live members that joined on empty storage and hold tables of `regions` (placement/join-catch-up.ts). */
  joinedHolders(regions: readonly string[] | null): Array<{ nodeId: string; since: number }>
  /** Throws when this replica may not write that catalog object (Replica.catalogWriteGuard). */
  guardCatalogWrite?(kind: string, name: string): void
  /** Throws when this replica may not write rows of that table (Replica.tableWriteGuard). */
  guardTableWrite?(table: string): void
  /**
   * The refusal of a change to a row not found here whose key routes it to a placed shard
   * held elsewhere (Placement.placedElsewhere: `RowsPlacedElsewhere`, so the SQL layer can
   * forward the statement to its holder); null when that is not why it is missing.
   */
  placedElsewhere?(info: TableInfo, rowKey: string, key: Value[]): ConcordError | null
}

const HIDDEN_ROWID = '_rowid'

/** The pending intents of a transaction that has written nothing: shared, never written (`writable` makes a map of its own). */
const NOTHING_PENDING: ReadonlyMap<string, Map<string, PendingRow>> = new Map()

/**
 * A savepoint (SQL SAVEPOINT, a statement's mark while another session holds a lock, a
 * PL/pgSQL EXCEPTION block): where the transaction's undo log stood, and how many
 * rollbacks had cut it then (see `rollbackTo`).
 */
interface LocalSavepoint {
  readonly at: number
  readonly cuts: number
}

/**
 * One step of the undo log: what a change since the latest savepoint replaced.
 * - a row (`key` a row key) as it was before its first change since then (`prev`
 *   undefined: there was none);
 * - a table's map of pending rows made since then (`key` null);
 * - every pending row as it was (`all`), with the renames made so far, before a change
 *   that moves or drops whole tables of them or renames (DROP TABLE, RENAME).
 */
type UndoStep =
  | { table: string; key: string | null; prev: PendingRow | undefined }
  | { all: Map<string, Map<string, PendingRow>>; renamedFrom: Map<string, string> | null; columnsFrom: Map<string, Map<string, string>> | null }

/** A deep copy of pending rows. */
function copyAllPending(pending: ReadonlyMap<string, ReadonlyMap<string, PendingRow>>): Map<string, Map<string, PendingRow>> {
  const out = new Map<string, Map<string, PendingRow>>()
  for (const [table, rows] of pending) {
    const copy = new Map<string, PendingRow>()
    for (const [k, p] of rows) copy.set(k, copyPending(p))
    out.set(table, copy)
  }
  return out
}

function copyPending(p: PendingRow): PendingRow {
  const copy: PendingRow = { live: p.live, reset: p.reset, cols: new Map(p.cols), incr: p.incr === NO_INCREMENTS ? NO_INCREMENTS : new Map(p.incr), keyValues: p.keyValues.slice() }
  if (p.baseCl !== undefined) copy.baseCl = p.baseCl
  if (p.dflt !== undefined) copy.dflt = new Set(p.dflt)
  if (p.scrub !== undefined) copy.scrub = p.scrub
  return copy
}

function carriedRow(p: PendingRow): CarriedRow {
  const r: CarriedRow = { keyValues: p.keyValues.slice(), live: p.live, reset: p.reset, cols: [...p.cols], incr: [...p.incr] }
  if (p.dflt !== undefined) r.dflt = [...p.dflt]
  if (p.baseCl !== undefined) r.baseCl = p.baseCl
  return r
}

export class LocalTransaction implements Transaction {
  /** Pending row intents by table name, then row key (null until the first: most statements' transactions write nothing). */
  private pendingRows: Map<string, Map<string, PendingRow>> | null = null
  private readonly host: TransactionHost
  /** Tables as this transaction's catalog writes left them; made at the first such write's lookup (most transactions write no catalog row). */
  private tableCache: Map<string, TableInfo | undefined> | null = null
  /**
   * Tables renamed by this transaction: new name -> the name the replica's rows are under.
   * Null until the first rename (this map and the next: a transaction per statement, and
   * an empty Map costs 185 bytes).
   */
  private renamedFrom: Map<string, string> | null = null
  /** Columns renamed by this transaction, per (new) table name: new name -> name in the replica's rows. */
  private columnsFrom: Map<string, Map<string, string>> | null = null

  private readonly open: boolean

  /**
   * @param open kept open across calls (`Replica.begin`): changes to existing rows record
   *   the row's causal length, so commit can tell a row deleted meanwhile.
   */
  constructor(host: TransactionHost, open = false) {
    this.open = open
    this.host = host
  }

  /** Pending row intents by table name, then row key. The catalog's are under `$catalog`. */
  get pending(): ReadonlyMap<string, Map<string, PendingRow>> {
    return this.pendingRows ?? NOTHING_PENDING
  }

  /** The pending intents' map, made at the first write (an empty Map is ~200 bytes, per read statement). */
  private writable(): Map<string, Map<string, PendingRow>> {
    return (this.pendingRows ??= new Map())
  }

  /** A pending change of a stored row, remembering its causal length when the transaction is open. */
  private changeOf(info: TableInfo, rowKey: string, key: Value[], live: boolean): PendingRow {
    const p: PendingRow = live ? { live: true, reset: false, cols: new Map(), incr: NO_INCREMENTS, keyValues: key.slice() } : { live: false, reset: true, cols: new Map(), incr: NO_INCREMENTS, keyValues: key.slice() }
    if (this.open && this.committed(info)) p.baseCl = this.baseRowCl(info.name, rowKey)
    return p
  }

  // ---- savepoints ---------------------------------------------------------

  /**
   * Undo log: from the first savepoint on, each change records what it replaced (once
   * per row between two savepoints), so a savepoint costs nothing and a rollback the
   * changes since it. Null until a savepoint is taken: most transactions take none. A copy
   * of every pending row per savepoint would make a block of n statements under a lock held
   * elsewhere (each statement takes one) cost O(n^2): 8,000 INSERTs in one block took 18.4 s
   * that way, against 1.2 s without the lock.
   */
  private undo: UndoStep[] | null = null
  /** Moves on at each savepoint and rollback: a row is logged at its first change in a generation. */
  private generation = 0
  /** The generation each row was last logged in, by table (null until the first). */
  private logged: Map<string, Map<string, number>> | null = null
  /** Where each rollback cut the log back to: a savepoint above a later cut is gone. */
  private readonly cuts: number[] = []

  /** A mark to roll back to: the undo log's length (nothing is copied). */
  savepoint(): TransactionSavepoint {
    this.undo ??= []
    this.generation++
    const mark: LocalSavepoint = { at: this.undo.length, cuts: this.cuts.length }
    return mark as unknown as TransactionSavepoint
  }

  /**
   * Discards every write made since `mark`; the mark stays usable (ROLLBACK TO twice). A
   * mark taken after an earlier one that was rolled back to (and so released by it, as
   * PostgreSQL releases the savepoints after one rolled back to) is refused.
   */
  rollbackTo(mark: TransactionSavepoint): void {
    const m = mark as unknown as LocalSavepoint
    const undo = this.undo
    let valid = undo !== null && m.at <= undo.length
    for (let i = m.cuts; valid && i < this.cuts.length; i++) valid = this.cuts[i]! >= m.at
    if (!valid || undo === null) throw new ConcordError('internalError', 'rollback to a savepoint that no longer exists')
    this.catalogWrites++
    while (undo.length > m.at) this.restore(undo.pop()!)
    this.cuts.push(m.at)
    this.generation++
    this.tableCache?.clear()
  }

  private restore(step: UndoStep): void {
    if ('all' in step) {
      this.pendingRows = step.all
      this.renamedFrom = step.renamedFrom
      this.columnsFrom = step.columnsFrom
      return
    }
    if (step.key === null) {
      this.pendingRows?.delete(step.table)
      return
    }
    if (step.prev === undefined) {
      this.pendingRows?.get(step.table)?.delete(step.key)
      return
    }
    let rows = this.pendingRows?.get(step.table)
    if (rows === undefined) {
      rows = new Map()
      this.writable().set(step.table, rows)
    }
    rows.set(step.key, step.prev)
  }

  /** Records row `rowKey` of `table` as it is, before its first change since the latest savepoint. */
  private saveRow(table: string, rowKey: string): void {
    if (this.undo === null) return
    const logged = (this.logged ??= new Map())
    let rows = logged.get(table)
    if (rows === undefined) {
      rows = new Map()
      logged.set(table, rows)
    } else if (rows.get(rowKey) === this.generation) return
    rows.set(rowKey, this.generation)
    const p = this.pendingRows?.get(table)?.get(rowKey)
    this.undo.push({ table, key: rowKey, prev: p === undefined ? undefined : copyPending(p) })
  }

  /** Records every pending row and rename as they are, before a change to whole tables of them or a rename. */
  private saveAll(): void {
    if (this.undo === null) return
    const columnsFrom = this.columnsFrom === null ? null : new Map([...this.columnsFrom].map(([t, cols]) => [t, new Map(cols)]))
    this.undo.push({ all: copyAllPending(this.pending), renamedFrom: this.renamedFrom === null ? null : new Map(this.renamedFrom), columnsFrom })
  }

  // ---- carried to another replica ----------------------------------------

  /** See OpenTransaction.carryRows. */
  carryRows(tables: ReadonlySet<string>, maxRows: number): CarriedRows | null {
    if ((this.pending.get(CATALOG_TABLE.name)?.size ?? 0) > 0 || (this.renamedFrom?.size ?? 0) > 0 || (this.columnsFrom?.size ?? 0) > 0) return null
    const out: CarriedRows['tables'] = []
    let count = 0
    for (const [table, rows] of this.pending) {
      if (!tables.has(table) || rows.size === 0) continue
      count += rows.size
      if (count > maxRows) return null
      out.push({ table, rows: [...rows.values()].map(carriedRow) })
    }
    return { tables: out }
  }

  /**
   * Takes on the row writes another replica's transaction carried (`carryRows`), before
   * any write of its own. Checked against this replica's catalog, as anything crossing
   * from another engine: the tables exist, keys have the primary key's arity, written
   * columns and counter deltas name columns of the table (dataCorrupted otherwise).
   */
  carryIn(carried: CarriedRows): void {
    if (this.pending.size > 0) throw new ConcordError('objectNotInPrerequisiteState', 'carried rows go into a transaction that has written nothing')
    for (const { table, rows } of carried.tables) {
      const info = this.host.baseTable(table)
      if (info === undefined) throw new ConcordError('undefinedTable', `relation "${table}" does not exist`)
      const columns = new Set(info.columns.map((c) => c.name))
      const pending = this.rowsOf(table)
      for (const r of rows) {
        const bad = typeof r.live !== 'boolean' || typeof r.reset !== 'boolean' || r.keyValues.length !== info.primaryKey.length || r.cols.some(([c]) => !columns.has(c)) ||
          r.incr.some(([c, d]) => !columns.has(c) || (typeof d !== 'number' && typeof d !== 'bigint')) || (r.dflt ?? []).some((c) => !columns.has(c))
        const rowKey = bad ? '' : encodeRowKey(r.keyValues)
        if (bad || pending.has(rowKey)) throw new ConcordError('dataCorrupted', `a carried write of a row of "${table}" does not fit the table`)
        this.saveRow(table, rowKey)
        const p: PendingRow = { live: r.live, reset: r.reset, cols: new Map(r.cols), incr: r.incr.length === 0 ? NO_INCREMENTS : new Map(r.incr), keyValues: r.keyValues.slice() }
        if (r.baseCl !== undefined) p.baseCl = r.baseCl
        if (r.dflt !== undefined) p.dflt = new Set(r.dflt)
        pending.set(rowKey, p)
      }
    }
  }

  // ---- rows -------------------------------------------------------------

  writtenKeys(table: string): Value[][] {
    const rows = this.pending.get(table)
    if (rows === undefined) return []
    return [...rows.values()].map((p) => p.keyValues)
  }

  private requireTable(name: string): TableInfo {
    const t = this.table(name)
    if (t === undefined) throw new ConcordError('undefinedTable', `relation "${name}" does not exist`)
    return t
  }

  /**
   * A table whose rows this transaction reads or writes: it must exist and its region be
   * held here; to read it, every shard of it (a placed shard held elsewhere would make
   * the answer short). A write routed to a placed shard held elsewhere is refused at
   * commit (Placement.checkWrites).
   */
  private rowTable(name: string, write = false): TableInfo {
    const info = this.requireTable(name)
    const region = this.host.region()
    if (!holdsTable(region, info)) throw notHeldHere(info, region)
    if (write) this.host.guardTableWrite?.(info.name)
    if (!write) this.requireWhole(info)
    return info
  }

  /** Refuses a table whose rows are not all here (a read, or a key looked up, would come short). */
  private requireWhole(info: TableInfo): void {
    // The catalog is every node's whole, whatever it has caught up on: catch-up is of tables.
    if (info !== CATALOG_TABLE && !this.host.holdsWhole(info)) throw this.notWhole(info)
  }

  /**
   * A change to a row not found here: on a table held in part, or not caught up on, the row
   * may be missing here only. One whose key routes it to a placed shard held elsewhere is
   * refused naming that shard (checked first: it is never here, caught up or not).
   */
  private missed(info: TableInfo, rowKey: string, key: Value[]): false {
    if (info === CATALOG_TABLE || this.host.holdsWhole(info)) return false
    throw this.host.placedElsewhere?.(info, rowKey, key) ?? this.notWhole(info)
  }

  /** Why rows of a table are not read here: still catching up on it (retryable), or shards placed elsewhere. */
  private notWhole(info: TableInfo): ConcordError {
    return this.host.caughtUp(info) ? notHeldWhole(info) : notCaughtUp(info)
  }

  // keyOf and checkColumns run for every row written: indexed loops, no closures.
  private keyOf(info: TableInfo, row: Row): Value[] {
    const pk = info.primaryKey
    const out = new Array<Value>(pk.length)
    for (let k = 0; k < pk.length; k++) {
      const c = pk[k]!
      const v = row[c]
      if (v === null || v === undefined) {
        throw new ConcordError('notNullViolation', `null value in column "${c}" of relation "${info.name}" violates not-null constraint`)
      }
      out[k] = v
    }
    return out
  }

  private checkColumns(info: TableInfo, row: Row): void {
    const columns = info.columns
    for (const name in row) {
      let found = false
      for (let i = 0; i < columns.length && !found; i++) found = columns[i]!.name === name
      if (!found) throw new ConcordError('undefinedColumn', `column "${name}" of relation "${info.name}" does not exist`)
    }
  }

  private rowsOf(table: string): Map<string, PendingRow> {
    let m = this.pending.get(table)
    if (m === undefined) {
      m = new Map()
      this.writable().set(table, m)
      this.undo?.push({ table, key: null, prev: undefined })
    }
    return m
  }

  /**
   * Whether the replica's rows of `info.name` are this table's: not when this transaction
   * dropped the table and created it again (a new incarnation starts empty).
   */
  private committed(info: TableInfo): boolean {
    return info === CATALOG_TABLE || info === SECRETS_TABLE || this.host.baseTable(this.baseName(info.name))?.incarnation === info.incarnation
  }

  /** The name the replica knows a table by (it differs once this transaction renamed it). */
  private baseName(table: string): string {
    return this.renamedFrom?.get(table) ?? table
  }

  /** A replica row under the column names this transaction gave (renames). */
  private renamed(table: string, row: Row): Row {
    const cols = this.columnsFrom?.get(table)
    if (cols === undefined) return row
    const out: Row = { ...row }
    for (const old of cols.values()) delete out[old]
    for (const [now, old] of cols) out[now] = row[old] ?? null
    return out
  }

  private baseRow(info: TableInfo, rowKey: string): Row | null {
    if (!this.committed(info)) return null
    const row = this.host.baseRow(this.baseName(info.name), rowKey)
    return row === null ? null : this.renamed(info.name, row)
  }

  private baseRowCl(table: string, rowKey: string): number {
    return this.host.rowCl(this.baseName(table), rowKey)
  }

  private view(info: TableInfo, rowKey: string, p: PendingRow | undefined): Row | null {
    const base = this.baseRow(info, rowKey)
    if (p === undefined) return base
    if (!p.live) return null
    // Deleted by someone else since this transaction changed it: the change lost (see baseCl).
    if (p.baseCl !== undefined && this.baseRowCl(info.name, rowKey) !== p.baseCl) return null
    const row: Row = {}
    const fresh = p.reset || base === null
    for (const c of info.columns) row[c.name] = fresh ? null : base![c.name] ?? null
    info.primaryKey.forEach((c, i) => (row[c] = p.keyValues[i]!))
    for (const [c, v] of p.cols) row[c] = v
    for (const [c, d] of p.incr) row[c] = addCounter(row[c] ?? null, d)
    return row
  }

  get(table: string, key: Value[]): Row | undefined {
    return this.getHeld(table, encodeRowKey(key))
  }

  getHeld(table: string, rowKey: string): Row | undefined {
    const info = this.rowTable(table)
    return this.view(info, rowKey, this.pending.get(info.name)?.get(rowKey)) ?? undefined
  }

  scan(table: string): Iterable<Row> {
    const info = this.rowTable(table)
    // Nothing written or renamed here: the stored rows as they are, with no layer per row.
    if (!this.pending.has(info.name) && this.columnsFrom?.has(info.name) !== true) return this.committed(info) ? this.host.baseRowValues(this.baseName(info.name)) : []
    return this.scanMerged(info)
  }

  private *scanMerged(info: TableInfo): Iterable<Row> {
    const pend = this.pending.get(info.name)
    for (const [k, row] of this.committed(info) ? this.host.baseRows(this.baseName(info.name)) : []) {
      if (pend?.has(k)) continue
      yield this.renamed(info.name, row)
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

  insert(table: string, row: Row, defaulted?: Iterable<string>): void {
    const info = this.rowTable(table, true)
    this.insertInto(info, this.fillRowId(info, row), defaulted)
  }

  insertNew(table: string, row: Row, defaulted?: Iterable<string>): void {
    const info = this.rowTable(table, true)
    this.requireWhole(info)
    this.insertInto(info, this.fillRowId(info, row), defaulted)
  }

  private insertInto(info: TableInfo, row: Row, defaulted?: Iterable<string>): void {
    this.checkColumns(info, row)
    const keyValues = this.keyOf(info, row)
    const rowKey = encodeRowKey(keyValues)
    const rows = this.rowsOf(info.name)
    const p = rows.get(rowKey)
    if (this.exists(info, rowKey, p)) {
      throw new ConcordError(
        'uniqueViolation',
        `duplicate key value violates unique constraint "${info.name}_pkey"`,
      )
    }
    const cols = new Map<string, Value>()
    const pk = info.primaryKey
    for (const c in row) if (pk.length === 1 ? pk[0] !== c : !pk.includes(c)) cols.set(c, row[c]!)
    const pending: PendingRow = { live: true, reset: p?.reset ?? false, cols, incr: NO_INCREMENTS, keyValues }
    if (defaulted !== undefined) {
      // A Set only for a row with a default in it (a bulk INSERT naming every column has none).
      let dflt: Set<string> | undefined
      for (const c of defaulted) if (cols.has(c)) (dflt ??= new Set()).add(c)
      if (dflt !== undefined) pending.dflt = dflt
    }
    this.saveRow(info.name, rowKey)
    rows.set(rowKey, pending)
  }

  upsert(table: string, row: Row): void {
    const info = this.rowTable(table, true)
    const filled = this.fillRowId(info, row)
    const key = this.keyOf(info, filled)
    const rowKey = encodeRowKey(key)
    if (this.exists(info, rowKey, this.rowsOf(info.name).get(rowKey))) this.update(table, key, filled)
    else this.insertInto(info, filled)
  }

  private exists(info: TableInfo, rowKey: string, p: PendingRow | undefined): boolean {
    if (p !== undefined) return p.live
    return this.baseRow(info, rowKey) !== null
  }

  update(table: string, key: Value[], changes: Row): boolean {
    const info = this.rowTable(table, true)
    this.checkColumns(info, changes)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    if (!this.exists(info, rowKey, rows.get(rowKey))) return this.missed(info, rowKey, key)
    const movesKey = info.primaryKey.some((c, i) => c in changes && !sameValue(changes[c] ?? null, key[i] ?? null))
    if (movesKey) {
      const current = this.view(info, rowKey, rows.get(rowKey))!
      this.delete(table, key)
      this.insertInto(info, { ...current, ...changes })
      return true
    }
    this.saveRow(info.name, rowKey)
    let p = rows.get(rowKey)
    if (p === undefined) {
      p = this.changeOf(info, rowKey, key, true)
      rows.set(rowKey, p)
    }
    for (const [c, v] of Object.entries(changes)) {
      if (info.primaryKey.includes(c)) continue
      p.cols.set(c, v)
      // Written explicitly now: no longer a default.
      if (p.dflt?.has(c) === true) (p.dflt as Set<string>).delete(c)
      if (p.incr.has(c)) (p.incr as Map<string, number | bigint>).delete(c)
    }
    return true
  }

  increment(table: string, key: Value[], column: string, delta: number | bigint): boolean {
    const info = this.rowTable(table, true)
    const col = info.columns.find((c) => c.name === column)
    if (col === undefined) throw new ConcordError('undefinedColumn', `column "${column}" of relation "${table}" does not exist`)
    if (col.kind !== 'counter') throw new ConcordError('datatypeMismatch', `column "${column}" is not a counter column`)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    if (this.view(info, rowKey, rows.get(rowKey)) === null) return this.missed(info, rowKey, key)
    this.saveRow(info.name, rowKey)
    let p = rows.get(rowKey)
    if (p === undefined) {
      p = this.changeOf(info, rowKey, key, true)
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
    const info = this.rowTable(table, true)
    const rowKey = encodeRowKey(key)
    const rows = this.rowsOf(info.name)
    const p = rows.get(rowKey)
    if (this.view(info, rowKey, p) === null) return this.missed(info, rowKey, key)
    const del = this.changeOf(info, rowKey, key, false)
    // A row this transaction inserted has no stored life to check; one it changed keeps its first.
    if (p !== undefined) {
      if (p.baseCl === undefined) delete del.baseCl
      else del.baseCl = p.baseCl
    }
    this.saveRow(info.name, rowKey)
    rows.set(rowKey, del)
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

  /** See Transaction.catalogWrites. */
  catalogWrites = 0

  private writeCatalog(kind: string, name: string, value: string | null, scrub = false): void {
    this.host.guardCatalogWrite?.(kind, name)
    this.catalogWrites++
    const k = this.catalogKey(kind, name)
    const rows = this.rowsOf(CATALOG_TABLE.name)
    const p = rows.get(k)
    const exists = this.view(CATALOG_TABLE, k, p) !== null
    this.tableCache?.clear()
    const keep = scrub || p?.scrub === true ? { scrub: true as const } : {}
    this.saveRow(CATALOG_TABLE.name, k)
    if (value === null) {
      // A scrub of an absent row still commits: other writers' entries of its past lives go.
      if (exists || keep.scrub) rows.set(k, { live: false, reset: true, cols: new Map(), incr: NO_INCREMENTS, keyValues: [kind, name], ...keep })
      return
    }
    rows.set(k, { live: true, reset: p?.reset ?? false, cols: new Map([['value', value]]), incr: NO_INCREMENTS, keyValues: [kind, name], ...keep })
  }

  setCatalog(kind: string, name: string, value: Json | null): void {
    if (kind === 'table' || kind === 'column') {
      throw new ConcordError('invalidParameterValue', `catalog kind "${kind}" is reserved`)
    }
    this.writeCatalog(kind, name, value === null ? null : JSON.stringify(value))
  }

  /**
   * `setCatalog`, and at commit every other node's entry of the object is deleted from the
   * catalog's document (Shard.dropOtherEntries), so no earlier value of it stays in the
   * catalog's state, which every peer reading the catalog is sent. For last-write-wins
   * objects whose earlier values must not outlive them (a role record that held a verifier).
   */
  replaceCatalog(kind: string, name: string, value: Json | null): void {
    if (kind === 'table' || kind === 'column') {
      throw new ConcordError('invalidParameterValue', `catalog kind "${kind}" is reserved`)
    }
    this.writeCatalog(kind, name, value === null ? null : JSON.stringify(value), true)
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

  /**
   * A secret (catalog-schema.ts SECRETS_TABLE): written like a catalog object and guarded
   * as one of `kind` (Replica.catalogWriteGuard), kept in the secrets shard. Always
   * written as `replaceCatalog` writes: an earlier value of another node does not outlive it.
   */
  setSecret(kind: string, name: string, value: string | null): void {
    this.host.guardCatalogWrite?.(kind, name)
    const k = this.catalogKey(kind, name)
    const rows = this.rowsOf(SECRETS_TABLE.name)
    this.saveRow(SECRETS_TABLE.name, k)
    if (value === null) {
      if (this.view(SECRETS_TABLE, k, rows.get(k)) !== null) rows.set(k, { live: false, reset: true, cols: new Map(), incr: NO_INCREMENTS, keyValues: [kind, name], scrub: true })
      return
    }
    rows.set(k, { live: true, reset: rows.get(k)?.reset ?? false, cols: new Map([['value', value]]), incr: NO_INCREMENTS, keyValues: [kind, name], scrub: true })
  }

  getSecret(kind: string, name: string): string | undefined {
    const k = this.catalogKey(kind, name)
    const v = this.view(SECRETS_TABLE, k, this.pending.get(SECRETS_TABLE.name)?.get(k))?.value
    return typeof v === 'string' ? v : undefined
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
    this.tableCache ??= new Map()
    if (this.tableCache.has(name)) return this.tableCache.get(name)
    const info = this.buildTable(name)
    this.tableCache.set(name, info)
    return info
  }

  tables(): readonly TableInfo[] {
    const touched = this.pending.get(CATALOG_TABLE.name)
    if (touched === undefined || touched.size === 0) return this.host.baseTables()
    const out: TableInfo[] = []
    for (const row of this.scan(CATALOG_TABLE.name)) {
      if (row.kind !== 'table' || typeof row.name !== 'string') continue
      const t = this.table(row.name)
      if (t !== undefined) out.push(t)
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  private buildTable(name: string): TableInfo | undefined {
    const def = parseTableDefinition(this.catalogValue('table', name))
    if (def === null) return undefined
    const cl = this.catalogCl('table', name)
    const at = tableStorage(name, cl, def)
    const cols: Array<[string, ColumnDefinition]> = []
    for (const row of this.scan(CATALOG_TABLE.name)) {
      if (row.kind !== 'column' || typeof row.name !== 'string') continue
      const split = splitColumnCatalogName(row.name)
      if (split === null || split[0] !== at.storage || split[1] !== at.incarnation) continue
      const c = parseColumnDefinition(row.value)
      if (c !== null) cols.push([split[2], c])
    }
    return buildTableInfo(name, cl, def, cols)
  }

  private columnsOf(info: TableInfo): string[] {
    return info.columns.map((c) => c.name)
  }

  createTable(spec: TableSpec): TableInfo {
    if (this.table(spec.name) !== undefined) {
      throw new ConcordError('duplicateTable', `relation "${spec.name}" already exists`)
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
      if (seen.has(c.name)) throw new ConcordError('duplicateColumn', `column "${c.name}" specified more than once`)
      seen.add(c.name)
    }
    for (const k of primaryKey) {
      if (!seen.has(k)) throw new ConcordError('undefinedColumn', `column "${k}" named in key does not exist`)
      const c = columns.find((x) => x.name === k)!
      if (c.kind !== undefined && c.kind !== 'register') {
        throw new ConcordError('invalidTableDefinition', `column "${k}" of kind ${c.kind} cannot be part of a primary key`)
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
    // A new table is empty: every member known to hold it has all of it (join-catch-up.ts).
    for (const m of this.host.joinedHolders(def.regions)) this.setCatalog(JOIN_CAUGHT_UP_KIND, `${catchUpName(spec.name, inc)}/${m.nodeId}`, { since: m.since })
    return this.table(spec.name)!
  }

  private writeColumn(table: string, inc: number, c: ColumnSpec, pos: [number, number]): void {
    const def: ColumnDefinition = { type: c.type, kind: c.kind ?? 'register', policy: c.policy ?? null, meta: c.meta ?? null, pos, changed: {} }
    this.writeCatalog('column', columnCatalogName(table, inc, c.name), encodeColumnDefinition(def))
  }

  dropTable(name: string): void {
    const info = this.table(name)
    if (info === undefined) throw new ConcordError('undefinedTable', `table "${name}" does not exist`)
    for (const c of info.columns) this.writeCatalog('column', columnCatalogName(storageName(info), info.incarnation, c.name), null)
    this.writeCatalog('table', name, null)
    // Rows written to the dropped incarnation must not land in a later one.
    this.saveAll()
    this.pendingRows?.delete(name)
  }

  addColumn(table: string, column: ColumnSpec): void {
    const info = this.requireTable(table)
    validateName(column.name, 'column')
    if (this.columnsOf(info).includes(column.name)) {
      throw new ConcordError('duplicateColumn', `column "${column.name}" of relation "${table}" already exists`)
    }
    this.writeColumn(storageName(info), info.incarnation, column, [this.host.now(), 0])
  }

  dropColumn(table: string, column: string): void {
    const info = this.requireTable(table)
    if (!this.columnsOf(info).includes(column)) {
      throw new ConcordError('undefinedColumn', `column "${column}" of relation "${table}" does not exist`)
    }
    if (info.primaryKey.includes(column)) {
      throw new ConcordError('featureNotSupported', `cannot drop primary key column "${column}"`)
    }
    this.writeCatalog('column', columnCatalogName(storageName(info), info.incarnation, column), null)
  }

  /**
   * ALTER TABLE .. RENAME TO: the table's catalog row moves to the new name and names the
   * storage its shards and columns keep, so no row moves and writes made under the old
   * name by nodes that have not seen the rename land in this table.
   */
  renameTable(name: string, newName: string): void {
    const info = this.requireTable(name)
    validateName(newName, 'table')
    if (this.table(newName) !== undefined) throw new ConcordError('duplicateTable', `relation "${newName}" already exists`)
    const def = parseTableDefinition(this.catalogValue('table', name))!
    def.storage = [storageName(info), info.incarnation]
    def.changed = { ...def.changed, name: this.host.now() }
    this.writeCatalog('table', name, null)
    this.writeCatalog('table', newName, encodeTableDefinition(def))
    const rows = this.pending.get(name)
    this.saveAll()
    this.pendingRows?.delete(name)
    if (rows !== undefined) this.writable().set(newName, rows)
    const base = this.baseName(name)
    const renamedFrom = (this.renamedFrom ??= new Map())
    renamedFrom.set(newName, base)
    renamedFrom.delete(name)
    const cols = this.columnsFrom?.get(name)
    if (this.columnsFrom !== null && cols !== undefined) {
      this.columnsFrom.delete(name)
      this.columnsFrom.set(newName, cols)
    }
  }

  /**
   * ALTER TABLE .. RENAME COLUMN: the column's catalog row moves to the new name and keeps
   * the entry key its values are stored under (`skey`), so values written under the old
   * name (also by nodes that have not seen the rename) read in the renamed column.
   */
  renameColumn(table: string, column: string, newName: string): void {
    const info = this.requireTable(table)
    validateName(newName, 'column')
    const names = this.columnsOf(info)
    if (!names.includes(column)) throw new ConcordError('undefinedColumn', `column "${column}" does not exist`)
    if (names.includes(newName)) throw new ConcordError('duplicateColumn', `column "${newName}" of relation "${table}" already exists`)
    const storage = storageName(info)
    const from = columnCatalogName(storage, info.incarnation, column)
    const def = parseColumnDefinition(this.catalogValue('column', from))!
    const cl = this.catalogCl('column', from)
    def.skey = def.skey ?? (cl <= 1 ? column : `${column}#${cl}`)
    def.changed = { ...def.changed, name: this.host.now() }
    this.writeCatalog('column', from, null)
    this.writeCatalog('column', columnCatalogName(storage, info.incarnation, newName), encodeColumnDefinition(def))
    const swap = (c: string): string => (c === column ? newName : c)
    if (info.primaryKey.includes(column) || info.partitioning?.columns.includes(column) === true) {
      const t = parseTableDefinition(this.catalogValue('table', table))!
      const before = { ...t }
      t.primaryKey = t.primaryKey.map(swap)
      if (t.partitioning !== null) t.partitioning = { ...t.partitioning, columns: t.partitioning.columns.map(swap) }
      this.stampChanges(before, t)
      this.writeCatalog('table', table, encodeTableDefinition(t))
    }
    this.saveAll()
    for (const p of this.pending.get(table)?.values() ?? []) {
      if (p.cols.has(column)) {
        p.cols.set(newName, p.cols.get(column)!)
        p.cols.delete(column)
      }
      if (p.incr.has(column)) {
        const incr = p.incr as Map<string, number | bigint>
        incr.set(newName, incr.get(column)!)
        incr.delete(column)
      }
      if (p.dflt?.has(column) === true) {
        const dflt = p.dflt as Set<string>
        dflt.delete(column)
        dflt.add(newName)
      }
    }
    let cols = this.columnsFrom?.get(table)
    if (cols === undefined) {
      cols = new Map()
      ;(this.columnsFrom ??= new Map()).set(table, cols)
    }
    const base = cols.get(column) ?? column
    cols.delete(column)
    cols.set(newName, base)
  }

  alterColumn(table: string, column: string, patch: { type?: string; policy?: PolicySpec | null; meta?: Json; kind?: ColumnKind }): void {
    const info = this.requireTable(table)
    const name = columnCatalogName(storageName(info), info.incarnation, column)
    const def = parseColumnDefinition(this.catalogValue('column', name))
    if (def === null) throw new ConcordError('undefinedColumn', `column "${column}" of relation "${table}" does not exist`)
    const before = { ...def }
    if (patch.kind !== undefined && patch.kind !== def.kind) {
      // A new epoch: values written under the old kind still count (merge/column-epochs.ts).
      if (patch.kind === 'text' || def.kind === 'text') throw new ConcordError('featureNotSupported', `column "${column}" cannot change between text and ${patch.kind === 'text' ? def.kind : patch.kind}`)
      if (info.primaryKey.includes(column)) throw new ConcordError('invalidTableDefinition', `column "${column}" of kind ${patch.kind} cannot be part of a primary key`)
      const epochs = [...(def.epochs ?? []), def.kind]
      if (epochs.length > MAX_COLUMN_EPOCHS) throw new ConcordError('featureNotSupported', `column "${column}" changed kind too often (at most ${MAX_COLUMN_EPOCHS} times)`)
      def.epochs = epochs
      def.kind = patch.kind
    }
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
    if (def === null) throw new ConcordError('undefinedTable', `relation "${name}" does not exist`)
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
    throw new ConcordError('invalidName', `invalid ${what} name`)
  }
  // A row is an object keyed by column name, and `__proto__` is no key of an object's own:
  // its values would be lost without a word.
  if (what === 'column' && name === '__proto__') throw new ConcordError('invalidName', 'column name "__proto__" is reserved in Concord')
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
