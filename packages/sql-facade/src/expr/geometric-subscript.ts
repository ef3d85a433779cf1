/**
 * Subscripts of the geometric types PostgreSQL stores as fixed-length arrays: point[0] is
 * x and point[1] y (float8); box[0] / box[1] and lseg[0] / lseg[1] are its two points.
 * Any other index reads NULL, more than one subscript too, and a slice is 0A000, as in
 * PostgreSQL.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatGeometry, geometryOf, type Geometry } from '../types/geometry.js'
import { T } from '../types/sql-type.js'
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
