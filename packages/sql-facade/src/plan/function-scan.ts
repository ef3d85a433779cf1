/**
 * Functions in FROM: `FROM f(..) [WITH ORDINALITY] [AS t(c, ..)]` and `ROWS FROM (f(..),
 * g(..))`, as PostgreSQL plans them.
 *
 * - A set-returning function yields its rows; any other function (built-in or SQL) one row.
 * - Several functions (ROWS FROM, or unnest with several arrays, which means one unnest
 *   per array) run side by side: row i holds each function's i-th value, NULL where a
 *   function has fewer; the scan has as many rows as the longest.
 * - WITH ORDINALITY adds a bigint column counting rows from 1.
 * - Column names: the alias's column list, else the function name, except that a lone
 *   value column is named after the table alias (`unnest(..) AS t` has column t).
 * - Arguments may refer to FROM items to the left (functions in FROM are always lateral):
 *   the scan is re-evaluated for each row of the outer environment it is given.
 */
import type { FuncCall, Node, RangeFunction } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr } from '../expr/compile.js'
import { nameList } from '../parser/name-list.js'
import type { Compiled } from '../expr/compiled.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { isSetFunction, lookupSetFunction } from '../functions/set-returning.js'
import { isJsonRecordFunction, jsonRecordRows } from '../functions/json-populate.js'
import { userTypes } from '../catalog/user-type.js'
import { T, typeFromTypeName, typeName, type SqlType } from '../types/sql-type.js'
import { RowValue, rowItems } from '../types/row-type.js'
import type { RtValue } from '../types/value.js'
import type { FromRelation } from '../relation/relation.js'
import type { UserFunction } from '../catalog/function-def.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'

/** One column-producing call: its output type and its values for an environment. */
interface Producer {
  name: string
  type: SqlType
  values: (env: Env) => RtValue[]
}

function noFunction(name: string, types: SqlType[]): SqlError {
  return new SqlError(SqlState.undefinedFunction, `function ${name}(${types.map((t) => (t.id === 'unknown' && !t.array ? 'unknown' : typeName(t))).join(', ')}) does not exist`, {
    hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
  })
}

function producers(call: FuncCall, node: Node, p: PlanCtx, scope: Scope): Producer[] {
  const names = nameList(call.funcname)
  const name = names[names.length - 1]!.toLowerCase()
  const cctx = makeCompileCtx(p, scope)
  const user = p.exec.functions(name)
  if (user?.setof) return [userSetProducer(name, user, call, p, scope)]
  if (!isSetFunction(name) || user) {
    // An ordinary function: one row holding its value.
    const c = compileExpr(node, cctx)
    return [{ name, type: c.type.id === 'unknown' && !c.type.array ? T.text : c.type, values: (env) => [c.eval(env)] }]
  }
  if (call.agg_star || call.agg_distinct || call.over || call.agg_filter || call.agg_order?.length) {
    throw new SqlError(SqlState.wrongObjectType, `${name} is not an aggregate or window function`)
  }
  const args = (call.args ?? []).map((a) => compileExpr(a, cctx))
  if (name === 'unnest' && args.length > 1) return args.flatMap((a) => one(name, [a], p))
  return one(name, args, p)
}

/** A user function returning SETOF / TABLE: its values, one row each. */
function userSetProducer(name: string, def: UserFunction, call: FuncCall, p: PlanCtx, scope: Scope): Producer {
  const cctx = makeCompileCtx(p, scope)
  const args = (call.args ?? []).map((a) => compileExpr(a, cctx))
  if (args.length !== def.args.length) throw noFunction(name, args.map((a) => a.type))
  const argTypes = def.args.map((a, i) => (a.type.id === 'anyelement' ? args[i]!.type : a.type))
  const fs = args.map((a, i) => coerce(a, argTypes[i]!, 'implicit', p.exec.nowMicros).eval)
  const exec = p.exec
  const run = exec.callUserSetFunction
  if (!run) throw new SqlError(SqlState.featureNotSupported, `set-returning function ${name}() is not supported here`)
  return { name, type: def.returns, values: (env) => run(exec, def, argTypes, fs.map((f) => f(env)), def.returns) }
}

/**
 * `f(..) AS x(col type, ..)`: a function returning `record` whose row type the column
 * definition list gives (the JSON record functions); 42601 for any other function, as
 * PostgreSQL says for a function that does not return record.
 */
