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
import type { Json, Replica, Row, TableInfo } from '@concord/core'
import { columnMeta, sharedTableMeta, tableMeta } from '../catalog/table-meta.js'
import type { ColumnBinding } from '../relation/scope.js'
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

/** A partition bound as stored (exec/partition-ddl.ts writes it). */
export interface Bound {
  modulus?: number
  remainder?: number
  values?: string[]
  from?: string[]
  to?: string[]
  /** `FOR VALUES DEFAULT`: the rows no sibling takes. */
  default?: boolean
}

export function boundOf(child: TableInfo): Bound | undefined {
  return sharedTableMeta(child).bound as Bound | undefined
}

/**
 * What partition routing reads of the catalog: a table by name, a table's partitions,
 * and (when a plan context is at hand) a compiler for expression keys. Without one an
 * expression key reads as unknown and its row routes nowhere (core's shard placement).
 */
export interface PartitionCatalog {
  table(name: string): TableInfo | undefined
  partitionsOf(name: string): TableInfo[]
  keyExpr?(expr: Json, cols: ColumnBinding[]): (row: RtValue[]) => RtValue
}

/** An expression partition key element: its parse tree and result type (in `partitioning.meta.exprs`). */
export interface KeyExpr {
  expr: Json
  t: SqlType
}

/** The expression of each partition key element, null for a plain column. */
export function partitionKeyExprs(parent: TableInfo): Array<KeyExpr | null> {
  const m = parent.partitioning?.meta
  const exprs = m && typeof m === 'object' && !Array.isArray(m) && Array.isArray(m['exprs']) ? (m['exprs'] as unknown as Array<KeyExpr | null>) : []
  return (parent.partitioning?.columns ?? []).map((_c, i) => exprs[i] ?? null)
}

/** The partition key elements of a partitioned table, with their SQL types. */
export function partitionKeyTypes(parent: TableInfo): SqlType[] {
  const exprs = partitionKeyExprs(parent)
  return (parent.partitioning?.columns ?? []).map((c, i) => {
    const e = exprs[i]
    if (e) return e.t
    const col = parent.columns.find((x) => x.name === c)
    return col ? columnMeta(col).t : T.text
  })
}

/** Reads a row's partition key (in key order) from executor rows laid out as `cols`; null when it cannot. */
export function partitionKeyReader(parent: TableInfo, cols: ColumnBinding[], cat: PartitionCatalog): ((row: RtValue[]) => RtValue[]) | null {
  const exprs = partitionKeyExprs(parent)
  const readers: Array<(row: RtValue[]) => RtValue> = []
  for (const [i, c] of (parent.partitioning?.columns ?? []).entries()) {
    const e = exprs[i]
    if (e) {
      if (!cat.keyExpr) return null
      readers.push(cat.keyExpr(e.expr, cols))
    } else {
      const at = cols.findIndex((x) => x.name === c)
      readers.push((row) => row[at] ?? null)
    }
  }
  return (row) => readers.map((r) => r(row))
}

export type Datum = RtValue | 'MINVALUE' | 'MAXVALUE'

/** A bound datum, stored as text, read as its key element's type. */
export function boundDatum(s: string, t: SqlType | undefined): Datum {
  if (s === 'MINVALUE' || s === 'MAXVALUE') return s
  return t ? castValue(s, T.unknown, t, 0) : s
}

/** Compares a key with a range bound row-wise, as PostgreSQL does (MINVALUE/MAXVALUE are -/+ infinity). */
function compareToBound(key: RtValue[], bound: Datum[]): number {
  for (let i = 0; i < bound.length; i++) {
    const b = bound[i]!
    if (b === 'MINVALUE') return 1
    if (b === 'MAXVALUE') return -1
    const c = compareValues(key[i]!, b)
    if (c !== 0) return c
  }
  return 0
}

/** Whether partition key values (in key order) fall in a partition's bound, default partitions aside. */
function boundMatcher(parent: TableInfo, bound: Bound): (key: RtValue[]) => boolean {
  const types = partitionKeyTypes(parent)
  if (bound.modulus !== undefined) {
    const m = BigInt(bound.modulus)
    const r = BigInt(bound.remainder ?? 0)
    return (key) => {
      const h = partitionHash(key, types)
      return h === null ? BigInt(hashPartition(key, bound.modulus!)) === r : h % m === r
    }
  }
  const datum = (s: string, i: number): Datum => boundDatum(s, types[i])
  if (bound.values) {
    const vals = bound.values.map((s) => (s === 'NULL' ? null : datum(s, 0)))
    return (key) => {
      const v = key[0]
      if (v === null || v === undefined) return vals.includes(null)
      return vals.some((x) => x !== null && compareValues(x, v) === 0)
    }
  }
  if (bound.from || bound.to) {
    const lo = (bound.from ?? []).map(datum)
    const hi = (bound.to ?? []).map(datum)
    return (key) => {
      if (key.some((v) => v === null || v === undefined)) return false
      return compareToBound(key, lo) >= 0 && compareToBound(key, hi) < 0
    }
  }
  return () => false
}

