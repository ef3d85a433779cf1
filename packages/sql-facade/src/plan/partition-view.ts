/**
 * Partitions (`CREATE TABLE .. PARTITION OF parent FOR VALUES ..`) are recorded in the
 * catalog; rows live in the parent, and reading a partition filters the parent's rows by
 * its bound. LIST and RANGE bounds are exact. HASH bounds use a stable hash of the
 * partition key, not PostgreSQL's, so row placement differs from PostgreSQL (documented).
 */
import type { TableInfo } from '@concord/core'
import { tableMeta } from '../catalog/table-meta.js'
import type { ColumnBinding } from '../expr/scope.js'
import { castValue } from '../types/cast.js'
import { compareValues, groupKey } from '../types/compare.js'
import { T } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'

export function hashPartition(values: RtValue[], modulus: number): number {
  let h = 2166136261
  for (const v of values) {
    const s = groupKey(v)
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i)
      h = Math.imul(h, 16777619) >>> 0
    }
  }
  return h % modulus
}

/** Partition number of a row of a partitioned table, by its partitions' bounds. */
export function partitionFilter(parent: TableInfo, child: TableInfo, cols: ColumnBinding[]): (row: RtValue[]) => boolean {
  const keyIdx = (parent.partitioning?.columns ?? []).map((c) => cols.findIndex((x) => x.name === c))
  const bound = tableMeta(child).bound as { modulus?: number; remainder?: number; values?: string[]; from?: string[]; to?: string[] } | undefined
  if (!bound) return () => false
  const key = (row: RtValue[]) => keyIdx.map((i) => row[i] ?? null)
  if (bound.modulus !== undefined) return (row) => hashPartition(key(row), bound.modulus!) === bound.remainder
  const keyType = cols[keyIdx[0] ?? -1]?.type
  // Bound datums are stored as text; read them as the key column's type.
  const datum = (s: string): RtValue => (keyType ? castValue(s, T.unknown, keyType, 0) : s)
  if (bound.values) {
    const vals = bound.values.map((s) => (s === 'NULL' ? null : datum(s)))
    return (row) => {
      const v = key(row)[0]
      if (v === null || v === undefined) return vals.includes(null)
      return vals.some((x) => x !== null && compareValues(x, v) === 0)
    }
  }
  if (bound.from || bound.to) {
    const lo = bound.from?.[0]
    const hi = bound.to?.[0]
    const loV = lo === undefined || lo === 'MINVALUE' ? undefined : datum(lo)
    const hiV = hi === undefined || hi === 'MAXVALUE' ? undefined : datum(hi)
    return (row) => {
      const v = key(row)[0]
      if (v === null || v === undefined) return false
      return (loV === undefined || loV === null || compareValues(v, loV) >= 0) && (hiV === undefined || hiV === null || compareValues(v, hiV) < 0)
    }
  }
  return () => false
}
