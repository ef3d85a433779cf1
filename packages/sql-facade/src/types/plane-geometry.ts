/**
 * The plane geometry behind the geometric operators and functions, with PostgreSQL's
 * fuzzy comparisons: two coordinates within EPSILON (1e-6) of each other are equal
 * (FPeq and friends), except where PostgreSQL insists on exact equality (NaN involved).
 * Distances use PostgreSQL's hypot, so results print identically to the last digit.
 */
import { boxOf, type Geometry, type Point } from './geometry.js'

export const EPSILON = 1.0e-6

export const fpEq = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= EPSILON
export const fpLt = (a: number, b: number): boolean => a + EPSILON < b
export const fpLe = (a: number, b: number): boolean => a <= b + EPSILON
export const fpGt = (a: number, b: number): boolean => a > b + EPSILON
export const fpGe = (a: number, b: number): boolean => a + EPSILON >= b
const fpZero = (a: number): boolean => Math.abs(a) <= EPSILON

/** pg_hypot: overflow-safe and bit-for-bit PostgreSQL's, unlike Math.hypot. */
export function pgHypot(x: number, y: number): number {
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    if (Math.abs(x) === Infinity || Math.abs(y) === Infinity) return Infinity
    return NaN
  }
  let a = Math.abs(x)
  let b = Math.abs(y)
  if (a < b) [a, b] = [b, a]
  if (b === 0) return a
  const r = b / a
  return a * Math.sqrt(1 + r * r)
}

export function pointDistance(a: Point, b: Point): number {
  return pgHypot(a.x - b.x, a.y - b.y)
}

/** point_eq_point: fuzzy, but exact when a NaN is involved (NaN equals NaN there). */
export function samePoint(a: Point, b: Point): boolean {
  if ([a.x, a.y, b.x, b.y].some(Number.isNaN)) return eqNan(a.x, b.x) && eqNan(a.y, b.y)
  return fpEq(a.x, b.x) && fpEq(a.y, b.y)
}

function eqNan(a: number, b: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || a === b
}

export function boxArea(g: Geometry & { kind: 'box' }): number {
  return (g.high.x - g.low.x) * (g.high.y - g.low.y)
}

export function circleArea(g: Geometry & { kind: 'circle' }): number {
  return Math.PI * g.radius * g.radius
}

export function boxCenter(g: Geometry & { kind: 'box' }): Point {
  return { x: (g.high.x + g.low.x) / 2, y: (g.high.y + g.low.y) / 2 }
}

/** box_poly: the corners from the lower left, clockwise. */
export function boxPolygon(g: Geometry & { kind: 'box' }): Point[] {
  return [{ x: g.low.x, y: g.low.y }, { x: g.low.x, y: g.high.y }, { x: g.high.x, y: g.high.y }, { x: g.high.x, y: g.low.y }]
}

export function boundingBox(pts: readonly Point[]): Geometry & { kind: 'box' } {
  let hx = pts[0]!.x
  let hy = pts[0]!.y
  let lx = hx
  let ly = hy
  for (const p of pts) {
    if (p.x > hx) hx = p.x
    if (p.x < lx) lx = p.x
    if (p.y > hy) hy = p.y
    if (p.y < ly) ly = p.y
  }
  return boxOf({ x: hx, y: hy }, { x: lx, y: ly })
}

export function boxContainsPoint(b: Geometry & { kind: 'box' }, p: Point): boolean {
  return b.high.x >= p.x && b.low.x <= p.x && b.high.y >= p.y && b.low.y <= p.y
}

export function boxOverlaps(a: Geometry & { kind: 'box' }, b: Geometry & { kind: 'box' }): boolean {
  return fpLe(a.low.x, b.high.x) && fpLe(b.low.x, a.high.x) && fpLe(a.low.y, b.high.y) && fpLe(b.low.y, a.high.y)
}

/** box_contained: `a` lies inside `b`. */
export function boxInside(a: Geometry & { kind: 'box' }, b: Geometry & { kind: 'box' }): boolean {
  return fpLe(a.high.x, b.high.x) && fpGe(a.low.x, b.low.x) && fpLe(a.high.y, b.high.y) && fpGe(a.low.y, b.low.y)
}

const ON_POLYGON = 1 << 30

