/**
 * Secondary indexes (CREATE INDEX, UNIQUE constraints): ordered in-memory structures over
 * the replica's committed rows, built on first use and kept current from the replica's
 * `change` events (local and remote writes alike). The definitions live in the replicated
 * catalog (kind 'index'); the structures are local and rebuilt after a restart. An index
 * is keyed by its first column.
 *
 * Invariant: an index lists exactly the committed rows of its table incarnation. It knows
 * nothing of open transactions; `TransactionRows` overlays a transaction's own writes, and
 * is the only reader of these structures.
 */
import { encodeRowKey, type Json, type Replica, type Row, type RowChange, type TableInfo } from '@concord/core'
import { compareValues } from '../types/compare.js'
import type { ColumnBinding } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'
import { columnFill, readColumn } from './column-read.js'
import { columnMeta, sharedTableMeta } from './table-meta.js'

/** A range of one indexed column's values; a missing bound is open. */
export interface IndexRange {
  lo?: RtValue
  loInc: boolean
  hi?: RtValue
  hiInc: boolean
}

export interface IndexDef {
  name: string
  table: string
  /** Per key position: a column's name, or '' where the key is an expression (`exprs`). */
  columns: string[]
  unique: boolean
  /** Per key position: an expression key's parse tree, null for a column (exec/expression-index.ts). */
  exprs?: Array<Json | null>
}

/** A row in an index: its indexed value and its primary key, encoded (`encodeRowKey`: the string the row is held under). */
export interface IndexEntry {
  readonly v: RtValue
  readonly pkKey: string
}

/** Encoded primary keys in an index's order (ties of value broken by key). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The order of an index's entries: by value, then by encoded primary key. */
function compareEntries(a: IndexEntry, b: IndexEntry): number {
  return compareValues(a.v, b.v) || compareKeys(a.pkKey, b.pkKey)
}

/** `compareEntries` for entries whose values are all plain numbers (as `<` orders them; -0 with 0). */
function compareNumberEntries(a: IndexEntry, b: IndexEntry): number {
  const x = a.v as number
  const y = b.v as number
  return x < y ? -1 : x > y ? 1 : compareKeys(a.pkKey, b.pkKey)
}

/** A value the packed search may hold: a number, not NaN (`compareValues` orders these as `<` does). */
function plainNumber(v: RtValue | undefined): v is number {
  return typeof v === 'number' && !Number.isNaN(v)
}

class OrderedIndex {
  readonly entries: IndexEntry[] = []
  /**
   * Upkeep since the index was last used: entries moved by splices and rows changed. Only
   * the implicit index of a primary key (`SecondaryIndexes.indexOn`) reads it.
   */
  moved = 0
  changed = 0
  /**
   * `entries`' values, packed, while every one is a plain number (else null, for good):
   * a lookup's binary search reads this array instead of one entry object per step, each
   * a cache miss of its own on a large table (most of a point SELECT's index lookup).
   */
  private nums: number[] | null = []
  readonly byPk = new Map<string, RtValue>()
  readonly def: IndexDef
  /** The table incarnation whose rows it lists. */
  readonly incarnation: TableInfo['incarnation']
  readonly column: ColumnBinding
  readonly pkCols: string[]

  constructor(
    def: IndexDef,
    incarnation: TableInfo['incarnation'],
    column: ColumnBinding,
    pkCols: string[],
  ) {
    this.def = def
    this.incarnation = incarnation
    this.column = column
    this.pkCols = pkCols
  }

  /** The key `row` is held under (`encodeRowKey` of its primary key). */
  private pkKeyOf(row: Row): string {
    return encodeRowKey(this.pkCols.map((c) => row[c] ?? null))
  }

  /** The indexed value of a row (null when the column is null). */
  valueOf(row: Row): RtValue {
    return readColumn(row[this.column.name], this.column)
  }

