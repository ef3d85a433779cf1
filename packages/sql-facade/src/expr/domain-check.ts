/**
 * A domain's constraints as a check on values (types/domain-type.ts): NOT NULL (23502)
 * and every CHECK expression, with `VALUE` bound to the value (23514 when one is false;
 * NULL passes, as for table CHECK constraints). Compiled once per statement where a
 * value becomes of the domain: a cast (compile.ts) and a column write (TableWriter).
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { CompileFn } from './array-expr.js'
import type { CompileCtx } from './compile-context.js'
import { coerce } from './coerce.js'
import { Scope } from '../relation/scope.js'

/** The check of a domain type's values, or null for a type that is no domain. */
export function compileDomainCheck(t: SqlType, ctx: CompileCtx, compile: CompileFn): ((v: RtValue) => void) | null {
  const d = t.domain
  if (!d) return null
  const base: SqlType = { ...t }
  delete base.domain
  const scope = new Scope([{ name: 'value', table: null, type: base }])
  const cctx: CompileCtx = { exec: ctx.exec, scope, agg: null, planSubquery: ctx.planSubquery }
  const checks = d.checks.map((c) => ({ name: c.name, test: coerce(compile(c.expr as unknown as Node, cctx), T.bool, 'implicit', ctx.exec.nowMicros).eval }))
  return (v) => {
    if (v === null) {
      if (d.notNull) throw new SqlError(SqlState.notNullViolation, `domain ${d.name} does not allow null values`)
      return
    }
    for (const c of checks) {
      if (c.test({ row: [v], outer: null }) === false) {
        throw new SqlError(SqlState.checkViolation, `value for domain ${d.name} violates check constraint "${c.name}"`)
      }
    }
  }
}
