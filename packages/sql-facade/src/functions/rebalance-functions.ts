/**
 * The plan of ALTER TABLE .. REBALANCE SHARDS, shown before it runs:
 *
 *   concord_rebalance_plan(table text) -> SETOF (table_name text, shard text, partition int4,
 *       rows int8, bytes int8, from_nodes text, to_nodes text, action text)
 *
 * One row per placed shard of the table (placement/rebalance-plan.ts): its size as a
 * holder reported it just before the statement ran, the nodes holding it now and after
 * the rebalance (comma lists of node ids), and `action` 'move' or 'stay'. Shards without
 * a placement (held by every node of the table's regions) are not listed: they weigh the
 * same everywhere. 08001 when no holder of some placed shard answered.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { RowValue } from '../types/row-type.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { ExecCtx } from '../runtime/context.js'
import type { RtValue } from '../types/value.js'
import { moves } from '../placement/rebalance-plan.js'

/** A set-returning function as set-returning.ts takes it. */
interface PlanRowsImpl {
  args: SqlType[]
  result: SqlType
  rows(args: RtValue[], ctx: ExecCtx): RtValue[]
}

const PLAN_ROW: SqlType = {
  id: 'record',
  fields: [
    { name: 'table_name', type: T.text }, { name: 'shard', type: T.text }, { name: 'partition', type: T.int4 }, { name: 'rows', type: T.int8 },
    { name: 'bytes', type: T.int8 }, { name: 'from_nodes', type: T.text }, { name: 'to_nodes', type: T.text }, { name: 'action', type: T.text },
  ],
}

export const REBALANCE_SET_FUNCTIONS: Record<string, (ts: SqlType[]) => PlanRowsImpl | null> = {
  concord_rebalance_plan: (ts) => (ts.length === 1 ? {
    args: [T.text],
    result: PLAN_ROW,
    rows: (a, ctx) => {
      if (ctx.rebalancePlan === undefined) throw new SqlError(SqlState.featureNotSupported, 'no rebalance plan can be made here')
      const table = String(a[0])
      return ctx.rebalancePlan(table).map((s) => new RowValue([
        table.replace(/^public\./, ''), s.name, s.partition, BigInt(s.rows), BigInt(s.bytes), [...s.holders].sort().join(','), [...s.to].sort().join(','), moves(s) ? 'move' : 'stay',
      ]))
    },
  } : null),
}
