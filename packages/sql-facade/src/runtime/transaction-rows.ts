/**
 * The rows of a table as the running transaction sees them: by primary key, by index
 * range or value, or all of them; and the one way the executor writes rows. Every
 * executor read and write of table rows goes through here (`ExecCtx.tx` offers catalog
 * operations only).
 *
 * Secondary indexes describe the replica's committed rows only. A transaction (a single
 * statement, or a BEGIN .. COMMIT block kept open in core) buffers its writes, so an
 * index answer alone would miss rows the transaction inserted or changed and return rows
 * it deleted. The overlay is exact: per indexed column, the rows this transaction wrote
 * are kept by the value it gave them (built from core's `writtenKeys` on first use, then
 * kept up to date by the write methods below). A written row is a candidate when its
 * committed value (the index) or its written value (the overlay) is in range, and is
 * re-read and re-tested: a column the transaction did not set keeps its committed value,
 * which other sessions and nodes may change while a block is open. Every other row is
 * the committed one the index describes.
 *
 * Rows of a table this node's region does not hold come from `remote` (rows a holder sent
 * for this statement, placement/remote-rows.ts), which fails the read when there are
 * none; without `remote`, core refuses the read. Never a local, empty answer.
 *
 * Every write first locks its row for the transaction's session (runtime/row-locks.ts):
 * a row another session's transaction locked stops the statement with `RowLockWait`
 * before anything is written to it.
 *
 * Invariants: `range` and `matching` return the same rows a scan filtered by the same
 * condition would, in some order. An overlay lists exactly the rows written since the
 * transaction began; after `invalidate` (ROLLBACK TO SAVEPOINT) it is rebuilt.
 */
import { encodeRowKey, type Row, type TableInfo, type Transaction, type Value } from '@concord/core'
import type { IndexRange, OrderedIndex, SecondaryIndexes } from '../catalog/secondary-index.js'
import { columnMeta } from '../catalog/table-meta.js'
import { compareValues, groupKey } from '../types/compare.js'
import { decodeValue } from '../types/storage-codec.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { RtValue } from '../types/value.js'
import type { RemoteRows, RemoteTable } from '../placement/remote-rows.js'
import { RowLocks, RowLockWait, type RowLocker, type RowLockMode } from './row-locks.js'
import { checkRowSize, DEFAULT_MAX_ROW_BYTES } from './row-size.js'

/**
 * How a statement read a table, for whoever watches what a query depends on (live
 * queries, live/): every row (`all`), one primary key (`key`), an index range
 * (`range`), or rows a holder sent (`remote`: changes to them never arrive here).
 */
export type RowRead =
  | { kind: 'all' }
  | { kind: 'key'; key: Value[] }
  | { kind: 'range'; index: OrderedIndex; range: IndexRange }
  | { kind: 'remote' }

export type RowReadObserver = (table: string, read: RowRead) => void

/**
 * The rows of one table a statement sees: only these keys (by `encodeRowKey`), as if the
 * table held no others. A live query re-evaluates changed rows this way (live/incremental-result.ts).
 */
export interface RowRestriction {
  table: string
  keys: ReadonlyMap<string, Value[]>
}

/** The rows one transaction wrote in one table, by their value in one indexed column. */
/** The written rows and values of an empty overlay: never written to (`overlay` does not keep one). */
const NO_ROWS: Overlay['rows'] = new Map()
const NO_VALUES: Overlay['byValue'] = new Map()

interface Overlay {
  incarnation: number
  index: OrderedIndex
  /** Written rows by row key: key values and current indexed value (undefined: deleted). */
  rows: Map<string, { key: Value[]; v: RtValue | undefined }>
  /** Row keys of written, live rows by `groupKey` of their value. */
  byValue: Map<string, Set<string>>
}

export class TransactionRows {
  /** Overlays kept by table and column; made at the first read through an index after a write (most statements write nothing). */
  private overlays: Map<string, Map<string, Overlay>> | null = null

  private readonly tx: Transaction
  private readonly indexes: SecondaryIndexes
  private readonly useIndexes: boolean
  private remote: RemoteRows | null
  private readonly observer: RowReadObserver | null
  private locker: RowLocker | null = null
  private restriction: RowRestriction | null = null
  /** Most bytes of values one written row may hold (row-size.ts): 54000 beyond. */
  maxRowBytes = DEFAULT_MAX_ROW_BYTES

