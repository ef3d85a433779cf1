/**
 * ALTER TABLE/VIEW/INDEX .. RENAME [COLUMN]: renames through the replicated catalog.
 *
 * Core keeps a renamed table's rows where they are (its storage keeps the old name) and a
 * renamed column's values under their old entry key, so a node that has not seen the
 * rename yet and writes with the old names writes into the renamed table and column. What
 * the SQL layer keeps by name is rewritten here in the same transaction: index
 * definitions, foreign keys (this table's and those referencing it), partitions'
 * `partitionOf`, CHECK and generated expressions, sequences' OWNED BY, publications'
 * table lists, and the queries of views reading a renamed table or view (the relation
 * keeps its old name as an alias, so qualified references still resolve).
 *
 * RENAME CONSTRAINT renames a CHECK, a foreign key, or a UNIQUE constraint with its index.
 *
 * Refused loudly (0A000) rather than done halfway: renaming a column a view reads (a view
 * fixes its columns when created), a primary key constraint, and sequences.
 */
import { inheritanceDescendants } from '../catalog/table-inheritance.js'
import { isInheritedCheck, isInheritedColumn } from './inherits-ddl.js'
import type { Json, TableInfo } from '@concord/core'
import type { RenameStmt } from 'libpg-query'
import { columnMeta, metaToJson, tableMeta, tableMetaToJson, type ForeignKey } from '../catalog/table-meta.js'
import type { IndexDef } from '../catalog/secondary-index.js'
import { listViews, readView, VIEW_KIND, type ViewDef } from '../catalog/view-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { asPublication, publicationJson, PUBLICATION_KIND } from '../replication/replication-catalog.js'
import { decodeSequence, encodeSequence, SEQUENCE_KIND } from '../sequences/sequence-definition.js'
import { utility, type StatementResult } from '../runtime/result.js'

export function execRename(stmt: RenameStmt, p: PlanCtx): StatementResult {
  const newName = stmt.newname ?? ''
  switch (stmt.renameType) {
    case 'OBJECT_TABLE': case 'OBJECT_VIEW': case 'OBJECT_INDEX': {
      // As in PostgreSQL, ALTER TABLE / VIEW / INDEX .. RENAME renames the relation of that name whatever its kind.
      const name = stmt.relation?.relname ?? ''
      const tag = stmt.renameType === 'OBJECT_VIEW' ? 'ALTER VIEW' : stmt.renameType === 'OBJECT_INDEX' ? 'ALTER INDEX' : 'ALTER TABLE'
      const index = p.exec.tx.getCatalog('index', name) as unknown as IndexDef | null | undefined
      if (p.exec.tx.table(name) !== undefined) renameTable(p, name, newName)
      else if (readView(p.exec.tx, name) !== undefined) renameView(p, name, newName)
      else if (index !== undefined && index !== null) {
        checkFree(p, newName)
        p.exec.tx.setCatalog('index', name, null)
        p.exec.tx.setCatalog('index', newName, { ...index, name: newName } as unknown as Json)
      } else if (stmt.missing_ok) return utility(tag, [`relation "${name}" does not exist, skipping`])
      else throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
      return utility(tag)
    }
    case 'OBJECT_COLUMN': {
      const table = stmt.relation?.relname ?? ''
      const tag = stmt.relationType === 'OBJECT_VIEW' ? 'ALTER VIEW' : 'ALTER TABLE'
      if (p.exec.tx.table(table) === undefined) {
        if (readView(p.exec.tx, table) !== undefined) throw new SqlError(SqlState.featureNotSupported, 'renaming a column of a view is not supported')
        if (stmt.missing_ok) return utility(tag, [`relation "${table}" does not exist, skipping`])
        throw new SqlError(SqlState.undefinedTable, `relation "${table}" does not exist`)
      }
      // ONLY cannot rename a column the children inherit (they would lose it): PostgreSQL's 42P16.
      if (stmt.relation?.inh !== true && inheritanceDescendants(p.exec.allTables(), table).some((d) => d.columns.some((c) => c.name === stmt.subname))) {
        throw new SqlError(SqlState.invalidTableDefinition, `inherited column "${stmt.subname ?? ''}" must be renamed in child tables too`)
      }
      renameColumn(p, table, stmt.subname ?? '', newName)
      return utility(tag)
    }
    case 'OBJECT_TABCONSTRAINT': {
      const table = stmt.relation?.relname ?? ''
      const info = p.exec.tx.table(table)
      if (info === undefined) {
        if (stmt.missing_ok) return utility('ALTER TABLE', [`relation "${table}" does not exist, skipping`])
        throw new SqlError(SqlState.undefinedTable, `relation "${table}" does not exist`)
      }
      const cname = stmt.subname ?? ''
      if (isInheritedCheck(p, info, cname)) throw new SqlError(SqlState.invalidTableDefinition, `cannot rename inherited constraint "${cname}"`)
      const heirs = tableMeta(info).checks.some((c) => c.name === cname && c.noInherit !== true)
        ? inheritanceDescendants(p.exec.allTables(), table).filter((d) => tableMeta(d).checks.some((c) => c.name === cname))
        : []
      if (heirs.length > 0 && stmt.relation?.inh !== true) throw new SqlError(SqlState.invalidTableDefinition, `inherited constraint "${cname}" must be renamed in child tables too`)
      renameConstraint(p, info, cname, newName)
      // The children's inherited copies follow.
      for (const d of heirs) renameConstraint(p, p.exec.tx.table(d.name)!, cname, newName)
      return utility('ALTER TABLE')
    }
  }
  throw new SqlError(SqlState.featureNotSupported, `ALTER ${String(stmt.renameType).replace('OBJECT_', '')} .. RENAME is not supported`)
}

