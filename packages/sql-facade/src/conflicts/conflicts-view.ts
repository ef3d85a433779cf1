/**
 * `concord_conflicts`: this node's conflict history (see conflict-log.ts), oldest first.
 * `losing_values` and `nodes` print as PostgreSQL arrays of text.
 */
import type { ColumnBinding } from '../expr/scope.js'
import type { Relation } from '../plan/relation.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { ConflictLog } from './conflict-log.js'

const COLUMNS: Array<[string, SqlType]> = [
  ['table_name', T.text],
  ['key', T.text],
  ['column_name', T.text],
  ['kind', T.text],
  ['policy', T.text],
  ['winning_value', T.text],
  ['winning_node', T.text],
  ['losing_values', T.text],
  ['nodes', T.text],
  ['resolved_at', T.timestamptz],
]

export function conflictsView(log: ConflictLog): Relation {
  const columns: ColumnBinding[] = COLUMNS.map(([name, type]) => ({ name, table: null, type }))
  return {
    columns,
    rows: () =>
      log.list().map((e) => [e.table, e.key, e.column, e.kind, e.policy, e.winningValue, e.winningNode, arrayText(e.losingValues), arrayText(e.nodes), e.at * 1000]),
  }
}

/** A text[] literal as PostgreSQL prints one: elements quoted when they need it, NULL bare. */
export function arrayText(items: Array<string | null>): string {
  return `{${items.map((s) => (s === null ? 'NULL' : s === '' || /[\s",{}\\]/.test(s) || s.toUpperCase() === 'NULL' ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s)).join(',')}}`
}
