/**
 * Subscripts of the geometric types PostgreSQL stores as fixed-length arrays: point[0] is
 * x and point[1] y (float8); box[0] / box[1] and lseg[0] / lseg[1] are its two points.
 * Any other index reads NULL, more than one subscript too, and a slice is 0A000, as in
 * PostgreSQL. Assignment to one subscript (`SET p[0] = 1`) is compileGeometricAssignment.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatGeometry, geometryOf, type Geometry } from '../types/geometry.js'
import { canCast } from '../types/cast.js'
import { T, typeName, type SqlType } from '../types/sql-type.js'
import type { Env } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'
import { coerce } from './coerce.js'
import type { CompileCtx } from './compile-context.js'
import type { Compiled } from './compiled.js'

export function isGeometricSubscriptable(id: string): boolean {
  return id === 'point' || id === 'box' || id === 'lseg'
}

export function compileGeometricSubscript(base: Compiled, indices: Node[], ctx: CompileCtx, compile: (n: Node, ctx: CompileCtx) => Compiled): Compiled {
  const parts = indices.map((n) => ('A_Indices' in n ? n.A_Indices : null))
  if (parts.some((a) => a === null || a.is_slice)) throw new SqlError(SqlState.featureNotSupported, 'slices of fixed-length arrays not implemented')
  const idx = parts.map((a) => coerce(compile(a!.uidx!, ctx), T.int4, 'assignment', ctx.exec.nowMicros).eval)
  const kind = base.type.id as 'point' | 'box' | 'lseg'
  const bf = base.eval
  const pick = (v: string, i: number): RtValue => {
    const g = geometryOf(v, kind) as Geometry
    if (g.kind === 'point') return i === 0 ? g.p.x : i === 1 ? g.p.y : null
    const pts = g.kind === 'box' ? [g.high, g.low] : g.kind === 'lseg' ? [g.a, g.b] : []
    const p = pts[i]
    return p === undefined ? null : formatGeometry({ kind: 'point', p })
  }
  return { type: kind === 'point' ? T.float8 : T.point, eval: (env) => {
    const v = bf(env)
    if (v === null || idx.length !== 1) return null
    const i = idx[0]!(env)
    return i === null ? null : pick(v as string, i as number)
  } }
}

/**
 * `UPDATE t SET p[0] = x`: sets one coordinate of a point (one corner of a box or end of
 * an lseg). As in PostgreSQL's fixed-length arrays, a NULL value stays NULL, assigning
 * NULL changes nothing, and an index past the end is 2202E.
 */
export function compileGeometricAssignment(
  column: { name: string; type: SqlType }, indirection: Node[], source: Compiled, ctx: CompileCtx, compile: (n: Node, ctx: CompileCtx) => Compiled,
): (env: Env, current: RtValue) => RtValue {
  const parts = indirection.map((n) => ('A_Indices' in n ? n.A_Indices : null))
  if (parts.length !== 1 || parts[0] === null || parts[0].is_slice) throw new SqlError(SqlState.featureNotSupported, 'slices of fixed-length arrays not implemented')
  const now = ctx.exec.nowMicros
  const kind = column.type.id as 'point' | 'box' | 'lseg'
  const target = kind === 'point' ? T.float8 : T.point
  if (!canCast(source.type, target, 'assignment')) {
    throw new SqlError(SqlState.datatypeMismatch, `subscripted assignment to "${column.name}" requires type ${typeName(target)} but expression is of type ${typeName(source.type)}`)
  }
  const value = coerce(source, target, 'assignment', now).eval
  const index = coerce(compile(parts[0].uidx!, ctx), T.int4, 'assignment', now).eval
  return (env, current) => {
    const i = index(env)
    if (i === null) throw new SqlError(SqlState.nullValueNotAllowed, 'array subscript in assignment must not be null')
    if (current === null) return null
    if (i !== 0 && i !== 1) throw new SqlError(SqlState.arraySubscriptError, 'array subscript out of range')
    const v = value(env)
    if (v === null) return current
    const g = geometryOf(current as string, kind)
    if (g.kind === 'point') return formatGeometry({ kind: 'point', p: i === 0 ? { x: v as number, y: g.p.y } : { x: g.p.x, y: v as number } })
    const p = (geometryOf(v as string, 'point') as Geometry & { kind: 'point' }).p
    if (g.kind === 'lseg') return formatGeometry(i === 0 ? { kind: 'lseg', a: p, b: g.b } : { kind: 'lseg', a: g.a, b: p })
    // A box's corners are stored as given here; its input function would reorder them, PostgreSQL's assignment does not.
    return formatGeometry(g.kind === 'box' ? (i === 0 ? { kind: 'box', high: p, low: g.low } : { kind: 'box', high: g.high, low: p }) : g)
  }
}
