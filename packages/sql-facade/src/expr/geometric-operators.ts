/**
 * Operators over the geometric types (types/geometry.ts): position (<< >> <<| |>>),
 * containment (<@ @>), overlap (&&), same-as (~=), distance (<->), center (@@ is a
 * function here) and point translation (+ -), plus the comparisons (= < ..) that
 * PostgreSQL defines: box and circle compare by area; point, path, polygon and line have
 * no ordering, so `=` on them is 42883 as in PostgreSQL.
 *
 * An unknown literal on one side takes the other side's type, as PostgreSQL resolves
 * `f1 << '(0,0)'`; containment against an unknown reads it as a box.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatGeometry, geometryOf, isGeometryKind, type Geometry, type GeometryKind, type Point } from '../types/geometry.js'
import {
  boxArea, boxContainsPoint, boxInside, boxOverlaps, circleArea, fpEq, fpGt, fpLe, fpLt, pointDistance, pointInPolygon,
  polygonDistance, polygonsOverlap, samePoint, samePolygon, boxCenter,
} from '../types/plane-geometry.js'
import { T, typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { OperatorImpl } from './operator-impl.js'

type Box = Geometry & { kind: 'box' }
type Circle = Geometry & { kind: 'circle' }

const POSITION_OPS = new Set(['<<', '>>', '<<|', '|>>'])
const GEOMETRIC_OPS = new Set(['<<', '>>', '<<|', '|>>', '<@', '@>', '&&', '~=', '<->', '+', '-', '?#'])

function noOperator(op: string, l: SqlType, r: SqlType): SqlError {
  return new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l)} ${op} ${typeName(r)}`, {
    hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
  })
}

function geo(v: RtValue, kind: GeometryKind): Geometry {
  return geometryOf(v as string, kind)
}

const pointOf = (v: RtValue): Point => (geo(v, 'point') as Geometry & { kind: 'point' }).p
const boxOfValue = (v: RtValue): Box => geo(v, 'box') as Box
const circleOf = (v: RtValue): Circle => geo(v, 'circle') as Circle
const polygonOf = (v: RtValue): Point[] => (geo(v, 'polygon') as Geometry & { kind: 'polygon' }).pts

function isGeo(t: SqlType): boolean {
  return !t.array && isGeometryKind(t.id)
}

/** Whether `op` between these operand types is a geometric operator (resolved here). */
export function isGeometricOperator(op: string, l: SqlType, r: SqlType): boolean {
  return GEOMETRIC_OPS.has(op) && (isGeo(l) || isGeo(r))
}

function boolOp(left: SqlType, right: SqlType, fn: (a: RtValue, b: RtValue) => boolean): OperatorImpl {
  return { left, right, result: T.bool, fn }
}

function position(op: string, kind: 'point' | 'box' | 'circle'): (a: RtValue, b: RtValue) => boolean {
  // Per kind, the extent each operator compares: a point is its own extent.
  const extent = (v: RtValue): { lo: Point; hi: Point } => {
    if (kind === 'point') {
      const p = pointOf(v)
      return { lo: p, hi: p }
    }
    if (kind === 'box') {
      const b = boxOfValue(v)
      return { lo: b.low, hi: b.high }
    }
    const c = circleOf(v)
    return { lo: { x: c.center.x - c.radius, y: c.center.y - c.radius }, hi: { x: c.center.x + c.radius, y: c.center.y + c.radius } }
  }
  return (a, b) => {
    const x = extent(a)
    const y = extent(b)
    switch (op) {
      case '<<': return fpLt(x.hi.x, y.lo.x)
      case '>>': return fpGt(x.lo.x, y.hi.x)
      case '<<|': return fpLt(x.hi.y, y.lo.y)
      default: return fpGt(x.lo.y, y.hi.y)
    }
  }
}

/** `inner <@ outer` for the supported pairs, or null. */
function containedIn(inner: GeometryKind, outer: GeometryKind): ((a: RtValue, b: RtValue) => boolean) | null {
  if (inner === 'point' && outer === 'box') return (a, b) => boxContainsPoint(boxOfValue(b), pointOf(a))
  if (inner === 'point' && outer === 'polygon') return (a, b) => pointInPolygon(pointOf(a), polygonOf(b)) !== 0
  if (inner === 'point' && outer === 'circle') return (a, b) => {
    const c = circleOf(b)
    return pointDistance(c.center, pointOf(a)) <= c.radius
  }
  if (inner === 'box' && outer === 'box') return (a, b) => boxInside(boxOfValue(a), boxOfValue(b))
  if (inner === 'circle' && outer === 'circle') return (a, b) => {
    const x = circleOf(a)
    const y = circleOf(b)
    return fpLe(pointDistance(x.center, y.center) + x.radius, y.radius)
  }
  return null
}

