/**
 * PostgreSQL's geometric types (point, lseg, line, box, path, polygon, circle): their
 * values, input syntax and output text.
 *
 * The runtime value is the canonical output text (a string, as uuid's is), so a value is
 * stored in a row register, replicated and merged like any other scalar (last writer wins
 * on the column) and needs no codec of its own; operators parse it back with
 * `geometryOf`. Output prints every coordinate as float8 does (shortest round-trip form).
 *
 * Invariants: a stored string is always what `formatGeometry` printed for a value that
 * `parseGeometry` accepted; a box keeps its upper-right corner first; a line is never
 * A = B = 0; a circle's radius is never negative.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { formatFloat } from './float-text.js'
import type { SqlType } from './sql-type.js'

export type GeometryKind = 'point' | 'lseg' | 'line' | 'box' | 'path' | 'polygon' | 'circle'

export const GEOMETRY_KINDS: readonly GeometryKind[] = ['point', 'lseg', 'line', 'box', 'path', 'polygon', 'circle']

export function isGeometryKind(id: string): id is GeometryKind {
  return (GEOMETRY_KINDS as readonly string[]).includes(id)
}

export interface Point { x: number; y: number }

export type Geometry =
  | { kind: 'point'; p: Point }
  | { kind: 'lseg'; a: Point; b: Point }
  | { kind: 'line'; A: number; B: number; C: number }
  /** `high` is the upper-right corner, `low` the lower-left. */
  | { kind: 'box'; high: Point; low: Point }
  | { kind: 'path'; closed: boolean; pts: Point[] }
  | { kind: 'polygon'; pts: Point[] }
  | { kind: 'circle'; center: Point; radius: number }

/** The longest geometric text accepted: bounds the point count of a path or polygon. */
const MAX_INPUT = 1 << 20

class BadGeometry extends Error {}

function bad(): never {
  throw new BadGeometry()
}

/** A cursor over input text, after PostgreSQL's geo_ops.c decoders. */
class Reader {
  readonly s: string
  i = 0

  constructor(s: string) {
    this.s = s
  }

  skip(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++
  }

  peek(): string {
    return this.s[this.i] ?? ''
  }

  eat(c: string): boolean {
    if (this.s[this.i] !== c) return false
    this.i++
    return true
  }

  float(): number {
    this.skip()
    const m = /^[+-]?(?:infinity|inf|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)/i.exec(this.s.slice(this.i))
    if (!m) bad()
    this.i += m[0].length
    const t = m[0].toLowerCase().replace(/^\+/, '')
    const v = t === 'nan' ? NaN : t === 'inf' || t === 'infinity' ? Infinity : t === '-inf' || t === '-infinity' ? -Infinity : Number(t)
    if (!Number.isFinite(v) && !/inf|nan/.test(t)) {
      throw new SqlError(SqlState.numericValueOutOfRange, `"${m[0]}" is out of range for type double precision`)
    }
    this.skip()
    return v
  }

  /** `x,y` or `(x,y)` (pair_decode). */
  pair(): Point {
    this.skip()
    const paren = this.eat('(')
    const x = this.float()
    if (!this.eat(',')) bad()
    const y = this.float()
    if (paren) {
      this.skip()
      if (!this.eat(')')) bad()
    }
    this.skip()
    return { x, y }
  }

  end(): void {
    this.skip()
    if (this.i !== this.s.length) bad()
  }
}

/** path_decode: `npts` pairs, optionally in ( ) or (when open is allowed) [ ]; whether [ ] was used. */
function readPoints(r: Reader, npts: number, openAllowed: boolean): { pts: Point[]; open: boolean } {
  let depth = 0
  let open = false
  r.skip()
  if (r.peek() === '[') {
    if (!openAllowed) bad()
    r.i++
    depth++
    open = true
  } else if (r.peek() === '(') {
    let j = r.i + 1
    while (j < r.s.length && /\s/.test(r.s[j]!)) j++
    // An outer parenthesis: followed by another, or the only one in the text.
    if (r.s[j] === '(' || r.s.lastIndexOf('(') === r.i) {
      depth++
      r.i = j
    }
  }
  const pts: Point[] = []
  for (let k = 0; k < npts; k++) {
    pts.push(r.pair())
    // The comma between pairs may be left out, as PostgreSQL allows: (1,2)(3,4).
    if (k < npts - 1) r.eat(',')
  }
  while (depth > 0) {
    r.skip()
    if (r.peek() === ')' || (open && r.peek() === ']')) {
      if ((r.peek() === ']') !== open) bad()
      r.i++
      depth--
    } else bad()
  }
  r.end()
  return { pts, open }
}

/** pair_count: how many points a list of comma-separated pairs holds, -1 when the commas are odd. */
function pairCount(s: string): number {
  let commas = 0
  for (const c of s) if (c === ',') commas++
  return commas % 2 ? (commas + 1) / 2 : -1
}

