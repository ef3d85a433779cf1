/**
 * ALTER FUNCTION, and SQL-standard function bodies (`RETURN expr`, `BEGIN ATOMIC .. END`)
 * for CREATE FUNCTION (exec/ddl.ts).
 *
 * ALTER FUNCTION changes what Concord keeps of a function: STRICT / CALLED ON NULL INPUT
 * (RETURNS NULL ON NULL INPUT) and the volatility (IMMUTABLE, STABLE, VOLATILE), which plans
 * nothing but decides whether a statement calling the function may move off the main
 * thread (session/offload-eligibility.ts). COST, ROWS, LEAKPROOF, PARALLEL and SECURITY
 * INVOKER are accepted and change nothing Concord uses; SECURITY DEFINER and SET are
 * refused with 0A000.
 */
import type { AlterFunctionStmt, Node } from 'libpg-query'
import type { Json } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { nameList } from '../parser/name-list.js'
import { typeFromTypeName, typeName } from '../types/sql-type.js'
import { userTypes } from '../catalog/user-type.js'
import { volatilityOf } from '../catalog/function-def.js'

export function execAlterFunction(stmt: AlterFunctionStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const names = nameList(stmt.func?.objname)
  const name = names[names.length - 1]!.toLowerCase()
  const existing = tx.getCatalog('function', name)
  if (existing === undefined || existing === null || typeof existing !== 'object' || Array.isArray(existing)) {
    const args = (stmt.func?.objargs ?? []).map((a) => ('TypeName' in a ? typeName(typeFromTypeName(a.TypeName, userTypes(tx))) : '')).join(', ')
    throw new SqlError(SqlState.undefinedFunction, `function ${name}(${args}) does not exist`)
  }
  let strict = (existing as { strict?: boolean }).strict === true
  let volatility = volatilityOf(String((existing as { volatility?: unknown }).volatility ?? 'volatile'))
  for (const a of stmt.actions ?? []) {
    if (!('DefElem' in a)) continue
    const d = a.DefElem
    const arg = d.arg as Node | undefined
    const on = arg !== undefined && 'Boolean' in arg ? arg.Boolean.boolval === true : true
    switch (d.defname) {
      case 'strict': strict = on; break
      case 'security': if (on) throw new SqlError(SqlState.featureNotSupported, 'SECURITY DEFINER functions are not supported'); break
      case 'set': throw new SqlError(SqlState.featureNotSupported, 'ALTER FUNCTION .. SET is not supported')
      case 'volatility': volatility = volatilityOf(arg !== undefined && 'String' in arg ? arg.String.sval ?? 'volatile' : 'volatile'); break
      case 'cost': case 'rows': case 'leakproof': case 'parallel': case 'support': break
      default: throw new SqlError(SqlState.featureNotSupported, `ALTER FUNCTION .. ${String(d.defname).toUpperCase()} is not supported`)
    }
  }
  const { strict: _old, volatility: _oldVolatility, ...rest } = existing as { strict?: boolean; volatility?: Json } & Record<string, Json>
  void _old
  void _oldVolatility
  tx.setCatalog('function', name, { ...rest, ...(strict ? { strict: true } : {}), ...(volatility !== undefined ? { volatility } : {}) })
  return utility('ALTER FUNCTION')
}

/**
 * The query a SQL-standard body runs: `RETURN expr` is `SELECT expr`; `BEGIN ATOMIC ..
 * END` its one SELECT (an empty body returns nothing). Other statements in the body: 0A000.
 */
export function sqlStandardBody(body: Node): Json {
  if ('ReturnStmt' in body) {
    return { targetList: [{ ResTarget: { val: body.ReturnStmt.returnval } }], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } as unknown as Json
  }
  const outer = 'List' in body ? body.List.items ?? [] : []
  const inner = outer[0] && 'List' in outer[0] ? outer[0].List.items ?? [] : []
  if (inner.length === 0) return { targetList: [{ ResTarget: { val: { A_Const: { isnull: true } } } }], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } as unknown as Json
  // The result is the last statement's; SELECTs before it change nothing, so only the last runs.
  if (!inner.every((n) => 'SelectStmt' in n || 'ReturnStmt' in n)) {
    throw new SqlError(SqlState.featureNotSupported, 'BEGIN ATOMIC function bodies are supported with SELECT and RETURN statements only')
  }
  const last = inner[inner.length - 1]!
  if ('ReturnStmt' in last) return sqlStandardBody(last)
  return (last as { SelectStmt: unknown }).SelectStmt as Json
}