  private position(v: RtValue, pkKey: string): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const e = this.entries[mid]!
      const c = compareValues(e.v, v) || compareKeys(e.pkKey, pkKey)
      if (c < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(row: Row): void {
    const v = this.valueOf(row)
    const pkKey = this.pkKeyOf(row)
    this.remove(row)
    if (v === null) return
    const at = this.position(v, pkKey)
    this.moved += this.entries.length - at
    this.changed++
    this.entries.splice(at, 0, { v, pkKey })
    if (this.nums !== null) {
      if (plainNumber(v)) this.nums.splice(at, 0, v)
      else this.nums = null
    }
    this.byPk.set(pkKey, v)
  }

  /**
   * A row changed from `before` to `after`. When neither its key nor its indexed value
   * moved (an UPDATE of other columns, such as pgbench's balances) the index already holds
   * it: nothing is spliced (a splice costs O(rows) in this array).
   */
  update(before: Row, after: Row): void {
    const pkKey = this.pkKeyOf(after)
    const old = this.byPk.get(pkKey)
    const v = this.valueOf(after)
    if (old !== undefined && v !== null && compareValues(old, v) === 0 && this.pkKeyOf(before) === pkKey) return
    this.remove(before)
    this.add(after)
  }

  remove(row: Row): void {
    const pkKey = this.pkKeyOf(row)
    const old = this.byPk.get(pkKey)
    if (old === undefined) return
    const i = this.position(old, pkKey)
    if (this.entries[i]?.pkKey === pkKey) {
      this.moved += this.entries.length - i
      this.changed++
      this.entries.splice(i, 1)
      this.nums?.splice(i, 1)
    }
    this.byPk.delete(pkKey)
  }

  /**
   * Fills an empty index from a table's rows at once: one sort rather than a binary search
   * and an array splice per row (O(rows) each: a first query on a large table built its
   * index in O(rows^2)).
   */
  fill(rows: Iterable<[string, Row]>): void {
    const byPk = this.byPk
    let numbers = true
    for (const [held, row] of rows) {
      const v = this.valueOf(row)
      if (v === null) continue
      // The key `add` and `remove` find the row by; when it is the one the row is held under
      // (always, for rows a shard resolved), that string, so a read through this entry hands
      // the shard's map the very string it holds.
      const own = this.pkKeyOf(row)
      const pkKey = own === held ? held : own
      // A key met twice (two shards holding one row): the first kept.
      if (byPk.has(pkKey)) continue
      byPk.set(pkKey, v)
      numbers &&= plainNumber(v)
      this.entries.push({ v, pkKey })
    }
    this.entries.sort(numbers ? compareNumberEntries : compareEntries)
    this.nums = numbers ? this.entries.map((e) => e.v as number) : null
  }

  /**
   * The entries of rows whose value lies within the bounds (inclusive flags per side), in
   * index order. Callers read a row by the entry's encoded key: the same string the rows
   * are held under, so the lookup neither encodes nor hashes a key again.
   */
  range(lo: RtValue | undefined, loInc: boolean, hi: RtValue | undefined, hiInc: boolean): IndexEntry[] {
    let i = this.startOf(lo, loInc)
    const out: IndexEntry[] = []
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!
      if (hi !== undefined) {
        const c = compareValues(e.v, hi)
        if (c > 0 || (c === 0 && !hiInc)) break
      }
      out.push(e)
    }
    return out
  }

  /**
   * The entries within the bounds one at a time, in index order or its reverse: a reader
   * that needs the first few (ORDER BY the key LIMIT n) reads no further.
   */
  *walk(lo: RtValue | undefined, loInc: boolean, hi: RtValue | undefined, hiInc: boolean, desc: boolean): Generator<IndexEntry> {
    const entries = this.entries
    if (!desc) {
      for (let i = this.startOf(lo, loInc); i < entries.length; i++) {
        const e = entries[i]!
        if (hi !== undefined) {
          const c = compareValues(e.v, hi)
          if (c > 0 || (c === 0 && !hiInc)) return
        }
        yield e
      }
      return
    }
    // From the last entry not above `hi` down.
    let i = hi === undefined ? entries.length - 1 : this.upperBound(hi) - 1
    if (hi !== undefined && !hiInc) while (i >= 0 && compareValues(entries[i]!.v, hi) === 0) i--
    for (; i >= 0; i--) {
      const e = entries[i]!
      if (lo !== undefined) {
        const c = compareValues(e.v, lo)
        if (c < 0 || (c === 0 && !loInc)) return
      }
      yield e
    }
  }

  /** The first position within a lower bound (none: 0). */
  private startOf(lo: RtValue | undefined, loInc: boolean): number {
    if (lo === undefined) return 0
    let i = this.lowerBound(lo)
    if (!loInc) while (i < this.entries.length && compareValues(this.entries[i]!.v, lo) === 0) i++
    return i
  }

