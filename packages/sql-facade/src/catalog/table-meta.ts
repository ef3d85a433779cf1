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
import { decodeTriggers, type TriggerDef } from './trigger-def.js'

/** DEFAULT, GENERATED and CHECK expressions are kept as their parse trees (JSON). */
export type StoredExpr = Json

export interface ColumnMeta {
  t: SqlType
  notNull?: boolean
  default?: StoredExpr
  serial?: boolean
  /** `GENERATED ALWAYS | BY DEFAULT AS IDENTITY` (a serial column too): ALWAYS refuses given values (428C9). */
  identity?: 'always' | 'default'
  /** An identity's `START WITH` / `INCREMENT BY`: the column's n-th drawn id becomes start + (n - 1) * increment. */
  identityStart?: number
  identityIncrement?: number
  generated?: StoredExpr
  hidden?: boolean
  /** COMMENT ON COLUMN (col_description, pg_description). */
  comment?: string
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
  /** CREATE TRIGGER (catalog/trigger-def.ts), in creation order. */
  triggers?: TriggerDef[]
  /** COMMENT ON TABLE (obj_description, pg_description). */
  comment?: string
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
      ...(m.identity === 'always' || m.identity === 'default' ? { identity: m.identity } : {}),
      ...(typeof m.identityStart === 'number' ? { identityStart: m.identityStart } : {}),
      ...(typeof m.identityIncrement === 'number' ? { identityIncrement: m.identityIncrement } : {}),
      generated: m.generated ?? undefined,
      hidden: m.hidden === true,
      ...(typeof m.comment === 'string' ? { comment: m.comment } : {}),
    }
  }
  // A table created through the core API directly: guess from the type string.
  return { t: { id: (['int4', 'int8', 'text', 'bool', 'float8', 'numeric'].includes(c.type) ? c.type : 'text') as TypeId } }
}

/** Shared answers of `sharedColumnMeta`, by column (a catalog's ColumnInfo is never changed in place). */
const sharedMetas = new WeakMap<ColumnInfo, Readonly<ColumnMeta>>()

/**
 * `columnMeta(c)`, computed once per column and shared by every caller: for the paths that
 * read it per statement (each INSERT and UPDATE builds its writer's bindings from it), where
 * building it afresh was a tenth of what a pgbench transaction allocated. Frozen, with its
 * type, so no reader can change what the others see; a caller that edits a column's meta
 * (DDL) takes its own copy from `columnMeta`.
 */
export function sharedColumnMeta(c: ColumnInfo): Readonly<ColumnMeta> {
  let m = sharedMetas.get(c)
  if (m === undefined) {
    const fresh = columnMeta(c)
    Object.freeze(fresh.t)
    m = Object.freeze(fresh)
    sharedMetas.set(c, m)
  }
  return m
}

/** Shared answers of `sharedTableMeta`, by table (a catalog's TableInfo is never changed in place). */
const sharedTableMetas = new WeakMap<TableInfo, Readonly<TableMeta>>()

/**
 * `tableMeta(t)`, computed once per table and shared: for reads per statement or per row
 * (the inheritance walk of every UPDATE and DELETE asks it of every table). Frozen, with
 * the list of parents it makes; its other lists are the catalog's own, as `tableMeta`'s
 * are. A caller that edits a table's meta (DDL) takes its own copy from `tableMeta`.
 */
export function sharedTableMeta(t: TableInfo): Readonly<TableMeta> {
  let m = sharedTableMetas.get(t)
  if (m === undefined) {
    const fresh = tableMeta(t)
    if (fresh.inherits !== undefined) Object.freeze(fresh.inherits)
    m = Object.freeze(fresh)
    sharedTableMetas.set(t, m)
  }
  return m
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
    ...(Array.isArray(m.triggers) && m.triggers.length > 0 ? { triggers: decodeTriggers(m.triggers) } : {}),
    ...(typeof m.primaryKeyName === 'string' && Array.isArray(m.primaryKeyColumns)
      ? { primaryKeyName: m.primaryKeyName, primaryKeyColumns: m.primaryKeyColumns as string[] }
      : {}),
    ...(typeof m.comment === 'string' ? { comment: m.comment } : {}),
  }
}

export function metaToJson(m: ColumnMeta): Json {
  const out: { [k: string]: Json } = { t: { ...m.t } as unknown as Json }
  if (m.notNull) out.notNull = true
  if (m.default !== undefined) out.default = m.default
  if (m.serial) out.serial = true
  if (m.identity) out.identity = m.identity
  if (m.identityStart !== undefined) out.identityStart = m.identityStart
  if (m.identityIncrement !== undefined) out.identityIncrement = m.identityIncrement
  if (m.generated !== undefined) out.generated = m.generated
  if (m.hidden) out.hidden = true
  if (m.comment !== undefined) out.comment = m.comment
  return out
}

export function tableMetaToJson(m: TableMeta): Json {
  const out: { [k: string]: Json } = { checks: m.checks as unknown as Json, uniques: m.uniques }
  if (m.foreignKeys.length > 0) out.foreignKeys = m.foreignKeys as unknown as Json
  if (m.partitionOf) out.partitionOf = m.partitionOf
  if (m.bound !== undefined) out.bound = m.bound
  if (m.temporary === true) out.temporary = true
  if (m.inherits !== undefined && m.inherits.length > 0) out.inherits = m.inherits
  if (m.triggers !== undefined && m.triggers.length > 0) out.triggers = m.triggers as unknown as Json
  if (m.primaryKeyName !== undefined && m.primaryKeyColumns !== undefined) {
    out.primaryKeyName = m.primaryKeyName
    out.primaryKeyColumns = m.primaryKeyColumns
  }
  if (m.comment !== undefined) out.comment = m.comment
  return out
}
