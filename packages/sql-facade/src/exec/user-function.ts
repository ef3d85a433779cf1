/**
 * SQL-language user functions (CREATE FUNCTION .. LANGUAGE SQL): the body is parsed
 * once per text and run as a query whose scope holds the arguments by name (and $n).
 * The value of the last statement's first column of its first row is the result.
 */
import type { SelectStmt } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx, TriggerCall, UserFunction } from '../runtime/context.js'
import { callPlpgsql, callPlpgsqlSet } from './plpgsql.js'
import { RowValue } from '../types/scalar-value.js'
import { coerce } from '../expr/coerce.js'
import { Scope } from '../relation/scope.js'
import type { Relation } from '../relation/relation.js'
import { parseScript } from '../parser/parse.js'
import { planSelect } from '../plan/select.js'
import { rootPlanCtx } from './plan-root.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

const MAX_DEPTH = 32
const bodies = new Map<string, SelectStmt>()

function bodyOf(def: UserFunction): SelectStmt {
  if (def.bodyTree !== undefined) return def.bodyTree as unknown as SelectStmt
  let stmt = bodies.get(def.body)
  if (!stmt) {
    const stmts = parseScript(def.body)
    const last = stmts[stmts.length - 1]
    if (!last || last.kind !== 'pg' || !('SelectStmt' in last.node)) {
      throw new SqlError(SqlState.featureNotSupported, `function ${def.name}: only a SELECT body is supported`)
    }
    stmt = last.node.SelectStmt
    if (bodies.size > 500) bodies.clear()
    bodies.set(def.body, stmt)
  }
  return stmt
}

/** A LANGUAGE SQL body's last SELECT, run with the call's arguments as its parameters. */
function runSqlBody(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[]): { rel: Relation; rows: RtValue[][] } {
  if (ctx.depth >= MAX_DEPTH) throw new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded')
  const stmt = bodyOf(def)
  const inner: ExecCtx = { ...ctx, params: args, paramTypes: argTypes, depth: ctx.depth + 1 }
  const scope = new Scope(def.args.map((a, i) => ({ name: a.name ?? `$${i + 1}`, table: def.name, type: argTypes[i]! })))
  const rel = planSelect(stmt, rootPlanCtx(inner), scope)
  const rows = rel.rows({ row: args, outer: null })
  return { rel, rows }
}

export function callUserFunction(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType, trigger?: TriggerCall): RtValue {
  if (def.strict && args.some((a) => a === null)) return null
  if (def.language === 'plpgsql') {
    // The statement's own top-level call, where the session lets it pause (runtime/run-pauses.ts).
    if (ctx.pausable !== undefined && ctx.depth === 0 && trigger === undefined && !def.trigger) return ctx.pausable.call(ctx, def, argTypes, args, result)
    return callPlpgsql(ctx, def, argTypes, args, result, trigger)
  }
  const { rel, rows } = runSqlBody(ctx, def, argTypes, args)
  // A SQL function returning void may end with a SELECT: its rows are dropped and the call is NULL, as in PostgreSQL.
  if (rows.length === 0 || rel.columns.length === 0 || result.id === 'void') return null
  const col = rel.columns[0]!
  return coerce({ type: col.type, eval: () => rows[0]![0]! }, result, 'assignment', ctx.nowMicros).eval({ row: [], outer: null })
}

/** A SETOF / TABLE function's values: every row of its body (SQL), or what RETURN NEXT / QUERY gave (PL/pgSQL). */
export function callUserSetFunction(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue[] {
  if (def.strict && args.some((a) => a === null)) return []
  if (def.language === 'plpgsql') return callPlpgsqlSet(ctx, def, argTypes, args, result)
  const { rel, rows } = runSqlBody(ctx, def, argTypes, args)
  if (result.id === 'void') return rows.map(() => null)
  if (result.fields) {
    const fields = result.fields
    return rows.map((r) => new RowValue(fields.map((f, i) => coerce({ type: rel.columns[i]?.type ?? f.type, eval: () => r[i] ?? null }, f.type, 'assignment', ctx.nowMicros).eval({ row: [], outer: null }) as never)))
  }
  const col = rel.columns[0]
  if (!col) return []
  return rows.map((r) => coerce({ type: col.type, eval: () => r[0]! }, result, 'assignment', ctx.nowMicros).eval({ row: [], outer: null }))
}
