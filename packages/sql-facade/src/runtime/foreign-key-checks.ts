/**
 * Enforcing foreign keys within a statement, with PostgreSQL's semantics. Table writers
 * report every row they write or delete; at the end of the statement (`finish`) the
 * referential actions run (CASCADE, SET NULL, SET DEFAULT, RESTRICT), which may write more
 * rows and so report more, until none are left; then every NO ACTION check runs against
 * the transaction's view of the rows (`TransactionRows`), so a parent inserted later in
 * the same statement satisfies a child inserted before it, as in PostgreSQL.
 *
 * A check names rows by key and re-reads them when it runs: it holds nothing that a later
 * write could make stale, so a check of a DEFERRABLE INITIALLY DEFERRED constraint can
 * be handed to the transaction block and run at COMMIT (`runDeferred`).
 *
 * Enforcement is local to the node. Two nodes can break a key together (one deletes a
 * parent while the other inserts a child); `exec/broken-foreign-keys.ts` finds such rows.
 */
import { encodeRowKey, type Row, type TableInfo, type Value } from '@concord/core'
import { columnMeta, type ForeignKey } from '../catalog/table-meta.js'
import { foreignKeysOf, referencingKeys } from '../catalog/foreign-key.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { castValue } from '../types/cast.js'
import { compareValues } from '../types/compare.js'
import type { SqlType } from '../types/sql-type.js'
import { decodeValue, encodeValue } from '../types/storage-codec.js'
import { formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import type { TransactionRows } from './transaction-rows.js'

/** What a referential action needs to write a child row (a `TableWriter`). */
export interface RowWriter {
  update(oldRow: RtValue[], newRow: RtValue[], assigned: Set<number>): void
  delete(row: RtValue[]): boolean
  defaultValue(i: number): RtValue
}

export interface ForeignKeyHost {
  rows: TransactionRows
  table(name: string): TableInfo | undefined
  tables(): readonly TableInfo[]
  writerFor(table: TableInfo): RowWriter
  nowMicros: number
}

/** A NO ACTION check, naming what it checks by key and values only. */
export type ForeignKeyCheck =
  | { kind: 'child'; table: string; fk: ForeignKey; key: Value[] }
  | { kind: 'parent'; table: string; fk: ForeignKey; parent: string; values: RtValue[] }

interface ParentChange {
  child: TableInfo
  fk: ForeignKey
  parent: TableInfo
  old: RtValue[]
  /** New referenced values; null when the parent row was deleted. */
  next: RtValue[] | null
}

/** Upper bound on referential actions one statement may run (cascades through cycles). */
const MAX_ACTIONS = 10_000_000

function typeOf(t: TableInfo, column: string): SqlType {
  const c = t.columns.find((x) => x.name === column)
  return c ? columnMeta(c).t : { id: 'text' }
}

function valuesOf(t: TableInfo, row: RtValue[], columns: string[]): RtValue[] {
  return columns.map((c) => row[t.columns.findIndex((x) => x.name === c)] ?? null)
}

function describeKey(t: TableInfo, columns: string[], values: RtValue[]): string {
  return `(${columns.join(', ')})=(${values.map((v, i) => (v === null ? 'null' : formatText(v, typeOf(t, columns[i]!)))).join(', ')})`
}

function sameValues(a: RtValue[], b: RtValue[]): boolean {
  return a.every((x, i) => {
    const y = b[i]!
    return x === null || y === null ? x === y : compareValues(x, y) === 0
  })
}

export class ForeignKeyChecks {
  private changes: ParentChange[] = []
  /** Null until the first check: a statement builds this object whether or not it touches a foreign key. */
  private checks: Map<string, ForeignKeyCheck> | null = null
  /** Per statement too: a transaction that changed the catalog lists its tables afresh per call. */
  private referencing: Map<string, ReadonlyArray<{ child: TableInfo; fk: ForeignKey }>> | null = null
  private actions = 0

  private readonly host: ForeignKeyHost

  constructor(host: ForeignKeyHost) {
    this.host = host
  }

  private referencingOf(table: string): ReadonlyArray<{ child: TableInfo; fk: ForeignKey }> {
    let r = this.referencing?.get(table)
    if (r === undefined) {
      r = referencingKeys(this.host.tables(), table)
      ;(this.referencing ??= new Map()).set(table, r)
    }
    return r
  }

  /** A row of `table` was inserted (`old` null) or updated from `old`. */
  rowWritten(table: TableInfo, row: RtValue[], key: Value[], old: RtValue[] | null): void {
    // A row that moved to another key is checked under the new one even when its
    // references did not change: a deferred check of the old key finds no row at COMMIT
    // (PostgreSQL re-checks a row its own transaction wrote for the same reason).
    const moved = old !== null && !sameValues(valuesOf(table, old, table.primaryKey), valuesOf(table, row, table.primaryKey))
    for (const fk of foreignKeysOf(table)) {
      if (old !== null && !moved && sameValues(valuesOf(table, old, fk.columns), valuesOf(table, row, fk.columns))) continue
      this.add({ kind: 'child', table: table.name, fk, key })
    }
    if (old === null) return
    for (const { child, fk } of this.referencingOf(table.name)) {
      const before = valuesOf(table, old, fk.refColumns)
      const after = valuesOf(table, row, fk.refColumns)
      if (before.some((v) => v === null) || sameValues(before, after)) continue
      this.changes.push({ child, fk, parent: table, old: before, next: after })
    }
  }

  /** A row of `table` was deleted. */
  rowDeleted(table: TableInfo, row: RtValue[]): void {
    for (const { child, fk } of this.referencingOf(table.name)) {
      const before = valuesOf(table, row, fk.refColumns)
      if (before.some((v) => v === null)) continue
      this.changes.push({ child, fk, parent: table, old: before, next: null })
    }
  }

  private add(c: ForeignKeyCheck): void {
    const id = c.kind === 'child' ? `c\u0000${c.table}\u0000${c.fk.name}\u0000${encodeRowKey(c.key)}` : `p\u0000${c.table}\u0000${c.fk.name}\u0000${encodeRowKey(c.values.map((v) => (v === null ? null : String(v))))}`
    ;(this.checks ??= new Map()).set(id, c)
  }

  /**
   * Ends the statement: runs referential actions until none are left, then the NO ACTION
   * checks; a check `defer` accepts is handed over instead (deferred constraints).
   */
  finish(defer?: (c: ForeignKeyCheck) => boolean): void {
    while (this.changes.length > 0) {
      const batch = this.changes
      this.changes = []
      for (const c of batch) {
        if (++this.actions > MAX_ACTIONS) throw new SqlError(SqlState.statementTooComplex, 'too many cascading foreign key actions in one statement')
        this.act(c)
      }
    }
    if (this.checks === null || this.checks.size === 0) return
    const pending = [...this.checks.values()]
    this.checks.clear()
    for (const c of pending) if (!defer?.(c)) this.run(c)
  }

  /** Runs checks handed over earlier (deferred constraints at COMMIT or SET CONSTRAINTS .. IMMEDIATE). */
  runDeferred(checks: Iterable<ForeignKeyCheck>): void {
    for (const c of checks) this.run(c)
  }

  private childValues(change: ParentChange, values: RtValue[]): RtValue[] | null {
    try {
      return change.fk.columns.map((c, i) => castValue(values[i]!, typeOf(change.parent, change.fk.refColumns[i]!), typeOf(change.child, c), this.host.nowMicros))
    } catch {
      return null // no child value can equal it (out of the child column's range)
    }
  }

  private act(change: ParentChange): void {
    const { fk, child } = change
    const action = change.next === null ? fk.onDelete : fk.onUpdate
    if (action === 'no_action') {
      this.add({ kind: 'parent', table: child.name, fk, parent: change.parent.name, values: change.old })
      return
    }
    if (this.host.table(child.name)?.incarnation !== child.incarnation) return
    const oldChild = this.childValues(change, change.old)
    if (oldChild === null) return
    const cols = tableColumns(child, child.name)
    const refs = this.host.rows.matching(child, fk.columns, oldChild).map((r) => decodeRow(r, cols))
    if (refs.length === 0) return
    if (action === 'restrict') throw this.stillReferenced(fk, child.name, change.parent, change.old)
    const w = this.host.writerFor(child)
    const idx = fk.columns.map((c) => child.columns.findIndex((x) => x.name === c))
    if (action === 'cascade' && change.next === null) {
      for (const r of refs) w.delete(r)
      return
    }
    let setIdx = idx
    if (change.next === null && fk.deleteSetColumns) setIdx = fk.deleteSetColumns.map((c) => child.columns.findIndex((x) => x.name === c))
    const next = action === 'cascade' ? this.childValues(change, change.next!) : null
    for (const r of refs) {
      const row = r.slice()
      setIdx.forEach((ci, k) => {
        row[ci] = action === 'cascade' ? next![k]! : action === 'set_null' ? null : w.defaultValue(ci)
      })
      w.update(r, row, new Set(setIdx))
      // A default equal to the removed key still references it: PostgreSQL re-checks at once.
      if (action === 'set_default' && sameValues(idx.map((ci) => row[ci]!), oldChild) && !this.hasRow(change.parent, fk.refColumns, change.old)) {
        throw this.stillReferenced(fk, child.name, change.parent, change.old)
      }
    }
  }

  private run(c: ForeignKeyCheck): void {
    const child = this.host.table(c.table)
    if (child === undefined) return
    if (c.kind === 'child') {
      const row = this.host.rows.get(child.name, c.key)
      if (row !== undefined) this.checkChild(child, c.fk, row)
      return
    }
    const parent = this.host.table(c.parent)
    if (parent !== undefined && this.hasRow(parent, c.fk.refColumns, c.values)) return
    if (parent === undefined) return
    const change: ParentChange = { child, fk: c.fk, parent, old: c.values, next: null }
    const childValues = this.childValues(change, c.values)
    if (childValues === null) return
    if (this.host.rows.matching(child, c.fk.columns, childValues).length > 0) throw this.stillReferenced(c.fk, child.name, parent, c.values)
  }

  /** Every existing row of `table` against `fk` (ADD CONSTRAINT, VALIDATE CONSTRAINT). */
  validate(table: TableInfo, fk: ForeignKey): void {
    for (const row of this.host.rows.scan(table.name)) this.checkChild(table, fk, row)
  }

  private checkChild(child: TableInfo, fk: ForeignKey, row: Row): void {
    const e = this.violation(child, fk, row)
    if (e !== null) throw e
  }

  /**
   * Why a child row breaks `fk` (its key has no parent row, or mixes nulls under MATCH
   * FULL); null when it does not.
   */
  violation(child: TableInfo, fk: ForeignKey, row: Row): SqlError | null {
    const values = fk.columns.map((col) => decodeValue(row[col], typeOf(child, col)))
    const nulls = values.filter((v) => v === null).length
    if (nulls === values.length) return null
    if (nulls > 0) {
      if (fk.match === 'simple') return null
      return new SqlError(SqlState.foreignKeyViolation, `insert or update on table "${child.name}" violates foreign key constraint "${fk.name}"`, {
        detail: 'MATCH FULL does not allow mixing of null and nonnull key values.',
        table: child.name,
        constraint: fk.name,
      })
    }
    if (this.parentExists(child, fk, values)) return null
    return new SqlError(SqlState.foreignKeyViolation, `insert or update on table "${child.name}" violates foreign key constraint "${fk.name}"`, {
      detail: `Key ${describeKey(child, fk.columns, values)} is not present in table "${fk.refTable}".`,
      table: child.name,
      constraint: fk.name,
    })
  }

  private stillReferenced(fk: ForeignKey, child: string, parent: TableInfo, values: RtValue[]): SqlError {
    return new SqlError(SqlState.foreignKeyViolation, `update or delete on table "${parent.name}" violates foreign key constraint "${fk.name}" on table "${child}"`, {
      detail: `Key ${describeKey(parent, fk.refColumns, values)} is still referenced from table "${child}".`,
      table: child,
      constraint: fk.name,
    })
  }

  /** Whether the parent has a row for a child's key values (in the child's column types). */
  parentExists(child: TableInfo, fk: ForeignKey, values: RtValue[]): boolean {
    const parent = this.host.table(fk.refTable)
    if (parent === undefined) return false
    let converted: RtValue[]
    try {
      converted = fk.columns.map((c, i) => castValue(values[i]!, typeOf(child, c), typeOf(parent, fk.refColumns[i]!), this.host.nowMicros))
    } catch {
      return false
    }
    return this.hasRow(parent, fk.refColumns, converted)
  }

  private hasRow(parent: TableInfo, columns: string[], values: RtValue[]): boolean {
    const pk = parent.primaryKey
    if (pk.length === columns.length && pk.every((c) => columns.includes(c))) {
      return this.host.rows.get(parent.name, pk.map((c) => encodeValue(values[columns.indexOf(c)]!))) !== undefined
    }
    return this.host.rows.matching(parent, columns, values).length > 0
  }
}
