/**
 * pg_prepared_statements and pg_cursors: the running session's SQL prepared statements
 * (PREPARE) and cursors (DECLARE), from ExecCtx.sessionObjects. Statements prepared
 * through the extended query protocol are not listed (docs/compatibility.md).
 */
import { SqlArray } from '../types/array.js'
import { arrayOf, T, typeOid } from '../types/sql-type.js'
import { view, type SystemView } from '../runtime/system-view.js'

export const pgPreparedStatements: SystemView = view(
  [
    ['name', T.text], ['statement', T.text], ['prepare_time', T.timestamptz], ['parameter_types', arrayOf(T.regtype)], ['from_sql', T.bool],
    ['generic_plans', T.int8], ['custom_plans', T.int8],
  ],
  (ctx) => ctx.exec.sessionObjects().prepared.map((p) => [p.name, p.text, p.preparedAt, SqlArray.of(p.parameterTypes.map(typeOid)), true, 0n, 0n]),
)

export const pgCursors: SystemView = view(
  [['name', T.text], ['statement', T.text], ['is_holdable', T.bool], ['is_binary', T.bool], ['is_scrollable', T.bool], ['creation_time', T.timestamptz]],
  (ctx) => ctx.exec.sessionObjects().cursors.map((c) => [c.name, c.text, c.hold, c.binary, c.scroll, c.createdAt]),
)
