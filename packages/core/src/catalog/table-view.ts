/**
 * How a shard sees its table: the catalog's TableInfo plus what resolving rows needs,
 * computed once per schema change rather than per row (effective policies, entry keys,
 * the column layout). Built by the catalog view; read by the shard.
 */
import { hasEpochs } from '../merge/column-epochs.js'
import type { ColumnInfo, PolicySpec, TableInfo } from '../types.js'
import { CATALOG_TABLE, SECRETS_TABLE } from './catalog-schema.js'
import { CATALOG_MERGE } from './definition-merge.js'

export interface TableView {
  info: TableInfo
  /** Effective policy per register column (column, table, or cluster default). */
  policies: Map<string, PolicySpec>
  /** Entry key of each column (differs from the name after DROP + ADD of one name). */
  storageKeys: Map<string, string>
  /** Columns by name. */
  columns: Map<string, ColumnInfo>
  /** True when some column is a counter or text column (no single-writer fast path). */
  special: boolean
  /** Per column in table order: name, entry key, and position in the primary key (-1 if none). */
  layout: Array<{ name: string; skey: string; pkAt: number }>
  /** Non-key column names by entry key. */
  nameByStorageKey: Map<string, string>
}

export function tableLayout(info: TableInfo, storageKeys: Map<string, string>): TableView['layout'] {
  return info.columns.map((c) => ({ name: c.name, skey: storageKeys.get(c.name) ?? c.name, pkAt: info.primaryKey.indexOf(c.name) }))
}

/**
 * The view of a user table. `defaultPolicy`: the cluster's; `columnCl(column)`: the causal
 * length of the column's catalog row (above 1 once the column was dropped and added
 * again: its entries then live under a new key, so old values do not reappear). A
 * renamed column keeps the key it had (`ColumnInfo.skey`).
 */
export function tableView(info: TableInfo, defaultPolicy: PolicySpec, columnCl: (column: string) => number): TableView {
  const fallback = info.policy ?? defaultPolicy
  const policies = new Map<string, PolicySpec>()
  const storageKeys = new Map<string, string>()
  for (const c of info.columns) {
    policies.set(c.name, c.policy ?? fallback)
    if (c.skey !== undefined) {
      storageKeys.set(c.name, c.skey)
      continue
    }
    const cl = columnCl(c.name)
    storageKeys.set(c.name, cl <= 1 ? c.name : `${c.name}#${cl}`)
  }
  const layout = tableLayout(info, storageKeys)
  return {
    info,
    policies,
    storageKeys,
    columns: new Map(info.columns.map((c) => [c.name, c])),
    special: info.columns.some((c) => c.kind !== 'register' || hasEpochs(c)),
    layout,
    nameByStorageKey: new Map(layout.filter((c) => c.pkAt < 0).map((c) => [c.skey, c.name])),
  }
}

/** The view of the catalog table itself. */
export function catalogTableView(): TableView {
  const storageKeys = new Map<string, string>()
  const layout = tableLayout(CATALOG_TABLE, storageKeys)
  return {
    info: CATALOG_TABLE,
    // Concurrent table and column definitions merge by the DDL rules; other values last-write-wins.
    policies: new Map([['value', { custom: CATALOG_MERGE }]]),
    storageKeys,
    columns: new Map(CATALOG_TABLE.columns.map((c) => [c.name, c])),
    special: false,
    layout,
    nameByStorageKey: new Map(layout.filter((c) => c.pkAt < 0).map((c) => [c.skey, c.name])),
  }
}

/** The view of the secrets table (catalog-schema.ts SECRETS_TABLE): every value last-write-wins. */
export function secretsTableView(): TableView {
  return tableView(SECRETS_TABLE, 'last_write_wins', () => 1)
}
