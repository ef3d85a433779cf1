/**
 * How the running UPDATE or DELETE reads its target rows when its WHERE was first
 * evaluated off the main thread (session/write-offload.ts, decision 0031):
 * - `collect` (the worker, over a snapshot): the statement only finds its target rows and
 *   hands their primary keys here; it writes nothing, runs no SET, trigger or RETURNING;
 * - `restrict` (the event loop, afterwards): the target-row scan reads only `keys` (the
 *   keys the worker found, and every key of the table changed since the snapshot), while
 *   `applies()` holds; every other read of the statement (unique and foreign key checks,
 *   subqueries of SET or RETURNING) sees the whole table.
 *
 * Invariants: only the statement's own target (`table`, at depth 0) reads this way; a
 * collection holds at most `limit` keys (past it the statement fails there, and runs
 * whole here).
 */
import type { Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface TargetKeyCollector {
  kind: 'collect'
  table: string
  keys: Value[][]
  limit: number
  /** Set once the statement's target rows were collected: a statement that ran without collecting answers nothing. */
  done: boolean
}

export interface TargetKeyRestriction {
  kind: 'restrict'
  table: string
  /** By `encodeRowKey`. */
  keys: ReadonlyMap<string, Value[]>
  /** False once the keys may no longer cover every row that can match (see write-offload.ts): the scan reads every row. */
  applies(): boolean
}

export type TargetRows = TargetKeyCollector | TargetKeyRestriction

/** Adds one target row's key to a collection; past its limit the statement fails (it then runs whole on the event loop). */
export function collectTargetKey(c: TargetKeyCollector, key: Value[]): void {
  if (c.keys.length >= c.limit) throw new SqlError(SqlState.programLimitExceeded, `more than ${c.limit} target rows`)
  c.keys.push(key)
}