  /**
   * @param useIndexes false where indexes may be mid-update (conflict resolvers run while
   *   core materializes rows): every read then scans.
   * @param remote rows read from holders of tables this node does not hold (the session's).
   * @param observer told of every read (a live query's session).
   */
  constructor(tx: Transaction, indexes: SecondaryIndexes, useIndexes = true, remote: RemoteRows | null = null, observer: RowReadObserver | null = null) {
    this.observer = observer
    this.tx = tx
    this.indexes = indexes
    this.useIndexes = useIndexes
    this.remote = remote
  }

  /** The rows holders sent for the statement about to run (a block's rows serve many statements). */
  setRemote(remote: RemoteRows | null): void {
    this.remote = remote
  }

  /** Shows only some rows of one table (see RowRestriction); null: every row. */
  restrict(r: RowRestriction | null): void {
    this.restriction = r
  }

  /** Runs `read` seeing only some rows of one table (see RowRestriction), then as before. */
  within<T>(r: RowRestriction, read: () => T): T {
    const before = this.restriction
    this.restriction = r
    try {
      return read()
    } finally {
      this.restriction = before
    }
  }

  /** Locks every row this transaction writes (or locks) for `locker`'s session. */
  setLocker(locker: RowLocker | null): void {
    this.locker = locker
  }

  /** The session's lock table and owner, for advisory locks (runtime/advisory-locks.ts); null without a session. */
  get sessionLocker(): RowLocker | null {
    return this.locker
  }

  /**
   * Locks a row for the transaction, or throws `RowLockWait` when another session's
   * transaction holds a conflicting lock. `skip`: returns false instead (SKIP LOCKED);
   * `nowait`: fails with 55P03 instead (NOWAIT).
   */
  lock(table: string, key: Value[], mode: RowLockMode, onLocked: 'wait' | 'skip' | 'nowait' = 'wait'): boolean {
    if (this.locker === null || this.locker.unshared?.() === true) return true
    const lockKey = RowLocks.keyOf(table, key)
    const blockers = this.locker.locks.tryLock(this.locker.owner, lockKey, mode)
    if (blockers.length === 0) return true
    if (onLocked === 'skip') return false
    if (onLocked === 'nowait') throw new SqlError(SqlState.lockNotAvailable, `could not obtain lock on row in relation "${table}"`)
    throw new RowLockWait(table, lockKey, blockers)
  }

  // ---- reads ------------------------------------------------------------------

  get(table: string, key: Value[]): Row | undefined {
    const remote = this.remoteFor(table)
    this.observer?.(table, remote !== null ? { kind: 'remote' } : { kind: 'key', key })
    if (this.restriction?.table === table && !this.restriction.keys.has(encodeRowKey(key))) return undefined
    return remote !== null ? remote.get(key) : this.tx.get(table, key)
  }

  scan(table: string): Iterable<Row> {
    const remote = this.remoteFor(table)
    this.observer?.(table, remote !== null ? { kind: 'remote' } : { kind: 'all' })
    if (this.restriction?.table === table) {
      const out: Row[] = []
      for (const key of this.restriction.keys.values()) {
        const row = remote !== null ? remote.get(key) : this.tx.get(table, key)
        if (row !== undefined) out.push(row)
      }
      return out
    }
    return remote !== null ? remote.rows : this.tx.scan(table)
  }

  /** The rows a holder sent for a table not held here; null for a table read locally (see RemoteRows.lookup). */
  private remoteFor(table: string): RemoteTable | null {
    if (this.remote === null) return null
    const info = this.tx.table(table)
    return info === undefined ? null : this.remote.lookup(info)
  }

  /** Whether an index leads with `column` (so `range` on it answers without a scan). */
  hasIndex(table: TableInfo, column: string): boolean {
    return this.useIndexes && this.indexes.indexOn(table, column) !== null
  }