function recordProducer(rf: RangeFunction, p: PlanCtx, scope: Scope): Producer {
  const items = rf.functions ?? []
  const list = items.length === 1 && 'List' in items[0]! ? items[0]!.List.items ?? [] : []
  const node = list[0]
  const name = node && 'FuncCall' in node ? nameList(node.FuncCall.funcname).pop()!.toLowerCase() : ''
  if (!node || !('FuncCall' in node) || !isJsonRecordFunction(name) || p.exec.functions(name)) {
    throw new SqlError(SqlState.syntaxError, 'a column definition list is only allowed for functions returning "record"')
  }
  const fields = (rf.coldeflist ?? []).map((c) => {
    const cd = (c as Extract<Node, { ColumnDef: unknown }>).ColumnDef
    return { name: cd.colname!, type: typeFromTypeName(cd.typeName ?? {}, userTypes(p.exec.tx)) }
  })
  const rowType: SqlType = { id: 'record', fields }
  const cctx = makeCompileCtx(p, scope)
  const args = (node.FuncCall.args ?? []).map((a) => compileExpr(a, cctx))
  const impl = jsonRecordRows(name, rowType, args.map((a) => a.type))
  if (!impl) throw noFunction(name, args.map((a) => a.type))
  const fs = args.map((a, i) => coerce(a, impl.args[i]!, 'implicit', p.exec.nowMicros).eval)
  const exec = p.exec
  return { name, type: rowType, values: (env) => impl.rows(fs.map((f) => f(env)), exec) }
}

function one(name: string, args: Compiled[], p: PlanCtx): Producer[] {
  const impl = lookupSetFunction(name, args.map((a) => a.type))
  if (!impl) throw noFunction(name, args.map((a) => a.type))
  const fs = args.map((a, i) => coerce(a, impl.args[i]!, 'implicit', p.exec.nowMicros).eval)
  const exec = p.exec
  return [{ name: impl.column ?? name, type: impl.result, values: (env) => impl.rows(fs.map((f) => f(env)), exec) }]
}

export function planFunctionScan(rf: RangeFunction, p: PlanCtx, parent: Scope | null): FromRelation {
  const scope = new Scope([], parent)
  const prods: Producer[] = []
  if (rf.coldeflist?.length) prods.push(recordProducer(rf, p, scope))
  for (const item of rf.coldeflist?.length ? [] : rf.functions ?? []) {
    const list = 'List' in item ? item.List.items ?? [] : []
    const node = list[0]
    const defs = list[1]
    if (defs && 'List' in defs && (defs.List.items?.length ?? 0) > 0) throw new SqlError(SqlState.featureNotSupported, 'column definition lists for functions returning record are not supported')
    if (!node || !('FuncCall' in node)) throw new SqlError(SqlState.featureNotSupported, 'only function calls are supported in FROM function items')
    prods.push(...producers(node.FuncCall, node, p, scope))
  }
  // A lone function returning a composite type yields its fields as columns, as in PostgreSQL.
  const only = prods.length === 1 ? prods[0]! : null
  if (only && only.type.id === 'record' && !only.type.array && only.type.fields) {
    const fields = only.type.fields
    const values = only.values
    prods.splice(0, 1, ...fields.map((f, i): Producer => ({
      name: f.name,
      type: f.type,
      values: (env) => values(env).map((v) => (v instanceof RowValue ? rowItems(v)[i] ?? null : null)),
    })))
    // Every field reads the same call: evaluate it once per environment.
    let last: { env: Env; rows: RtValue[] } | null = null
    const shared = (env: Env): RtValue[] => {
      if (last?.env !== env) last = { env, rows: values(env) }
      return last.rows
    }
    prods.forEach((pr, i) => { pr.values = (env) => shared(env).map((v) => (v instanceof RowValue ? rowItems(v)[i] ?? null : null)) })
  }
  const alias = rf.alias?.aliasname ?? null
  const colnames = nameList(rf.alias?.colnames)
  const width = prods.length + (rf.ordinality ? 1 : 0)
  if (colnames.length > width) {
    throw new SqlError(SqlState.invalidColumnReference, `table "${alias ?? prods[0]!.name}" has ${width} columns available but ${colnames.length} columns specified`)
  }
  const table = alias ?? prods[0]!.name
  const expanded = only !== null && prods[0] !== only
  const columns: ColumnBinding[] = prods.map((pr, i) => ({
    name: colnames[i] ?? (prods.length === 1 && alias && !expanded ? alias : pr.name),
    table,
    type: pr.type,
  }))
  if (rf.ordinality) columns.push({ name: colnames[prods.length] ?? 'ordinality', table, type: T.int8 })
  const ordinality = !!rf.ordinality
  return {
    columns,
    primaryKeys: new Map(),
    rows: (outer) => {
      const env: Env = { row: [], outer }
      const lists = prods.map((pr) => pr.values(env))
      let n = 0
      for (const l of lists) n = Math.max(n, l.length)
      const out: RtValue[][] = []
      p.exec.budget.hold(n, columns.length)
      // A tick per row, not one spend(n) up front: building millions of rows takes long
      // enough that a cancel request or the deadline must be seen during it.
      for (let i = 0; i < n; i++) {
        p.exec.budget.tick()
        const row: RtValue[] = lists.map((l) => (i < l.length ? l[i]! : null))
        if (ordinality) row.push(BigInt(i + 1))
        out.push(row)
      }
      return out
    },
  }
}