/** A relation name (table, view, index, sequence) is free, or 42P07. */
function checkFree(p: PlanCtx, name: string): void {
  const tx = p.exec.tx
  const taken = tx.table(name) !== undefined || readView(tx, name) !== undefined || (tx.getCatalog('index', name) ?? null) !== null || decodeSequence(tx.getCatalog(SEQUENCE_KIND, name)) !== null
  if (taken) throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
}

/** RENAME CONSTRAINT of a CHECK, FOREIGN KEY or UNIQUE constraint (a UNIQUE one is named by its index). */
function renameConstraint(p: PlanCtx, info: TableInfo, name: string, newName: string): void {
  const tx = p.exec.tx
  const meta = tableMeta(info)
  const unique = tx.listCatalog('index').map(([, v]) => v as unknown as IndexDef).filter((d) => d.table === info.name && d.unique)
  const taken = [...meta.checks.map((c) => c.name), ...meta.foreignKeys.map((k) => k.name), ...unique.map((d) => d.name), meta.primaryKeyName ?? `${info.name}_pkey`]
  if (!taken.includes(name)) throw new SqlError(SqlState.undefinedObject, `constraint "${name}" for table "${info.name}" does not exist`)
  if (taken.includes(newName)) throw new SqlError(SqlState.duplicateObject, `constraint "${newName}" for relation "${info.name}" already exists`)
  if (meta.checks.some((c) => c.name === name)) {
    tx.alterTable(info.name, { meta: tableMetaToJson({ ...meta, checks: meta.checks.map((c) => (c.name === name ? { ...c, name: newName } : c)) }) })
  } else if (meta.foreignKeys.some((k) => k.name === name)) {
    tx.alterTable(info.name, { meta: tableMetaToJson({ ...meta, foreignKeys: meta.foreignKeys.map((k) => (k.name === name ? { ...k, name: newName } : k)) }) })
  } else {
    const index = unique.find((d) => d.name === name)
    if (index === undefined) throw new SqlError(SqlState.featureNotSupported, 'renaming a primary key constraint is not supported')
    checkFree(p, newName)
    tx.setCatalog('index', name, null)
    tx.setCatalog('index', newName, { ...index, name: newName } as unknown as Json)
  }
}

