/**
 * Turning SQL rows into core writes for one table: defaults (including node-unique ids
 * for SERIAL), generated columns, NOT NULL, CHECK and UNIQUE constraints, and the
 * PostgreSQL errors for each. Shared by INSERT, UPDATE and ON CONFLICT.
 */
import { ConcordError, encodeRowKey, type TableInfo, type Value } from '@concord/core'
import type { Node } from 'libpg-query'
import { sharedColumnMeta, sharedTableMeta, ROWID, type ColumnMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr } from '../expr/compile.js'
import { compileDomainCheck } from '../expr/domain-check.js'
import type { Compiled } from '../expr/compiled.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { partitionFilter, partitionKeyTypes, routeToLeaf } from '../placement/partition-view.js'
import { partitionCatalog } from '../plan/partition-catalog.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { compareValues } from '../types/compare.js'
import { encodeValue } from '../types/storage-codec.js'
import { T } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'
import type { RtValue } from '../types/value.js'
import { refuseUnheldWrite } from '../placement/unheld-write.js'

/**
 * The values a statement gives a new row, by column position: `undefined` where it gives
 * none (the column takes its default). An array, not a Map: a bulk INSERT makes one per
 * row, and a Map per row was a sixth of what its executor allocated.
 */
export type GivenRow = Array<RtValue | undefined>

/** What every writer of one table shares, whatever its statement. */
interface TableShape {
  /** Frozen: a writer's columns are read, never changed (a scope made from them copies a binding to change it). */
  columns: ColumnBinding[]
  metas: ReadonlyArray<Readonly<ColumnMeta>>
  /** The columns' scope (no parent, no probe: nothing in it changes). */
  scope: Scope
  uniques: string[][]
  pkIdx: number[]
  counters: boolean[]
  /** Whether a column has a default (its own or its domain's), a generation expression or a domain, or the table a CHECK. */
  compiles: boolean
  /** Null for each column: what a writer holds for its defaults, generated columns and domain checks when nothing compiles. */
  none: ReadonlyArray<null>
}

/** A writer's CHECKs where its table has none. */
const NO_CHECKS: ReadonlyArray<{ name: string; test: Compiled }> = Object.freeze([])

/** By table: a catalog's TableInfo is never changed in place (a change makes a new one). */
const tableShapes = new WeakMap<TableInfo, TableShape>()

function tableShape(table: TableInfo): TableShape {
  let shape = tableShapes.get(table)
  if (shape !== undefined) return shape
  const columns = Object.freeze(tableColumns(table, table.name).map((c) => Object.freeze(c))) as ColumnBinding[]
  const metas = table.columns.map(sharedColumnMeta)
  const tm = sharedTableMeta(table)
  shape = {
    columns,
    metas,
    scope: new Scope(columns),
    uniques: tm.uniques,
    pkIdx: Object.freeze(table.primaryKey.map((c) => columns.findIndex((x) => x.name === c))) as number[],
    counters: Object.freeze(table.columns.map((c) => c.kind === 'counter')) as boolean[],
    compiles: tm.checks.length > 0 || metas.some((m) => m.default !== undefined || m.generated !== undefined || m.t.domain !== undefined),
    none: Object.freeze(columns.map(() => null)),
  }
  tableShapes.set(table, shape)
  return shape
}

export class TableWriter {
  readonly columns: ColumnBinding[]
  readonly metas: ReadonlyArray<Readonly<ColumnMeta>>
  readonly scope: Scope
  private readonly defaults: ReadonlyArray<Compiled | null>
  private readonly generated: ReadonlyArray<Compiled | null>
  private readonly checks: ReadonlyArray<{ name: string; test: Compiled }>
  /** Per column: the check of its domain's constraints, if its type is a domain. */
  private readonly domainChecks: ReadonlyArray<((v: RtValue) => void) | null>
  readonly uniques: string[][]
  readonly pkIdx: number[]
  /** Per column: a counter (increments merge by adding up; NULL is absence of any value). */
  readonly counters: boolean[]

