/**
 * Checks of a new partition's bound (CREATE TABLE .. PARTITION OF, ALTER TABLE .. ATTACH
 * PARTITION) against its partitioned table and its siblings, with PostgreSQL's errors:
 * a bound of the table's strategy, MINVALUE/MAXVALUE only followed by more of the same,
 * a non-empty range, no overlap with a sibling, one DEFAULT partition and none for HASH.
 * Bounds that overlap would make routing ambiguous, so they are refused up front.
 */
import type { TableInfo } from '@concord/core'
import { tableMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { compareValues } from '../types/compare.js'
import { boundDatum, boundOf, partitionKeyTypes, type Bound, type Datum } from '../placement/partition-view.js'

function kind(b: Bound): 'hash' | 'list' | 'range' | 'default' {
  if (b.default === true) return 'default'
  if (b.modulus !== undefined) return 'hash'
  return b.values ? 'list' : 'range'
}

/** Compares two range bounds row-wise; MINVALUE/MAXVALUE end the comparison (what follows them is the same). */
function compareBounds(a: Datum[], b: Datum[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? null
    const y = b[i] ?? null
    const rank = (d: Datum) => (d === 'MINVALUE' ? -1 : d === 'MAXVALUE' ? 1 : 0)
    if (rank(x) !== rank(y)) return rank(x) - rank(y)
    if (rank(x) !== 0) return 0
    const c = compareValues(x as never, y as never)
    if (c !== 0) return c
  }
  return 0
}

function checkInfinities(datums: string[]): void {
  for (let i = 0; i + 1 < datums.length; i++) {
    const d = datums[i]
    if ((d === 'MINVALUE' || d === 'MAXVALUE') && datums[i + 1] !== d) {
      throw new SqlError(SqlState.datatypeMismatch, `every bound following ${d} must also be ${d}`, { detail: 'Specified lower bound or upper bound is not valid.' })
    }
  }
}

export function checkNewPartitionBound(parent: TableInfo, name: string, bound: Bound, siblings: TableInfo[]): void {
  const method = parent.partitioning?.method ?? 'list'
  const k = kind(bound)
  if (k === 'default') {
    if (method === 'hash') throw new SqlError(SqlState.invalidTableDefinition, 'a hash-partitioned table may not have a default partition')
    return
  }
  if (k !== method) throw new SqlError(SqlState.invalidTableDefinition, `invalid bound specification for a ${method} partition`)
  const others = siblings.filter((s) => s.name !== name && boundOf(s) && kind(boundOf(s)!) === k)
  const types = partitionKeyTypes(parent)
  if (k === 'hash') return checkHash(name, bound, others)
  if (k === 'list') {
    const vals = (bound.values ?? []).map((s) => (s === 'NULL' ? null : boundDatum(s, types[0])))
    for (const s of others) {
      const theirs = (boundOf(s)!.values ?? []).map((x) => (x === 'NULL' ? null : boundDatum(x, types[0])))
      if (vals.some((v) => theirs.some((w) => (v === null ? w === null : w !== null && compareValues(v as never, w as never) === 0)))) {
        throw new SqlError(SqlState.invalidObjectDefinition, `partition "${name}" would overlap partition "${s.name}"`)
      }
    }
    return
  }
  const from = bound.from ?? []
  const to = bound.to ?? []
  for (const [side, d] of [['FROM', from], ['TO', to]] as const) {
    if (d.length !== types.length) throw new SqlError(SqlState.invalidTableDefinition, `${side} must specify exactly one value per partitioning column`)
    if (d.includes('NULL')) throw new SqlError(SqlState.invalidObjectDefinition, 'cannot specify NULL in range bound')
  }
  checkInfinities(from)
  checkInfinities(to)
  const lo = from.map((s, i) => boundDatum(s, types[i]))
  const hi = to.map((s, i) => boundDatum(s, types[i]))
  if (compareBounds(lo, hi) >= 0) {
    throw new SqlError(SqlState.invalidObjectDefinition, `empty range bound specified for partition "${name}"`, {
      detail: `Specified lower bound (${from.join(', ')}) is greater than or equal to upper bound (${to.join(', ')}).`,
    })
  }
  for (const s of others) {
    const b = boundOf(s)!
    const sLo = (b.from ?? []).map((x, i) => boundDatum(x, types[i]))
    const sHi = (b.to ?? []).map((x, i) => boundDatum(x, types[i]))
    if (compareBounds(lo, sHi) < 0 && compareBounds(sLo, hi) < 0) {
      throw new SqlError(SqlState.invalidObjectDefinition, `partition "${name}" would overlap partition "${s.name}"`)
    }
  }
}

function checkHash(name: string, bound: Bound, siblings: TableInfo[]): void {
  const m = bound.modulus!
  const r = bound.remainder ?? 0
  if (m <= 0) throw new SqlError(SqlState.invalidTableDefinition, 'modulus for hash partition must be an integer value greater than zero')
  if (r < 0) throw new SqlError(SqlState.invalidTableDefinition, 'remainder for hash partition must be an integer value greater than or equal to zero')
  if (r >= m) throw new SqlError(SqlState.invalidTableDefinition, 'remainder for hash partition must be less than modulus')
  for (const s of siblings) {
    const b = boundOf(s)!
    const [small, large] = b.modulus! <= m ? [b, bound] : [bound, b]
    if (large.modulus! % small.modulus! !== 0) {
      throw new SqlError(SqlState.invalidObjectDefinition, 'every hash partition modulus must be a factor of the next larger modulus')
    }
    if ((large.remainder ?? 0) % small.modulus! === (small.remainder ?? 0)) {
      throw new SqlError(SqlState.invalidObjectDefinition, `partition "${name}" would overlap partition "${s.name}"`)
    }
  }
}

/** A temporary partition of a permanent table (or the reverse) is refused, as in PostgreSQL. */
export function checkPersistence(parent: TableInfo, childTemporary: boolean, verb: 'create' | 'attach'): void {
  const parentTemporary = tableMeta(parent).temporary === true
  if (parentTemporary === childTemporary) return
  const what = childTemporary ? 'temporary' : 'permanent'
  const of = parentTemporary ? 'temporary' : 'permanent'
  throw new SqlError(SqlState.wrongObjectType, `cannot ${verb} a ${what} relation as partition of ${of} relation "${parent.name}"`)
}
