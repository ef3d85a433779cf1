/**
 * Reading and assigning array elements and slices with PostgreSQL's rules.
 *
 * Reading never fails on a bad position: an element read with the wrong number of
 * subscripts or outside the bounds is NULL; a slice is clipped to the bounds and is the
 * empty array when nothing is left; slices always have lower bounds 1. Where a slice mixes
 * `[k]` with `[a:b]`, `[k]` means `[1:k]`.
 *
 * Assigning follows array_set_element / array_set_slice: a NULL array is assigned as the
 * empty array; a one-dimensional array grows at either end, padding with NULLs; a
 * multidimensional array must be written inside its bounds (2202E otherwise).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { MAX_DIMS, MAX_ITEMS, SqlArray, tooManyDims, tooManyItems } from './array.js'
import type { RtValue } from './value.js'

/** One subscript: `[i]` has only `upper`; a slice bound left out (`[:3]`) is null. */
export interface SliceBound {
  lower: number | null
  upper: number | null
}

function subscriptError(message: string, detail?: string): SqlError {
  return new SqlError(SqlState.arraySubscriptError, message, detail ? { detail } : {})
}

/** Row-major offset of a position inside `a`, or -1 when outside its bounds. */
function offsetOf(a: SqlArray, idx: readonly number[]): number {
  let off = 0
  for (let d = 0; d < a.ndims; d++) {
    const k = idx[d]! - a.lbounds[d]!
    if (k < 0 || k >= a.dims[d]!) return -1
    off = off * a.dims[d]! + k
  }
  return off
}

/** `a[i][j]..`: the element, or NULL when the position does not exist. */
export function getElement(a: SqlArray, idx: readonly number[]): RtValue {
  if (idx.length !== a.ndims) return null
  const off = offsetOf(a, idx)
  return off < 0 ? null : a.items[off]!
}

/** Copies the box `lo..hi` (inclusive, inside the bounds) of `a` in row-major order. */
function copyBox(a: SqlArray, lo: readonly number[], hi: readonly number[]): RtValue[] {
  const nd = a.ndims
  const out: RtValue[] = []
  const pos = lo.slice()
  for (;;) {
    out.push(a.items[offsetOf(a, pos)]!)
    let d = nd - 1
    while (d >= 0 && pos[d] === hi[d]) {
      pos[d] = lo[d]!
      d--
    }
    if (d < 0) return out
    pos[d]!++
  }
}

/** `a[l:u][..]`: the clipped slice, with lower bounds 1. */
export function getSlice(a: SqlArray, bounds: readonly SliceBound[]): SqlArray {
  const nd = a.ndims
  if (nd === 0 || bounds.length > nd) return SqlArray.EMPTY
  const lo: number[] = []
  const hi: number[] = []
  for (let d = 0; d < nd; d++) {
    const b = bounds[d]
    let l = b?.lower ?? a.lbounds[d]!
    let u = b?.upper ?? a.upper(d)
    if (l < a.lbounds[d]!) l = a.lbounds[d]!
    if (u > a.upper(d)) u = a.upper(d)
    if (l > u) return SqlArray.EMPTY
    lo.push(l)
    hi.push(u)
  }
  const dims = lo.map((l, d) => hi[d]! - l + 1)
  return new SqlArray(dims, dims.map(() => 1), copyBox(a, lo, hi))
}

function checkCount(n: number): void {
  if (n > MAX_DIMS) throw tooManyDims(n)
}