  /** Rows of the addressed partition must satisfy its bound (INSERT/UPDATE naming a partition). */
  private readonly inPartition: ((row: RtValue[]) => boolean) | null

  readonly table: TableInfo
  readonly p: PlanCtx
  readonly partition: TableInfo | null

  /**
   * @param partition the partition the statement named, when it named one: its rows are
   *   written through `table` (the parent) and must stay within the partition's bound.
   */
  constructor(table: TableInfo, p: PlanCtx, partition: TableInfo | null = null) {
    // Every INSERT, UPDATE, DELETE, MERGE and COPY writes through a writer: none to a table not held here.
    refuseUnheldWrite(table, p.exec.region)
    this.table = table
    this.p = p
    this.partition = partition
    const shape = tableShape(table)
    this.columns = shape.columns
    this.metas = shape.metas
    this.scope = shape.scope
    this.uniques = shape.uniques
    this.pkIdx = shape.pkIdx
    this.counters = shape.counters
    const now = p.exec.nowMicros
    // Compiled per statement (an expression may read the session's settings), and only
    // where the table has something to compile: pgbench's tables have nothing.
    if (shape.compiles) {
      const cctx = makeCompileCtx(p, this.scope)
      const empty = makeCompileCtx(p, new Scope([]))
      // A column without a DEFAULT of its own takes its domain's.
      this.defaults = this.metas.map((m, i) => (m.default ?? m.t.domain?.default ? coerce(compileExpr((m.default ?? m.t.domain!.default) as unknown as Node, empty), this.columns[i]!.type, 'assignment', now, `column "${this.columns[i]!.name}"`) : null))
      this.generated = this.metas.map((m, i) => (m.generated ? coerce(compileExpr(m.generated as unknown as Node, cctx), this.columns[i]!.type, 'assignment', now, `column "${this.columns[i]!.name}"`) : null))
      this.domainChecks = this.metas.map((m) => compileDomainCheck(m.t, empty, compileExpr))
      this.checks = sharedTableMeta(table).checks.map((c) => ({ name: c.name, test: coerce(compileExpr(c.expr as unknown as Node, cctx), T.bool, 'implicit', now) }))
    } else {
      this.defaults = shape.none
      this.generated = shape.none
      this.domainChecks = shape.none
      this.checks = NO_CHECKS
    }
    this.inPartition = partition ? partitionFilter(partitionCatalog(p), partition, this.columns) : null
  }

  index(name: string): number {
    const i = this.columns.findIndex((c) => c.name === name)
    if (i < 0) throw new SqlError(SqlState.undefinedColumn, `column "${name}" of relation "${this.table.name}" does not exist`)
    return i
  }

  isGenerated(i: number): boolean {
    return this.generated[i] !== null
  }

  defaultValue(i: number): RtValue {
    const m = this.metas[i]!
    if (m.serial) {
      const n = this.p.exec.nextSerial(this.table, this.columns[i]!.name)
      if (m.identityStart === undefined && m.identityIncrement === undefined) return n
      // START WITH / INCREMENT BY: the n-th id becomes start + (n - 1) * increment (distinct ids stay distinct).
      const inc = BigInt(m.identityIncrement ?? 1)
      const v = BigInt(m.identityStart ?? (inc < 0n ? -1 : 1)) + (BigInt(n) - 1n) * inc
      const [lo, hi] = m.t.id === 'int2' ? [-32768n, 32767n] : m.t.id === 'int4' ? [-2147483648n, 2147483647n] : [-(2n ** 63n), 2n ** 63n - 1n]
      if (v < lo || v > hi) throw new SqlError(SqlState.sequenceGeneratorLimitExceeded, `nextval: reached ${v < lo ? 'minimum' : 'maximum'} value of sequence "${this.table.name}_${this.columns[i]!.name}_seq" (${v < lo ? lo : hi})`)
      return typeof n === 'bigint' ? v : Number(v)
    }
    const d = this.defaults[i]
    return d ? d.eval({ row: [], outer: null }) : null
  }

