/**
 * Where the running INSERT .. SELECT takes its source rows when its SELECT was evaluated
 * off the main thread (session/statement-offload.ts, decision 0031, "INSERT .. SELECT"):
 * - `collect` (the worker, over a snapshot): the statement computes its source rows (the
 *   SELECT's rows converted to the target columns' types, as the INSERT would insert
 *   them), hands them here in the storage encoding and inserts nothing: no default,
 *   trigger, ON CONFLICT or RETURNING runs;
 * - `supply` (the event loop, afterwards): the statement takes those rows instead of
 *   running its SELECT, while `applies()` holds (the catalog is the snapshot's), and
 *   inserts them as always: defaults, constraints, triggers, ON CONFLICT and RETURNING
 *   are the event loop's.
 *
 * Invariants: only the statement's own INSERT (`table`, at depth 0) reads or fills this;
 * every row sets the same target columns (`columns`, in order); a collection holds at most
 * `limit` rows and about `maxBytes` bytes of values (past either the statement fails
 * there, and runs whole here); a supplied value is decoded with its column's type.
 */
import type { Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ColumnBinding } from '../relation/scope.js'
import { decodeValue, encodeValue } from '../types/storage-codec.js'
import type { RtValue } from '../types/value.js'

/** Source rows as they cross a thread: the target column indexes every row sets, and per row their values (storage encoding). */
export interface InsertRows {
  columns: number[]
  rows: Value[][]
}

export interface InsertRowCollector {
  kind: 'collect'
  table: string
  limit: number
  maxBytes: number
  rows: InsertRows
  /** Set once the statement's source rows were collected: a statement that ran without collecting answers nothing. */
  done: boolean
}

export interface SuppliedInsertRows {
  kind: 'supply'
  table: string
  rows: InsertRows
  /** False once the rows may no longer be what the SELECT gives (the catalog moved): the statement runs its SELECT. */
  applies(): boolean
}

export type InsertSource = InsertRowCollector | SuppliedInsertRows

/** Bytes a value takes in a collection, about (8 per number, 2 per character). */
function valueBytes(v: Value): number {
  return typeof v === 'string' ? 8 + 2 * v.length : v instanceof Uint8Array ? 8 + v.byteLength : 8
}

/** Fills `c` with the statement's source rows (column index to value); past its bounds the statement fails (it then runs whole on the event loop). */
export function collectInsertRows(c: InsertRowCollector, source: ReadonlyArray<ReadonlyMap<number, RtValue>>): void {
  if (source.length > c.limit) throw new SqlError(SqlState.programLimitExceeded, `more than ${c.limit} rows to insert`)
  const columns = source.length === 0 ? [] : [...source[0]!.keys()]
  const rows: Value[][] = []
  let bytes = 0
  for (const m of source) {
    if (m.size !== columns.length) throw new SqlError(SqlState.internalError, 'source rows set different columns')
    const row = columns.map((ci) => {
      if (!m.has(ci)) throw new SqlError(SqlState.internalError, 'source rows set different columns')
      const v = encodeValue(m.get(ci)!)
      bytes += valueBytes(v)
      return v
    })
    if (bytes > c.maxBytes) throw new SqlError(SqlState.programLimitExceeded, `rows to insert over ${c.maxBytes} bytes`)
    rows.push(row)
  }
  c.rows = { columns, rows }
  c.done = true
}

/** The supplied rows as the INSERT's source (column index to value), decoded with the target's column types. */
export function suppliedInsertRows(s: SuppliedInsertRows, targetColumns: readonly ColumnBinding[]): Array<Map<number, RtValue>> {
  const { columns, rows } = s.rows
  for (const ci of columns) {
    if (!Number.isInteger(ci) || ci < 0 || ci >= targetColumns.length) throw new SqlError(SqlState.internalError, `supplied rows name column ${ci} of ${targetColumns.length}`)
  }
  return rows.map((row) => {
    if (row.length !== columns.length) throw new SqlError(SqlState.internalError, 'a supplied row has the wrong number of values')
    const m = new Map<number, RtValue>()
    columns.forEach((ci, k) => m.set(ci, row[k] === null ? null : decodeValue(row[k]!, targetColumns[ci]!.type)))
    return m
  })
}