  /** Rows whose `column` lies within `r`; null when no index on the column can answer. */
  range(table: TableInfo, column: string, r: IndexRange): Row[] | null {
    // A restricted table is read by its few keys (`scan`), the range applied by the caller.
    if (this.restriction?.table === table.name) return null
    const ov = this.overlay(table, column)
    if (ov === null) return null
    this.observer?.(table.name, { kind: 'range', index: ov.index, range: r })
    const entries = ov.index.range(r.lo, r.loInc, r.hi, r.hiInc)
    const out: Row[] = []
    // Nothing of the table written by this transaction: the index's rows are the answer
    // (the common case, a point read outside a block, pays for no bookkeeping below).
    if (ov.rows.size === 0) {
      for (let i = 0; i < entries.length; i++) {
        const row = this.tx.getHeld(table.name, entries[i]!.pkKey)
        if (row !== undefined) out.push(row)
      }
      return out
    }
    // A written row is found by its committed value or by the value this transaction gave
    // it (a column it did not set keeps the committed value, which may change meanwhile),
    // and kept only if its value now is in range.
    const checked = new Set<string>()
    const recheck = (rk: string) => {
      if (checked.has(rk)) return
      checked.add(rk)
      const row = this.tx.getHeld(table.name, rk)
      if (row !== undefined && inRange(ov.index.valueOf(row), r)) out.push(row)
    }
    for (const e of entries) {
      if (ov.rows.has(e.pkKey)) {
        recheck(e.pkKey)
        continue
      }
      const row = this.tx.getHeld(table.name, e.pkKey)
      if (row !== undefined) out.push(row)
    }
    const point = r.lo !== undefined && r.lo !== null && r.hi !== undefined && r.hi !== null && r.loInc && r.hiInc && compareValues(r.lo, r.hi) === 0
    if (point) {
      for (const rk of ov.byValue.get(groupKey(r.lo!)) ?? []) recheck(rk)
      return out
    }
    for (const [rk, w] of ov.rows) if (w.v !== undefined && w.v !== null && inRange(w.v, r)) recheck(rk)
    return out
  }

