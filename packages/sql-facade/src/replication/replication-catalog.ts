/**
 * Publications and subscriptions as replicated catalog objects, and the rule that turns
 * them into replication direction.
 *
 * PostgreSQL names publications and subscriptions per server; Concord's catalog is
 * cluster-wide, so each record is keyed by its node: kind 'publication' or 'subscription',
 * name `<node id>/<name>`. Every node sees every record, which is how a publisher lists
 * the slots of the subscribers that follow it.
 *
 * Direction (see `acceptsFrom`): between two nodes with no subscription either way,
 * everything flows both ways (Concord's native multi-master). Once node R subscribes to
 * node P (or P to R), the link between them carries table data only as subscriptions
 * say: R applies P's changes to the tables P's publications cover; P applies R's changes
 * only if P subscribes to R too (two-way). The catalog itself always flows.
 */
import { parseShardId, type Json, type TableInfo } from '@concord/core'

export const PUBLICATION_KIND = 'publication'
export const SUBSCRIPTION_KIND = 'subscription'

export interface PublicationRecord {
  name: string
  node: string
  allTables: boolean
  tables: string[]
}

export interface SubscriptionRecord {
  name: string
  /** Subscriber node id. */
  node: string
  conninfo: string
  publications: string[]
  /** Publisher node id, resolved from `conninfo`; null when created with connect = false. */
  publisher: string | null
  enabled: boolean
  /** Wall ms of CREATE SUBSCRIPTION. */
  createdAt: number
  /** Publisher's LSN when the subscription was created: the initial copy is done once held. */
  startLsn: number
  /** DROP SUBSCRIPTION keeps a tombstone so the link stays closed instead of reverting to native. */
  dropped?: boolean
}

/** What the direction rule reads: a replica or a transaction. */
export interface CatalogReader {
  listCatalog(kind: string): Array<[string, Json]>
  getCatalog(kind: string, name: string): Json | undefined
  /** A table's info: a renamed table's shards carry the name it is stored under (`storage`). */
  table?(name: string): TableInfo | undefined
}

export function recordName(node: string, name: string): string {
  return `${node}/${name}`
}

function isObject(v: Json | undefined): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function strings(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

export function asPublication(v: Json | undefined): PublicationRecord | null {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.node !== 'string') return null
  return { name: v.name, node: v.node, allTables: v.allTables === true, tables: strings(v.tables) }
}

export function asSubscription(v: Json | undefined): SubscriptionRecord | null {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.node !== 'string') return null
  return {
    name: v.name,
    node: v.node,
    conninfo: typeof v.conninfo === 'string' ? v.conninfo : '',
    publications: strings(v.publications),
    publisher: typeof v.publisher === 'string' ? v.publisher : null,
    enabled: v.enabled !== false,
    createdAt: typeof v.createdAt === 'number' ? v.createdAt : 0,
    startLsn: typeof v.startLsn === 'number' ? v.startLsn : 0,
    ...(v.dropped === true ? { dropped: true } : {}),
  }
}

export function publicationJson(p: PublicationRecord): Json {
  return { name: p.name, node: p.node, allTables: p.allTables, tables: p.tables }
}

export function subscriptionJson(s: SubscriptionRecord): Json {
  return {
    name: s.name, node: s.node, conninfo: s.conninfo, publications: s.publications, publisher: s.publisher,
    enabled: s.enabled, createdAt: s.createdAt, startLsn: s.startLsn, ...(s.dropped ? { dropped: true } : {}),
  }
}

export function publicationsOf(cat: CatalogReader, node: string): PublicationRecord[] {
  return cat.listCatalog(PUBLICATION_KIND).map(([, v]) => asPublication(v)).filter((p): p is PublicationRecord => p !== null && p.node === node).sort((a, b) => (a.name < b.name ? -1 : 1))
}

/** Live (not dropped) subscriptions; of one subscriber node when given. */
export function subscriptions(cat: CatalogReader, node?: string): SubscriptionRecord[] {
  return cat.listCatalog(SUBSCRIPTION_KIND).map(([, v]) => asSubscription(v))
    .filter((s): s is SubscriptionRecord => s !== null && !s.dropped && (node === undefined || s.node === node))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.node < b.node ? -1 : 1))
}

/** Does publication `pub` of `node` cover `table`? */
export function covers(pub: PublicationRecord, table: string): boolean {
  return pub.allTables || pub.tables.includes(table)
}

/**
 * The replication links of the cluster, indexed for the per-message direction check.
 * Built from the catalog; rebuild it when publications, subscriptions or tables change.
 */
export class LinkTable {
  /** `${subscriber}\0${publisher}` -> tables covered (null: all tables), for enabled links. */
  private readonly covered = new Map<string, Set<string> | null>()
  /** Unordered node pairs that have any subscription record between them (dropped too). */
  private readonly linked = new Set<string>()

  constructor(cat: CatalogReader) {
    const pubs = new Map<string, PublicationRecord>()
    for (const [, v] of cat.listCatalog(PUBLICATION_KIND)) {
      const p = asPublication(v)
      if (p) pubs.set(recordName(p.node, p.name), p)
    }
    for (const [, v] of cat.listCatalog(SUBSCRIPTION_KIND)) {
      const s = asSubscription(v)
      if (!s || s.publisher === null || s.publisher === s.node) continue
      this.linked.add(pairKey(s.node, s.publisher))
      if (s.dropped || !s.enabled) continue
      const key = `${s.node}\u0000${s.publisher}`
      const prev = this.covered.get(key)
      if (prev === null) continue
      const set = prev ?? new Set<string>()
      let all = false
      for (const name of s.publications) {
        const p = pubs.get(recordName(s.publisher, name))
        if (!p) continue
        if (p.allTables) all = true
        for (const t of p.tables) {
          set.add(t)
          // Shard ids name a renamed table by the name its storage keeps.
          const stored = cat.table?.(t)?.storage
          if (stored !== undefined) set.add(stored)
        }
      }
      this.covered.set(key, all ? null : set)
    }
  }

  get empty(): boolean {
    return this.linked.size === 0
  }

  /** Is there any subscription (in either direction, enabled or not) between the two nodes? */
  isLinked(a: string, b: string): boolean {
    return this.linked.has(pairKey(a, b))
  }

  /** Does `receiver` apply changes of `shard` that come from `sender`? */
  acceptsFrom(receiver: string, sender: string, shard: string): boolean {
    if (!this.linked.has(pairKey(receiver, sender))) return true
    const parsed = parseShardId(shard)
    if (parsed === null) return true // the catalog and other non-table documents always flow
    const set = this.covered.get(`${receiver}\u0000${sender}`)
    if (set === undefined) return false
    return set === null || set.has(parsed.table)
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
}