  /** The first position whose value sorts after `v`. */
  private upperBound(v: RtValue): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareValues(this.entries[mid]!.v, v) <= 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private lowerBound(v: RtValue): number {
    let lo = 0
    let hi = this.entries.length
    const nums = this.nums
    if (nums !== null && plainNumber(v)) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (nums[mid]! < v) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareValues(this.entries[mid]!.v, v) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export type { OrderedIndex }

/**
 * Names the implicit index of a table's primary key among the built structures: no index
 * a user creates has a name with a NUL in it.
 */
const PRIMARY_KEY_INDEX = '\u0000primary key\u0000'
/** An implicit index is put away once its upkeep since its last use passes this many entry moves per entry it holds. */
const UPKEEP_FACTOR = 64
/** What one row's upkeep costs besides the entries its splice moves (its key encoded, a binary search), in entry moves. */
const CHANGE_COST = 64

/**
 * The index of a table's primary key, by its first column, as PostgreSQL's `<table>_pkey`
 * serves ranges and order: built like a created index on first use (a range over the key,
 * `WHERE id BETWEEN ..`, ORDER BY the key with LIMIT, or a check by its first column), not
 * a catalog record (pg_indexes lists `<table>_pkey` from the key itself), and put away when
 * writes cost more upkeep than its use saves (`apply`). Null unless `column` leads the key.
 * docs/decisions/0041-key-order-and-top-n.md.
 */
function primaryKeyIndex(table: TableInfo, column: string): IndexDef | null {
  if (table.primaryKey.length === 0 || table.primaryKey[0] !== column) return null
  return { name: PRIMARY_KEY_INDEX + table.name, table: table.name, columns: [...table.primaryKey], unique: true }
}

export class SecondaryIndexes {
  /** Built structures by their index's name. */
  private built = new Map<string, OrderedIndex>()
  private defs: IndexDef[] | null = null
  private readonly defsByTable = new Map<string, IndexDef[]>()
  /** How many structures were built from a table's rows (each a scan and a sort). */
  builds = 0
  private unsubscribe: (() => void) | null = null

  private replica: Replica

  constructor(replica: Replica) {
    this.replica = replica
    this.unsubscribe = replica.on('change', (changes) => this.apply(changes))
  }

  definitions(): IndexDef[] {
    this.defs ??= this.replica.listCatalog('index').map(([, v]) => v as unknown as IndexDef)
    return this.defs
  }

  definitionsFor(table: string): readonly IndexDef[] {
    let defs = this.defsByTable.get(table)
    if (defs === undefined) this.defsByTable.set(table, (defs = this.definitions().filter((d) => d.table === table)))
    return defs
  }

  /**
   * After a catalog change: the definitions are read again on next use, and the structures
   * the change may have made stale are dropped: the index's of that name (`kind` 'index'),
   * the table's of that name ('table'), or those of the table a column belongs to ('column',
   * named by the table's storage); with no change, all. Other tables' indexes stay: a CREATE
   * TABLE or CREATE INDEX elsewhere must not have every index built again on its next read.
   */
  invalidate(change?: { kind: string; name: string }): void {
    this.defs = null
    this.defsByTable.clear()
    const cut = change?.kind === 'column' ? change.name.indexOf('\u0000') : 0
    if (change === undefined || cut < 0) {
      this.built.clear()
      return
    }
    const storage = change.name.slice(0, cut)
    for (const [name, idx] of this.built) {
      const stale =
        change.kind === 'index' ? name === change.name
        : change.kind === 'column' ? (this.replica.table(idx.def.table)?.storage ?? idx.def.table) === storage
        : idx.def.table === change.name
      if (stale) this.built.delete(name)
    }
  }

  private apply(changes: RowChange[]): void {
    if (this.built.size === 0) return
    for (const ch of changes) {
      for (const [name, idx] of this.built) {
        if (idx.def.table !== ch.table) continue
        if (ch.before && ch.after) idx.update(ch.before, ch.after)
        else if (ch.before) idx.remove(ch.before)
        else if (ch.after) idx.add(ch.after)
        // An implicit primary-key index whose upkeep since its last use passed what building
        // it again costs is put away at once (a large DELETE from the front of a table would
        // otherwise move most of the array per row): a table written much and ranged over
        // seldom pays a build per use at most.
        if (name.startsWith(PRIMARY_KEY_INDEX) && idx.moved + idx.changed * CHANGE_COST > UPKEEP_FACTOR * (idx.entries.length + 1024)) this.built.delete(name)
      }
    }
  }

  /**
   * The built index for `table.column`, building it from the replica's rows if needed;
   * null when no index leads with the column or `table` is not the replica's incarnation.
   * Null too for a table this node does not hold whole (its region does not hold it, a
   * partition is placed elsewhere, or it has not caught up): an index of rows that are not
   * here would answer short, so the caller falls back to a scan, which core refuses. An
   * index built before is dropped then: copies handed over leave no change events, so it
   * is built afresh once the table is held whole again.
   */
  indexOn(table: TableInfo, column: string): OrderedIndex | null {
    // A session's temporary table shares no index with the permanent table of its name.
    if (sharedTableMeta(table).temporary) return null
    const def = this.definitionsFor(table.name).find((d) => d.columns[0] === column && (d.exprs?.[0] ?? null) === null) ?? primaryKeyIndex(table, column)
    if (!def) return null
    if (this.replica.table(table.name)?.incarnation !== table.incarnation) return null
    if (!this.replica.holdsWhole(table)) {
      this.built.delete(def.name)
      return null
    }
    let idx = this.built.get(def.name)
    if (idx === undefined || idx.incarnation !== table.incarnation || idx.def.table !== table.name) {
      const col = table.columns.find((c) => c.name === column)
      if (!col) return null
      const fill = columnFill(col)
      const binding: ColumnBinding = { name: column, table: table.name, type: columnMeta(col).t, ...(fill !== undefined ? { fill } : {}) }
      idx = new OrderedIndex(def, table.incarnation, binding, table.primaryKey)
      idx.fill(this.replica.scanKeyed(table.name))
      this.builds++
      this.built.set(def.name, idx)
    }
    idx.moved = 0
    idx.changed = 0
    return idx
  }

  close(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.invalidate()
  }
}
