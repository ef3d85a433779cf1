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
import { encodeRowKey, type Json, type Replica, type Row, type RowChange, type TableInfo, type Value } from '@concord/core'
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

interface Entry {
  v: RtValue
  pkKey: string
  pk: Value[]
}

/** A value the packed search may hold: a number, not NaN (`compareValues` orders these as `<` does). */
function plainNumber(v: RtValue | undefined): v is number {
  return typeof v === 'number' && !Number.isNaN(v)
}

class OrderedIndex {
  readonly entries: Entry[] = []
  /**
   * `entries`' values, packed, while every one is a plain number (else null, for good):
   * a lookup's binary search reads this array instead of one entry object per step, each
   * a cache miss of its own on a large table (most of a point SELECT's index lookup).
   */
  private nums: number[] | null = []
  readonly byPk = new Map<string, RtValue>()
  readonly def: IndexDef
  readonly column: ColumnBinding
  readonly pkCols: string[]

  constructor(
    def: IndexDef,
    column: ColumnBinding,
    pkCols: string[],
  ) {
    this.def = def
    this.column = column
    this.pkCols = pkCols
  }

  private pkOf(row: Row): { pk: Value[]; pkKey: string } {
    const pk = this.pkCols.map((c) => row[c] ?? null)
    return { pk, pkKey: encodeRowKey(pk) }
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
      const c = compareValues(e.v, v) || (e.pkKey < pkKey ? -1 : e.pkKey > pkKey ? 1 : 0)
      if (c < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  add(row: Row): void {
    const v = this.valueOf(row)
    const { pk, pkKey } = this.pkOf(row)
    this.remove(row)
    if (v === null) return
    const at = this.position(v, pkKey)
    this.entries.splice(at, 0, { v, pk, pkKey })
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
    const { pkKey } = this.pkOf(after)
    const old = this.byPk.get(pkKey)
    const v = this.valueOf(after)
    if (old !== undefined && v !== null && compareValues(old, v) === 0 && this.pkOf(before).pkKey === pkKey) return
    this.remove(before)
    this.add(after)
  }

  remove(row: Row): void {
    const { pkKey } = this.pkOf(row)
    const old = this.byPk.get(pkKey)
    if (old === undefined) return
    const i = this.position(old, pkKey)
    if (this.entries[i]?.pkKey === pkKey) {
      this.entries.splice(i, 1)
      this.nums?.splice(i, 1)
    }
    this.byPk.delete(pkKey)
  }

  /** Primary keys of rows whose value lies within the bounds (inclusive flags per side). */
  range(lo: RtValue | undefined, loInc: boolean, hi: RtValue | undefined, hiInc: boolean): Value[][] {
    let i = 0
    if (lo !== undefined) {
      i = this.lowerBound(lo)
      if (!loInc) while (i < this.entries.length && compareValues(this.entries[i]!.v, lo) === 0) i++
    }
    const out: Value[][] = []
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!
      if (hi !== undefined) {
        const c = compareValues(e.v, hi)
        if (c > 0 || (c === 0 && !hiInc)) break
      }
      out.push(e.pk)
    }
    return out
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

export class SecondaryIndexes {
  private built = new Map<string, OrderedIndex>()
  private defs: IndexDef[] | null = null
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

  definitionsFor(table: string): IndexDef[] {
    return this.definitions().filter((d) => d.table === table)
  }

  /** Drops built structures whose definition changed or vanished. */
  invalidate(): void {
    this.built.clear()
    this.defs = null
  }

  private apply(changes: RowChange[]): void {
    if (this.built.size === 0) return
    for (const ch of changes) {
      for (const idx of this.built.values()) {
        if (idx.def.table !== ch.table) continue
        if (ch.before && ch.after) idx.update(ch.before, ch.after)
        else if (ch.before) idx.remove(ch.before)
        else if (ch.after) idx.add(ch.after)
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
    const def = this.definitionsFor(table.name).find((d) => d.columns[0] === column && (d.exprs?.[0] ?? null) === null)
    if (!def) return null
    if (this.replica.table(table.name)?.incarnation !== table.incarnation) return null
    const key = `${def.name}\u0000${table.incarnation}`
    if (!this.replica.holdsWhole(table)) {
      this.built.delete(key)
      return null
    }
    let idx = this.built.get(key)
    if (!idx) {
      const col = table.columns.find((c) => c.name === column)
      if (!col) return null
      const fill = columnFill(col)
      idx = new OrderedIndex(def, { name: column, table: table.name, type: columnMeta(col).t, ...(fill !== undefined ? { fill } : {}) }, table.primaryKey)
      for (const row of this.replica.scan(table.name)) idx.add(row)
      this.built.set(key, idx)
    }
    return idx
  }

  close(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
    this.invalidate()
  }
}
