/**
 * The rows of a table as the running transaction sees them: by primary key, by index
 * range or value, or all of them. Every executor read of table rows goes through here.
 *
 * Secondary indexes describe the replica's committed rows only. A transaction (a single
 * statement, or a BEGIN .. COMMIT block kept open in core) buffers its writes, so an
 * index answer alone would miss rows the transaction inserted or changed and return rows
 * it deleted. The overlay is exact: the rows the transaction wrote (core's
 * `writtenKeys`) are dropped from the index answer and tested one by one instead; every
 * other row is the committed one the index describes.
 *
 * Invariant: `range` and `matching` return the same rows a scan filtered by the same
 * condition would, in some order.
 */
import { encodeRowKey, type Row, type TableInfo, type Transaction, type Value } from '@concord/core'
import type { OrderedIndex, SecondaryIndexes } from '../catalog/secondary-index.js'
import { columnMeta } from '../catalog/table-meta.js'
import { compareValues } from '../types/compare.js'
import { decodeValue } from '../types/storage-codec.js'
import type { RtValue } from '../types/value.js'

/** Bounds of an index range; an absent side is unbounded. */
export interface IndexRange {
  lo?: RtValue
  loInc: boolean
  hi?: RtValue
  hiInc: boolean
}

export class TransactionRows {
  /**
   * @param useIndexes false where indexes may be mid-update (conflict resolvers run while
   *   core materializes rows): every read then scans.
   */
  constructor(
    readonly tx: Transaction,
    private readonly indexes: SecondaryIndexes,
    private readonly useIndexes = true,
  ) {}

  get(table: string, key: Value[]): Row | undefined {
    return this.tx.get(table, key)
  }

  scan(table: string): Iterable<Row> {
    return this.tx.scan(table)
  }

  /** Whether an index leads with `column` (so `range` on it answers without a scan). */
  hasIndex(table: TableInfo, column: string): boolean {
    return this.index(table, column) !== null
  }

  private index(table: TableInfo, column: string): OrderedIndex | null {
    return this.useIndexes ? this.indexes.indexOn(table, column) : null
  }

  /** Rows whose `column` lies within `r`; null when no index on the column can answer. */
  range(table: TableInfo, column: string, r: IndexRange): Row[] | null {
    const idx = this.index(table, column)
    if (idx === null) return null
    const written = this.tx.writtenKeys(table.name)
    const mine = written.length === 0 ? null : new Set(written.map(encodeRowKey))
    const out: Row[] = []
    for (const key of idx.range(r.lo, r.loInc, r.hi, r.hiInc)) {
      if (mine !== null && mine.has(encodeRowKey(key))) continue
      const row = this.tx.get(table.name, key)
      if (row !== undefined) out.push(row)
    }
    for (const key of written) {
      const row = this.tx.get(table.name, key)
      if (row !== undefined && inRange(idx.valueOf(row), r)) out.push(row)
    }
    return out
  }

  /**
   * Rows whose `columns` equal `values` (non-null, already of the columns' types): UNIQUE
   * and foreign key checks. Uses an index on the first column when there is one.
   */
  matching(table: TableInfo, columns: string[], values: RtValue[]): Row[] {
    const types = columns.map((c) => {
      const col = table.columns.find((x) => x.name === c)
      return col ? columnMeta(col).t : null
    })
    const equal = (row: Row) =>
      columns.every((c, i) => {
        const v = types[i] ? decodeValue(row[c], types[i]!) : null
        return v !== null && compareValues(v, values[i]!) === 0
      })
    const candidates = this.range(table, columns[0]!, { lo: values[0]!, loInc: true, hi: values[0]!, hiInc: true }) ?? this.scan(table.name)
    const out: Row[] = []
    for (const row of candidates) if (equal(row)) out.push(row)
    return out
  }
}

function inRange(v: RtValue, r: IndexRange): boolean {
  if (v === null) return false
  if (r.lo !== undefined && r.lo !== null) {
    const c = compareValues(v, r.lo)
    if (c < 0 || (c === 0 && !r.loInc)) return false
  }
  if (r.hi !== undefined && r.hi !== null) {
    const c = compareValues(v, r.hi)
    if (c > 0 || (c === 0 && !r.hiInc)) return false
  }
  return true
}
