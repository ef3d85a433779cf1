/**
 * Partition bounds as written (`FOR VALUES ..`) and `ALTER TABLE parent ATTACH PARTITION t
 * FOR VALUES ..` / `DETACH PARTITION t`.
 *
 * A partition's rows are stored in the table at the top of its PARTITION OF chain (the
 * root; partition-view.ts), so attaching moves the attached table's rows into the root and
 * detaching moves the partition's rows out of the root into the table's own storage, both
 * inside the statement's transaction: they commit together with the catalog change or not
 * at all. The partition metadata (`partitionOf`, `bound`) lives in the replicated catalog.
 *
 * Multi-master: a node that writes directly into a table while another node attaches it
 * writes into the table's own storage; after the two changes merge those rows stay in that
 * storage (kept, never deleted) but read neither through the parent nor the partition until
 * the table is detached again. Rows written through the parent while another node detaches
 * the partition stay in the parent's storage and read through the parent. No row is lost;
 * docs/compatibility.md says so.
 */
import type { Json, TableInfo } from '@concord/core'
import type { AlterTableCmd, CreateStmt, Node, PartitionBoundSpec } from 'libpg-query'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { columnMeta, tableMeta, tableMetaToJson } from '../catalog/table-meta.js'
import { referencingKeys } from '../catalog/foreign-key.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import { partitionCatalog } from '../plan/partition-catalog.js'
import { partitionFilter, partitionKeyExprs, partitionKeyReader, partitionMatcher, partitionRoot, type Bound } from '../placement/partition-view.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { checkNewPartitionBound, checkPersistence } from '../plan/partition-bounds.js'
import { compileExpr } from '../expr/compile.js'
import { Scope } from '../relation/scope.js'
import { formatText } from '../types/text-format.js'
import { typeName } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { TableWriter, type GivenRow } from './table-writer.js'

/**
 * A bound datum as stored: its value as text, 'NULL', 'MINVALUE' or 'MAXVALUE'. Constant
 * expressions (`to_char(12, '99')::int`) are evaluated once, as PostgreSQL does.
 */
function datum(n: Node, p: PlanCtx, infinities: boolean): string {
  // A zero integer constant arrives as `ival: {}`.
  if ('A_Const' in n && n.A_Const.isnull === true) return 'NULL'
  if ('A_Const' in n) {
    // Zero values arrive as empty objects (`ival: {}`, `boolval: {}`).
    const c = n.A_Const
    if (c.ival !== undefined) return String(c.ival.ival ?? 0)
    if (c.boolval !== undefined) return String(c.boolval.boolval ?? false)
    if (c.fval !== undefined) return c.fval.fval ?? '0'
    return c.sval?.sval ?? ''
  }
  if ('ColumnRef' in n) {
    const name = nameList(n.ColumnRef.fields)
    const word = name.length === 1 ? name[0]!.toUpperCase() : ''
    if (infinities && (word === 'MINVALUE' || word === 'MAXVALUE')) return word
    throw new SqlError(SqlState.featureNotSupported, 'cannot use column reference in partition bound expression')
  }
  if (holds(n, 'ColumnRef')) throw new SqlError(SqlState.featureNotSupported, 'cannot use column reference in partition bound expression')
  if (holds(n, 'SubLink')) throw new SqlError(SqlState.featureNotSupported, 'cannot use subquery in partition bound')
  const c = compileExpr(n, makeCompileCtx(p, new Scope([])))
  const v = c.eval({ row: [], outer: null })
  return v === null ? 'NULL' : formatText(v, c.type) ?? 'NULL'
}

/** Whether a parse tree holds a node of kind `kind` (a column reference, a subquery) anywhere. */
export function holds(node: unknown, kind: string): boolean {
  if (Array.isArray(node)) return node.some((x) => holds(x, kind))
  if (typeof node !== 'object' || node === null) return false
  return kind in node || Object.values(node).some((x) => holds(x, kind))
}

