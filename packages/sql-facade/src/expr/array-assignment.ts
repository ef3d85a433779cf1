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
import { category, elementType, isIntegerType, T, typeName, type SqlType } from '../types/sql-type.js'
import { formatJsonb, parseJsonText, type JsonValue } from '../types/json.js'
import type { RtValue } from '../types/value.js'
import type { CompileFn } from './array-expr.js'
import { coerce } from './coerce.js'
import { compileGeometricAssignment, isGeometricSubscriptable } from './geometric-subscript.js'
import type { Compiled } from './compiled.js'
import type { CompileCtx } from './compile-context.js'
import type { Env } from '../relation/scope.js'

/** Applies one target: the column's new value from its current one. */
export type ArrayAssign = (env: Env, current: RtValue) => RtValue

function nullSubscript(): SqlError {
  return new SqlError(SqlState.nullValueNotAllowed, 'array subscript in assignment must not be null')
}

/**
 * `SET j['a'][0] = v` on a jsonb column, as PostgreSQL's jsonb subscript assignment: the
 * path is created as needed (a missing step becomes an object, or an array when the next
 * subscript is an integer; a NULL column starts as one too), an array position past the
 * end pads with nulls, one before the start is 22023, SQL NULL is assigned as JSON null.
 */
function compileJsonbAssignment(indirection: Node[], source: Compiled, ctx: CompileCtx, compile: CompileFn): ArrayAssign {
  const now = ctx.exec.nowMicros
  const steps = indirection.map((n) => {
    if (!('A_Indices' in n) || n.A_Indices.is_slice) throw new SqlError(SqlState.datatypeMismatch, 'jsonb subscript does not support slices')
    const c = compile(n.A_Indices.uidx!, ctx)
    const integer = isIntegerType(c.type)
    if (c.type.array || !(integer || category(c.type) === 'S' || c.type.id === 'unknown')) {
      throw new SqlError(SqlState.datatypeMismatch, `subscript type ${typeName(c.type)} is not supported`, { hint: 'jsonb subscript must be coercible to either integer or text.' })
    }
    return { integer, f: c.eval }
  })
  const value = coerce(source, T.jsonb, 'assignment', now).eval
  const set = (v: JsonValue | null, at: number, keys: string[], x: JsonValue): JsonValue => {
    const k = keys[at]!
    const last = at === keys.length - 1
    const fresh = (): JsonValue => (steps[at + 1]!.integer ? [] : {})
    if (v === null) v = steps[at]!.integer ? [] : {}
    if (Array.isArray(v)) {
      if (!/^\s*[+-]?\d+\s*$/.test(k)) throw new SqlError(SqlState.invalidTextRepresentation, `path element at position ${at + 1} is not an integer: "${k}"`)
      let i = Number(k)
      if (i < 0) {
        if (-i > v.length) throw new SqlError(SqlState.invalidParameterValue, `path element at position ${at + 1} is out of range: ${i}`)
        i += v.length
      }
      const out = v.slice()
      while (out.length < i) out.push(null)
      out[i] = last ? x : set(i < v.length ? v[i]! : fresh(), at + 1, keys, x)
      return out
    }
    if (typeof v === 'object') {
      const has = Object.prototype.hasOwnProperty.call(v, k)
      return { ...v, [k]: last ? x : set(has ? v[k]! : fresh(), at + 1, keys, x) }
    }
    throw new SqlError(SqlState.invalidParameterValue, 'cannot replace existing key')
  }
  return (env, current) => {
    const keys = steps.map((s) => {
      const k = s.f(env)
      if (k === null) throw new SqlError(SqlState.nullValueNotAllowed, 'jsonb subscript in assignment must not be null')
      return String(k)
    })
    const x = value(env)
    const doc = current === null ? null : parseJsonText(current as string, 'jsonb')
    if (doc !== null && typeof doc !== 'object') throw new SqlError(SqlState.invalidParameterValue, 'cannot replace existing key')
    return formatJsonb(set(doc, 0, keys, x === null ? null : parseJsonText(x as string, 'jsonb')))
  }
}

export function compileArrayAssignment(column: { name: string; type: SqlType }, indirection: Node[], source: Compiled, ctx: CompileCtx, compile: CompileFn): ArrayAssign {
  const now = ctx.exec.nowMicros
  if (column.type.id === 'jsonb' && !column.type.array) return compileJsonbAssignment(indirection, source, ctx, compile)
  if (!column.type.array && isGeometricSubscriptable(column.type.id)) return compileGeometricAssignment(column, indirection, source, ctx, compile)
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
