/**
 * The federated results a node has read from holders (statement-federation.ts), kept so a
 * session that allows it (`query_result_cache_ttl` above 0) can answer a repeated read
 * from this node without asking a holder again, and listed by the `query_result_cache`
 * view (system/result-cache-view.ts).
 *
 * Freshness, honestly: an entry is what its holder sent at `fetchedAt`. It serves a read
 * only of the same table incarnation and the same request text (the same pushed-down
 * filter, columns and limit), while this node's catalog is unchanged (any DDL, placement
 * or catch-up record replicated here drops it), no write to the table was forwarded from
 * this node since, and it is younger than the reading session's `query_result_cache_ttl`.
 * Writes made on the holders themselves are not seen here (this node does not hold the
 * table): within the TTL a cached answer may miss them. The TTL is the staleness bound a
 * session accepts; 0 (the default) never answers from the cache.
 *
 * Invariants: at most MAX_ENTRIES entries and MAX_BYTES bytes of rows (least recently
 * used dropped first; a larger result is not kept); one cache per replica.
 */
import { fnv1aString, type Row, type TableInfo, type Value } from '@concord/core'

/** The name of the view listing the cache (system/result-cache-view.ts). */
export const RESULT_CACHE_VIEW = 'query_result_cache'

/** Entries kept at once. */
const MAX_ENTRIES = 256
/** Bytes of rows kept at once, about (a result alone larger than this is not kept). */
const MAX_BYTES = 32 * 1024 * 1024

export interface CachedResult {
  readonly relation: string
  readonly incarnation: number
  /** The request text sent (pushdown-read.ts; '' for every row). */
  readonly request: string
  /** A short hash of relation and request, to name an entry. */
  readonly fingerprint: string
  /** The node(s) that answered, comma separated. */
  readonly holder: string
  readonly rows: readonly Row[]
  readonly bytes: number
  /** Wall-clock ms when the holder's answer arrived. */
  readonly fetchedAt: number
  readonly catalogVersion: number
  hits: number
}

function valueBytes(v: Value | undefined): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1
  if (typeof v === 'number') return 8
  if (typeof v === 'bigint' || typeof v === 'string') return 4 + String(v).length
  return 4 + v.length
}

export class FederatedResultCache {
  /** By key, least recently used first. */
  private readonly entries = new Map<string, CachedResult>()
  private bytes = 0

  private static key(relation: string, incarnation: number, request: string): string {
    return `${relation}\u0000${incarnation}\u0000${request}`
  }

  /** A kept answer to this read, if one may serve it (see the header); counts a hit. */
  lookup(info: TableInfo, request: string, catalogVersion: number, now: number, ttlMs: number): CachedResult | undefined {
    const key = FederatedResultCache.key(info.name, info.incarnation, request)
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (e.catalogVersion !== catalogVersion) {
      this.drop(key)
      return undefined
    }
    if (ttlMs <= 0 || now - e.fetchedAt > ttlMs || now < e.fetchedAt) return undefined
    e.hits++
    this.entries.delete(key)
    this.entries.set(key, e)
    return e
  }

  /** Keeps a holder's answer (replacing an older one of the same read). */
  store(info: TableInfo, request: string, catalogVersion: number, now: number, holder: string, rows: readonly Row[]): void {
    const key = FederatedResultCache.key(info.name, info.incarnation, request)
    this.drop(key)
    let bytes = 0
    for (const r of rows) for (const c of info.columns) bytes += valueBytes(r[c.name])
    if (bytes > MAX_BYTES) return
    while (this.entries.size > 0 && (this.entries.size >= MAX_ENTRIES || this.bytes + bytes > MAX_BYTES)) this.drop(this.entries.keys().next().value!)
    const fingerprint = fnv1aString(`${info.name}\u0000${request}`).toString(16).padStart(8, '0')
    this.entries.set(key, { relation: info.name, incarnation: info.incarnation, request, fingerprint, holder, rows, bytes, fetchedAt: now, catalogVersion, hits: 0 })
    this.bytes += bytes
  }

  /** Drops every entry of `relation` (a write to it went out from this node). */
  invalidate(relation: string): void {
    for (const [key, e] of [...this.entries]) if (e.relation === relation) this.drop(key)
  }

  /** The entries kept, oldest use first. */
  list(): readonly CachedResult[] {
    return [...this.entries.values()]
  }

  private drop(key: string): void {
    const e = this.entries.get(key)
    if (e === undefined) return
    this.entries.delete(key)
    this.bytes -= e.bytes
  }
}

const caches = new WeakMap<object, FederatedResultCache>()

/** The result cache of one replica (a node has one, shared by its sessions and views). */
export function resultCacheOf(replica: object): FederatedResultCache {
  let c = caches.get(replica)
  if (c === undefined) caches.set(replica, (c = new FederatedResultCache()))
  return c
}