/** The stored form of a `FOR VALUES ..` clause (partition-view.ts reads it). */
export function partitionBound(pb: PartitionBoundSpec, p: PlanCtx): Json {
  if (pb.is_default === true) return { default: true }
  if (pb.strategy === 'h') return { modulus: pb.modulus ?? 0, remainder: pb.remainder ?? 0 }
  if (pb.strategy === 'l') return { values: (pb.listdatums ?? []).map((n) => datum(n, p, false)) }
  return { from: (pb.lowerdatums ?? []).map((n) => datum(n, p, true)), to: (pb.upperdatums ?? []).map((n) => datum(n, p, true)) }
}

/** PostgreSQL allows one DEFAULT partition per partitioned table. */
export function checkOneDefault(p: PlanCtx, parent: string, name: string, bound: Json): void {
  if ((bound as { default?: boolean }).default !== true) return
  const other = p.exec.allTables().find((t) => tableMeta(t).partitionOf === parent && (tableMeta(t).bound as { default?: boolean } | undefined)?.default === true)
  if (other) throw new SqlError(SqlState.invalidObjectDefinition, `partition "${name}" conflicts with existing default partition "${other.name}"`)
}

/** Rows already in the parent's DEFAULT partition must not belong to a new partition (PostgreSQL's 23514). */
export function checkDefaultKeepsRows(p: PlanCtx, parent: TableInfo, newPart: { name: string; bound: Json }): void {
  const cat = partitionCatalog(p)
  const def = cat.partitionsOf(parent.name).find((t) => (tableMeta(t).bound as { default?: boolean } | undefined)?.default === true)
  if (!def || (newPart.bound as { default?: boolean }).default === true) return
  const root = partitionRoot(parent, cat)
  const cols = tableColumns(root, root.name)
  const inDefault = partitionFilter(cat, def, cols)
  const probe = { ...def, name: newPart.name, meta: { ...(def.meta as Record<string, Json>), bound: newPart.bound } } as TableInfo
  const test = partitionMatcher(parent, probe)
  const read = partitionKeyReader(parent, cols, cat)
  if (!read) return
  for (const row of p.exec.rows.scan(root.name)) {
    const r = decodeRow(row, cols)
    if (inDefault(r) && test(read(r))) {
      throw new SqlError(SqlState.checkViolation, `updated partition constraint for default partition "${def.name}" would be violated by some row`)
    }
  }
}

function visibleColumns(t: TableInfo): Map<string, string> {
  return new Map(t.columns.filter((c) => !columnMeta(c).hidden).map((c) => [c.name, typeName(columnMeta(c).t)]))
}

