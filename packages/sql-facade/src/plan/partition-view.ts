/**
 * Partitions (`CREATE TABLE .. PARTITION OF parent FOR VALUES ..`): their bounds, which
 * partition a row routes to, and the core shard each partition is stored in.
 *
 * Rows are written through the parent; core places each new row in the shard of the
 * partition it routes to (`ReplicaOptions.partitionOf`, see `PartitionRouter`), so a
 * partition is a shard with its own placement. Reading a partition reads the parent's
 * rows that route to it. HASH routing is PostgreSQL's own (pg-hash.ts), so a row lands
 * in the same partition as in PostgreSQL for int2/int4/int8/date/timestamp/bool/text/
 * uuid keys; other key types fall back to a stable FNV hash. LIST and RANGE are exact.
 *
 * Shard numbers: a HASH partition's shard is its remainder (distinct among partitions
 * whose bounds do not overlap); a LIST or RANGE partition's is a 31-bit FNV hash of its
 * name; a row that routes to no partition stays in shard 0. A row whose partition key is
 * updated keeps its shard (core moves no rows) but reads as the partition it now routes to.
 */
import type { Replica, Row, TableInfo } from '@concord/core'
import { columnMeta, tableMeta } from '../catalog/table-meta.js'
import type { ColumnBinding } from '../expr/scope.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { castValue } from '../types/cast.js'
import { compareValues, groupKey } from '../types/compare.js'
import { T, type SqlType } from '../types/sql-type.js'
import { decodeValue } from '../types/storage-codec.js'
import { partitionHash } from './pg-hash.js'
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

interface Bound {
  modulus?: number
  remainder?: number
  values?: string[]
  from?: string[]
  to?: string[]
}

function boundOf(child: TableInfo): Bound | undefined {
  return tableMeta(child).bound as Bound | undefined
}

/** The partition key columns of a partitioned table, with their SQL types. */
export function partitionKeyTypes(parent: TableInfo): SqlType[] {
  return (parent.partitioning?.columns ?? []).map((c) => {
    const col = parent.columns.find((x) => x.name === c)
    return col ? columnMeta(col).t : T.text
  })
}

/** Whether partition key values (in key order) fall in a partition's bound. */
export function partitionMatcher(parent: TableInfo, child: TableInfo): (key: RtValue[]) => boolean {
  const bound = boundOf(child)
  if (!bound) return () => false
  const types = partitionKeyTypes(parent)
  if (bound.modulus !== undefined) {
    const m = BigInt(bound.modulus)
    const r = BigInt(bound.remainder ?? 0)
    return (key) => {
      const h = partitionHash(key, types)
      return h === null ? BigInt(hashPartition(key, bound.modulus!)) === r : h % m === r
    }
  }
  const keyType = types[0]
  // Bound datums are stored as text; read them as the key column's type.
  const datum = (s: string): RtValue => (keyType ? castValue(s, T.unknown, keyType, 0) : s)
  if (bound.values) {
    const vals = bound.values.map((s) => (s === 'NULL' ? null : datum(s)))
    return (key) => {
      const v = key[0]
      if (v === null || v === undefined) return vals.includes(null)
      return vals.some((x) => x !== null && compareValues(x, v) === 0)
    }
  }
  if (bound.from || bound.to) {
    const lo = bound.from?.[0]
    const hi = bound.to?.[0]
    const loV = lo === undefined || lo === 'MINVALUE' ? undefined : datum(lo)
    const hiV = hi === undefined || hi === 'MAXVALUE' ? undefined : datum(hi)
    return (key) => {
      const v = key[0]
      if (v === null || v === undefined) return false
      return (loV === undefined || loV === null || compareValues(v, loV) >= 0) && (hiV === undefined || hiV === null || compareValues(v, hiV) < 0)
    }
  }
  return () => false
}

/** A row filter (executor rows laid out as `cols`) for the rows of one partition. */
export function partitionFilter(parent: TableInfo, child: TableInfo, cols: ColumnBinding[]): (row: RtValue[]) => boolean {
  const keyIdx = (parent.partitioning?.columns ?? []).map((c) => cols.findIndex((x) => x.name === c))
  const test = partitionMatcher(parent, child)
  return (row) => test(keyIdx.map((i) => row[i] ?? null))
}