/** lseg_crossing: how the edge from prev to (x, y) crosses the positive X axis around the origin. */
function crossing(x: number, y: number, px: number, py: number): number {
  if (fpZero(y)) {
    if (fpZero(x)) return ON_POLYGON
    if (fpGt(x, 0)) {
      if (fpZero(py)) return fpGt(px, 0) ? 0 : ON_POLYGON
      return fpLt(py, 0) ? 1 : -1
    }
    if (fpZero(py)) return fpLt(px, 0) ? 0 : ON_POLYGON
    return 0
  }
  const ySign = fpGt(y, 0) ? 1 : -1
  if (fpZero(py)) return fpLt(px, 0) ? 0 : ySign
  if ((ySign < 0 && fpLt(py, 0)) || (ySign > 0 && fpGt(py, 0))) return 0
  if (fpGe(x, 0) && fpGt(px, 0)) return 2 * ySign
  if (fpLt(x, 0) && fpLe(px, 0)) return 0
  const z = (x - px) * y - (y - py) * x
  if (fpZero(z)) return ON_POLYGON
  if ((ySign < 0 && fpLt(z, 0)) || (ySign > 0 && fpGt(z, 0))) return 0
  return 2 * ySign
}

/** point_inside: 0 outside, 1 inside, 2 on an edge (winding number about `p`). */
export function pointInPolygon(p: Point, pts: readonly Point[]): number {
  const x0 = pts[0]!.x - p.x
  const y0 = pts[0]!.y - p.y
  let px = x0
  let py = y0
  let total = 0
  for (let i = 1; i < pts.length; i++) {
    const x = pts[i]!.x - p.x
    const y = pts[i]!.y - p.y
    const c = crossing(x, y, px, py)
    if (c === ON_POLYGON) return 2
    total += c
    px = x
    py = y
  }
  const c = crossing(x0, y0, px, py)
  if (c === ON_POLYGON) return 2
  total += c
  return total !== 0 ? 1 : 0
}

/** The distance from `p` to the segment a-b. */
export function segmentDistance(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const len2 = dx * dx + dy * dy
  if (len2 === 0) return pointDistance(p, a)
  const t = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2
  if (t <= 0) return pointDistance(p, a)
  if (t >= 1) return pointDistance(p, b)
  return pointDistance(p, { x: a.x + t * dx, y: a.y + t * dy })
}

/** dist_ppoly: zero inside the polygon, else the distance to its nearest edge. */
export function polygonDistance(pts: readonly Point[], p: Point): number {
  if (pointInPolygon(p, pts) !== 0) return 0
  let best = Infinity
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i === 0 ? pts.length - 1 : i - 1]!
    const d = segmentDistance(p, a, pts[i]!)
    if (d < best) best = d
  }
  return best
}

function orientation(a: Point, b: Point, c: Point): number {
  const v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
  return fpZero(v) ? 0 : v > 0 ? 1 : -1
}

function onSegment(p: Point, a: Point, b: Point): boolean {
  return fpLe(Math.min(a.x, b.x), p.x) && fpLe(p.x, Math.max(a.x, b.x)) && fpLe(Math.min(a.y, b.y), p.y) && fpLe(p.y, Math.max(a.y, b.y))
}

/** Whether segments a-b and c-d meet (touching counts). */
export function segmentsIntersect(a: Point, b: Point, c: Point, d: Point): boolean {
  const o1 = orientation(a, b, c)
  const o2 = orientation(a, b, d)
  const o3 = orientation(c, d, a)
  const o4 = orientation(c, d, b)
  if (o1 !== o2 && o3 !== o4) return true
  return (o1 === 0 && onSegment(c, a, b)) || (o2 === 0 && onSegment(d, a, b)) || (o3 === 0 && onSegment(a, c, d)) || (o4 === 0 && onSegment(b, c, d))
}

/** poly_overlap: bounding boxes meet, then an edge crossing or one polygon inside the other. */
export function polygonsOverlap(a: readonly Point[], b: readonly Point[]): boolean {
  if (!boxOverlaps(boundingBox(a), boundingBox(b))) return false
  for (let i = 0; i < a.length; i++) {
    const a0 = a[i === 0 ? a.length - 1 : i - 1]!
    for (let j = 0; j < b.length; j++) {
      if (segmentsIntersect(a0, a[i]!, b[j === 0 ? b.length - 1 : j - 1]!, b[j]!)) return true
    }
  }
  return pointInPolygon(a[0]!, b) !== 0 || pointInPolygon(b[0]!, a) !== 0
}

/** Whether two point lists are the same polygon: equal points in order, from any starting point, either direction. */
export function samePolygon(a: readonly Point[], b: readonly Point[]): boolean {
  if (a.length !== b.length) return false
  const n = a.length
  for (let s = 0; s < n; s++) {
    let fwd = true
    let back = true
    for (let i = 0; i < n && (fwd || back); i++) {
      if (fwd && !samePoint(a[i]!, b[(s + i) % n]!)) fwd = false
      if (back && !samePoint(a[i]!, b[(s - i + n) % n]!)) back = false
    }
    if (fwd || back) return true
  }
  return false
}