/** Whether partition key values (in key order) fall in a partition's bound. */
export function partitionMatcher(parent: TableInfo, child: TableInfo, siblings: TableInfo[] = []): (key: RtValue[]) => boolean {
  const bound = boundOf(child)
  if (!bound) return () => false
  if (bound.default === true) {
    const others = siblings.filter((s) => s.name !== child.name && boundOf(s) && boundOf(s)!.default !== true).map((s) => boundMatcher(parent, boundOf(s)!))
    return (key) => !others.some((m) => m(key))
  }
  return boundMatcher(parent, bound)
}

/** The levels from a partition up to the table that stores its rows: [(parent, child)], innermost first. */
export function partitionLevels(child: TableInfo, cat: PartitionCatalog): Array<{ parent: TableInfo; child: TableInfo }> {
  const levels: Array<{ parent: TableInfo; child: TableInfo }> = []
  let t = child
  // Bounded: a catalog cannot hold a cycle, but a corrupt one must not hang a query.
  for (let depth = 0; depth < 64; depth++) {
    const name = sharedTableMeta(t).partitionOf
    const parent = name ? cat.table(name) : undefined
    if (!parent) break
    levels.push({ parent, child: t })
    t = parent
  }
  return levels
}

/** The table that stores a partition's rows: the top of its PARTITION OF chain (the table itself when none). */
export function partitionRoot(t: TableInfo, cat: PartitionCatalog): TableInfo {
  const levels = partitionLevels(t, cat)
  return levels.length > 0 ? levels[levels.length - 1]!.parent : t
}

/** A row filter (executor rows laid out as `cols`, the root's columns) for the rows of one partition, at any depth. */
export function partitionFilter(cat: PartitionCatalog, child: TableInfo, cols: ColumnBinding[]): (row: RtValue[]) => boolean {
  const tests = partitionLevels(child, cat).map(({ parent, child: c }) => {
    const read = partitionKeyReader(parent, cols, cat)
    const test = partitionMatcher(parent, c, cat.partitionsOf(parent.name))
    return read ? (row: RtValue[]) => test(read(row)) : () => false
  })
  return (row) => tests.every((t) => t(row))
}

/**
 * Routes a row of a partitioned table down to a leaf partition: `leaf` is the partition
 * it lands in (the table itself when unpartitioned), or null with `table` the partitioned
 * table (at any level) no partition of which takes it and `key` its key there, for
 * PostgreSQL's 23514 "no partition of relation .. found for row".
 */
export function routeToLeaf(root: TableInfo, cols: ColumnBinding[], cat: PartitionCatalog): (row: RtValue[]) => { leaf: TableInfo | null; table: TableInfo; key: RtValue[] } {
  const levels = new Map<string, { read: ((row: RtValue[]) => RtValue[]) | null; kids: Array<{ child: TableInfo; test: (key: RtValue[]) => boolean }> }>()
  const level = (t: TableInfo) => {
    let l = levels.get(t.name)
    if (!l) {
      const kids = cat.partitionsOf(t.name)
      l = { read: partitionKeyReader(t, cols, cat), kids: kids.map((child) => ({ child, test: partitionMatcher(t, child, kids) })) }
      levels.set(t.name, l)
    }
    return l
  }
  return (row) => {
    let t = root
    for (let depth = 0; depth < 64 && t.partitioning; depth++) {
      const l = level(t)
      const key = l.read ? l.read(row) : []
      const next = l.read ? l.kids.find((k) => k.test(key)) : undefined
      if (!next) return { leaf: null, table: t, key }
      t = next.child
    }
    return { leaf: t, table: t, key: [] }
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
      const kids = this.replica.tables().filter((t) => sharedTableMeta(t).partitionOf === parent.name)
      // Expression keys need a plan context to evaluate: such rows stay in shard 0 (placement only).
      const children = partitionKeyExprs(parent).some((x) => x !== null) ? [] : kids.map((child) => ({ child, test: partitionMatcher(parent, child, kids), shard: partitionShard(child) }))
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
