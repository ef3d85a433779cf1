/**
 * Coercing a compiled expression to a target type in a cast context, folding constants
 * so literals are parsed once per statement rather than once per row.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { canCast, castValue, type CastContext } from '../types/cast.js'
import { typeName, type SqlType } from '../types/sql-type.js'
import { applyTypmod } from '../types/text-format.js'
import type { Compiled } from './compiled.js'
import type { RtValue } from '../types/value.js'

function sameType(a: SqlType, b: SqlType): boolean {
  return a.id === b.id && !!a.array === !!b.array && a.precision === b.precision && a.scale === b.scale && a.name === b.name && (a.id !== 'record' || a.fields === b.fields) && a.domain?.name === b.domain?.name && a.range === b.range
}

export function coerce(c: Compiled, to: SqlType, ctx: CastContext, nowMicros: number, what?: string): Compiled {
  if (sameType(c.type, to) || to.id === 'anyelement') return c
  const convert = valueConversion(c.type, to, ctx, nowMicros, what)
  if (convert === null) return { ...c, type: to }
  const inner = c.eval
  return fold({ type: to, eval: (env) => convert(inner(env)), isConst: c.isConst })
}

/**
 * What `coerce` does to each value of type `from` to make it a `to` in `ctx`: null when
 * the value stays as it is, else the conversion; throws (as `coerce` does) when `from`
 * cannot be cast to `to` in `ctx`. For callers that convert many values of one type (the
 * literals of an INSERT's VALUES rows) without compiling each.
 */
export function valueConversion(from: SqlType, to: SqlType, ctx: CastContext, nowMicros: number, what?: string): ((v: RtValue) => RtValue) | null {
  if (sameType(from, to) || to.id === 'anyelement') return null
  const explicit = ctx === 'explicit'
  if (from.id === to.id && !!from.array === !!to.array && from.id !== 'record' && from.name === to.name) {
    // Only the typmod differs (NUMERIC(10,2), VARCHAR(n)).
    if (to.precision === undefined && to.range === undefined) return null
    return (v) => applyTypmod(v, to, explicit)
  }
  if (!canCast(from, to, ctx)) {
    if (ctx === 'assignment' && what) {
      throw new SqlError(SqlState.datatypeMismatch, `${what} is of type ${typeName(to)} but expression is of type ${typeName(from)}`, { hint: 'You will need to rewrite or cast the expression.' })
    }
    if (ctx === 'explicit') throw new SqlError(SqlState.cannotCoerce, `cannot cast type ${typeName(from)} to ${typeName(to)}`)
    throw new SqlError(SqlState.datatypeMismatch, `argument of type ${typeName(from)} cannot be used as ${typeName(to)}`)
  }
  return (v) => castValue(v, from, to, nowMicros, explicit)
}

/** Evaluates a constant expression once, lazily, so errors surface only when it is used. */
export function fold(c: Compiled): Compiled {
  if (!c.isConst) return c
  const inner = c.eval
  let done = false
  let value: ReturnType<Compiled['eval']> = null
  return {
    type: c.type,
    isConst: true,
    eval: (env) => {
      if (!done) {
        value = inner(env)
        done = true
      }
      return value
    },
  }
}
