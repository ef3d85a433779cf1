/**
 * `ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE type [USING expr]`: the column's type
 * changes in the replicated catalog and every row this node holds is rewritten with the
 * converted value (the USING expression over the row as it was, else an assignment cast
 * of the old value), inside the statement's transaction; then NOT NULL, CHECK and UNIQUE
 * are checked on the new values. Without ONLY an inheritance parent's children change too.
 *
 * Multi-master rule (docs/compatibility.md): a row written on another node that had not
 * yet seen the change carries the old type's stored form. For widening changes
 * (smallint -> integer -> bigint -> numeric, varchar(n) -> varchar(m >= n) / text) of a
 * column outside the primary key that form reads correctly as the new type, so concurrent
 * writers are safe; any other change (and any change of a key column, whose stored form
 * is the row's key) is a schema migration to run while no other node writes the table. Rows this node does
 * not hold (regional placement) cannot be rewritten from here: such a change is refused.
 */
import { encodeRowKey, holdsTable, type Row, type TableInfo, type Value } from '@concord/core'
import type { AlterTableCmd, Node } from 'libpg-query'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { inheritanceDescendants } from '../catalog/table-inheritance.js'
import { columnMeta, metaToJson, tableMeta } from '../catalog/table-meta.js'
import { userTypes } from '../catalog/user-type.js'
import { listViews } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr } from '../expr/compile.js'
import type { Compiled } from '../expr/compiled.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { Scope } from '../relation/scope.js'
import { canCast } from '../types/cast.js'
import { typeFromTypeName, typeName, type SqlType } from '../types/sql-type.js'
import { encodeValue } from '../types/storage-codec.js'
import type { RtValue } from '../types/value.js'
import { isInheritedColumn } from './inherits-ddl.js'
import { TableWriter } from './table-writer.js'

const INT_WIDTH: Record<string, number> = { int2: 1, int4: 2, int8: 3, numeric: 4 }

/** Whether the old type's stored form reads as the new type unchanged (see the module comment). */
export function widens(from: SqlType, to: SqlType): boolean {
  if (!!from.array !== !!to.array) return false
  const a = INT_WIDTH[from.id], b = INT_WIDTH[to.id]
  if (a !== undefined && b !== undefined) return a <= b && (to.id !== 'numeric' || to.precision === undefined)
  const texts = ['varchar', 'text', 'bpchar']
  if (from.id === to.id && from.id !== 'numeric' && from.id !== 'bpchar') return to.precision === undefined || (from.precision !== undefined && from.precision <= to.precision)
  return texts.includes(from.id) && (to.id === 'text' || (to.id === 'varchar' && to.precision === undefined))
}

function refuseDependents(p: PlanCtx, t: TableInfo, column: string): void {
  for (const v of listViews(p.exec.tx)) {
    // Conservative: a view reading the table and naming the column anywhere depends on it.
    if (!v.relations.includes(t.name) || !JSON.stringify(v.query).includes(JSON.stringify(column))) continue
    throw new SqlError(SqlState.featureNotSupported, 'cannot alter type of a column used by a view or rule', { detail: `rule _RETURN on view ${v.name} depends on column "${column}"` })
  }
  if (t.partitioning?.columns.includes(column) === true) {
    throw new SqlError(SqlState.invalidTableDefinition, `cannot alter column "${column}" because it is part of the partition key of relation "${t.name}"`)
  }
  if (t.partitioning || tableMeta(t).partitionOf !== undefined) {
    throw new SqlError(SqlState.featureNotSupported, 'ALTER COLUMN .. TYPE of a partitioned table or a partition is not supported')
  }
}

const INTEGERS = ['int2', 'int4', 'int8']

/** A foreign key through the column must still compare its two sides: the same type, or integers of any width. */
function checkForeignKeys(p: PlanCtx, t: TableInfo, column: string, to: SqlType): void {
  const typeOf = (table: string, col: string): SqlType | undefined => {
    const c = p.exec.tx.table(table)?.columns.find((x) => x.name === col)
    return c ? columnMeta(c).t : undefined
  }
  const pairs: Array<{ name: string; other: SqlType | undefined; mine: string; theirs: string }> = []
  for (const k of tableMeta(t).foreignKeys) {
    k.columns.forEach((c, i) => { if (c === column) pairs.push({ name: k.name, other: typeOf(k.refTable, k.refColumns[i]!), mine: c, theirs: k.refColumns[i]! }) })
  }
  for (const o of p.exec.allTables()) {
    for (const k of tableMeta(o).foreignKeys) {
      if (k.refTable !== t.name) continue
      k.refColumns.forEach((c, i) => { if (c === column) pairs.push({ name: k.name, other: typeOf(o.name, k.columns[i]!), mine: c, theirs: k.columns[i]! }) })
    }
  }
  for (const pr of pairs) {
    if (!pr.other || typeName(pr.other) === typeName(to) || (INTEGERS.includes(pr.other.id) && INTEGERS.includes(to.id) && !pr.other.array && !to.array)) continue
    throw new SqlError(SqlState.datatypeMismatch, `foreign key constraint "${pr.name}" cannot be implemented`, {
      detail: `Key columns "${pr.mine}" and "${pr.theirs}" are of incompatible types: ${typeName(to)} and ${typeName(pr.other)}.`,
    })
  }
}

