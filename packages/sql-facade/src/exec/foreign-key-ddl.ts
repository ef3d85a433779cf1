/**
 * DDL around foreign keys: adding them (CREATE TABLE, ALTER TABLE ADD CONSTRAINT / ADD
 * COLUMN .. REFERENCES, validating existing rows), and what other DDL must respect: a
 * referenced table cannot be dropped or truncated, nor a referenced column dropped,
 * without CASCADE (2BP01 / 0A000), as in PostgreSQL; CASCADE drops the constraints (or
 * truncates the referencing tables too).
 */
import { partitionRoot } from '../placement/partition-view.js'
import { partitionCatalog } from '../plan/partition-catalog.js'
import type { TableInfo } from '@concord/core'
import type { Constraint } from 'libpg-query'
import { foreignKeysOf, keyedTable, planForeignKey, referencingKeys } from '../catalog/foreign-key.js'
import { tableMeta, tableMetaToJson, type ForeignKey } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'

/** Constraint names a table already uses (a new one must differ). */
function constraintNames(t: TableInfo): Set<string> {
  const m = tableMeta(t)
  return new Set([...m.foreignKeys.map((f) => f.name), ...m.checks.map((c) => c.name)])
}

function writeForeignKeys(p: PlanCtx, table: TableInfo, keys: ForeignKey[]): void {
  p.exec.tx.alterTable(table.name, { meta: tableMetaToJson({ ...tableMeta(table), foreignKeys: keys }) })
}

/**
 * Adds FOREIGN KEY constraints to `tableName` (`column` set for a column constraint).
 * Existing rows are checked unless the constraint says NOT VALID (23503 on a violation).
 */
export function addForeignKeys(p: PlanCtx, tableName: string, list: Array<{ k: Constraint; column: string | null }>): void {
  if (list.length === 0) return
  const tx = p.exec.tx
  const table = tx.table(tableName)!
  if (tableMeta(table).partitionOf) throw new SqlError(SqlState.featureNotSupported, `foreign keys on partition "${tableName}" are not supported; declare them on its partitioned table`)
  const taken = constraintNames(table)
  const self = keyedTable(table)
  const added: Array<{ fk: ForeignKey; validate: boolean }> = []
  for (const { k, column } of list) {
    const fk = planForeignKey(k, self, column, taken, (n) => {
      if (n === tableName) return self
      const t = tx.table(n)
      return t ? keyedTable(t) : null
    }, (n) => n !== tableName && !!tableMeta(tx.table(n)!).partitionOf, p.exec.nextId().toString())
    taken.add(fk.name)
    added.push({ fk, validate: !k.skip_validation })
  }
  writeForeignKeys(p, table, [...foreignKeysOf(table), ...added.map((a) => a.fk)])
  const after = tx.table(tableName)!
  for (const a of added) if (a.validate) p.exec.foreignKeys.validate(after, a.fk)
}

/** ALTER TABLE .. VALIDATE CONSTRAINT: checks existing rows against a foreign key. */
export function validateForeignKey(p: PlanCtx, table: TableInfo, name: string): boolean {
  const fk = foreignKeysOf(table).find((f) => f.name === name)
  if (!fk) return false
  p.exec.foreignKeys.validate(table, fk)
  return true
}

/** ALTER TABLE .. DROP CONSTRAINT of a foreign key; false when `table` has none of that name. */
export function dropForeignKey(p: PlanCtx, table: TableInfo, name: string): boolean {
  const keys = foreignKeysOf(table)
  if (!keys.some((f) => f.name === name)) return false
  writeForeignKeys(p, table, keys.filter((f) => f.name !== name))
  return true
}

/** Removes the foreign keys `drop` selects from every table holding one; returns PostgreSQL's notices. */
function dropDependents(p: PlanCtx, dependents: Array<{ child: TableInfo; fk: ForeignKey }>, verb: string): string[] {
  const byTable = new Map<string, Set<string>>()
  for (const d of dependents) {
    let s = byTable.get(d.child.name)
    if (!s) byTable.set(d.child.name, (s = new Set()))
    s.add(d.fk.name)
  }
  for (const [name, names] of byTable) {
    const t = p.exec.tx.table(name)!
    writeForeignKeys(p, t, foreignKeysOf(t).filter((f) => !names.has(f.name)))
  }
  return dependents.map((d) => `${verb} cascades to constraint ${d.fk.name} on table ${d.child.name}`)
}

