/**
 * How SQL-level table metadata is kept in the core catalog. Core stores columns with an
 * opaque type string and JSON meta; the facade keeps its full column type and constraints
 * there, so every replica reads the same table definition:
 *   column meta: { t: SqlType, notNull?, default?: expr text, serial?, generated?: expr text,
 *                  hidden?, unique? }
 *   table meta:  { checks: [{ name, expr }], uniques: [[col, ...]], partitionOf?,
 *                  foreignKeys?: [ForeignKey] (checked by foreign-key.ts) }
 */
import type { ColumnInfo, Json, TableInfo } from '@concord/core'
import type { SqlType, TypeId } from '../types/sql-type.js'
import { decodeLabels } from '../types/enum-type.js'
import { decodeFields } from '../types/row-type.js'
import { decodeDomainInfo } from '../types/domain-type.js'

/** DEFAULT, GENERATED and CHECK expressions are kept as their parse trees (JSON). */
export type StoredExpr = Json

export interface ColumnMeta {
  t: SqlType
  notNull?: boolean
  default?: StoredExpr
  serial?: boolean
  generated?: StoredExpr
  hidden?: boolean
}

/** What happens to referencing rows when a referenced key is deleted or changed. */
export type ForeignKeyAction = 'no_action' | 'restrict' | 'cascade' | 'set_null' | 'set_default'

export interface ForeignKey {
  name: string
  /** Referencing columns of the child table. */
  columns: string[]
  refTable: string
  /** Referenced columns of the parent, pairwise with `columns`. */
  refColumns: string[]
  match: 'simple' | 'full'
  onDelete: ForeignKeyAction
  onUpdate: ForeignKeyAction
  /** `ON DELETE SET NULL (a, b)`: only these columns are set. */
  deleteSetColumns?: string[]
  deferrable?: boolean
  initiallyDeferred?: boolean
  /**
   * Creation order (a node-unique, time-ordered id as decimal text): referential actions
   * of several keys on one parent run in this order, as PostgreSQL fires its RI triggers
   * in creation order, so the same violation is reported first.
   */
  order?: string
}

export interface CheckConstraint {
  name: string
  expr: StoredExpr
  /** `CHECK (..) NO INHERIT`: not given to inheritance children. */
  noInherit?: boolean
}

export interface TableMeta {
  checks: CheckConstraint[]
  uniques: string[][]
  /** FOREIGN KEY constraints of this (referencing) table. */
  foreignKeys: ForeignKey[]
  /** A session's temporary table (session/temp-schema.ts): never in the replicated catalog. */
  temporary?: boolean
  /**
   * A primary key added by ALTER TABLE to a table created without one: its constraint name
   * and columns (enforced as NOT NULL + unique; rows stay stored under their hidden row id).
   */
  primaryKeyName?: string
  primaryKeyColumns?: string[]
  /** Name of the partitioned parent, for `PARTITION OF` tables. */
  partitionOf?: string
  /** Partition bound as given: { modulus, remainder } or { values } or { from, to }. */
  bound?: Json
  /** `INHERITS (a, b)`: the parent tables, in order (catalog/table-inheritance.ts). */
  inherits?: string[]
}

export const ROWID = '_rowid'

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** An enum column's type name and its copy of the labels (checked: they come from the replicated catalog). */
function enumDetails(t: { [k: string]: Json }): Pick<SqlType, 'name' | 'labels' | 'fields'> {
  if (t['id'] === 'record' && typeof t['name'] === 'string') {
    const fields = decodeFields({ fields: t['fields'] ?? null })
    return fields ? { name: t['name'], fields } : { name: t['name'] }
  }
  if (t['id'] !== 'enum' || typeof t['name'] !== 'string') return {}
  const labels = decodeLabels(t['labels'] ?? null)
  return labels ? { name: t['name'], labels } : { name: t['name'] }
}

/** A domain column's constraints (checked: they come from the replicated catalog). */
function domainDetails(t: { [k: string]: Json }): Pick<SqlType, 'domain'> {
  const info = t['domain'] === undefined ? null : decodeDomainInfo(t['domain'])
  return info ? { domain: info } : {}
}

export function columnMeta(c: ColumnInfo): ColumnMeta {
  const m = c.meta
  if (isObject(m) && isObject(m.t)) {
    const t = m.t as unknown as SqlType
    return {
      t: {
        id: t.id as TypeId, ...(t.precision !== undefined ? { precision: t.precision } : {}), ...(t.scale !== undefined ? { scale: t.scale } : {}), ...(t.array === true ? { array: true } : {}),
        ...enumDetails(m.t),
        ...domainDetails(m.t),
        ...(typeof m.t['range'] === 'number' && m.t['id'] === 'interval' ? { range: m.t['range'] } : {}),
      },
      notNull: m.notNull === true,
      default: m.default ?? undefined,
      serial: m.serial === true,
      generated: m.generated ?? undefined,
      hidden: m.hidden === true,
    }
  }
  // A table created through the core API directly: guess from the type string.
  return { t: { id: (['int4', 'int8', 'text', 'bool', 'float8', 'numeric'].includes(c.type) ? c.type : 'text') as TypeId } }
}

export function tableMeta(t: TableInfo): TableMeta {
  const m = t.meta
  if (!isObject(m)) return { checks: [], uniques: [], foreignKeys: [] }
  return {
    checks: Array.isArray(m.checks) ? (m.checks as unknown as CheckConstraint[]) : [],
    uniques: Array.isArray(m.uniques) ? (m.uniques as unknown as string[][]) : [],
    foreignKeys: Array.isArray(m.foreignKeys) ? (m.foreignKeys as unknown as ForeignKey[]) : [],
    partitionOf: typeof m.partitionOf === 'string' ? m.partitionOf : undefined,
    bound: m.bound,
    ...(Array.isArray(m.inherits) && m.inherits.length > 0 ? { inherits: m.inherits.filter((x): x is string => typeof x === 'string') } : {}),
    ...(m.temporary === true ? { temporary: true } : {}),
    ...(typeof m.primaryKeyName === 'string' && Array.isArray(m.primaryKeyColumns)
      ? { primaryKeyName: m.primaryKeyName, primaryKeyColumns: m.primaryKeyColumns as string[] }
      : {}),
  }
}

export function metaToJson(m: ColumnMeta): Json {
  const out: { [k: string]: Json } = { t: { ...m.t } as unknown as Json }
  if (m.notNull) out.notNull = true
  if (m.default !== undefined) out.default = m.default
  if (m.serial) out.serial = true
  if (m.generated !== undefined) out.generated = m.generated
  if (m.hidden) out.hidden = true
  return out
}

export function tableMetaToJson(m: TableMeta): Json {
  const out: { [k: string]: Json } = { checks: m.checks as unknown as Json, uniques: m.uniques }
  if (m.foreignKeys.length > 0) out.foreignKeys = m.foreignKeys as unknown as Json
  if (m.partitionOf) out.partitionOf = m.partitionOf
  if (m.bound !== undefined) out.bound = m.bound
  if (m.temporary === true) out.temporary = true
  if (m.inherits !== undefined && m.inherits.length > 0) out.inherits = m.inherits
  if (m.primaryKeyName !== undefined && m.primaryKeyColumns !== undefined) {
    out.primaryKeyName = m.primaryKeyName
    out.primaryKeyColumns = m.primaryKeyColumns
  }
  return out
}