  /** A new row from the given values; absent columns get their defaults. */
  newRow(given: Readonly<GivenRow>): RtValue[] {
    const n = this.columns.length
    const row = new Array<RtValue>(n)
    for (let i = 0; i < n; i++) {
      const v = given[i]
      row[i] = v !== undefined ? v : this.isGenerated(i) ? null : this.defaultValue(i)
    }
    this.computeGenerated(row)
    return row
  }

  computeGenerated(row: RtValue[]): void {
    const env: Env = { row, outer: null }
    for (let i = 0; i < row.length; i++) {
      const g = this.generated[i]
      if (g) row[i] = g.eval(env)
    }
  }

  /**
   * NOT NULL, CHECK and local UNIQUE checks; `selfKey` excludes the row being updated.
   * `before`: the row an UPDATE replaces. A UNIQUE constraint whose columns it leaves as
   * they were is not looked up again (as PostgreSQL, which checks a unique index only for
   * a key that changed): no row can newly collide with a key that did not move, and on
   * pgbench's UPDATEs the lookup was a tenth of the statement's CPU.
   */
  validate(row: RtValue[], selfKey: Value[] | null, before?: RtValue[]): void {
    for (let i = 0; i < row.length; i++) this.domainChecks[i]?.(row[i]!)
    for (let i = 0; i < row.length; i++) {
      const m = this.metas[i]!
      if (row[i] === null && (m.notNull || this.pkIdx.includes(i))) {
        throw new SqlError(SqlState.notNullViolation, `null value in column "${this.columns[i]!.name}" of relation "${this.table.name}" violates not-null constraint`, {
          detail: `Failing row contains (${this.describe(row)}).`,
          table: this.table.name,
          column: this.columns[i]!.name,
        })
      }
    }
    const env: Env = { row, outer: null }
    for (const c of this.checks) {
      if (c.test.eval(env) === false) {
        throw new SqlError(SqlState.checkViolation, `new row for relation "${this.table.name}" violates check constraint "${c.name}"`, {
          detail: `Failing row contains (${this.describe(row)}).`,
          table: this.table.name,
          constraint: c.name,
        })
      }
    }
    for (const u of this.uniques) if (before === undefined || this.keyMoved(u, before, row)) this.checkUnique(row, u, selfKey)
  }

  /** True when `row` differs from `before` in one of `cols` (a NULL and a value differ). */
  private keyMoved(cols: string[], before: RtValue[], row: RtValue[]): boolean {
    for (const c of cols) {
      const i = this.index(c)
      const a = before[i] ?? null
      const b = row[i] ?? null
      if (a === null || b === null ? a !== b : compareValues(a, b) !== 0) return true
    }
    return false
  }

  /** The live row that conflicts with `row` on a UNIQUE constraint, if any. */
  findUniqueConflict(row: RtValue[], cols: string[], selfKey: Value[] | null): RtValue[] | null {
    const idx = cols.map((c) => this.index(c))
    const vals = idx.map((i) => row[i]!)
    if (vals.some((v) => v === null)) return null
    const self = selfKey ? encodeRowKey(selfKey) : null
    for (const r of this.p.exec.rows.matching(this.table, cols, vals)) {
      const other = decodeRow(r, this.columns)
      if (self !== null && encodeRowKey(this.keyOf(other)) === self) continue
      return other
    }
    return null
  }

  private checkUnique(row: RtValue[], cols: string[], selfKey: Value[] | null): void {
    if (this.findUniqueConflict(row, cols, selfKey)) {
      const idx = cols.map((c) => this.index(c))
      const constraint = this.uniqueName(cols)
      throw new SqlError(SqlState.uniqueViolation, `duplicate key value violates unique constraint "${constraint}"`, {
        detail: `Key (${cols.join(', ')})=(${idx.map((i) => formatText(row[i]!, this.columns[i]!.type)).join(', ')}) already exists.`,
        table: this.table.name,
        constraint,
      })
    }
  }

