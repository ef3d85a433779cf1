/**
 * DDL of table inheritance (catalog/table-inheritance.ts): what `CREATE TABLE .. INHERITS
 * (a, b)` takes from its parents, `ALTER TABLE child [NO] INHERIT parent`, and the checks
 * other DDL makes on inheritance parents and children, with PostgreSQL's errors.
 *
 * A child gets every parent's (visible) columns first, in parent order, with their types,
 * NOT NULL and defaults, merged by name when parents share one (same type required), and
 * the parents' CHECK constraints except NO INHERIT ones. Primary keys, UNIQUE constraints,
 * indexes and foreign keys are not inherited (as in PostgreSQL). Rows stay in each table's
 * own storage: only the catalog records the relation, so every master reads the same
 * hierarchy once the catalog has replicated.
 */
import type { ColumnSpec, TableInfo } from '@concord/core'
import type { ColumnDef, CreateStmt, Node } from 'libpg-query'
import { columnMeta, metaToJson, tableMeta, tableMetaToJson, ROWID, type CheckConstraint, type ColumnMeta } from '../catalog/table-meta.js'
import { childrenOf, inheritanceAncestors, parentsOf } from '../catalog/table-inheritance.js'
import { readView } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { typeName } from '../types/sql-type.js'

export interface InheritedColumn {
  spec: ColumnSpec
  meta: ColumnMeta
}

/** What the parents of `CREATE TABLE .. INHERITS (..)` give the new table. */
export interface InheritedDefinition {
  parents: string[]
  columns: InheritedColumn[]
  checks: CheckConstraint[]
  notices: string[]
}

function typeConflict(column: string, a: ColumnMeta, b: ColumnMeta, inherited: boolean): SqlError {
  return new SqlError(SqlState.datatypeMismatch, `${inherited ? 'inherited ' : ''}column "${column}" has a type conflict`, {
    detail: `${typeName(a.t)} versus ${typeName(b.t)}`,
  })
}

/** A CHECK constraint marked NO INHERIT stays on its own table. */
export function isNoInheritCheck(c: CheckConstraint): boolean {
  return c.noInherit === true
}

/** The parents' columns and constraints for a new child named `name` (temporary or not). */
export function inheritedDefinition(stmt: CreateStmt, p: PlanCtx, name: string, temporary: boolean): InheritedDefinition {
  const tx = p.exec.tx
  const parents: string[] = []
  const columns: InheritedColumn[] = []
  const checks: CheckConstraint[] = []
  const notices: string[] = []
  for (const r of stmt.inhRelations ?? []) {
    const pname = 'RangeVar' in r ? r.RangeVar.relname ?? '' : ''
    const parent = tx.table(pname)
    if (!parent) {
      if (readView(tx, pname)) throw new SqlError(SqlState.wrongObjectType, `inherited relation "${pname}" is not a table or foreign table`)
      throw new SqlError(SqlState.undefinedTable, `relation "${pname}" does not exist`)
    }
    if (parents.includes(pname)) throw new SqlError(SqlState.duplicateTable, `relation "${pname}" would be inherited from more than once`)
    if (tableMeta(parent).temporary === true && !temporary) throw new SqlError(SqlState.wrongObjectType, `cannot inherit from temporary relation "${pname}"`)
    parents.push(pname)
    for (const c of parent.columns) {
      const m = columnMeta(c)
      if (m.hidden || c.name === ROWID) continue
      const same = columns.find((x) => x.spec.name === c.name)
      if (same) {
        if (typeName(same.meta.t) !== typeName(m.t)) throw typeConflict(c.name, same.meta, m, true)
        notices.push(`merging multiple inherited definitions of column "${c.name}"`)
        if (m.notNull) same.meta.notNull = true
        if (same.meta.default === undefined && m.default !== undefined) same.meta.default = m.default
        same.spec.meta = metaToJson(same.meta)
        continue
      }
      // A parent's SERIAL column keeps drawing node-unique ids in the child (from the child's own range).
      const meta: ColumnMeta = { t: m.t, ...(m.notNull ? { notNull: true } : {}), ...(m.default !== undefined ? { default: m.default } : {}), ...(m.serial ? { serial: true } : {}), ...(m.generated !== undefined ? { generated: m.generated } : {}) }
      columns.push({ spec: { name: c.name, type: c.type, ...(c.kind ? { kind: c.kind } : {}), meta: metaToJson(meta) }, meta })
    }
    for (const k of tableMeta(parent).checks) {
      if (isNoInheritCheck(k) || checks.some((x) => x.name === k.name)) continue
      checks.push({ name: k.name, expr: k.expr })
    }
  }
  void name
  return { parents, columns, checks, notices }
}

/**
 * A local column definition naming an inherited column: merged into it (PostgreSQL's
 * NOTICE), its type must be the same; its NOT NULL, DEFAULT and CHECKs add to the
 * inherited definition.
 */