function dependencyError(what: string, dependents: Array<{ child: TableInfo; fk: ForeignKey }>, on: string): SqlError {
  return new SqlError(SqlState.dependentObjectsStillExist, `cannot drop ${what} because other objects depend on it`, {
    detail: dependents.map((d) => `constraint ${d.fk.name} on table ${d.child.name} depends on ${on}`).join('\n'),
    hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
  })
}

/**
 * Before DROP TABLE of `names`: foreign keys of other tables that reference them block
 * the drop (2BP01) unless CASCADE, which drops those constraints.
 */
export function dropTableReferences(p: PlanCtx, names: string[], cascade: boolean): string[] {
  const tables = p.exec.allTables()
  const notices: string[] = []
  for (const n of names) {
    const dependents = referencingKeys(tables, n).filter((d) => !names.includes(d.child.name))
    if (dependents.length === 0) continue
    if (!cascade) throw dependencyError(`table ${n}`, dependents, `table ${n}`)
    notices.push(...dropDependents(p, dependents, 'drop'))
  }
  return notices
}

/**
 * Before ALTER TABLE .. DROP COLUMN: the table's own foreign keys on the column go with it;
 * foreign keys of other tables referencing it block the drop unless CASCADE.
 */
export function dropColumnReferences(p: PlanCtx, table: TableInfo, column: string, cascade: boolean): string[] {
  const own = foreignKeysOf(table)
  if (own.some((f) => f.columns.includes(column))) writeForeignKeys(p, table, own.filter((f) => !f.columns.includes(column)))
  const dependents = referencingKeys(p.exec.allTables(), table.name).filter((d) => d.fk.refColumns.includes(column) && d.child.name !== table.name)
  const selfRefs = own.filter((f) => f.refTable === table.name && f.refColumns.includes(column) && !f.columns.includes(column))
  const all = [...dependents, ...selfRefs.map((fk) => ({ child: table, fk }))]
  if (all.length === 0) return []
  if (!cascade) throw dependencyError(`column ${column} of table ${table.name}`, all, `column ${column} of table ${table.name}`)
  return dropDependents(p, all, 'drop')
}

/**
 * Before DROP INDEX / DROP CONSTRAINT of a UNIQUE key on `columns`: foreign keys that
 * reference exactly that key (and not the primary key) block it unless CASCADE.
 */
export function dropUniqueReferences(p: PlanCtx, table: TableInfo, columns: string[], what: string, cascade: boolean): string[] {
  const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x))
  if (sameSet(table.primaryKey, columns)) return []
  const dependents = referencingKeys(p.exec.allTables(), table.name).filter((d) => sameSet(d.fk.refColumns, columns))
  if (dependents.length === 0) return []
  if (!cascade) throw dependencyError(what, dependents, what)
  return dropDependents(p, dependents, 'drop')
}

/**
 * TRUNCATE of `names`: a table referenced by a table not truncated with it is refused
 * (0A000) unless CASCADE, which truncates the referencing tables too. Returns every table
 * to truncate and the notices.
 */
export function truncateTargets(p: PlanCtx, names: string[], cascade: boolean): { tables: string[]; notices: string[] } {
  const tables = p.exec.allTables()
  const out = [...names]
  const notices: string[] = []
  for (let i = 0; i < out.length; i++) {
    // A partition's rows are its parent's: keys referencing the parent reference them.
    const t = tables.find((x) => x.name === out[i])
    const stored = t ? partitionRoot(t, partitionCatalog(p)).name : out[i]!
    for (const d of referencingKeys(tables, stored)) {
      if (out.includes(d.child.name)) continue
      if (!cascade) {
        throw new SqlError(SqlState.featureNotSupported, 'cannot truncate a table referenced in a foreign key constraint', {
          detail: `Table "${d.child.name}" references "${out[i]}".`,
          hint: `Truncate table "${d.child.name}" at the same time, or use TRUNCATE ... CASCADE.`,
        })
      }
      out.push(d.child.name)
      notices.push(`truncate cascades to table "${d.child.name}"`)
    }
  }
  return { tables: out, notices }
}