/** Checks a new partition's bound against its siblings' (PostgreSQL's 42P16/42P17 errors). */
export function checkNewPartitionBound(name: string, bound: Bound, siblings: TableInfo[]): void {
  if (bound.modulus === undefined) return
  const m = bound.modulus
  const r = bound.remainder ?? 0
  if (m <= 0) throw new SqlError(SqlState.invalidTableDefinition, 'modulus for hash partition must be an integer value greater than zero')
  if (r < 0) throw new SqlError(SqlState.invalidTableDefinition, 'remainder for hash partition must be an integer value greater than or equal to zero')
  if (r >= m) throw new SqlError(SqlState.invalidTableDefinition, 'remainder for hash partition must be less than modulus')
  for (const s of siblings) {
    const b = boundOf(s)
    if (b?.modulus === undefined) continue
    const [small, large] = b.modulus <= m ? [b, bound] : [bound, b]
    if (large.modulus! % small.modulus! !== 0) {
      throw new SqlError(SqlState.invalidObjectDefinition, 'every hash partition modulus must be a factor of the next larger modulus')
    }
    if ((large.remainder ?? 0) % small.modulus! === (small.remainder ?? 0)) {
      throw new SqlError(SqlState.invalidObjectDefinition, `partition "${name}" would overlap partition "${s.name}"`)
    }
  }
}

function fnv31(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 16777619) >>> 0
  }
  return h & 0x7fffffff
}

/** The core shard number of a partition. */
export function partitionShard(child: TableInfo): number {
  const b = boundOf(child)
  return b?.modulus !== undefined ? b.remainder ?? 0 : fnv31(child.name)
}

interface RouteEntry {
  incarnation: number
  keyCols: Array<{ name: string; type: SqlType }>
  children: Array<{ child: TableInfo; test: (key: RtValue[]) => boolean; shard: number }>
}

/**
 * Routes rows of partitioned tables to their partitions, for core (`partitionOf`: the
 * shard of a new row) and for the executor (`childFor`: which partition a row is in, for
 * the `shard_location` column). Bound to a replica once it is open; caches each parent's
 * partitions until the catalog changes (and re-reads them once when a row routes nowhere,
 * which covers a partition created earlier in the same transaction).
 */
export class PartitionRouter {
  private replica: Replica | null = null
  private readonly cache = new Map<string, RouteEntry>()

  bind(replica: Replica): void {
    this.replica = replica
    this.cache.clear()
  }

  invalidate(): void {
    this.cache.clear()
  }

  private entry(parent: TableInfo, fresh: boolean): RouteEntry | null {
    if (!this.replica) return null
    let e = this.cache.get(parent.name)
    if (!e || fresh || e.incarnation !== parent.incarnation) {
      const keyCols = (parent.partitioning?.columns ?? []).map((c, i) => ({ name: c, type: partitionKeyTypes(parent)[i]! }))
      const children = this.replica.tables().filter((t) => tableMeta(t).partitionOf === parent.name).map((child) => ({ child, test: partitionMatcher(parent, child), shard: partitionShard(child) }))
      e = { incarnation: parent.incarnation, keyCols, children }
      this.cache.set(parent.name, e)
    }
    return e
  }

  /** The partition a row routes to, given its partition key values; null when none. */
  childFor(parent: TableInfo, key: RtValue[]): TableInfo | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      const e = this.entry(parent, attempt === 1)
      if (!e) return null
      for (const c of e.children) if (c.test(key)) return c.child
    }
    return null
  }

  /** `ReplicaOptions.partitionOf`: the shard of a new row of a partitioned table. */
  readonly partitionOf = (parent: TableInfo, row: Row): number => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const e = this.entry(parent, attempt === 1)
      if (!e) return 0
      const key = e.keyCols.map((k) => decodeValue(row[k.name] ?? null, k.type))
      for (const c of e.children) if (c.test(key)) return c.shard
    }
    return 0
  }
}
