/**
 * Foreign key definitions: how `REFERENCES` / `FOREIGN KEY (..) REFERENCES` is checked
 * against the tables it names and stored. A foreign key lives in the referencing (child)
 * table's meta in the replicated catalog (`TableMeta.foreignKeys`), so every node enforces
 * the same constraints; `runtime/foreign-key-checks.ts` enforces them.
 *
 * Invariants: `columns` and `refColumns` have the same length; `refColumns` are the
 * parent's primary key or one of its UNIQUE constraints (as a set); the types of each pair
 * compare without a lossy cast. Partitions never carry their own foreign keys: a
 * partitioned parent's keys apply to every row written through it.
 */
import type { TableInfo } from '@concord/core'
import type { Constraint } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import { canCast } from '../types/cast.js'
import { typeName, type SqlType } from '../types/sql-type.js'
import { columnMeta, ROWID, sharedTableMeta, tableMeta, type ForeignKey, type ForeignKeyAction } from './table-meta.js'

const ACTIONS: Record<string, ForeignKeyAction> = { a: 'no_action', r: 'restrict', c: 'cascade', n: 'set_null', d: 'set_default' }

/** A table's columns as a foreign key definition sees them (the table may not exist yet). */
export interface KeyedTable {
  name: string
  columns: Array<{ name: string; type: SqlType }>
  primaryKey: string[]
  uniques: string[][]
}

export function keyedTable(t: TableInfo): KeyedTable {
  return {
    name: t.name,
    columns: t.columns.map((c) => ({ name: c.name, type: columnMeta(c).t })),
    primaryKey: t.primaryKey.length === 1 && t.primaryKey[0] === ROWID ? [] : t.primaryKey,
    uniques: tableMeta(t).uniques,
  }
}

export function foreignKeysOf(t: TableInfo): ForeignKey[] {
  return sharedTableMeta(t).foreignKeys
}

/** `referencingKeys` answers per table list: a replica's list stays the same array until a table changes. */
const referencingMemo = new WeakMap<readonly TableInfo[], Map<string, ReadonlyArray<{ child: TableInfo; fk: ForeignKey }>>>()

/**
 * The foreign keys that reference `parent`, with their child tables (partitions excluded).
 * Every UPDATE and DELETE asks (runtime/foreign-key-checks.ts): answered once per list of
 * tables and parent.
 */
