/**
 * A system view: a relation the SQL layer answers from its own state (the catalog, the
 * settings, the replica's measurements) rather than from stored rows. The planner reads
 * it like any table, so joins, filters and functions over it run through the executor.
 *
 * Invariants: a view's columns are fixed (listing them computes no rows, so pg_class and
 * pg_attribute can list every view); its rows are computed when the statement reads
 * them, from the statement's own transaction.
 */
import type { Replica } from '@concord/core'
import type { ExecCtx } from './context.js'
import type { ColumnBinding } from '../relation/scope.js'
import type { Relation } from '../relation/relation.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

/** What a view's rows are computed from. */
export interface ViewCtx {
  readonly exec: ExecCtx
  readonly replica: Replica
}

export type SystemView = (ctx: ViewCtx) => Relation

/** A view with fixed columns whose rows `rows` computes when read. */
export function view(columns: Array<[string, SqlType]>, rows: (ctx: ViewCtx) => RtValue[][]): SystemView {
  const bindings: ColumnBinding[] = columns.map(([name, type]) => ({ name, table: null, type }))
  return (ctx) => ({ columns: bindings, rows: () => rows(ctx) })
}