/** `a[i][j].. = v`. */
export function setElement(a: SqlArray | null, idx: readonly number[], v: RtValue): SqlArray {
  checkCount(idx.length)
  if (a === null || a.ndims === 0) return new SqlArray(idx.map(() => 1), idx.slice(), [v])
  if (a.ndims !== idx.length) throw subscriptError('wrong number of array subscripts')
  if (a.ndims > 1) {
    const off = offsetOf(a, idx)
    if (off < 0) throw subscriptError('array subscript out of range')
    const items = a.items.slice()
    items[off] = v
    return new SqlArray(a.dims, a.lbounds, items)
  }
  const i = idx[0]!
  const lb = a.lbounds[0]!
  const ub = a.upper(0)
  const newLb = Math.min(lb, i)
  const newUb = Math.max(ub, i)
  if (newUb - newLb + 1 > MAX_ITEMS) throw tooManyItems()
  const items: RtValue[] = new Array<RtValue>(newUb - newLb + 1).fill(null)
  for (let k = 0; k < a.items.length; k++) items[lb - newLb + k] = a.items[k]!
  items[i - newLb] = v
  return new SqlArray([items.length], [newLb], items)
}

/** `a[l:u][..] = src`: src's elements, read in order whatever its shape, fill the slice. */
export function setSlice(a: SqlArray | null, bounds: readonly SliceBound[], src: SqlArray): SqlArray {
  checkCount(bounds.length)
  if (a === null || a.ndims === 0) {
    const dims: number[] = []
    const lbs: number[] = []
    let n = 1
    for (const b of bounds) {
      if (b.lower === null || b.upper === null) {
        throw subscriptError('array slice subscript must provide both boundaries', 'When assigning to a slice of an empty array value, slice boundaries must be fully specified.')
      }
      if (b.lower > b.upper) throw subscriptError('upper bound cannot be less than lower bound')
      dims.push(b.upper - b.lower + 1)
      lbs.push(b.lower)
      n *= b.upper - b.lower + 1
      if (n > MAX_ITEMS) throw tooManyItems()
    }
    if (src.items.length < n) throw subscriptError('source array too small')
    return new SqlArray(dims, lbs, src.items.slice(0, n))
  }
  const nd = a.ndims
  if (bounds.length > nd) throw subscriptError('wrong number of array subscripts')
  if (nd === 1) {
    const b = bounds[0]!
    const lo = b.lower ?? a.lbounds[0]!
    const hi = b.upper ?? a.upper(0)
    if (lo > hi) throw subscriptError('upper bound cannot be less than lower bound')
    const n = hi - lo + 1
    if (src.items.length < n) throw subscriptError('source array too small')
    const lb = a.lbounds[0]!
    const newLb = Math.min(lb, lo)
    const newUb = Math.max(a.upper(0), hi)
    if (newUb - newLb + 1 > MAX_ITEMS) throw tooManyItems()
    const items: RtValue[] = new Array<RtValue>(newUb - newLb + 1).fill(null)
    for (let k = 0; k < a.items.length; k++) items[lb - newLb + k] = a.items[k]!
    for (let k = 0; k < n; k++) items[lo - newLb + k] = src.items[k]!
    return new SqlArray([items.length], [newLb], items)
  }
  const lo: number[] = []
  const hi: number[] = []
  for (let d = 0; d < nd; d++) {
    const b = bounds[d]
    const l = b?.lower ?? a.lbounds[d]!
    const u = b?.upper ?? a.upper(d)
    if (l > u) throw subscriptError('upper bound cannot be less than lower bound')
    if (l < a.lbounds[d]! || u > a.upper(d)) throw subscriptError('array subscript out of range')
    lo.push(l)
    hi.push(u)
  }
  let n = 1
  for (let d = 0; d < nd; d++) n *= hi[d]! - lo[d]! + 1
  if (src.items.length < n) throw subscriptError('source array too small')
  const items = a.items.slice()
  const pos = lo.slice()
  for (let k = 0; k < n; k++) {
    items[offsetOf(a, pos)] = src.items[k]!
    let d = nd - 1
    while (d >= 0 && pos[d] === hi[d]) {
      pos[d] = lo[d]!
      d--
    }
    if (d < 0) break
    pos[d]!++
  }
  return new SqlArray(a.dims, a.lbounds, items)
}
