/**
 * What one run of a live query read, table by table: every row, some primary keys, or
 * some index ranges. A row change can affect the query's result only if the run read
 * the row it changes, as it was or as it is now: a key it looked up, a row in a range it
 * read (before or after the change), or any row of a table it scanned. Queries are pure
 * functions of the rows they read (now() and random() aside), so a change outside the
 * footprint leaves the result as it was and need not re-run the query.
 *
 * Invariants: a footprint only widens while a run records it (a scan swallows the keys
 * and ranges of its table); it is bounded (MAX_KEYS keys and MAX_RANGES ranges per
 * table, past which the table counts as scanned).
 */
import { encodeRowKey, type Row, type RowChange } from '@concord/core'
import type { IndexRange, OrderedIndex } from '../catalog/secondary-index.js'
import { inRange, type RowRead } from '../runtime/transaction-rows.js'

/** Looked-up keys kept per table; past it, any change to the table counts. */
const MAX_KEYS = 10_000
/** Index ranges kept per table; past it, any change to the table counts. */
const MAX_RANGES = 64

interface TableReads {
  all: boolean
  keys: Set<string>
  ranges: Array<{ index: OrderedIndex; range: IndexRange }>
}

export class ReadFootprint {
  private readonly tables = new Map<string, TableReads>()
  /** Tables read from a holder elsewhere (changes to them never arrive at this node). */
  readonly remote = new Set<string>()

  record(table: string, read: RowRead): void {
    if (read.kind === 'remote') {
      this.remote.add(table)
      return
    }
    let t = this.tables.get(table)
    if (t === undefined) this.tables.set(table, (t = { all: false, keys: new Set(), ranges: [] }))
    if (t.all) return
    if (read.kind === 'all') {
      this.widen(t)
    } else if (read.kind === 'key') {
      t.keys.add(encodeRowKey(read.key))
      if (t.keys.size > MAX_KEYS) this.widen(t)
    } else {
      t.ranges.push({ index: read.index, range: read.range })
      if (t.ranges.length > MAX_RANGES) this.widen(t)
    }
  }

  /** Names of the tables read, for tests and diagnostics. */
  tableNames(): string[] {
    return [...this.tables.keys()].sort()
  }

  /** Whether the change touches a row this run read. */
  affectedBy(c: RowChange): boolean {
    const t = this.tables.get(c.table)
    if (t === undefined) return false
    if (t.all || t.keys.has(c.key)) return true
    return t.ranges.some(({ index, range }) => inIndexRange(index, range, c.before) || inIndexRange(index, range, c.after))
  }

  private widen(t: TableReads): void {
    t.all = true
    t.keys.clear()
    t.ranges.length = 0
  }
}

function inIndexRange(index: OrderedIndex, range: IndexRange, row: Row | null): boolean {
  return row !== null && inRange(index.valueOf(row), range)
}