  /**
   * Rows whose `column` lies within `r`, one at a time in the order of an index leading
   * with the column (descending with `desc`); null when no index can answer, or when this
   * transaction wrote the table (its own rows would have to be merged into the order).
   */
  ordered(table: TableInfo, column: string, r: IndexRange, desc: boolean): Iterable<Row> | null {
    if (this.restriction?.table === table.name) return null
    const ov = this.overlay(table, column)
    if (ov === null || ov.rows.size > 0) return null
    this.observer?.(table.name, { kind: 'range', index: ov.index, range: r })
    const tx = this.tx
    const entries = ov.index.walk(r.lo, r.loInc, r.hi, r.hiInc, desc)
    return (function* () {
      for (const e of entries) {
        const row = tx.getHeld(table.name, e.pkKey)
        if (row !== undefined) yield row
      }
    })()
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

  // ---- writes -----------------------------------------------------------------

  /** `defaulted`: columns holding defaults the statement did not name (see core insert). */
  insert(table: string, row: Row, defaulted?: Iterable<string>): void {
    // A second inserter of the key waits, then finds the row (unique violation, ON CONFLICT).
    const key = this.keyIn(table, row)
    if (key !== null) this.lock(table, key, 'update')
    checkRowSize(table, row, this.maxRowBytes)
    this.tx.insert(table, row, defaulted)
    this.touch(table, key)
  }

  /**
   * Inserts a row the statement has not read, `key` its primary key. Where holders' rows,
   * a restriction or an observer take part in reading the table, the key is looked up by
   * `get` first, as before: false, writing nothing, when a row has it. Otherwise it is
   * looked up once, in core's `Transaction.insertNew`, which throws 23505 (ConcordError
   * `uniqueViolation`) for a key a live row holds.
   */
  insertNew(table: string, key: Value[], row: Row, defaulted?: Iterable<string>): boolean {
    if (this.observer !== null || this.restriction?.table === table || this.remoteFor(table) !== null) {
      if (this.get(table, key) !== undefined) return false
      this.insert(table, row, defaulted)
      return true
    }
    // A key with a null (a row id core fills in) is not locked, as `insert` does not lock it.
    const locked = key.includes(null) ? null : key
    checkRowSize(table, row, this.maxRowBytes)
    // Written, then locked: a key a visible row holds fails with 23505 at once, whoever holds
    // its lock, as when `get` came first; a lock another session holds throws RowLockWait,
    // and the statement is undone to its start and run again after the wait, as any is.
    this.tx.insertNew(table, row, defaulted)
    if (locked !== null) this.lock(table, locked, 'update')
    this.touch(table, locked)
    return true
  }

  /** Writes columns of an existing row (moving it when `changes` changes its key). */
  update(table: string, key: Value[], changes: Row): boolean {
    const info = this.tx.table(table)
    const newKey = info && info.primaryKey.some((c) => c in changes) ? info.primaryKey.map((c, i) => (c in changes ? changes[c]! : key[i]!)) : null
    this.lock(table, key, newKey !== null ? 'update' : 'noKeyUpdate')
    if (newKey !== null) this.lock(table, newKey, 'update')
    checkRowSize(table, changes, this.maxRowBytes, () => this.tx.get(table, key))
    const ok = this.tx.update(table, key, changes)
    if (ok) {
      this.touch(table, key)
      if (newKey !== null) this.touch(table, newKey)
    }
    return ok
  }

  increment(table: string, key: Value[], column: string, delta: number | bigint): boolean {
    this.lock(table, key, 'noKeyUpdate')
    const ok = this.tx.increment(table, key, column, delta)
    if (ok) this.touch(table, key)
    return ok
  }

  delete(table: string, key: Value[]): boolean {
    this.lock(table, key, 'update')
    const ok = this.tx.delete(table, key)
    if (ok) this.touch(table, key)
    return ok
  }

  /** Forgets every overlay (after ROLLBACK TO SAVEPOINT restored older writes). */
  invalidate(): void {
    this.overlays = null
  }

  // ---- overlay ----------------------------------------------------------------

  private keyIn(table: string, row: Row): Value[] | null {
    const info = this.tx.table(table)
    if (!info) return null
    const key = info.primaryKey.map((c) => row[c] ?? null)
    return key.some((v) => v === null) ? null : key
  }

  private overlay(table: TableInfo, column: string): Overlay | null {
    if (!this.useIndexes) return null
    const index = this.indexes.indexOn(table, column)
    if (index === null) return null
    let byCol = this.overlays?.get(table.name)
    let ov = byCol?.get(column)
    if (ov === undefined || ov.incarnation !== table.incarnation || ov.index !== index) {
      const written = this.tx.writtenKeys(table.name)
      // Nothing of the table written by this transaction: an empty overlay, not kept (a
      // write touches only kept overlays; the first read after one builds it from the
      // transaction's written keys). A point read outside a block made three maps here.
      if (written.length === 0 && ov === undefined) return { incarnation: table.incarnation, index, rows: NO_ROWS, byValue: NO_VALUES }
      ov = { incarnation: table.incarnation, index, rows: new Map(), byValue: new Map() }
      if (byCol === undefined) (this.overlays ??= new Map()).set(table.name, (byCol = new Map()))
      byCol.set(column, ov)
      for (const key of written) this.refresh(table.name, ov, key)
    }
    return ov
  }

  private touch(table: string, key: Value[] | null): void {
    const byCol = this.overlays?.get(table)
    if (byCol === undefined) return
    if (key === null) {
      // A row whose key core chose: rebuild on next use.
      this.overlays!.delete(table)
      return
    }
    for (const ov of byCol.values()) this.refresh(table, ov, key)
  }

  private refresh(table: string, ov: Overlay, key: Value[]): void {
    const rk = encodeRowKey(key)
    const prev = ov.rows.get(rk)
    if (prev?.v !== undefined && prev.v !== null) ov.byValue.get(groupKey(prev.v))?.delete(rk)
    const row = this.tx.get(table, key)
    const v = row === undefined ? undefined : ov.index.valueOf(row)
    ov.rows.set(rk, { key, v })
    if (v === undefined || v === null) return
    const g = groupKey(v)
    let set = ov.byValue.get(g)
    if (set === undefined) ov.byValue.set(g, (set = new Set()))
    set.add(rk)
  }
}

/** Whether an indexed value lies within `r` (NULL lies in none). */
export function inRange(v: RtValue, r: IndexRange): boolean {
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
