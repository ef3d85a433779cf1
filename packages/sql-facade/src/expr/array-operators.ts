/**
 * Operators on arrays: `||` (array_cat, array_append, array_prepend, which treat NULL
 * operands as PostgreSQL's non-strict functions do), and containment `@>`, `<@`, `&&`.
 * An untyped literal operand is read as an array of the other side's type
 * (`col @> '{1,2}'`, `'{1}' || ARRAY[2]`). Comparisons of arrays are ordinary comparisons
 * (compile.ts) over compareValues' array ordering.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { arrayAppend, arrayCat, arrayContains, arrayOverlaps, arrayPrepend, resolvePolymorphic } from '../functions/array-functions.js'
import type { SqlArray } from '../types/array.js'
import { T, typeName, type SqlType } from '../types/sql-type.js'
import type { OperatorImpl } from './operator-impl.js'

function noOperator(op: string, l: SqlType, r: SqlType): SqlError {
  return new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l)} ${op} ${typeName(r)}`, {
    hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
  })
}

/** The implementation of `l op r` when one side is an array; null when `op` is not an array operator. */
export function resolveArrayOperator(op: string, l: SqlType, r: SqlType): OperatorImpl | null {
  const unknownL = l.id === 'unknown' && !l.array
  const unknownR = r.id === 'unknown' && !r.array
  if (op === '||') {
    // An untyped side of `||` next to an array is read as an array (PostgreSQL picks array_cat).
    const cat = (l.array && r.array) || (l.array && unknownR) || (r.array && unknownL)
    const roles = cat ? (['array', 'array'] as const) : l.array ? (['array', 'element'] as const) : (['element', 'array'] as const)
    const res = resolvePolymorphic([l, r], [...roles])
    if (!res) throw noOperator(op, l, r)
    const [lt, rt] = res.args as [SqlType, SqlType]
    const result = lt.array ? lt : rt
    if (roles[0] === 'array' && roles[1] === 'array') return { left: lt, right: rt, result, nonStrict: true, fn: (a, b) => arrayCat(a as SqlArray | null, b as SqlArray | null) }
    if (roles[0] === 'array') return { left: lt, right: rt, result, nonStrict: true, fn: (a, b) => arrayAppend(a as SqlArray | null, b) }
    return { left: lt, right: rt, result, nonStrict: true, fn: (a, b) => arrayPrepend(a, b as SqlArray | null) }
  }
  if (op === '@>' || op === '<@' || op === '&&') {
    // anyarray operands: one array type on both sides (no promotion, as in PostgreSQL).
    if (!(l.array || unknownL) || !(r.array || unknownR) || (l.array && r.array && l.id !== r.id)) throw noOperator(op, l, r)
    const res = resolvePolymorphic([l, r], ['array', 'array'])
    if (!res) throw noOperator(op, l, r)
    const [lt, rt] = res.args as [SqlType, SqlType]
    const fn = op === '@>' ? (a: SqlArray, b: SqlArray) => arrayContains(a, b) : op === '<@' ? (a: SqlArray, b: SqlArray) => arrayContains(b, a) : arrayOverlaps
    return { left: lt, right: rt, result: T.bool, fn: (a, b) => fn(a as SqlArray, b as SqlArray) }
  }
  return null
}