export function referencingKeys(tables: readonly TableInfo[], parent: string): ReadonlyArray<{ child: TableInfo; fk: ForeignKey }> {
  let byParent = referencingMemo.get(tables)
  if (byParent === undefined) referencingMemo.set(tables, (byParent = new Map()))
  const known = byParent.get(parent)
  if (known !== undefined) return known
  const out: Array<{ child: TableInfo; fk: ForeignKey }> = []
  for (const t of tables) {
    const m = sharedTableMeta(t)
    if (m.partitionOf) continue
    for (const fk of m.foreignKeys) if (fk.refTable === parent) out.push({ child: t, fk })
  }
  const rank = (fk: ForeignKey) => BigInt(fk.order ?? '0')
  const sorted = Object.freeze(out.sort((a, b) => (rank(a.fk) < rank(b.fk) ? -1 : rank(a.fk) > rank(b.fk) ? 1 : 0)))
  byParent.set(parent, sorted)
  return sorted
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

/** PostgreSQL's default name: `<table>_<col>_<col>_fkey`, made unique among `taken`. */
function defaultName(table: string, columns: string[], taken: Set<string>): string {
  const base = `${table}_${columns.join('_')}_fkey`.slice(0, 63)
  if (!taken.has(base)) return base
  for (let i = 1; ; i++) {
    const n = `${base.slice(0, 63 - String(i).length)}${i}`
    if (!taken.has(n)) return n
  }
}

/**
 * Checks a FOREIGN KEY / REFERENCES constraint against its child and parent and returns
 * its definition. `column` is set for a column constraint (`pid int REFERENCES p`).
 * `parentOf` resolves the referenced table (the child itself for a self-reference).
 */
export function planForeignKey(k: Constraint, child: KeyedTable, column: string | null, taken: Set<string>, parentOf: (name: string) => KeyedTable | null, parentIsPartition: (name: string) => boolean, order: string): ForeignKey {
  const columns = column !== null ? [column] : nameList(k.fk_attrs)
  const refName = k.pktable?.relname ?? ''
  const parent = parentOf(refName)
  if (parent === null) throw new SqlError(SqlState.undefinedTable, `relation "${refName}" does not exist`)
  if (parentIsPartition(refName)) throw new SqlError(SqlState.featureNotSupported, `a foreign key cannot reference partition "${refName}"; reference its partitioned table`)
  for (const c of columns) {
    if (!child.columns.some((x) => x.name === c)) throw new SqlError(SqlState.undefinedColumn, `column "${c}" referenced in foreign key constraint does not exist`)
  }
  let refColumns = nameList(k.pk_attrs)
  if (refColumns.length === 0) {
    if (parent.primaryKey.length === 0) throw new SqlError(SqlState.undefinedObject, `there is no primary key for referenced table "${refName}"`)
    refColumns = parent.primaryKey
  } else {
    for (const c of refColumns) {
      if (!parent.columns.some((x) => x.name === c)) throw new SqlError(SqlState.undefinedColumn, `column "${c}" referenced in foreign key constraint does not exist`)
    }
  }
  if (refColumns.length !== columns.length) throw new SqlError(SqlState.invalidForeignKey, 'number of referencing and referenced columns for foreign key disagree')
  if (!sameSet(refColumns, parent.primaryKey) && !parent.uniques.some((u) => sameSet(u, refColumns))) {
    throw new SqlError(SqlState.invalidForeignKey, `there is no unique constraint matching given keys for referenced table "${refName}"`)
  }
  if (k.fk_matchtype === 'p') throw new SqlError(SqlState.featureNotSupported, 'MATCH PARTIAL not yet implemented')
  const name = k.conname ?? defaultName(child.name, columns, taken)
  if (taken.has(name)) throw new SqlError(SqlState.duplicateObject, `constraint "${name}" for relation "${child.name}" already exists`)
  columns.forEach((c, i) => {
    const ct = child.columns.find((x) => x.name === c)!.type
    const pt = parent.columns.find((x) => x.name === refColumns[i])!.type
    if (!comparable(ct, pt)) {
      throw new SqlError(SqlState.datatypeMismatch, `foreign key constraint "${name}" cannot be implemented`, {
        detail: `Key columns "${c}" and "${refColumns[i]}" are of incompatible types: ${typeName(ct)} and ${typeName(pt)}.`,
      })
    }
  })
  const fk: ForeignKey = {
    name,
    columns,
    refTable: refName,
    refColumns,
    match: k.fk_matchtype === 'f' ? 'full' : 'simple',
    onDelete: ACTIONS[k.fk_del_action ?? 'a'] ?? 'no_action',
    onUpdate: ACTIONS[k.fk_upd_action ?? 'a'] ?? 'no_action',
    order,
  }
  const setCols = nameList(k.fk_del_set_cols)
  if (setCols.length > 0) {
    for (const c of setCols) {
      if (!child.columns.some((x) => x.name === c)) throw new SqlError(SqlState.undefinedColumn, `column "${c}" referenced in foreign key constraint does not exist`)
      if (!columns.includes(c)) throw new SqlError(SqlState.invalidColumnReference, `column "${c}" referenced in ON DELETE SET action must be part of foreign key`)
    }
    fk.deleteSetColumns = setCols
  }
  if (k.deferrable) fk.deferrable = true
  if (k.initdeferred) {
    fk.deferrable = true
    fk.initiallyDeferred = true
  }
  return fk
}

/** Whether child and parent key types compare exactly (PostgreSQL needs an equality operator). */
function comparable(a: SqlType, b: SqlType): boolean {
  if (a.id === b.id && !!a.array === !!b.array) return a.name === b.name
  const numeric = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8']
  if (numeric.includes(a.id) && numeric.includes(b.id)) return true
  const text = ['text', 'varchar', 'bpchar', 'name']
  if (text.includes(a.id) && text.includes(b.id)) return true
  // cidr is binary-coercible to inet: both compare with inet's operators.
  if ((a.id === 'inet' || a.id === 'cidr') && (b.id === 'inet' || b.id === 'cidr') && !a.array && !b.array) return true
  return canCast(a, b, 'implicit') && canCast(b, a, 'implicit')
}
