/**
 * Partitions (`CREATE TABLE .. PARTITION OF parent FOR VALUES ..`) are recorded in the
 * catalog; rows live in the parent, and reading a partition filters the parent's rows by
 * its bound. LIST and RANGE bounds are exact. HASH bounds use a stable hash of the
 * partition key, not PostgreSQL's, so row placement differs from PostgreSQL (documented).
 */
import type { TableInfo } from '@concord/core'
import { tableMeta } from '../catalog/table-meta.js'
import type { ColumnBinding } from '../expr/scope.js'
import { compareValues, groupKey } from '../types/compare.js'
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
  if (bound.values) {
    const set = new Set(bound.values)
    return (row) => {
      const v = key(row)[0]
      return v !== null && v !== undefined && set.has(String(v))
    }
  }
  if (bound.from || bound.to) {
    return (row) => {
      const v = key(row)[0]
      if (v === null || v === undefined) return false
      const cmp = (b: string) => (typeof v === 'number' ? v - Number(b) : typeof v === 'bigint' ? compareValues(v, BigInt(b)) : compareValues(String(v), b))
      const lo = bound.from?.[0]
      const hi = bound.to?.[0]
      return (lo === undefined || lo === 'MINVALUE' || cmp(lo) >= 0) && (hi === undefined || hi === 'MAXVALUE' || cmp(hi) < 0)
    }
  }
  return () => false
}
