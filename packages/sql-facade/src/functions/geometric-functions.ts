/**
 * Functions over the geometric types (types/geometry.ts): constructors (point, box, lseg,
 * circle, polygon), conversions (polygon(box), circle(box)) and measures (area, center,
 * circle_center, radius, diameter, width, height, npoints, isopen, isclosed).
 */
import { formatGeometry, geometryOf, type Geometry, type GeometryKind, type Point } from '../types/geometry.js'
import { boxArea, boxCenter, boxPolygon, circleArea, pointDistance } from '../types/plane-geometry.js'
import { isNumericType, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarImpl, ScalarResolver } from './scalar-impl.js'

type Box = Geometry & { kind: 'box' }
type Circle = Geometry & { kind: 'circle' }

const g = (v: RtValue, kind: GeometryKind): Geometry => geometryOf(v as string, kind)
const box = (v: RtValue): Box => g(v, 'box') as Box
const circle = (v: RtValue): Circle => g(v, 'circle') as Circle
const point = (v: RtValue): Point => (g(v, 'point') as Geometry & { kind: 'point' }).p
const out = (x: Geometry): string => formatGeometry(x)
const num = (t: SqlType | undefined): boolean => t !== undefined && (isNumericType(t) || t.id === 'unknown')
const is = (t: SqlType | undefined, id: string): boolean => t !== undefined && !t.array && t.id === id

/** One-argument function of one geometric type. */
function unary(ts: SqlType[], from: SqlType, result: SqlType, fn: (v: RtValue) => RtValue): ScalarImpl | null {
  if (ts.length !== 1 || !(is(ts[0], from.id) || is(ts[0], 'unknown'))) return null
  return { args: [from], result, fn: (a) => fn(a[0]!) }
}

function pathPoints(v: RtValue, kind: 'path' | 'polygon'): Point[] {
  return (g(v, kind) as Geometry & { pts: Point[] }).pts
}

export const GEOMETRIC_FUNCTIONS: Record<string, ScalarResolver> = {
  point: (ts) => {
    if (ts.length === 2 && num(ts[0]) && num(ts[1])) {
      return { args: [T.float8, T.float8], result: T.point, fn: (a) => out({ kind: 'point', p: { x: a[0] as number, y: a[1] as number } }) }
    }
    if (is(ts[0], 'box')) return unary(ts, T.box, T.point, (v) => out({ kind: 'point', p: boxCenter(box(v)) }))
    if (is(ts[0], 'circle')) return unary(ts, T.circle, T.point, (v) => out({ kind: 'point', p: circle(v).center }))
    return null
  },
  box: (ts) => {
    if (ts.length === 2 && is(ts[0], 'point') && is(ts[1], 'point')) {
      return { args: [T.point, T.point], result: T.box, fn: (a) => {
        const p = point(a[0]!)
        const q = point(a[1]!)
        return out({ kind: 'box', high: { x: Math.max(p.x, q.x), y: Math.max(p.y, q.y) }, low: { x: Math.min(p.x, q.x), y: Math.min(p.y, q.y) } })
      } }
    }
    return null
  },
  lseg: (ts) => (ts.length === 2 && is(ts[0], 'point') && is(ts[1], 'point')
    ? { args: [T.point, T.point], result: T.lseg, fn: (a) => out({ kind: 'lseg', a: point(a[0]!), b: point(a[1]!) }) }
    : null),
  polygon: (ts) => unary(ts, T.box, T.polygon, (v) => out({ kind: 'polygon', pts: boxPolygon(box(v)) })),
  circle: (ts) => {
    if (ts.length === 2 && is(ts[0], 'point') && num(ts[1])) {
      return { args: [T.point, T.float8], result: T.circle, fn: (a) => out({ kind: 'circle', center: point(a[0]!), radius: a[1] as number }) }
    }
    return unary(ts, T.box, T.circle, (v) => {
      const b = box(v)
      const center = boxCenter(b)
      return out({ kind: 'circle', center, radius: pointDistance(center, b.high) })
    })
  },
  circle_center: (ts) => unary(ts, T.circle, T.point, (v) => out({ kind: 'point', p: circle(v).center })),
  radius: (ts) => unary(ts, T.circle, T.float8, (v) => circle(v).radius),
  diameter: (ts) => unary(ts, T.circle, T.float8, (v) => 2 * circle(v).radius),
  center: (ts) => (is(ts[0], 'circle')
    ? unary(ts, T.circle, T.point, (v) => out({ kind: 'point', p: circle(v).center }))
    : unary(ts, T.box, T.point, (v) => out({ kind: 'point', p: boxCenter(box(v)) }))),
  area: (ts) => (is(ts[0], 'circle') ? unary(ts, T.circle, T.float8, (v) => circleArea(circle(v))) : unary(ts, T.box, T.float8, (v) => boxArea(box(v)))),
  width: (ts) => unary(ts, T.box, T.float8, (v) => box(v).high.x - box(v).low.x),
  height: (ts) => unary(ts, T.box, T.float8, (v) => box(v).high.y - box(v).low.y),
  npoints: (ts) => (is(ts[0], 'polygon')
    ? unary(ts, T.polygon, T.int4, (v) => pathPoints(v, 'polygon').length)
    : unary(ts, T.path, T.int4, (v) => pathPoints(v, 'path').length)),
  isclosed: (ts) => unary(ts, T.path, T.bool, (v) => (g(v, 'path') as Geometry & { kind: 'path' }).closed),
  isopen: (ts) => unary(ts, T.path, T.bool, (v) => !(g(v, 'path') as Geometry & { kind: 'path' }).closed),
}
