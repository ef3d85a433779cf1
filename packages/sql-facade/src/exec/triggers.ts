/**
 * Triggers: CREATE TRIGGER / DROP TRIGGER, and firing them from INSERT, UPDATE, DELETE
 * and TRUNCATE. A trigger is kept in its table's meta (catalog/trigger-def.ts), so it
 * replicates with the table; it fires on the node that runs the statement and never
 * when a peer's changes are applied (core applies those below the SQL layer), as
 * PostgreSQL's logical replication subscriber does not fire ordinary triggers
 * (docs/decisions/0023-plpgsql-and-triggers.md).
 *
 * Built: BEFORE / AFTER, FOR EACH ROW / FOR EACH STATEMENT, INSERT / UPDATE [OF cols] /
 * DELETE / TRUNCATE (statement level), WHEN conditions, arguments (TG_ARGV). A BEFORE
 * ROW trigger returning NULL skips the row; returning a row replaces it. AFTER ROW
 * triggers fire when the statement's rows are written, in order, then AFTER STATEMENT;
 * AFTER triggers may read the statement's rows as transition tables (REFERENCING OLD /
 * NEW TABLE). Not built (0A000): INSTEAD OF triggers, constraint triggers, triggers on
 * views.
 */
import type { TableInfo } from '@concord/core'
import type { CreateTrigStmt, DropStmt, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { makeCompileCtx } from '../plan/plan-context.js'
import { sharedTableMeta, tableMeta, tableMetaToJson } from '../catalog/table-meta.js'
import type { TriggerDef, TriggerEvent } from '../catalog/trigger-def.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { nameList } from '../parser/name-list.js'
import { readView } from '../catalog/view-def.js'
import { schemaExists } from '../catalog/schema-def.js'
import { Scope } from '../relation/scope.js'
import { compilePredicate } from '../expr/compile.js'
import { coerce } from '../expr/coerce.js'
import { tableColumns } from '../catalog/column-read.js'
import { objectOid } from '../catalog/catalog-model.js'
import { routeToLeaf } from '../placement/partition-view.js'
import { partitionCatalog } from '../plan/partition-catalog.js'
import type { ColumnBinding, Env } from '../relation/scope.js'
import { RowValue } from '../types/scalar-value.js'
import { rowItems } from '../types/row-type.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

const TIMING_BEFORE = 2
const TIMING_INSTEAD = 64
const EVENT_INSERT = 4
const EVENT_DELETE = 8
const EVENT_UPDATE = 16
const EVENT_TRUNCATE = 32

function stringValue(n: Node): string {
  if ('String' in n) return n.String.sval ?? ''
  if ('Integer' in n) return String(n.Integer.ival ?? 0)
  if ('Float' in n) return n.Float.fval ?? ''
  return ''
}

export function execCreateTrigger(stmt: CreateTrigStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const tableName = stmt.relation?.relname ?? ''
  const name = stmt.trigname ?? ''
  const t = tx.table(tableName)
  if (!t) {
    if (readView(tx, tableName)) throw new SqlError(SqlState.featureNotSupported, 'triggers on views are not supported')
    throw new SqlError(SqlState.undefinedTable, `relation "${tableName}" does not exist`)
  }
  if (stmt.isconstraint) throw new SqlError(SqlState.featureNotSupported, 'constraint triggers are not supported')
  const timing = stmt.timing ?? 0
  if (timing & TIMING_INSTEAD) throw new SqlError(SqlState.wrongObjectType, `"${tableName}" is a table`, { detail: 'Tables cannot have INSTEAD OF triggers.' })
  const events: TriggerEvent[] = []
  const ev = stmt.events ?? 0
  if (ev & EVENT_INSERT) events.push('INSERT')
  if (ev & EVENT_UPDATE) events.push('UPDATE')
  if (ev & EVENT_DELETE) events.push('DELETE')
  if (ev & EVENT_TRUNCATE) events.push('TRUNCATE')
  if (events.includes('TRUNCATE') && stmt.row) throw new SqlError(SqlState.featureNotSupported, 'TRUNCATE FOR EACH ROW triggers are not supported')
  let oldTable: string | undefined
  let newTable: string | undefined
  for (const r of stmt.transitionRels ?? []) {
    const tt = 'TriggerTransition' in r ? r.TriggerTransition : null
    if (!tt?.isTable) throw new SqlError(SqlState.featureNotSupported, 'ROW variable naming in the REFERENCING clause is not supported')
    if (tt.isNew) newTable = tt.name
    else oldTable = tt.name
  }
  if (oldTable !== undefined || newTable !== undefined) {
    if (timing & TIMING_BEFORE) throw new SqlError(SqlState.invalidObjectDefinition, 'transition table name can only be specified for an AFTER trigger')
    if (events.includes('TRUNCATE')) throw new SqlError(SqlState.featureNotSupported, 'TRUNCATE triggers with transition tables are not supported')
    if (events.length > 1) throw new SqlError(SqlState.featureNotSupported, 'transition tables cannot be specified for triggers with more than one event')
    if (oldTable !== undefined && events[0] === 'INSERT') throw new SqlError(SqlState.invalidObjectDefinition, 'OLD TABLE can only be specified for a DELETE or UPDATE trigger')
    if (newTable !== undefined && events[0] === 'DELETE') throw new SqlError(SqlState.invalidObjectDefinition, 'NEW TABLE can only be specified for an INSERT or UPDATE trigger')
  }
  const fnNames = nameList(stmt.funcname)
  const fnName = fnNames[fnNames.length - 1]!.toLowerCase()
  const fn = p.exec.functions(fnName)
  if (!fn) throw new SqlError(SqlState.undefinedFunction, `function ${fnName}() does not exist`)
  if (!fn.trigger) throw new SqlError(SqlState.invalidObjectDefinition, `function ${fnName} must return type trigger`)
  const columns = (stmt.columns ?? []).map(stringValue)
  for (const c of columns) if (!t.columns.some((x) => x.name === c)) throw new SqlError(SqlState.undefinedColumn, `column "${c}" of relation "${tableName}" does not exist`)
  const when = stmt.whenClause ?? null
  if (when && !stmt.row) throw new SqlError(SqlState.invalidObjectDefinition, "statement trigger's WHEN condition cannot reference column values")
  const def: TriggerDef = {
    name,
    timing: timing & TIMING_BEFORE ? 'BEFORE' : 'AFTER',
    level: stmt.row ? 'ROW' : 'STATEMENT',
    events,
    columns,
    fn: fnName,
    args: (stmt.args ?? []).map(stringValue),
    when: when as never,
    ...(oldTable !== undefined ? { oldTable } : {}),
    ...(newTable !== undefined ? { newTable } : {}),
  }
  // The WHEN condition must compile now (its columns exist, it is boolean).
  if (when) compileWhen(p, t, when)
  const meta = tableMeta(t)
  const existing = meta.triggers ?? []
  const at = existing.findIndex((x) => x.name === name)
  if (at >= 0 && !stmt.replace) throw new SqlError(SqlState.duplicateObject, `trigger "${name}" for relation "${tableName}" already exists`)
  const triggers = at >= 0 ? existing.map((x, i) => (i === at ? def : x)) : [...existing, def]
  tx.alterTable(t.name, { meta: tableMetaToJson({ ...meta, triggers }) })
  return utility('CREATE TRIGGER')
}

export function execDropTrigger(stmt: DropStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const notices: string[] = []
  for (const o of stmt.objects ?? []) {
    const names = 'List' in o ? (o.List.items ?? []).map(stringValue) : []
    const name = names[names.length - 1] ?? ''
    const tableName = names[names.length - 2] ?? ''
    const schema = names.length >= 3 ? names[names.length - 3]! : null
    if (schema !== null && !schemaExists(tx, schema)) {
      if (stmt.missing_ok) {
        notices.push(`schema "${schema}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`)
    }
    const t = tx.table(tableName)
    if (!t) {
      if (stmt.missing_ok) {
        notices.push(`relation "${tableName}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedTable, `relation "${tableName}" does not exist`)
    }
    const meta = tableMeta(t)
    const existing = meta.triggers ?? []
    if (!existing.some((x) => x.name === name)) {
      if (stmt.missing_ok) {
        notices.push(`trigger "${name}" for relation "${tableName}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedObject, `trigger "${name}" for table "${tableName}" does not exist`)
    }
    tx.alterTable(t.name, { meta: tableMetaToJson({ ...meta, triggers: existing.filter((x) => x.name !== name) }) })
  }
  return utility('DROP TRIGGER', notices)
}

/** The tables named in triggers (DROP FUNCTION of a trigger function in use is refused). */
export function triggersUsing(tables: readonly TableInfo[], fn: string): Array<{ table: string; trigger: string }> {
  const out: Array<{ table: string; trigger: string }> = []
  for (const t of tables) for (const tr of tableMeta(t).triggers ?? []) if (tr.fn === fn) out.push({ table: t.name, trigger: tr.name })
  return out
}

/** Removes one trigger of a table (DROP FUNCTION .. CASCADE). */
export function dropTriggerOf(p: PlanCtx, table: string, name: string): void {
  const t = p.exec.tx.table(table)
  if (!t) return
  const meta = tableMeta(t)
  p.exec.tx.alterTable(t.name, { meta: tableMetaToJson({ ...meta, triggers: (meta.triggers ?? []).filter((x) => x.name !== name) }) })
}

function compileWhen(p: PlanCtx, t: TableInfo, when: Node): (env: Env) => boolean {
  const cols = tableColumns(t, t.name)
  const scope = new Scope([...cols.map((c) => ({ ...c, table: 'old' })), ...cols.map((c) => ({ ...c, table: 'new' }))])
  return compilePredicate(when, makeCompileCtx(p, scope), 'WHEN')
}

/** The triggers of `table` (and, for row triggers, of the partitioned tables above it). */
function triggersFor(p: PlanCtx, table: TableInfo): Array<{ def: TriggerDef; table: TableInfo }> {
  const out = (sharedTableMeta(table).triggers ?? []).map((def) => ({ def, table }))
  let parent = sharedTableMeta(table).partitionOf
  for (let depth = 0; parent && depth < 32; depth++) {
    const pt = p.exec.tx.table(parent)
    if (!pt) break
    for (const def of sharedTableMeta(pt).triggers ?? []) if (def.level === 'ROW') out.push({ def, table: pt })
    parent = sharedTableMeta(pt).partitionOf
  }
  return out
}

interface Armed {
  def: TriggerDef
  when: ((env: Env) => boolean) | null
}

interface RowSet {
  before: Armed[]
  after: Armed[]
}

/** Whether `table` takes part in a partition tree (a partitioned table, or a partition). */
function partitioned(table: TableInfo): boolean {
  return !!table.partitioning || sharedTableMeta(table).partitionOf !== undefined
}

/** The root of `table`'s partition tree. */
function partitionRootOf(p: PlanCtx, table: TableInfo): TableInfo {
  let t = table
  for (let depth = 0; depth < 32; depth++) {
    const up = sharedTableMeta(t).partitionOf
    const pt = up ? p.exec.tx.table(up) : undefined
    if (!pt) break
    t = pt
  }
  return t
}

/**
 * The triggers one statement fires on one table for one event. `columns` are the rows'
 * columns (hidden ones included) as the statement's writer lays them out. Through a
 * partitioned table, a row fires the row triggers of the partition it lands in (and of
 * the partitioned tables above it); statement triggers are the named table's.
 */
export class StatementTriggers {
  private readonly p: PlanCtx
  private readonly table: TableInfo
  private readonly op: TriggerEvent
  private readonly columns: ColumnBinding[]
  private readonly visible: number[]
  private readonly queued: Array<{ armed: Armed; table: TableInfo; newRow: RtValue[] | null; oldRow: RtValue[] | null }> = []
  private readonly assigned: Set<string> | null
  private readonly statementDefs: TriggerDef[]
  private readonly rowSets = new Map<string, RowSet>()
  private readonly leafOf: ((row: RtValue[]) => TableInfo) | null
  /** The statement's written rows (visible columns), kept when a trigger reads them as transition tables. */
  private transitionRows: { old: RtValue[][]; new: RtValue[][] } | null = null

  private constructor(p: PlanCtx, table: TableInfo, op: TriggerEvent, columns: ColumnBinding[], statementDefs: TriggerDef[], assigned: Set<string> | null, leafOf: ((row: RtValue[]) => TableInfo) | null) {
    this.p = p
    this.table = table
    this.op = op
    this.columns = columns
    this.visible = columns.map((c, i) => (c.hidden ? -1 : i)).filter((i) => i >= 0)
    this.assigned = assigned
    this.statementDefs = statementDefs
    this.leafOf = leafOf
  }

  private fires(def: TriggerDef): boolean {
    return !def.disabled && def.events.includes(this.op) && (this.op !== 'UPDATE' || def.columns.length === 0 || this.assigned === null || def.columns.some((c) => this.assigned!.has(c)))
  }

  /** The triggers `op` fires on `table`, or null when there are none (the common case). */
  /** `assignedAt`: an UPDATE's assigned columns, by position in `columns` (their names made only when a trigger is there to read them). */
  static of(p: PlanCtx, table: TableInfo | undefined, op: TriggerEvent, columns: ColumnBinding[], assignedAt: Iterable<number> | null = null): StatementTriggers | null {
    if (!table) return null
    const tree = partitioned(table)
    const root = tree ? partitionRootOf(p, table) : table
    const members = tree ? p.exec.allTables().filter((t) => t === table || partitionRootOf(p, t).name === root.name) : [table]
    if (!members.some((t) => (sharedTableMeta(t).triggers ?? []).some((d) => !d.disabled && d.events.includes(op)))) return null
    let leafOf: ((row: RtValue[]) => TableInfo) | null = null
    if (tree && table.partitioning) {
      const route = routeToLeaf(root, tableColumns(root, root.name), partitionCatalog(p))
      leafOf = (row) => route(row).leaf ?? table
    }
    const assigned = assignedAt === null ? null : new Set(Array.from(assignedAt, (i) => columns[i]!.name))
    const s = new StatementTriggers(p, table, op, columns, [], assigned, leafOf)
    s.statementDefs.push(...(sharedTableMeta(table).triggers ?? []).filter((d) => d.level === 'STATEMENT' && s.fires(d)))
    if (members.some((t) => (sharedTableMeta(t).triggers ?? []).some((d) => d.events.includes(op) && (d.oldTable !== undefined || d.newTable !== undefined)))) s.transitionRows = { old: [], new: [] }
    return s
  }

  /** The row triggers a row fires: those of the table it lands in. */
  private rowSet(row: RtValue[] | null): { set: RowSet; table: TableInfo } {
    const table = this.leafOf && row ? this.leafOf(row) : this.table
    let set = this.rowSets.get(table.name)
    if (!set) {
      const defs = triggersFor(this.p, table).map((x) => x.def).filter((d) => d.level === 'ROW' && this.fires(d))
      const arm = (def: TriggerDef): Armed => ({ def, when: def.when ? compileWhen(this.p, table, def.when as unknown as Node) : null })
      set = { before: defs.filter((d) => d.timing === 'BEFORE').map(arm), after: defs.filter((d) => d.timing === 'AFTER').map(arm) }
      this.rowSets.set(table.name, set)
    }
    return { set, table }
  }

  private record(row: RtValue[] | null): RowValue | null {
    return row === null ? null : new RowValue(this.visible.map((i) => row[i] as never))
  }

  private fire(def: TriggerDef, level: 'ROW' | 'STATEMENT', newRow: RtValue[] | null, oldRow: RtValue[] | null, table = this.table): RtValue {
    const exec = this.p.exec
    const fn = exec.functions(def.fn)
    if (!fn) throw new SqlError(SqlState.undefinedFunction, `function ${def.fn}() does not exist`)
    return exec.callUserFunction(exec, fn, [], [], T.void, {
      name: def.name,
      table: table.name,
      relid: objectOid('table', table.name),
      when: def.timing,
      level,
      op: this.op,
      args: def.args,
      fields: this.visible.map((i) => ({ name: this.columns[i]!.name, type: this.columns[i]!.type })),
      newRow: level === 'ROW' ? this.record(newRow) : null,
      oldRow: level === 'ROW' ? this.record(oldRow) : null,
      ...(this.transitionRows && def.timing === 'AFTER' && (def.oldTable !== undefined || def.newTable !== undefined)
        ? { transition: [
            ...(def.oldTable !== undefined ? [{ name: def.oldTable, rows: this.transitionRows.old }] : []),
            ...(def.newTable !== undefined ? [{ name: def.newTable, rows: this.transitionRows.new }] : []),
          ] }
        : {}),
    })
  }

  private passes(a: Armed, newRow: RtValue[] | null, oldRow: RtValue[] | null): boolean {
    if (!a.when) return true
    const none = this.columns.map(() => null)
    return a.when({ row: [...(oldRow ?? none), ...(newRow ?? none)], outer: null })
  }

  /** BEFORE STATEMENT triggers. */
  beforeStatement(): void {
    for (const d of this.statementDefs) if (d.timing === 'BEFORE') this.fire(d, 'STATEMENT', null, null)
  }

  /**
   * BEFORE ROW triggers on a row about to be written: the row to write (as a trigger
   * changed it), or null when one returned NULL (the row is skipped). DELETE passes
   * the old row as `row` and gets it back.
   */
  beforeRow(newRow: RtValue[] | null, oldRow: RtValue[] | null): RtValue[] | null {
    let current = newRow
    const { set, table } = this.rowSet(oldRow ?? newRow)
    for (const a of set.before) {
      if (!this.passes(a, current, oldRow)) continue
      const r = this.fire(a.def, 'ROW', current, oldRow, table)
      if (r === null) return null
      if (this.op === 'DELETE') continue
      if (!(r instanceof RowValue)) throw new SqlError(SqlState.datatypeMismatch, 'returned row structure does not match the structure of the triggering table')
      const items = rowItems(r)
      if (items.length !== this.visible.length) {
        throw new SqlError(SqlState.datatypeMismatch, 'returned row structure does not match the structure of the triggering table', { detail: 'Number of returned columns does not match expected column count.' })
      }
      const next = current!.slice()
      this.visible.forEach((ci, k) => {
        const c = this.columns[ci]!
        const v = items[k] ?? null
        next[ci] = v === null ? null : coerce({ type: c.type, eval: () => v }, c.type, 'assignment', this.p.exec.nowMicros).eval({ row: [], outer: null })
      })
      current = next
    }
    return this.op === 'DELETE' ? oldRow : current
  }

  /** A row was written: its AFTER ROW triggers fire when the statement's rows are all written (`finish`). */
  afterRow(newRow: RtValue[] | null, oldRow: RtValue[] | null): void {
    if (this.transitionRows) {
      if (oldRow) this.transitionRows.old.push(this.visible.map((i) => oldRow[i] ?? null))
      if (newRow) this.transitionRows.new.push(this.visible.map((i) => newRow[i] ?? null))
    }
    const { set, table } = this.rowSet(oldRow ?? newRow)
    for (const a of set.after) if (this.passes(a, newRow, oldRow)) this.queued.push({ armed: a, table, newRow, oldRow })
  }

  /** AFTER ROW triggers of the written rows, then AFTER STATEMENT triggers. */
  finish(): void {
    for (const q of this.queued.splice(0)) this.fire(q.armed.def, 'ROW', q.newRow, q.oldRow, q.table)
    for (const d of this.statementDefs) if (d.timing === 'AFTER') this.fire(d, 'STATEMENT', null, null)
  }
}