/** Converts one table's column; `using` is compiled over that table's own row. */
function rewriteTable(p: PlanCtx, t: TableInfo, column: string, to: SqlType, using: Node | undefined): void {
  const tx = p.exec.tx
  const cols = tableColumns(t, t.name)
  const at = cols.findIndex((c) => c.name === column)
  const col = t.columns.find((c) => c.name === column)!
  const from = columnMeta(col)
  const now = p.exec.nowMicros
  let conv: Compiled
  if (using) {
    conv = coerce(compileExpr(using, makeCompileCtx(p, new Scope(cols))), to, 'assignment', now, `column "${column}"`)
  } else {
    if (!canCast(from.t, to, 'assignment')) {
      throw new SqlError(SqlState.datatypeMismatch, `column "${column}" cannot be cast automatically to type ${typeName(to)}`, { hint: `You might need to specify "USING ${column}::${typeName(to)}".` })
    }
    conv = coerce({ type: from.t, eval: (env) => env.row[at]! }, to, 'assignment', now, `column "${column}"`)
  }
  // A SERIAL / identity column keeps drawing ids (its default): only into an integer type.
  if (from.serial === true && !INTEGERS.includes(to.id)) {
    throw new SqlError(SqlState.datatypeMismatch, `default for column "${column}" cannot be cast automatically to type ${typeName(to)}`)
  }
  if (from.default !== undefined) {
    try {
      coerce(compileExpr(from.default as unknown as Node, makeCompileCtx(p, new Scope([]))), to, 'assignment', now)
    } catch {
      throw new SqlError(SqlState.datatypeMismatch, `default for column "${column}" cannot be cast automatically to type ${typeName(to)}`)
    }
  }
  if ((!widens(from.t, to) || t.primaryKey.includes(column)) && !holdsTable(p.exec.region, t)) {
    throw new SqlError(SqlState.featureNotSupported, `cannot change the type of column "${column}": this node does not hold the rows of "${t.name}"`, { hint: 'Run it on a node of the table\'s regions.' })
  }
  // Every new value from the rows as they are, before any is written.
  const converted: Array<{ key: Value[]; raw: Row; value: RtValue }> = []
  for (const raw of p.exec.rows.scan(t.name)) {
    p.exec.budget.tick()
    const row = decodeRow(raw, cols)
    converted.push({ key: t.primaryKey.map((k) => raw[k] ?? null), raw, value: conv.eval({ row, outer: null }) })
  }
  tx.alterColumn(t.name, column, { type: typeName(to), meta: metaToJson({ ...from, t: to }) })
  const after = tx.table(t.name)!
  const inKey = t.primaryKey.indexOf(column)
  for (const c of converted) {
    const stored = encodeValue(c.value)
    // A key column's new stored form may be another row key (int 2 and bigint 2 are): the row moves to it.
    const moved = inKey >= 0 ? c.key.map((v, i) => (i === inKey ? stored : v)) : null
    if (moved && encodeRowKey(moved) !== encodeRowKey(c.key)) {
      p.exec.rows.delete(t.name, c.key)
      p.exec.rows.insert(t.name, { ...c.raw, [column]: stored })
    } else {
      p.exec.rows.update(t.name, c.key, { [column]: stored })
    }
  }
  // NOT NULL, CHECK and UNIQUE hold for the new values (PostgreSQL re-checks on rewrite).
  const w = new TableWriter(after, p)
  for (const raw of p.exec.rows.scan(t.name)) {
    const row = decodeRow(raw, w.columns)
    w.validate(row, w.keyOf(row))
  }
}

export function alterColumnType(p: PlanCtx, name: string, cmd: AlterTableCmd, only: boolean): void {
  const tx = p.exec.tx
  const t = tx.table(name)!
  const column = cmd.name ?? ''
  const col = t.columns.find((c) => c.name === column)
  if (!col || columnMeta(col).hidden === true) throw new SqlError(SqlState.undefinedColumn, `column "${column}" of relation "${name}" does not exist`)
  if (isInheritedColumn(p, t, column)) throw new SqlError(SqlState.invalidTableDefinition, `cannot alter inherited column "${column}"`)
  const def = cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : null
  if (!def?.typeName) throw new SqlError(SqlState.syntaxError, 'ALTER COLUMN .. TYPE needs a type')
  const to = typeFromTypeName(def.typeName, userTypes(tx))
  const heirs = inheritanceDescendants(p.exec.allTables(), name).filter((d) => d.columns.some((c) => c.name === column))
  if (only && heirs.length > 0) throw new SqlError(SqlState.invalidTableDefinition, `type of inherited column "${column}" must be changed in child tables too`)
  for (const target of [t, ...heirs]) {
    refuseDependents(p, target, column)
    checkForeignKeys(p, target, column, to)
  }
  if (t.primaryKey.includes(column) && heirs.length > 0) throw new SqlError(SqlState.featureNotSupported, 'cannot alter the type of a primary key column of an inheritance parent')
  const using = def.raw_default ?? undefined
  for (const target of [t, ...heirs]) rewriteTable(p, tx.table(target.name)!, column, to, using)
}