function badInput(kind: GeometryKind, text: string): SqlError {
  return new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${kind}: "${text}"`)
}

/** The line through two distinct points (line_construct_pts). */
export function lineThrough(a: Point, b: Point): Geometry & { kind: 'line' } {
  if (a.x === b.x) return { kind: 'line', A: -1, B: 0, C: a.x }
  if (a.y === b.y) return { kind: 'line', A: 0, B: -1, C: a.y }
  const A = (b.y - a.y) / (b.x - a.x)
  return { kind: 'line', A, B: -1, C: a.y - A * a.x }
}

/** A box from two opposite corners, upper-right first. */
export function boxOf(a: Point, b: Point): Geometry & { kind: 'box' } {
  return { kind: 'box', high: { x: Math.max(a.x, b.x), y: Math.max(a.y, b.y) }, low: { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y) } }
}

function decode(text: string, kind: GeometryKind): Geometry {
  const r = new Reader(text)
  switch (kind) {
    case 'point':
      return { kind, p: readPoints(r, 1, false).pts[0]! }
    case 'lseg': {
      const { pts } = readPoints(r, 2, true)
      return { kind, a: pts[0]!, b: pts[1]! }
    }
    case 'box': {
      const { pts } = readPoints(r, 2, false)
      return boxOf(pts[0]!, pts[1]!)
    }
    case 'line': {
      r.skip()
      if (r.eat('{')) {
        const A = r.float()
        if (!r.eat(',')) bad()
        const B = r.float()
        if (!r.eat(',')) bad()
        const C = r.float()
        if (!r.eat('}')) bad()
        r.end()
        if (A === 0 && B === 0) throw new SqlError(SqlState.invalidTextRepresentation, 'invalid line specification: A and B cannot both be zero')
        return { kind, A, B, C }
      }
      const { pts } = readPoints(r, 2, true)
      const [a, b] = [pts[0]!, pts[1]!]
      if (a.x === b.x && a.y === b.y) throw new SqlError(SqlState.invalidTextRepresentation, 'invalid line specification: must be two distinct points')
      return lineThrough(a, b)
    }
    case 'path': case 'polygon': {
      const n = pairCount(text)
      if (n <= 0) bad()
      // [ ] makes a path open; ( ) or no brackets make it closed.
      const { pts, open } = readPoints(r, n, kind === 'path')
      return kind === 'path' ? { kind, closed: !open, pts } : { kind, pts }
    }
    case 'circle': {
      let depth = 0
      let angle = false
      r.skip()
      if (r.eat('<')) {
        depth++
        angle = true
      } else if (r.peek() === '(') {
        let j = r.i + 1
        while (j < r.s.length && /\s/.test(r.s[j]!)) j++
        if (r.s[j] === '(') {
          depth++
          r.i = j
        }
      }
      const center = r.pair()
      r.skip()
      if (!r.eat(',')) bad()
      const radius = r.float()
      if (radius < 0) bad()
      while (depth > 0) {
        r.skip()
        if ((r.peek() === ')' && !angle) || (r.peek() === '>' && angle)) {
          r.i++
          depth--
        } else bad()
      }
      r.end()
      return { kind, center, radius }
    }
  }
}

/** Reads a value of a geometric type from its text (22P02 on bad syntax). */
export function geometryFromText(text: string, kind: GeometryKind): Geometry {
  if (text.length > MAX_INPUT) throw badInput(kind, text)
  try {
    return decode(text, kind)
  } catch (e) {
    if (e instanceof BadGeometry) throw badInput(kind, text)
    throw e
  }
}

/** Input function: the canonical text of the value `text` spells. */
export function parseGeometry(text: string, kind: GeometryKind): string {
  return formatGeometry(geometryFromText(text, kind))
}

/** A stored value (canonical text) as its geometry. */
export function geometryOf(v: string, kind: GeometryKind): Geometry {
  return geometryFromText(v, kind)
}

const num = (v: number): string => formatFloat(v, false)
const pt = (p: Point): string => `(${num(p.x)},${num(p.y)})`

/** Output function: PostgreSQL's text of a geometric value. */
export function formatGeometry(g: Geometry): string {
  switch (g.kind) {
    case 'point': return pt(g.p)
    case 'lseg': return `[${pt(g.a)},${pt(g.b)}]`
    case 'line': return `{${num(g.A)},${num(g.B)},${num(g.C)}}`
    case 'box': return `${pt(g.high)},${pt(g.low)}`
    case 'path': return g.closed ? `(${g.pts.map(pt).join(',')})` : `[${g.pts.map(pt).join(',')}]`
    case 'polygon': return `(${g.pts.map(pt).join(',')})`
    case 'circle': return `<${pt(g.center)},${num(g.radius)}>`
  }
}

/** ORDER BY a geometric value: PostgreSQL has no ordering for these types (42883). */
export function assertOrderable(t: SqlType): void {
  if (!t.array && isGeometryKind(t.id)) {
    throw new SqlError(SqlState.undefinedFunction, `could not identify an ordering operator for type ${t.id}`, { hint: 'Use an explicit ordering operator or modify the query.' })
  }
}
