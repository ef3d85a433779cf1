/**
 * Subscripted assignment targets: `UPDATE t SET a[2] = x, a[5:6] = '{..}'`,
 * `INSERT INTO t (a[1:3]) VALUES (..)`, and the same in ON CONFLICT DO UPDATE.
 *
 * The assigned value is coerced as in PostgreSQL: to the element type for `a[i]`, to the
 * array type for a slice; a NULL subscript is an error (22004); the array changes as
 * types/array-subscript.ts describes (a NULL array is assigned as an empty one). Several
 * subscripted assignments to one column apply in order, each to the previous result.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_DIMS, SqlArray, tooManyDims } from '../types/array.js'
import { setElement, setSlice, type SliceBound } from '../types/array-subscript.js'
import { canCast } from '../types/cast.js'
import { elementType, T, typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { CompileFn } from './array-expr.js'
import { coerce } from './coerce.js'
import type { Compiled } from './compiled.js'
import type { CompileCtx } from './compile-context.js'
import type { Env } from './scope.js'

/** Applies one target: the column's new value from its current one. */
export type ArrayAssign = (env: Env, current: RtValue) => RtValue

function nullSubscript(): SqlError {
  return new SqlError(SqlState.nullValueNotAllowed, 'array subscript in assignment must not be null')
}

export function compileArrayAssignment(column: { name: string; type: SqlType }, indirection: Node[], source: Compiled, ctx: CompileCtx, compile: CompileFn): ArrayAssign {
  const now = ctx.exec.nowMicros
  if (!column.type.array) throw new SqlError(SqlState.datatypeMismatch, `cannot subscript type ${typeName(column.type)} because it does not support subscripting`)
  const parts = indirection.map((n) => {
    if (!('A_Indices' in n)) throw new SqlError(SqlState.featureNotSupported, 'assigning to a field of an array element is not supported')
    return n.A_Indices
  })
  if (parts.length > MAX_DIMS) throw tooManyDims(parts.length)
  const slice = parts.some((a) => a.is_slice)
  const target = slice ? column.type : elementType(column.type)
  if (!canCast(source.type, target, 'assignment')) {
    throw new SqlError(SqlState.datatypeMismatch, `subscripted assignment to "${column.name}" requires type ${typeName(target)} but expression is of type ${typeName(source.type)}`, { hint: 'You will need to rewrite or cast the expression.' })
  }
  const value = coerce(source, target, 'assignment', now).eval
  const sub = (n: Node | undefined): ((env: Env) => RtValue) | null => (n ? coerce(compile(n, ctx), T.int4, 'assignment', now).eval : null)
  if (!slice) {
    const idx = parts.map((a) => sub(a.uidx)!)
    return (env, current) => {
      const at = idx.map((f) => {
        const v = f(env)
        if (v === null) throw nullSubscript()
        return v as number
      })
      return setElement(current as SqlArray | null, at, value(env))
    }
  }
  const bounds = parts.map((a) => ({ lower: a.is_slice ? sub(a.lidx) : () => 1 as RtValue, upper: sub(a.uidx) }))
  return (env, current) => {
    const bs: SliceBound[] = bounds.map((b) => {
      const lower = b.lower ? b.lower(env) : undefined
      const upper = b.upper ? b.upper(env) : undefined
      if (lower === null || upper === null) throw nullSubscript()
      return { lower: lower === undefined ? null : (lower as number), upper: upper === undefined ? null : (upper as number) }
    })
    const v = value(env)
    // Assigning NULL to a slice changes nothing (a NULL array becomes empty, as PostgreSQL does).
    if (v === null) return current ?? SqlArray.EMPTY
    return setSlice(current as SqlArray | null, bs, v as SqlArray)
  }
}