/** `ALTER TABLE parent ATTACH PARTITION name FOR VALUES ..`. */
export function attachPartition(p: PlanCtx, parentName: string, cmd: AlterTableCmd): void {
  const tx = p.exec.tx
  const parent = tx.table(parentName)!
  if (!parent.partitioning) throw new SqlError(SqlState.wrongObjectType, `table "${parentName}" is not partitioned`)
  const pc = cmd.def && 'PartitionCmd' in cmd.def ? cmd.def.PartitionCmd : null
  const name = pc?.name?.relname ?? ''
  const child = tx.table(name)
  if (!child) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  if (child.name === parentName) throw new SqlError(SqlState.wrongObjectType, `cannot attach a table as a partition of itself`)
  const cm = tableMeta(child)
  if (cm.partitionOf) throw new SqlError(SqlState.invalidObjectDefinition, `"${name}" is already a partition`)
  checkPersistence(parent, cm.temporary === true, 'attach')
  if (p.exec.allTables().some((t) => tableMeta(t).partitionOf === parentName) && partitionRoot(parent, partitionCatalog(p)).name === name) {
    throw new SqlError(SqlState.wrongObjectType, `circular inheritance not allowed`)
  }
  // Same columns by name and type (the order may differ, as in PostgreSQL).
  const want = visibleColumns(parent)
  const have = visibleColumns(child)
  for (const [c, t] of have) {
    if (!want.has(c)) throw new SqlError(SqlState.datatypeMismatch, `table "${name}" contains column "${c}" not found in parent "${parentName}"`, { detail: 'The new partition may contain only the columns present in parent.' })
    if (want.get(c) !== t) throw new SqlError(SqlState.datatypeMismatch, `child table "${name}" has different type for column "${c}"`)
  }
  for (const c of want.keys()) if (!have.has(c)) throw new SqlError(SqlState.datatypeMismatch, `child table is missing column "${c}"`)
  // The partitioned table's foreign keys apply to rows written through it; a key of the
  // table's own that the partitioned table lacks could not be enforced on its rows.
  const own = tableMeta(partitionRoot(parent, partitionCatalog(p))).foreignKeys
  const lacking = cm.foreignKeys.find((fk) => !own.some((o) => o.refTable === fk.refTable && o.columns.join() === fk.columns.join() && o.refColumns.join() === fk.refColumns.join()))
  if (lacking) {
    throw new SqlError(SqlState.featureNotSupported, `cannot attach table "${name}": its foreign key "${lacking.name}" is not one of "${parentName}"'s`, { hint: 'Declare the foreign key on the partitioned table, or drop it from the table first.' })
  }
  const bound = partitionBound(pc!.bound ?? {}, p)
  checkNewPartitionBound(parent, name, bound as Bound, p.exec.allTables().filter((t) => tableMeta(t).partitionOf === parentName))
  checkOneDefault(p, parentName, name, bound)
  checkDefaultKeepsRows(p, parent, { name, bound })
  // The table's rows, read before it becomes a partition (a partitioned table's are its own storage).
  const childCols = tableColumns(child, name)
  const rows = [...p.exec.rows.scan(name)].map((r) => ({ key: child.primaryKey.map((c) => r[c] ?? null), row: decodeRow(r, childCols) }))
  tx.alterTable(name, { meta: tableMetaToJson({ ...cm, foreignKeys: [], partitionOf: parentName, bound }) })
  const attached = tx.table(name)!
  const cat = partitionCatalog(p)
  const root = partitionRoot(attached, cat)
  const w = new TableWriter(root, p)
  const inBound = partitionFilter(cat, attached, w.columns)
  for (const { key, row } of rows) {
    const given: GivenRow = []
    childCols.forEach((c, i) => {
      const at = w.columns.findIndex((x) => x.name === c.name)
      if (at >= 0 && !(c.hidden && !root.primaryKey.includes(c.name))) given[at] = row[i] ?? null
    })
    const moved = w.newRow(given)
    if (!inBound(moved)) throw new SqlError(SqlState.checkViolation, `partition constraint of relation "${name}" is violated by some row`)
    p.exec.rows.delete(name, key)
    w.insert(moved)
  }
}

/** `ALTER TABLE parent DETACH PARTITION name`: the partition's rows move into its own storage. */
export function detachPartition(p: PlanCtx, parentName: string, cmd: AlterTableCmd): void {
  const tx = p.exec.tx
  const pc = cmd.def && 'PartitionCmd' in cmd.def ? cmd.def.PartitionCmd : null
  const name = pc?.name?.relname ?? ''
  const child = tx.table(name)
  if (!child) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  if (tableMeta(child).partitionOf !== parentName) throw new SqlError(SqlState.undefinedTable, `relation "${name}" is not a partition of relation "${parentName}"`)
  const cat = partitionCatalog(p)
  // CONCURRENTLY runs as a plain DETACH (one transaction), but keeps PostgreSQL's refusal.
  if (pc?.concurrent === true && cat.partitionsOf(parentName).some((t) => (tableMeta(t).bound as { default?: boolean } | undefined)?.default === true)) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, 'cannot detach partitions concurrently when a default partition exists')
  }
  const root = partitionRoot(child, cat)
  const cols = tableColumns(root, root.name)
  const keep = partitionFilter(cat, child, cols)
  const rows = [...p.exec.rows.scan(root.name)].map((r) => ({ key: root.primaryKey.map((c) => r[c] ?? null), row: decodeRow(r, cols) })).filter((x) => keep(x.row))
  checkNotReferenced(p, root, name, cols, rows.map((r) => r.row))
  const cm = tableMeta(child)
  // The detached table keeps the partitioned table's foreign keys, as PostgreSQL's clones.
  tx.alterTable(name, { meta: tableMetaToJson({ ...cm, foreignKeys: tableMeta(root).foreignKeys, partitionOf: undefined, bound: undefined }) })
  const w = new TableWriter(tx.table(name)!, p)
  for (const { key, row } of rows) {
    const given: GivenRow = []
    cols.forEach((c, i) => {
      const at = w.columns.findIndex((x) => x.name === c.name)
      if (at >= 0) given[at] = row[i] ?? null
    })
    // Raw delete: the rows move, so no referential action fires.
    p.exec.rows.delete(root.name, key)
    w.insert(w.newRow(given))
  }
}