function renameTable(p: PlanCtx, name: string, newName: string): void {
  const tx = p.exec.tx
  checkFree(p, newName)
  tx.renameTable(name, newName)
  for (const [key, v] of tx.listCatalog(PUBLICATION_KIND)) {
    const pub = asPublication(v)
    if (pub !== null && pub.tables.includes(name)) tx.setCatalog(PUBLICATION_KIND, key, publicationJson({ ...pub, tables: pub.tables.map((t) => (t === name ? newName : t)) }))
  }
  for (const [iname, v] of tx.listCatalog('index')) {
    const def = v as unknown as IndexDef
    if (def.table === name) tx.setCatalog('index', iname, { ...def, table: newName } as unknown as Json)
  }
  for (const t of tx.tables()) {
    const meta = tableMeta(t)
    const fks = meta.foreignKeys.map((k): ForeignKey => (k.refTable === name ? { ...k, refTable: newName } : k))
    const moved = fks.some((k, i) => k !== meta.foreignKeys[i])
    const inherits = meta.inherits?.includes(name) === true ? meta.inherits.map((x) => (x === name ? newName : x)) : meta.inherits
    if (moved || meta.partitionOf === name || inherits !== meta.inherits) {
      tx.alterTable(t.name, {
        meta: tableMetaToJson({ ...meta, foreignKeys: fks, ...(meta.partitionOf === name ? { partitionOf: newName } : {}), ...(inherits ? { inherits } : {}) }),
      })
    }
  }
  for (const [sname, v] of tx.listCatalog(SEQUENCE_KIND)) {
    const def = decodeSequence(v)
    if (def?.ownedBy?.startsWith(`${name}.`) === true) tx.setCatalog(SEQUENCE_KIND, sname, encodeSequence({ ...def, ownedBy: `${newName}.${def.ownedBy.slice(name.length + 1)}` }))
  }
  renameInViews(p, name, newName)
}

function renameView(p: PlanCtx, name: string, newName: string): void {
  const tx = p.exec.tx
  checkFree(p, newName)
  const def = readView(tx, name)!
  tx.setCatalog(VIEW_KIND, name, null)
  tx.setCatalog(VIEW_KIND, newName, { ...def, name: newName } as unknown as Json)
  renameInViews(p, name, newName)
}

/** Views reading relation `name` read `newName`, aliased to the old name (their column references stay valid). */
function renameInViews(p: PlanCtx, name: string, newName: string): void {
  for (const v of listViews(p.exec.tx)) {
    if (!v.relations.includes(name)) continue
    const query = rewriteRangeVars(v.query, name, newName) as Json
    const next: ViewDef = { ...v, query, relations: v.relations.map((r) => (r === name ? newName : r)).sort() }
    p.exec.tx.setCatalog(VIEW_KIND, v.name, next as unknown as Json)
  }
}

function rewriteRangeVars(node: unknown, name: string, newName: string): unknown {
  if (Array.isArray(node)) return node.map((x) => rewriteRangeVars(x, name, newName))
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const rv = k === 'RangeVar' ? (v as { relname?: string; schemaname?: string; alias?: unknown }) : null
    if (rv !== null && rv.relname === name && (rv.schemaname === undefined || rv.schemaname === 'public')) {
      out[k] = { ...rv, relname: newName, alias: rv.alias ?? { aliasname: name } }
    } else {
      out[k] = rewriteRangeVars(v, name, newName)
    }
  }
  return out
}

/** An expression of table `table` with its references to column `from` renamed. */
function rewriteColumnRefs(node: unknown, table: string, from: string, to: string): unknown {
  if (Array.isArray(node)) return node.map((x) => rewriteColumnRefs(x, table, from, to))
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const fields = k === 'ColumnRef' ? (v as { fields?: Array<{ String?: { sval?: string } }> }).fields : undefined
    const last = fields?.[fields.length - 1]?.String?.sval
    const qualifier = fields !== undefined && fields.length >= 2 ? fields[fields.length - 2]?.String?.sval : table
    if (fields !== undefined && last === from && qualifier === table) {
      out[k] = { ...(v as object), fields: [...fields.slice(0, -1), { String: { sval: to } }] }
    } else {
      out[k] = rewriteColumnRefs(v, table, from, to)
    }
  }
  return out
}

function mentionsColumn(node: unknown, column: string): boolean {
  if (Array.isArray(node)) return node.some((x) => mentionsColumn(x, column))
  if (node === null || typeof node !== 'object') return false
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === 'ColumnRef') {
      const fields = (v as { fields?: Array<{ String?: { sval?: string }; A_Star?: unknown }> }).fields ?? []
      const last = fields[fields.length - 1]
      if (last?.String?.sval === column || last?.A_Star !== undefined) return true
    } else if (mentionsColumn(v, column)) return true
  }
  return false
}