  /**
   * The name of the unique constraint (or index) over `cols`: the one it was created
   * under (CREATE UNIQUE INDEX name, CONSTRAINT name UNIQUE), else PostgreSQL's derived
   * `<table>_<cols>_key`. Read only when a violation is reported.
   */
  private uniqueName(cols: string[]): string {
    const wanted = cols.join('\u0000')
    for (const [name, v] of this.p.exec.tx.listCatalog('index')) {
      const def = v as { table?: unknown; unique?: unknown; columns?: unknown } | null
      if (def !== null && def.table === this.table.name && def.unique === true && Array.isArray(def.columns) && def.columns.join('\u0000') === wanted) return name
    }
    return `${this.table.name}_${cols.join('_')}_key`
  }

  keyOf(row: RtValue[]): Value[] {
    const pk = this.pkIdx
    const out = new Array<Value>(pk.length)
    for (let k = 0; k < pk.length; k++) out[k] = encodeValue(row[pk[k]!]!)
    return out
  }

  /** A new row as core values; a NULL counter is left out (it has no value yet). Indexed loops: it runs for every row written. */
  encode(row: RtValue[]): Record<string, Value> {
    const out: Record<string, Value> = {}
    const columns = this.columns
    for (let i = 0; i < columns.length; i++) if (!(this.counters[i] && row[i] === null)) out[columns[i]!.name] = encodeValue(row[i]!)
    return out
  }

  private nullCounter(i: number): SqlError {
    return new SqlError(SqlState.nullValueNotAllowed, `counter column "${this.columns[i]!.name}" of relation "${this.table.name}" cannot be set to NULL`, {
      hint: 'A counter adds up the increments of every node; set it to a number.',
    })
  }

  describe(row: RtValue[]): string {
    return row.filter((_v, i) => !this.columns[i]!.hidden).map((v, i) => (v === null ? 'null' : formatText(v, this.columns.filter((c) => !c.hidden)[i]!.type))).join(', ')
  }

  duplicateKey(row: RtValue[]): SqlError {
    const pk = this.table.primaryKey
    if (pk.length === 1 && pk[0] === ROWID) return new SqlError(SqlState.uniqueViolation, 'duplicate row id')
    const constraint = `${this.table.name}_pkey`
    return new SqlError(SqlState.uniqueViolation, `duplicate key value violates unique constraint "${constraint}"`, {
      detail: `Key (${pk.join(', ')})=(${this.pkIdx.map((i) => formatText(row[i]!, this.columns[i]!.type)).join(', ')}) already exists.`,
      table: this.table.name,
      constraint,
    })
  }

  /** A row of a partitioned table must route to one of its partitions, as in PostgreSQL. */
  private checkPartition(row: RtValue[]): void {
    if (!this.table.partitioning) return
    this.route ??= routeToLeaf(this.table, this.columns, partitionCatalog(this.p))
    const failed = this.route(row)
    if (failed.leaf !== null) return
    const types = partitionKeyTypes(failed.table)
    throw new SqlError(SqlState.checkViolation, `no partition of relation "${failed.table.name}" found for row`, {
      detail: `Partition key of the failing row contains (${failed.table.partitioning!.columns.join(', ')}) = (${failed.key.map((v, i) => formatText(v, types[i]!) ?? 'null').join(', ')}).`,
    })
  }

  private route: ReturnType<typeof routeToLeaf> | null = null

  /** PostgreSQL's partition constraint: a row written through a partition must belong to it. */
  private checkPartitionConstraint(row: RtValue[]): void {
    if (this.inPartition === null || this.inPartition(row)) return
    throw new SqlError(SqlState.checkViolation, `new row for relation "${this.partition!.name}" violates partition constraint`, {
      detail: `Failing row contains (${this.describe(row)}).`,
    })
  }

