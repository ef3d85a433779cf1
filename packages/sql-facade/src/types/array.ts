/**
 * SQL array values as PostgreSQL keeps them: an element type (carried by the SqlType, not
 * the value), a list of dimensions each with its length and lower bound, and the elements
 * in row-major order, any of which may be NULL. `'{}'` is the zero-dimensional empty array.
 *
 * Invariants (checked by the constructor, so every array the executor sees keeps them):
 * - `dims.length === lbounds.length <= MAX_DIMS`; every dimension length is >= 1 (an
 *   array with no elements has zero dimensions, as in PostgreSQL);
 * - `items.length` is the product of `dims`, at most MAX_ITEMS;
 * - `lbound + length - 1` fits int4 in every dimension;
 * - elements are scalars: never a SqlArray (a multidimensional array is one SqlArray).
 * Values are immutable: operations build new arrays.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ScalarValue } from './scalar-value.js'

/**
 * value.ts's RtValue, spelled here so this file need not import the module that names
 * SqlArray as one of the values (the two would import each other). The constructor keeps
 * elements scalar; the wider type lets callers pass values they have not narrowed.
 */
type RtValue = ScalarValue | SqlArray

/** PostgreSQL's MAXDIM. */
export const MAX_DIMS = 6
/**
 * Concord's bound on the elements of one array. PostgreSQL allows 134217727; one JS value
 * per element makes that several gigabytes here, so Concord stops earlier (54000).
 */
export const MAX_ITEMS = 16_777_216

const INT4_MAX = 2147483647
const INT4_MIN = -2147483648

export function tooManyDims(n: number): SqlError {
  return new SqlError(SqlState.programLimitExceeded, `number of array dimensions (${n}) exceeds the maximum allowed (${MAX_DIMS})`)
}

export function tooManyItems(): SqlError {
  return new SqlError(SqlState.programLimitExceeded, `array size exceeds the maximum allowed (${MAX_ITEMS})`)
}

export class SqlArray {
  readonly dims: readonly number[]
  readonly lbounds: readonly number[]
  readonly items: readonly RtValue[]

  constructor(dims: readonly number[], lbounds: readonly number[], items: readonly RtValue[]) {
    if (dims.length > MAX_DIMS) throw tooManyDims(dims.length)
    if (dims.length !== lbounds.length) throw new Error('array dims and lower bounds differ in length')
    let n = dims.length ? 1 : 0
    for (let i = 0; i < dims.length; i++) {
      const d = dims[i]!
      const lb = lbounds[i]!
      if (!Number.isInteger(d) || d < 1) throw new Error(`array dimension ${i + 1} has length ${d}`)
      if (!Number.isInteger(lb) || lb < INT4_MIN || lb + d - 1 > INT4_MAX) {
        throw new SqlError(SqlState.programLimitExceeded, 'array upper bound is too large')
      }
      n *= d
      if (n > MAX_ITEMS) throw tooManyItems()
    }
    if (items.length !== n) throw new Error(`array of ${n} elements holds ${items.length}`)
    this.dims = dims
    this.lbounds = lbounds
    this.items = items
  }

  static readonly EMPTY = new SqlArray([], [], [])

  /** A one-dimensional array with lower bound 1 (empty when `items` is). */
  static of(items: readonly RtValue[]): SqlArray {
    return items.length === 0 ? SqlArray.EMPTY : new SqlArray([items.length], [1], items)
  }

  get ndims(): number {
    return this.dims.length
  }

  /** Upper bound of dimension `d` (0-based). */
  upper(d: number): number {
    return this.lbounds[d]! + this.dims[d]! - 1
  }

  /** The same shape with other elements (a cast, a typmod). */
  map(fn: (v: RtValue) => RtValue): SqlArray {
    if (this.items.length === 0) return this
    return new SqlArray(this.dims, this.lbounds, this.items.map((v) => (v === null ? null : fn(v))))
  }

  /** `[1:2][1:3]` as array_dims prints it. */
  dimsText(): string {
    let s = ''
    for (let d = 0; d < this.dims.length; d++) s += `[${this.lbounds[d]}:${this.upper(d)}]`
    return s
  }

  /** Whether every lower bound is 1 (text output then has no dimension decoration). */
  defaultBounds(): boolean {
    return this.lbounds.every((l) => l === 1)
  }

  sameShape(o: SqlArray): boolean {
    if (o.dims.length !== this.dims.length) return false
    for (let d = 0; d < this.dims.length; d++) if (o.dims[d] !== this.dims[d] || o.lbounds[d] !== this.lbounds[d]) return false
    return true
  }
}

export function isSqlArray(v: RtValue | undefined): v is SqlArray {
  return v instanceof SqlArray
}

/**
 * Stacks arrays of one shape into an array of one more dimension (ARRAY[ARRAY[..], ..],
 * array_agg of arrays). `onMismatch` supplies the caller's PostgreSQL error.
 */
export function stackArrays(subs: readonly SqlArray[], onMismatch: () => SqlError): SqlArray {
  if (subs.length === 0) return SqlArray.EMPTY
  const first = subs[0]!
  for (const s of subs) if (!s.sameShape(first)) throw onMismatch()
  if (first.ndims === 0) return SqlArray.EMPTY
  if (first.ndims + 1 > MAX_DIMS) throw tooManyDims(first.ndims + 1)
  if (first.items.length * subs.length > MAX_ITEMS) throw tooManyItems()
  const items: RtValue[] = []
  for (const s of subs) for (const v of s.items) items.push(v)
  return new SqlArray([subs.length, ...first.dims], [1, ...first.lbounds], items)
}

/** array_agg / ARRAY(subquery) over array values: PostgreSQL's accumArrayResultArr errors. */
export function accumulateArrays(values: readonly RtValue[]): SqlArray {
  const subs: SqlArray[] = []
  for (const v of values) {
    if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, 'cannot accumulate null arrays')
    const a = v as SqlArray
    if (a.ndims === 0) throw new SqlError(SqlState.arraySubscriptError, 'cannot accumulate empty arrays')
    subs.push(a)
  }
  return stackArrays(subs, () => new SqlError(SqlState.arraySubscriptError, 'cannot accumulate arrays of different dimensionality'))
}