function renameColumn(p: PlanCtx, table: string, column: string, newName: string): void {
  const tx = p.exec.tx
  const info = tx.table(table)!
  const col = info.columns.find((c) => c.name === column)
  if (col === undefined || columnMeta(col).hidden === true) throw new SqlError(SqlState.undefinedColumn, `column "${column}" does not exist`)
  if (info.columns.some((c) => c.name === newName)) throw new SqlError(SqlState.duplicateColumn, `column "${newName}" of relation "${table}" already exists`)
  for (const v of listViews(tx)) {
    if (v.relations.includes(table) && mentionsColumn(v.query, column)) {
      throw new SqlError(SqlState.featureNotSupported, `cannot rename column "${column}" of table "${table}": view "${v.name}" reads it`, { hint: 'Drop the view, rename the column, and create the view again.' })
    }
  }
  if (tableMeta(info).partitionOf !== undefined || isInheritedColumn(p, info, column)) throw new SqlError(SqlState.invalidTableDefinition, `cannot rename inherited column "${column}"`)
  // Partitions carry a copy of their parent's columns, and inheritance children inherit them: they follow.
  const family = [info, ...p.exec.allTables().filter((t) => tableMeta(t).partitionOf === table)]
  for (const d of inheritanceDescendants(p.exec.allTables(), table)) if (d.columns.some((c) => c.name === column)) family.push(d)
  for (const t of family) renameOwnColumn(p, t, column, newName)
  const swap = (c: string): string => (c === column ? newName : c)
  for (const t of tx.tables()) {
    const meta = tableMeta(t)
    if (!meta.foreignKeys.some((k) => k.refTable === table && k.refColumns.includes(column))) continue
    const fks = meta.foreignKeys.map((k): ForeignKey => (k.refTable === table ? { ...k, refColumns: k.refColumns.map(swap) } : k))
    tx.alterTable(t.name, { meta: tableMetaToJson({ ...tableMeta(tx.table(t.name)!), foreignKeys: fks }) })
  }
  for (const [sname, v] of tx.listCatalog(SEQUENCE_KIND)) {
    const def = decodeSequence(v)
    if (def?.ownedBy === `${table}.${column}`) tx.setCatalog(SEQUENCE_KIND, sname, encodeSequence({ ...def, ownedBy: `${table}.${newName}` }))
  }
}

/** Renames a column of one table and what the table itself says of it (constraints, indexes, expressions). */
function renameOwnColumn(p: PlanCtx, info: TableInfo, column: string, newName: string): void {
  const tx = p.exec.tx
  const swap = (c: string): string => (c === column ? newName : c)
  tx.renameColumn(info.name, column, newName)
  const meta = tableMeta(tx.table(info.name)!)
  tx.alterTable(info.name, {
    meta: tableMetaToJson({
      ...meta,
      checks: meta.checks.map((c) => ({ ...c, expr: rewriteColumnRefs(c.expr, info.name, column, newName) as Json })),
      uniques: meta.uniques.map((u) => u.map(swap)),
      foreignKeys: meta.foreignKeys.map((k) => ({
        ...k,
        columns: k.columns.map(swap),
        ...(k.refTable === info.name ? { refColumns: k.refColumns.map(swap) } : {}),
        ...(k.deleteSetColumns ? { deleteSetColumns: k.deleteSetColumns.map(swap) } : {}),
      })),
      ...(meta.primaryKeyColumns ? { primaryKeyColumns: meta.primaryKeyColumns.map(swap) } : {}),
    }),
  })
  for (const c of tx.table(info.name)!.columns) {
    const m = columnMeta(c)
    if (m.generated === undefined && m.default === undefined) continue
    const next = { ...m }
    if (m.generated !== undefined) next.generated = rewriteColumnRefs(m.generated, info.name, column, newName) as Json
    if (m.default !== undefined) next.default = rewriteColumnRefs(m.default, info.name, column, newName) as Json
    if (JSON.stringify(next) !== JSON.stringify(m)) tx.alterColumn(info.name, c.name, { meta: metaToJson(next) })
  }
  for (const [iname, v] of tx.listCatalog('index')) {
    const def = v as unknown as IndexDef
    if (def.table === info.name && def.columns.includes(column)) tx.setCatalog('index', iname, { ...def, columns: def.columns.map(swap) } as unknown as Json)
  }
}
