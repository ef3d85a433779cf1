/**
 * Array expressions with PostgreSQL's typing: ARRAY[..] constructors (nested lists and
 * array-valued elements make multidimensional arrays; an enclosing cast types the
 * elements), ARRAY(subquery), subscripts and slices, and `x op ANY/ALL (array)`.
 *
 * The caller passes the expression compiler in, so this module needs nothing from
 * compile.ts but its types.
 */
import type { A_ArrayExpr, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { accumulateArrays, MAX_DIMS, SqlArray, stackArrays, tooManyDims } from '../types/array.js'
import { getElement, getSlice, type SliceBound } from '../types/array-subscript.js'
import { arrayOf, commonType, elementType, isIntegerType, T, typeName, type SqlType } from '../types/sql-type.js'
import { formatJsonb, jsonGet, parseJsonText, type JsonValue } from '../types/json.js'
import type { RtValue } from '../types/value.js'
import { coerce, fold } from './coerce.js'
import { truth, type Compiled } from './compiled.js'
import type { CompileCtx } from './compile-context.js'
import { compileGeometricSubscript, isGeometricSubscriptable } from './geometric-subscript.js'

export type CompileFn = (node: Node, ctx: CompileCtx) => Compiled

function mismatched(): SqlError {
  return new SqlError(SqlState.arraySubscriptError, 'multidimensional arrays must have array expressions with matching dimensions')
}

/**
 * ARRAY[e1, e2, ..]. `target` is the array type of an enclosing cast (`ARRAY[..]::int[]`):
 * elements are then cast to its element type directly, as PostgreSQL does.
 */
export function compileArrayConstructor(e: A_ArrayExpr, ctx: CompileCtx, compile: CompileFn, target: SqlType | null): Compiled {
  const now = ctx.exec.nowMicros
  const nodes = e.elements ?? []
  let multidim = false
  const els = nodes.map((n) => {
    if ('A_ArrayExpr' in n) {
      multidim = true
      return compileArrayConstructor(n.A_ArrayExpr, ctx, compile, target)
    }
    const c = compile(n, ctx)
    if (c.type.array) multidim = true
    return c
  })
  let arrayType: SqlType
  if (target) arrayType = target
  else {
    if (els.length === 0) {
      throw new SqlError(SqlState.indeterminateDatatype, 'cannot determine type of empty array', { hint: 'Explicitly cast to the desired type, for example ARRAY[]::integer[].' })
    }
    const common = unifyTypes(els.map((c) => c.type))
    arrayType = multidim ? common : arrayOf(common)
    if (multidim && !common.array) throw new SqlError(SqlState.datatypeMismatch, `ARRAY types ${typeName(common)} and ${typeName(arrayOf(common))} cannot be matched`)
  }
  const ctxKind = target ? 'explicit' : 'implicit'
  const fs = els.map((c) => coerceElement(c, multidim ? arrayType : elementType(arrayType), ctxKind, now).eval)
  const isConst = els.every((c) => c.isConst)
  if (!multidim) {
    return fold({ type: arrayType, isConst, eval: (env) => SqlArray.of(fs.map((f) => f(env))) })
  }
  return fold({ type: arrayType, isConst, eval: (env) => {
    const subs: SqlArray[] = []
    for (const f of fs) {
      const v = f(env)
      // A NULL sub-array counts as empty: all empty makes '{}', some empty is a mismatch.
      subs.push(v === null ? SqlArray.EMPTY : (v as SqlArray))
    }
    return stackArrays(subs, mismatched)
  } })
}

function coerceElement(c: Compiled, to: SqlType, ctx: 'implicit' | 'explicit', now: number): Compiled {
  try {
    return coerce(c, to, ctx, now)
  } catch (err) {
    if (err instanceof SqlError && (err.code === SqlState.cannotCoerce || err.code === SqlState.datatypeMismatch)) {
      throw new SqlError(SqlState.cannotCoerce, `ARRAY could not convert type ${typeName(c.type)} to ${typeName(to)}`)
    }
    throw err
  }
}

/** Common type of the elements (unknown-only lists are text). */
function unifyTypes(types: SqlType[]): SqlType {
  let t: SqlType | null = null
  for (const x of types) {
    if (x.id === 'unknown' && !x.array) continue
    if (t === null) {
      t = x
      continue
    }
    const c = commonType(t, x)
    if (!c) throw new SqlError(SqlState.datatypeMismatch, `ARRAY types ${typeName(t)} and ${typeName(x)} cannot be matched`)
    t = c
  }
  return t ?? T.text
}

/** `base[i]`, `base[a:b][..]`: `indices` are A_Indices nodes. */
/**
 * `jb['key'][0]`: jsonb subscripting reads as the `#>` path of its subscripts (text keys,
 * integer indexes, negative from the end); NULL when a step is missing or NULL. Slices
 * and subscripts of other types are 42804, as in PostgreSQL.
 */
function compileJsonbSubscripts(base: Compiled, indices: Node[], ctx: CompileCtx, compile: CompileFn): Compiled {
  const steps = indices.map((n) => {
    if (!('A_Indices' in n) || n.A_Indices.is_slice) throw new SqlError(SqlState.datatypeMismatch, 'jsonb subscript does not support slices')
    const c = compile(n.A_Indices.uidx!, ctx)
    const t = c.type
    if (t.array || !(isIntegerType(t) || t.id === 'text' || t.id === 'unknown' || t.id === 'varchar' || t.id === 'bpchar')) {
      throw new SqlError(SqlState.datatypeMismatch, `subscript type ${typeName(t)} is not supported`, { hint: 'jsonb subscript must be coercible to either integer or text.' })
    }
    const f = c.eval
    return (env: Parameters<Compiled['eval']>[0]): string | null => {
      const v = f(env)
      return v === null ? null : String(v)
    }
  })
  const bf = base.eval
  return { type: base.type, eval: (env) => {
    const doc = bf(env)
    if (doc === null) return null
    let v: JsonValue | undefined = parseJsonText(doc as string, 'jsonb')
    for (const step of steps) {
      const k = step(env)
      if (k === null || v === undefined) return null
      // Every step is a path element as `#>` takes it: an array reads it as an integer index.
      v = jsonGet(v, Array.isArray(v) ? (/^\s*-?\d+\s*$/.test(k) ? Number(k) : Number.NaN) : k)
    }
    return v === undefined ? null : formatJsonb(v)
  } }
}

export function compileSubscripts(base: Compiled, indices: Node[], ctx: CompileCtx, compile: CompileFn): Compiled {
  const now = ctx.exec.nowMicros
  if (!base.type.array) {
    if (base.type.id === 'jsonb') return compileJsonbSubscripts(base, indices, ctx, compile)
    if (isGeometricSubscriptable(base.type.id)) return compileGeometricSubscript(base, indices, ctx, compile)
    throw new SqlError(SqlState.datatypeMismatch, `cannot subscript type ${base.type.id === 'unknown' ? 'unknown' : typeName(base.type)} because it does not support subscripting`)
  }
  if (indices.length > MAX_DIMS) throw tooManyDims(indices.length)
  const parts = indices.map((n) => {
    if (!('A_Indices' in n)) throw new SqlError(SqlState.featureNotSupported, 'selecting a field of an array element is not supported')
    return n.A_Indices
  })
  const slice = parts.some((a) => a.is_slice)
  // Subscripts are int4, converted as in an assignment (1.5 reads as 2).
  const sub = (n: Node | undefined): ((env: Parameters<Compiled['eval']>[0]) => RtValue) | null =>
    n ? coerce(compile(n, ctx), T.int4, 'assignment', now).eval : null
  const bf = base.eval
  if (!slice) {
    const idx = parts.map((a) => sub(a.uidx)!)
    return { type: elementType(base.type), eval: (env) => {
      const arr = bf(env) as SqlArray | null
      if (arr === null) return null
      const at: number[] = []
      for (const f of idx) {
        const v = f(env)
        if (v === null) return null
        at.push(v as number)
      }
      return getElement(arr, at)
    } }
  }
  const bounds = parts.map((a) => ({
    // In a slice, a plain [k] means [1:k].
    lower: a.is_slice ? sub(a.lidx) : () => 1 as RtValue,
    upper: sub(a.uidx),
  }))
  return { type: base.type, eval: (env) => {
    const arr = bf(env) as SqlArray | null
    if (arr === null) return null
    const bs: SliceBound[] = []
    for (const b of bounds) {
      const lower = b.lower ? b.lower(env) : undefined
      const upper = b.upper ? b.upper(env) : undefined
      if (lower === null || upper === null) return null
      bs.push({ lower: lower === undefined ? null : (lower as number), upper: upper === undefined ? null : (upper as number) })
    }
    return getSlice(arr, bs)
  } }
}

/**
 * `l op ANY (r)` / `l op ALL (r)`. An untyped right side is an array of the left side's
 * type (`x = ANY('{1,2}')`, `x = ANY($1)`); the operator is resolved between the left type
 * and the element type and must yield boolean.
 */
export function compileArrayQuantifier(op: string, all: boolean, l: Compiled, r: Compiled, now: number, binary: (op: string, l: Compiled, r: Compiled) => Compiled): Compiled {
  let arr = r
  if (!r.type.array) {
    if (r.type.id !== 'unknown') throw new SqlError(SqlState.wrongObjectType, 'op ANY/ALL (array) requires array on right side')
    // There are no arrays of arrays: an untyped literal cannot be read as one.
    if (l.type.array) throw new SqlError(SqlState.undefinedObject, `could not find array type for data type ${typeName(l.type)}`)
    arr = coerce(r, arrayOf(l.type.id === 'unknown' ? T.text : l.type), 'implicit', now)
  }
  let left: RtValue = null
  let item: RtValue = null
  const lp: Compiled = { type: l.type, eval: () => left }
  const ep: Compiled = { type: elementType(arr.type), eval: () => item }
  const test = binary(op, lp, ep)
  if (test.type.id !== 'bool') throw new SqlError(SqlState.wrongObjectType, 'op ANY/ALL (array) requires operator to yield boolean')
  const lf = l.eval
  const af = arr.eval
  const tf = test.eval
  return { type: T.bool, eval: (env) => {
    const a = af(env) as SqlArray | null
    if (a === null) return null
    left = lf(env)
    let sawNull = false
    for (const v of a.items) {
      item = v
      const t = truth(tf(env))
      if (t === null) sawNull = true
      else if (t !== all) return t
    }
    return sawNull ? null : all
  } }
}

/**
 * ARRAY(subquery): the column's values as a one-dimensional array, or, for an array-valued
 * column, stacked into one more dimension (with array_agg's errors). No rows give '{}'.
 */
export function arrayFromColumn(values: RtValue[], columnType: SqlType): SqlArray {
  if (!columnType.array) return SqlArray.of(values)
  return accumulateArrays(values)
}