/** DROP TABLE of a partition: its rows, stored in the root, go with it (as in PostgreSQL). */
export function deletePartitionRows(p: PlanCtx, t: TableInfo): void {
  const cat = partitionCatalog(p)
  const root = partitionRoot(t, cat)
  if (root === t) return
  const cols = tableColumns(root, root.name)
  const keep = partitionFilter(cat, t, cols)
  const doomed = [...p.exec.rows.scan(root.name)].filter((r) => keep(decodeRow(r, cols)))
  for (const r of doomed) p.exec.rows.delete(root.name, root.primaryKey.map((c) => r[c] ?? null))
}

/** A partitioned table's partitions at every depth, deepest first (the order to drop them in). */
export function partitionDescendants(p: PlanCtx, name: string): string[] {
  const out: string[] = []
  const visit = (n: string, depth: number): void => {
    if (depth > 64) return
    for (const t of p.exec.allTables()) {
      if (tableMeta(t).partitionOf !== n) continue
      visit(t.name, depth + 1)
      out.push(t.name)
    }
  }
  visit(name, 0)
  return out
}

/** INHERITS and partitioning do not mix: PostgreSQL's errors (42P17, 42809). */
export function checkInheritsPartitioning(stmt: CreateStmt, p: PlanCtx): void {
  if (stmt.partspec) throw new SqlError(SqlState.invalidObjectDefinition, 'cannot create partitioned table as inheritance child')
  for (const r of stmt.inhRelations ?? []) {
    const t = 'RangeVar' in r ? p.exec.tx.table(r.RangeVar.relname ?? '') : undefined
    if (t?.partitioning) throw new SqlError(SqlState.wrongObjectType, `cannot inherit from partitioned table "${t.name}"`)
    if (t && tableMeta(t).partitionOf) throw new SqlError(SqlState.wrongObjectType, `cannot inherit from partition "${t.name}"`)
  }
}

/** ALTER TABLE .. ADD / DROP COLUMN on a partitioned table or a partition: PostgreSQL's restrictions. */
export function checkPartitionColumnChange(p: PlanCtx, t: TableInfo, change: 'add' | 'drop', column: string, only: boolean): void {
  if (tableMeta(t).partitionOf) {
    if (change === 'add') throw new SqlError(SqlState.wrongObjectType, 'cannot add column to a partition')
    throw new SqlError(SqlState.invalidTableDefinition, `cannot drop inherited column "${column}"`)
  }
  if (!t.partitioning) return
  if (change === 'drop' && (t.partitioning.columns.includes(column) || partitionKeyExprs(t).some((e) => e !== null && columnNamed(e.expr, column)))) {
    throw new SqlError(SqlState.invalidTableDefinition, `cannot drop column "${column}" because it is part of the partition key of relation "${t.name}"`)
  }
  if (only && p.exec.allTables().some((x) => tableMeta(x).partitionOf === t.name)) {
    throw new SqlError(SqlState.invalidTableDefinition, change === 'add' ? 'column must be added to child tables too' : 'cannot drop column from only the partitioned table when partitions exist')
  }
}

