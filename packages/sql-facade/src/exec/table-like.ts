/**
 * `CREATE TABLE t (LIKE s [INCLUDING ..|EXCLUDING ..])`: what a LIKE clause contributes to
 * the new table, read from the source table's (or view's) catalog entry at CREATE time.
 * As in PostgreSQL the copy is a one-off: later changes to `s` do not reach `t`.
 *
 * Always copied: column names, types and NOT NULL. On request:
 *   DEFAULTS    column defaults (a SERIAL column keeps drawing ids, from `t`'s own sequence)
 *   IDENTITY    GENERATED AS IDENTITY (a new sequence for `t`)
 *   GENERATED   generation expressions (otherwise a generated column becomes a plain one)
 *   CONSTRAINTS CHECK constraints, under their names
 *   INDEXES     the primary key, UNIQUE constraints and plain indexes (with new names)
 *   COMMENTS, STORAGE, COMPRESSION, STATISTICS: Concord keeps none of these per column,
 *   so there is nothing to copy.
 * Never copied (as in PostgreSQL): foreign keys. Also not copied: Concord's replication
 * settings (conflict policy, counter columns, regions), which `WITH (..)` sets per table.
 */
import type { ColumnSpec, TableInfo } from '@concord/core'
import type { TableLikeClause } from 'libpg-query'
import { columnMeta, metaToJson, tableMeta, ROWID, type CheckConstraint, type ColumnMeta } from '../catalog/table-meta.js'
import { readView, type ViewSource } from '../catalog/view-def.js'
import type { IndexDef } from '../catalog/secondary-index.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { typeName } from '../types/sql-type.js'

/** Bits of TableLikeClause.options, as PostgreSQL's parser sets them (CREATE_TABLE_LIKE_*). */
const LIKE = {
  comments: 1 << 0,
  compression: 1 << 1,
  constraints: 1 << 2,
  defaults: 1 << 3,
  generated: 1 << 4,
  identity: 1 << 5,
  indexes: 1 << 6,
  statistics: 1 << 7,
  storage: 1 << 8,
} as const

export interface LikeColumn {
  spec: ColumnSpec
  meta: ColumnMeta
}

/** What one LIKE clause adds to the table being created. */
export interface LikeContribution {
  columns: LikeColumn[]
  checks: CheckConstraint[]
  /** The source's primary key (INCLUDING INDEXES and the source has a declared one), else null. */
  primaryKey: string[] | null
  uniques: string[][]
  /** Plain (non-unique) indexes, by column list. */
  indexes: string[][]
}

/** Where the source relation is looked up: the statement's transaction. */
export interface LikeSource extends ViewSource {
  table(name: string): TableInfo | undefined
}

export function likeContribution(clause: TableLikeClause, source: LikeSource): LikeContribution {
  const name = clause.relation?.relname ?? ''
  const opts = clause.options ?? 0
  const has = (bit: number) => (opts & bit) !== 0
  const t = source.table(name)
  if (!t) {
    const view = readView(source, name)
    if (!view) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    // A view has no defaults, constraints or indexes: only its columns are copied.
    return {
      columns: view.columns.map((c) => ({ spec: { name: c.name, type: typeName(c.type), meta: metaToJson({ t: c.type }) }, meta: { t: c.type } })),
      checks: [], primaryKey: null, uniques: [], indexes: [],
    }
  }
  const columns: LikeColumn[] = []
  for (const c of t.columns) {
    const from = columnMeta(c)
    if (from.hidden || c.name === ROWID) continue
    const meta: ColumnMeta = { t: from.t }
    if (from.notNull) meta.notNull = true
    if (from.default !== undefined && has(LIKE.defaults)) meta.default = from.default
    if (from.serial && (has(LIKE.defaults) || has(LIKE.identity))) meta.serial = true
    if (from.generated !== undefined && has(LIKE.generated)) meta.generated = from.generated
    // Column comments, as PostgreSQL's INCLUDING COMMENTS (the table's own comment is not copied there either).
    if (from.comment !== undefined && has(LIKE.comments)) meta.comment = from.comment
    columns.push({ spec: { name: c.name, type: c.type, meta: metaToJson(meta) }, meta })
  }
  const tm = tableMeta(t)
  const checks = has(LIKE.constraints) ? tm.checks.map((k) => ({ ...k })) : []
  if (!has(LIKE.indexes)) return { columns, checks, primaryKey: null, uniques: [], indexes: [] }
  const declared = t.primaryKey.length && t.primaryKey[0] !== ROWID ? [...t.primaryKey] : tm.primaryKeyColumns ? [...tm.primaryKeyColumns] : null
  const same = (a: string[], b: string[] | null) => b !== null && a.length === b.length && a.every((x, i) => x === b[i])
  const uniques = tm.uniques.filter((u) => !same(u, declared)).map((u) => [...u])
  const indexes: string[][] = []
  for (const [, v] of source.listCatalog('index')) {
    const def = v as unknown as IndexDef | null
    // An index on expressions is not copied (LIKE .. INCLUDING INDEXES copies column indexes).
    if (def && def.table === name && !def.unique && Array.isArray(def.columns) && def.exprs === undefined) indexes.push([...def.columns])
  }
  return { columns, checks, primaryKey: declared, uniques, indexes }
}