export function mergeLocalColumn(inherited: InheritedColumn, local: { spec: ColumnSpec; meta: ColumnMeta }, def: ColumnDef): string {
  const name = inherited.spec.name
  if (typeName(inherited.meta.t) !== typeName(local.meta.t)) throw typeConflict(name, inherited.meta, local.meta, false)
  const hasDefault = (def.constraints ?? []).some((c) => 'Constraint' in c && c.Constraint.contype === 'CONSTR_DEFAULT')
  if (local.meta.notNull) inherited.meta.notNull = true
  if (hasDefault) inherited.meta.default = local.meta.default
  if (local.meta.generated !== undefined) inherited.meta.generated = local.meta.generated
  inherited.spec.meta = metaToJson(inherited.meta)
  return `merging column "${name}" with inherited definition`
}

/** `ALTER TABLE child INHERIT parent`: the child must already have the parent's columns. */
export function addInherit(p: PlanCtx, childName: string, target: Node | undefined): void {
  const tx = p.exec.tx
  const pname = target && 'RangeVar' in target ? target.RangeVar.relname ?? '' : ''
  const child = tx.table(childName)!
  const parent = tx.table(pname)
  if (!parent) throw new SqlError(SqlState.undefinedTable, `relation "${pname}" does not exist`)
  if (parent.partitioning || tableMeta(parent).partitionOf) throw new SqlError(SqlState.wrongObjectType, `cannot inherit from ${parent.partitioning ? 'partitioned table' : 'a partition'} "${pname}"`)
  if (child.partitioning || tableMeta(child).partitionOf) throw new SqlError(SqlState.wrongObjectType, `cannot change inheritance of ${child.partitioning ? 'partitioned table' : 'a partition'}`)
  if (pname === childName || inheritanceAncestors(p.exec.allTables(), parent).includes(childName)) {
    throw new SqlError(SqlState.duplicateTable, `circular inheritance not allowed`, { detail: `"${childName}" is already a child of "${pname}".` })
  }
  if (parentsOf(child).includes(pname)) throw new SqlError(SqlState.duplicateTable, `relation "${pname}" would be inherited from more than once`)
  for (const c of parent.columns) {
    const m = columnMeta(c)
    if (m.hidden || c.name === ROWID) continue
    const own = child.columns.find((x) => x.name === c.name)
    if (!own) throw new SqlError(SqlState.datatypeMismatch, `child table is missing column "${c.name}"`)
    const om = columnMeta(own)
    if (typeName(om.t) !== typeName(m.t)) throw new SqlError(SqlState.datatypeMismatch, `child table "${childName}" has different type for column "${c.name}"`)
    if (m.notNull && !om.notNull) throw new SqlError(SqlState.datatypeMismatch, `column "${c.name}" in child table must be marked NOT NULL`)
  }
  const cm = tableMeta(child)
  for (const k of tableMeta(parent).checks) {
    if (isNoInheritCheck(k)) continue
    if (!cm.checks.some((x) => x.name === k.name)) throw new SqlError(SqlState.datatypeMismatch, `child table is missing constraint "${k.name}"`)
  }
  tx.alterTable(childName, { meta: tableMetaToJson({ ...cm, inherits: [...parentsOf(child), pname] }) })
}

/** `ALTER TABLE child NO INHERIT parent`: the child keeps its columns and constraints. */
export function dropInherit(p: PlanCtx, childName: string, target: Node | undefined): void {
  const tx = p.exec.tx
  const pname = target && 'RangeVar' in target ? target.RangeVar.relname ?? '' : ''
  const child = tx.table(childName)!
  if (!tx.table(pname)) throw new SqlError(SqlState.undefinedTable, `relation "${pname}" does not exist`)
  if (!parentsOf(child).includes(pname)) throw new SqlError(SqlState.undefinedTable, `relation "${pname}" is not a parent of relation "${childName}"`)
  const cm = tableMeta(child)
  tx.alterTable(childName, { meta: tableMetaToJson({ ...cm, inherits: parentsOf(child).filter((x) => x !== pname) }) })
}

/** Whether `column` of `t` came from one of its parents (it may not be dropped or renamed on the child alone). */
export function isInheritedColumn(p: PlanCtx, t: TableInfo, column: string): boolean {
  return parentsOf(t).some((pn) => p.exec.tx.table(pn)?.columns.some((c) => c.name === column) === true)
}

/** A CHECK constraint of `t` that it has from a parent (it may not be dropped on the child alone). */
export function isInheritedCheck(p: PlanCtx, t: TableInfo, name: string): boolean {
  return parentsOf(t).some((pn) => {
    const parent = p.exec.tx.table(pn)
    return parent !== undefined && tableMeta(parent).checks.some((c) => c.name === name && !isNoInheritCheck(c))
  })
}

/** DROP TABLE of a parent without CASCADE: PostgreSQL's 2BP01 while children exist. */
export function checkNoChildren(p: PlanCtx, name: string, dropping: readonly string[]): void {
  const kids = childrenOf(p.exec.allTables(), name).filter((c) => !dropping.includes(c.name))
  if (kids.length === 0) return
  throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop table ${name} because other objects depend on it`, {
    detail: kids.map((k) => `table ${k.name} depends on table ${name}`).join('\n'),
    hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
  })
}