/** Rows leaving a referenced partitioned table must not be referenced (PostgreSQL's 23503 on DETACH). */
function checkNotReferenced(p: PlanCtx, root: TableInfo, partition: string, cols: ReturnType<typeof tableColumns>, rows: RtValue[][]): void {
  for (const { child, fk } of referencingKeys(p.exec.allTables(), root.name)) {
    const at = fk.refColumns.map((c) => cols.findIndex((x) => x.name === c))
    for (const row of rows) {
      const values = at.map((i) => row[i] ?? null)
      if (values.some((v) => v === null) || p.exec.rows.matching(child, fk.columns, values).length === 0) continue
      throw new SqlError(SqlState.foreignKeyViolation, `removing partition "${partition}" violates foreign key constraint "${fk.name}"`, {
        detail: `Key (${fk.refColumns.join(', ')})=(${values.map((v, i) => formatText(v, cols[at[i]!]!.type)).join(', ')}) is still referenced from table "${child.name}".`,
      })
    }
  }
}

/**
 * ALTER TABLE constraint changes PostgreSQL refuses on partitioned tables and partitions:
 * NO INHERIT checks on a partitioned table, ONLY when partitions exist, and removing from
 * a partition what it has from its partitioned table.
 */
export function checkPartitionConstraintChange(p: PlanCtx, t: TableInfo, cmd: AlterTableCmd, only: boolean): void {
  const k = cmd.def && 'Constraint' in cmd.def ? cmd.def.Constraint : null
  const adds = cmd.subtype === 'AT_SetNotNull' || (cmd.subtype === 'AT_AddConstraint' && k?.contype === 'CONSTR_CHECK')
  const removes = cmd.subtype === 'AT_DropNotNull' || cmd.subtype === 'AT_DropConstraint'
  if (t.partitioning) {
    if (cmd.subtype === 'AT_AddConstraint' && k?.is_no_inherit === true) {
      throw new SqlError(SqlState.invalidTableDefinition, `cannot add NO INHERIT constraint to partitioned table "${t.name}"`)
    }
    if (only && (adds || removes) && p.exec.allTables().some((x) => tableMeta(x).partitionOf === t.name)) {
      throw new SqlError(SqlState.invalidTableDefinition, adds ? 'constraint must be added to child tables too' : 'cannot remove constraint from only the partitioned table when partitions exist')
    }
  }
  const parentName = tableMeta(t).partitionOf
  const parent = parentName ? p.exec.tx.table(parentName) : undefined
  if (!parent) return
  if (cmd.subtype === 'AT_DropNotNull') {
    const col = parent.columns.find((c) => c.name === cmd.name)
    if (col && columnMeta(col).notNull === true) throw new SqlError(SqlState.invalidTableDefinition, `column "${cmd.name}" is marked NOT NULL in parent table`)
  }
  if (cmd.subtype === 'AT_DropConstraint' && tableMeta(parent).checks.some((c) => c.name === cmd.name)) {
    throw new SqlError(SqlState.invalidTableDefinition, `cannot drop inherited constraint "${cmd.name}" of relation "${t.name}"`)
  }
}

/** Whether an expression's parse tree names a column (a ColumnRef ending in it). */
function columnNamed(tree: Json, column: string, depth = 0): boolean {
  if (depth > 200 || tree === null || typeof tree !== 'object') return false
  if (Array.isArray(tree)) return tree.some((x) => columnNamed(x, column, depth + 1))
  const ref = tree['ColumnRef']
  if (ref && typeof ref === 'object' && !Array.isArray(ref) && Array.isArray(ref['fields'])) {
    const last = ref['fields'][ref['fields'].length - 1] as { String?: { sval?: string } } | undefined
    if (last?.String?.sval === column) return true
  }
  return Object.values(tree).some((x) => columnNamed(x, column, depth + 1))
}
