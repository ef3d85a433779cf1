/**
 * `concord_conflicts`: this node's conflict history (see conflict-log.ts), oldest first.
 * `losing_values` and `nodes` are text[]. A conflict shows row keys and values, so a role
 * sees only those of tables it may SELECT (`readable`).
 */
import type { ColumnBinding } from '../relation/scope.js'
import type { Relation } from '../relation/relation.js'
import { SqlArray } from '../types/array.js'
import { arrayOf, T, type SqlType } from '../types/sql-type.js'
import type { ConflictLog } from './conflict-log.js'

const COLUMNS: Array<[string, SqlType]> = [
  ['table_name', T.text],
  ['key', T.text],
  ['column_name', T.text],
  ['kind', T.text],
  ['policy', T.text],
  ['winning_value', T.text],
  ['winning_node', T.text],
  ['losing_values', arrayOf(T.text)],
  ['nodes', arrayOf(T.text)],
  ['resolved_at', T.timestamptz],
]

export function conflictsView(log: ConflictLog, readable: (table: string) => boolean = () => true): Relation {
  const columns: ColumnBinding[] = COLUMNS.map(([name, type]) => ({ name, table: null, type }))
  return {
    columns,
    rows: () =>
      log.list().filter((e) => readable(e.table)).map((e) => [e.table, e.key, e.column, e.kind, e.policy, e.winningValue, e.winningNode, SqlArray.of(e.losingValues), SqlArray.of(e.nodes), e.at * 1000]),
  }
}