  /**
   * Inserts a new row. `given`: the columns the statement named; the others hold their
   * defaults, which yield to values other nodes write concurrently (see core insert).
   */
  insert(row: RtValue[], given?: Readonly<GivenRow>): void {
    this.validate(row, null)
    this.checkPartitionConstraint(row)
    this.checkPartition(row)
    const key = this.keyOf(row)
    const defaulted = given === undefined ? undefined : this.defaultedColumns(given)
    try {
      if (!this.p.exec.rows.insertNew(this.table.name, key, this.encode(row), defaulted)) throw this.duplicateKey(row)
    } catch (e) {
      if (e instanceof ConcordError && e.condition === 'uniqueViolation') throw this.duplicateKey(row)
      throw e
    }
    this.p.exec.foreignKeys.rowWritten(this.table, row, key, null)
  }

  /** Names of the columns that hold defaults in a row `given` these, by the set given (rows of one statement give the same columns). */
  private defaultedColumns(given: Readonly<GivenRow>): string[] {
    // The set given as a bit mask, for tables of up to 30 columns (others are not kept).
    const kept = this.columns.length <= 30
    let mask = 0
    if (kept) for (let i = 0; i < this.columns.length; i++) if (given[i] !== undefined) mask |= 1 << i
    const known = kept ? this.defaultedBy.get(mask) : undefined
    if (known !== undefined) return known
    const names = this.columns.filter((_c, i) => given[i] === undefined && !this.isGenerated(i)).map((c) => c.name)
    if (kept) this.defaultedBy.set(mask, names)
    return names
  }

  /** `defaultedColumns` answers, by the mask of the columns given. */
  private readonly defaultedBy = new Map<number, string[]>()

  /** Deletes a row; false when it was already gone. */
  delete(row: RtValue[]): boolean {
    if (!this.p.exec.rows.delete(this.table.name, this.keyOf(row))) return false
    this.p.exec.foreignKeys.rowDeleted(this.table, row)
    return true
  }

  /**
   * Writes the changed columns of an existing row (moving it when its key changes).
   * `increments` gives, for counter columns set as `c = c + n`, the `n` to add: applied as
   * a core increment, so concurrent increments on other nodes add up with it.
   */
  update(oldRow: RtValue[], newRow: RtValue[], assigned: Set<number>, increments?: ReadonlyMap<number, RtValue>): void {
    const oldKey = this.keyOf(oldRow)
    this.validate(newRow, oldKey, oldRow)
    this.checkPartitionConstraint(newRow)
    const newKey = this.keyOf(newRow)
    const keyChanged = this.pkIdx.some((i) => compareValues(oldRow[i] ?? '', newRow[i] ?? '') !== 0 || (oldRow[i] === null) !== (newRow[i] === null))
    const tx = this.p.exec.rows
    if (keyChanged) {
      if (this.p.exec.rows.get(this.table.name, newKey)) throw this.duplicateKey(newRow)
      tx.delete(this.table.name, oldKey)
      tx.insert(this.table.name, this.encode(newRow))
    } else {
      const changes: Record<string, Value> = {}
      const adds: Array<[string, Value]> = []
      let any = false
      this.columns.forEach((c, i) => {
        if (this.pkIdx.includes(i)) return
        if (increments?.has(i) && oldRow[i] !== null) {
          const delta = increments.get(i)!
          if (delta === null) throw this.nullCounter(i)
          adds.push([c.name, encodeValue(delta)])
          return
        }
        if (this.counters[i] && newRow[i] === null) {
          if (oldRow[i] === null) return // NULL + n stays NULL, as in PostgreSQL
          throw this.nullCounter(i)
        }
        if (assigned.has(i)) {
          changes[c.name] = encodeValue(newRow[i]!)
          any = true
          return
        }
        const a = oldRow[i]!
        const b = newRow[i]!
        if (a === null && b === null) return
        if (a !== null && b !== null && compareValues(a, b) === 0 && formatText(a, c.type) === formatText(b, c.type)) return
        changes[c.name] = encodeValue(b)
        any = true
      })
      if (any) tx.update(this.table.name, oldKey, changes)
      for (const [name, delta] of adds) tx.increment(this.table.name, oldKey, name, delta as number | bigint)
    }
    this.p.exec.foreignKeys.rowWritten(this.table, newRow, newKey, oldRow)
  }
}
