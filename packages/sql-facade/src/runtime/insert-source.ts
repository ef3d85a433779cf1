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

/** Fills `c` with the statement's source rows (the positions given and their values); past its bounds the statement fails (it then runs whole on the event loop). */
export function collectInsertRows(c: InsertRowCollector, source: ReadonlyArray<Readonly<Array<RtValue | undefined>>>): void {
  if (source.length > c.limit) throw new SqlError(SqlState.programLimitExceeded, `more than ${c.limit} rows to insert`)
  const columns = source.length === 0 ? [] : givenColumns(source[0]!)
  const rows: Value[][] = []
  let bytes = 0
  for (const m of source) {
    if (givenCount(m) !== columns.length) throw new SqlError(SqlState.internalError, 'source rows set different columns')
    const row = columns.map((ci) => {
      const given = m[ci]
      if (given === undefined) throw new SqlError(SqlState.internalError, 'source rows set different columns')
      const v = encodeValue(given)
      bytes += valueBytes(v)
      return v
    })
    if (bytes > c.maxBytes) throw new SqlError(SqlState.programLimitExceeded, `rows to insert over ${c.maxBytes} bytes`)
    rows.push(row)
  }
  c.rows = { columns, rows }
  c.done = true
}

function givenCount(row: Readonly<Array<RtValue | undefined>>): number {
  let n = 0
  for (let i = 0; i < row.length; i++) if (row[i] !== undefined) n++
  return n
}

/** The positions a source row gives values for, in order. */
function givenColumns(row: Readonly<Array<RtValue | undefined>>): number[] {
  const out: number[] = []
  for (let i = 0; i < row.length; i++) if (row[i] !== undefined) out.push(i)
  return out
}

/** The supplied rows as the INSERT's source (a value per column index, undefined where none is given), decoded with the target's column types. */
export function suppliedInsertRows(s: SuppliedInsertRows, targetColumns: readonly ColumnBinding[]): Array<Array<RtValue | undefined>> {
  const { columns, rows } = s.rows
  for (const ci of columns) {
    if (!Number.isInteger(ci) || ci < 0 || ci >= targetColumns.length) throw new SqlError(SqlState.internalError, `supplied rows name column ${ci} of ${targetColumns.length}`)
  }
  return rows.map((row) => {
    if (row.length !== columns.length) throw new SqlError(SqlState.internalError, 'a supplied row has the wrong number of values')
    const m: Array<RtValue | undefined> = []
    columns.forEach((ci, k) => (m[ci] = row[k] === null ? null : decodeValue(row[k]!, targetColumns[ci]!.type)))
    return m
  })
}