/** `a <-> b` for the supported pairs (either order), or null. */
function distance(l: GeometryKind, r: GeometryKind): ((a: RtValue, b: RtValue) => number) | null {
  const flip = (f: (a: RtValue, b: RtValue) => number) => (a: RtValue, b: RtValue) => f(b, a)
  if (l === 'point' && r === 'point') return (a, b) => pointDistance(pointOf(a), pointOf(b))
  if (l === 'polygon' && r === 'point') return (a, b) => polygonDistance(polygonOf(a), pointOf(b))
  if (l === 'point' && r === 'polygon') return flip(distance('polygon', 'point')!)
  if (l === 'circle' && r === 'point') return (a, b) => {
    const c = circleOf(a)
    const d = pointDistance(pointOf(b), c.center) - c.radius
    return d < 0 ? 0 : d
  }
  if (l === 'point' && r === 'circle') return flip(distance('circle', 'point')!)
  if (l === 'box' && r === 'box') return (a, b) => pointDistance(boxCenter(boxOfValue(a)), boxCenter(boxOfValue(b)))
  if (l === 'circle' && r === 'circle') return (a, b) => {
    const x = circleOf(a)
    const y = circleOf(b)
    const d = pointDistance(x.center, y.center) - (x.radius + y.radius)
    return d < 0 ? 0 : d
  }
  return null
}

function same(kind: GeometryKind): (a: RtValue, b: RtValue) => boolean {
  switch (kind) {
    case 'point': return (a, b) => samePoint(pointOf(a), pointOf(b))
    case 'box': return (a, b) => {
      const x = boxOfValue(a)
      const y = boxOfValue(b)
      return samePoint(x.high, y.high) && samePoint(x.low, y.low)
    }
    case 'circle': return (a, b) => {
      const x = circleOf(a)
      const y = circleOf(b)
      return samePoint(x.center, y.center) && fpEq(x.radius, y.radius)
    }
    case 'polygon': return (a, b) => samePolygon(polygonOf(a), polygonOf(b))
    default: return (a, b) => a === b
  }
}

/** point ± point, box ± point: translation. */
function translate(op: '+' | '-', kind: 'point' | 'box'): (a: RtValue, b: RtValue) => RtValue {
  const sign = op === '+' ? 1 : -1
  return (a, b) => {
    const d = pointOf(b)
    if (kind === 'point') {
      const p = pointOf(a)
      return formatGeometry({ kind: 'point', p: { x: p.x + sign * d.x, y: p.y + sign * d.y } })
    }
    const x = boxOfValue(a)
    return formatGeometry({
      kind: 'box', high: { x: x.high.x + sign * d.x, y: x.high.y + sign * d.y }, low: { x: x.low.x + sign * d.x, y: x.low.y + sign * d.y },
    })
  }
}

/** Resolves a geometric operator (isGeometricOperator said it is one); 42883 when PostgreSQL has none for the types. */
export function resolveGeometricOperator(op: string, l: SqlType, r: SqlType): OperatorImpl {
  let lt = l
  let rt = r
  if (lt.id === 'unknown') lt = (op === '@>' && isGeo(rt) && rt.id === 'point') ? T.box : rt
  if (rt.id === 'unknown') rt = (op === '<@' && isGeo(lt) && lt.id === 'point') ? T.box : lt
  if (!isGeo(lt) || !isGeo(rt)) throw noOperator(op, l, r)
  const a = lt.id as GeometryKind
  const b = rt.id as GeometryKind
  if (POSITION_OPS.has(op) && a === b && (a === 'point' || a === 'box' || a === 'circle')) return boolOp(lt, rt, position(op, a))
  if (op === '<@' || op === '@>') {
    const f = op === '<@' ? containedIn(a, b) : containedIn(b, a)
    if (f) return boolOp(lt, rt, op === '<@' ? f : (x, y) => f(y, x))
  }
  if (op === '&&' && a === b) {
    if (a === 'box') return boolOp(lt, rt, (x, y) => boxOverlaps(boxOfValue(x), boxOfValue(y)))
    if (a === 'polygon') return boolOp(lt, rt, (x, y) => polygonsOverlap(polygonOf(x), polygonOf(y)))
    if (a === 'circle') return boolOp(lt, rt, (x, y) => {
      const c = circleOf(x)
      const d = circleOf(y)
      return fpLe(pointDistance(c.center, d.center), c.radius + d.radius)
    })
  }
  if (op === '~=' && a === b && a !== 'lseg' && a !== 'line' && a !== 'path') return boolOp(lt, rt, same(a))
  if (op === '<->') {
    const f = distance(a, b)
    if (f) return { left: lt, right: rt, result: T.float8, fn: f }
  }
  if ((op === '+' || op === '-') && b === 'point' && (a === 'point' || a === 'box')) return { left: lt, right: rt, result: lt, fn: translate(op, a) }
  throw noOperator(op, l, r)
}

/**
 * The ordering `=`, `<` .. use for a geometric type: box and circle by area (within
 * EPSILON), lseg and line by equality only; 42883 for the types with no such operator.
 */
export function geometricComparator(op: string, t: SqlType): (a: RtValue, b: RtValue) => number {
  const byArea = (area: (v: RtValue) => number) => (a: RtValue, b: RtValue): number => {
    const x = area(a)
    const y = area(b)
    return fpEq(x, y) ? 0 : x < y ? -1 : 1
  }
  if (t.id === 'box') return byArea((v) => boxArea(boxOfValue(v)))
  if (t.id === 'circle') return byArea((v) => circleArea(circleOf(v)))
  if ((t.id === 'lseg' || t.id === 'line') && (op === '=' || op === '<>' || op === '!=')) return (a, b) => (a === b ? 0 : 1)
  throw noOperator(op, t, t)
}
