/**
 * Following a table's changes over SQL (docs/live-queries.md):
 *
 *   concord_changes_position(table text) -> text
 *       this node's position in the table's change feed now (starts the feed of the
 *       table on this node if it had none);
 *   concord_changes(table text, since text) -> SETOF (position text, op text, row json)
 *       every change to the table this node applied after `since`, oldest first:
 *       op 'insert' / 'update' with the row as it now is, 'delete' with the row as it was.
 *
 * The feed itself is the node's (live/change-feed.ts), reached through
 * `ExecCtx.tableChanges`. Reading a table's changes needs SELECT on the table (42501).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { grantTarget } from '../catalog/grant-target.js'
import { RowValue } from '../types/row-type.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'
import type { TableChangeSource } from '../runtime/table-change-source.js'

/** A set-returning function as set-returning.ts takes it. */
interface ChangeRowsImpl {
  args: SqlType[]
  result: SqlType
  rows(args: RtValue[], ctx: ExecCtx): RtValue[]
}

const CHANGE_ROW: SqlType = {
  id: 'record',
  fields: [{ name: 'position', type: T.text }, { name: 'op', type: T.text }, { name: 'row', type: T.json }],
}

function sourceOf(ctx: ExecCtx): TableChangeSource {
  if (ctx.tableChanges === undefined) throw new SqlError(SqlState.featureNotSupported, 'table changes cannot be followed here')
  return ctx.tableChanges
}

/** The table named by `arg`, which the current role must be allowed to SELECT from. */
function readableTable(arg: RtValue, ctx: ExecCtx): string {
  const name = String(arg).replace(/^public\./, '')
  const target = grantTarget(ctx.tx, name)
  if (target === undefined || ctx.tx.table(name) === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  if (!ctx.role.superuser && !ctx.roles().privileges(ctx.role.oid, target).has('r')) {
    throw new SqlError(SqlState.insufficientPrivilege, `permission denied for table ${name}`)
  }
  return name
}

export const TABLE_CHANGE_FUNCTIONS: Record<string, ScalarResolver> = {
  concord_changes_position: (ts) => (ts.length === 1 ? {
    args: [T.text],
    result: T.text,
    volatile: true,
    fn: (a, ctx) => sourceOf(ctx).position(readableTable(a[0]!, ctx)),
  } : null),
}

export const TABLE_CHANGE_SET_FUNCTIONS: Record<string, (ts: SqlType[]) => ChangeRowsImpl | null> = {
  concord_changes: (ts) => (ts.length === 2 ? {
    args: [T.text, T.text],
    result: CHANGE_ROW,
    rows: (a, ctx) => {
      const changes = sourceOf(ctx).since(readableTable(a[0]!, ctx), String(a[1]))
      ctx.budget.spend(changes.length)
      return changes.map((c) => new RowValue([c.position, c.op, c.row]))
    },
  } : null),
}
