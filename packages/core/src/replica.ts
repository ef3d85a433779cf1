/**
 * A replica: one node's copy of the database. It owns the shards it holds, the catalog,
 * the hybrid clock, and the pipeline every change goes through:
 *
 *   local transaction -> shard Y.Docs -> storage append (durable) -> gossip to peers
 *   remote update     -> shard Y.Docs -> storage append
 *
 * Invariants: a local update is published to peers only after storage has made it
 * durable, so a node that crashes and restarts never lags behind what its peers have
 * from it (it gets a fresh Yjs client id on every start anyway). Materialized rows and
 * change events follow every Yjs transaction (see Shard).
 */
import * as Y from 'yjs'
import type { LinkPolicy, OpenTransaction, ReplicaEvents, ReplicaOptions, Scheduler, Storage, StoredRecord, Transaction } from './api.js'
import { CATALOG_SHARD } from './placement/shard-id.js'
import { tableLayout, type TableView } from './catalog/table-view.js'
import { CATALOG_TABLE, buildTableInfo, parseColumnDefinition, parseTableDefinition, splitColumnCatalogName, type ColumnDefinition } from './catalog/catalog-schema.js'
import { CATALOG_MERGE, mergeCatalogValues } from './catalog/definition-merge.js'
import { HybridClock, hlcMillis } from './clock/hlc.js'
import { IdGenerator, nodeNumberOf } from './clock/id-generator.js'
import { fnv1aString } from './codec/checksum.js'
import { ConcordError, SqlState } from './errors/concord-error.js'
import { parsePolicy } from './merge/policy.js'
import { Replicator, type ReplicatorStats } from './replication/replicator.js'
import { LocalTransaction, type PendingRow, type TransactionHost } from './rows/local-transaction.js'
import { hasEpochs } from './merge/column-epochs.js'
import { decodeRowKey, encodeRowKey } from './codec/row-key.js'
import { LOCAL_ORIGIN, REMOTE_ORIGIN, Shard, type ShardRowChange } from './rows/shard.js'
import { MemoryStorage } from './storage/memory-storage.js'
import { StorageQueue, type StorageOp } from './storage/storage-queue.js'
import { RESERVED_NAME_CHARS } from './codec/writer-entry.js'
import type { CatalogChange, ConflictRecord, Json, PolicySpec, Resolver, Row, RowChange, TableInfo, Value } from './types.js'

const LOAD_ORIGIN = 'load'
/** Generation numbers are counter x this + a builder number, so two builders never collide. */
const GENERATION_BUILDERS = 4096
const LSN_META_KEY = 'lsn'
/** The LSN is persisted each time it passes a multiple of this; a restart skips twice as far. */
const LSN_PERSIST_STEP = 1 << 20
/** Conflicts remembered so each is reported once. */
const MAX_CONFLICTS_REMEMBERED = 100_000
/** Update records per shard before its storage log is compacted into one snapshot. */
const COMPACT_AFTER_RECORDS = 2000

const realScheduler: Scheduler = {
  setTimeout(ms, fn) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
}

/** Storage id prefix of an older generation kept until drained: `prev:<generation>:<shard id>`. */
const PREV_PREFIX = 'prev:'

export function previousId(shard: string, generation: number): string {
  return `${PREV_PREFIX}${generation}:${shard}`
}

function parsePreviousId(id: string): { shard: string; generation: number } | null {
  const at = id.indexOf(':', PREV_PREFIX.length)
  if (!id.startsWith(PREV_PREFIX) || at < 0) return null
  const generation = Number(id.slice(PREV_PREFIX.length, at))
  return Number.isSafeInteger(generation) ? { shard: id.slice(at + 1), generation } : null
}

/** Parses a shard id `t:incarnation:partition:table`. */
export function parseShardId(id: string): { table: string; incarnation: number; partition: number } | null {
  if (!id.startsWith('t:')) return null
  const a = id.indexOf(':', 2)
  const b = a < 0 ? -1 : id.indexOf(':', a + 1)
  if (a < 0 || b < 0) return null
  const incarnation = Number(id.slice(2, a))
  const partition = Number(id.slice(a + 1, b))
  if (!Number.isSafeInteger(incarnation) || !Number.isSafeInteger(partition) || incarnation < 1 || partition < 0) return null
  return { table: id.slice(b + 1), incarnation, partition }
}

/**
 * A change an open transaction made to a stored row that was deleted (or deleted and
 * inserted again) before it committed: it was concurrent with that delete and loses to
 * it, as a concurrent update from another node does (delete wins), instead of bringing
 * the row back.
 */
function stale(shard: Shard, rowKey: string, w: PendingRow): boolean {
  return w.baseCl !== undefined && shard.rowCl(rowKey) !== w.baseCl
}

export function shardId(table: string, incarnation: number, partition: number): string {
  return `t:${incarnation}:${partition}:${table}`
}

type Listener<K extends keyof ReplicaEvents> = ReplicaEvents[K]

export class Replica {
  readonly nodeId: string
  readonly region: string
  readonly clock: HybridClock
  readonly storage: Storage
  readonly random: () => number
  readonly scheduler: Scheduler
  readonly options: ReplicaOptions
  readonly shards = new Map<string, Shard>()
  readonly catalogShard: Shard
  private readonly clientID: number
  private readonly ids: IdGenerator
  private readonly wall: () => number
  private readonly tableInfos = new Map<string, TableInfo>()
  private readonly tableShards = new Map<string, Shard[]>()
  private readonly resolvers = new Map<string, Resolver>()
  private partitionOf: ReplicaOptions['partitionOf']
  private readonly listeners = { change: new Set<Listener<'change'>>(), catalog: new Set<Listener<'catalog'>>(), conflict: new Set<Listener<'conflict'>>() }
  /** Conflicts resolved since the last afterChange, to hand to listeners. */
  private pendingConflicts: ConflictRecord[] = []
  /** Conflicts already reported (a row is re-resolved on every change to it), bounded. */
  private readonly conflictsSeen = new Set<string>()
  private readonly recordCounts = new Map<string, number>()
  private unpersisted: Array<{ shard: string; record: StoredRecord }> = []
  /** Local updates not yet handed to storage, with the generation they were made in. */
  private unpublished: Array<{ shard: Shard; generation: number; update: Uint8Array }> = []
  /** Storage writes in issue order; what is durable (see StorageQueue). */
  private readonly queue: StorageQueue
  /**
   * This replica's change sequence: bytes of local updates committed so far. Only grows,
   * also across restarts (persisted in storage meta every LSN_PERSIST_STEP bytes and
   * restarted above the persisted value, so a value is never reused).
   */
  lsn = 0
  private lsnPersisted = 0
  /** Commit time (HLC milliseconds) of the newest remote change applied; null if none yet. */
  lastReplayedCommitMs: number | null = null
  private pendingRowChanges: RowChange[] = []
  private pendingCatalogChanges: CatalogChange[] = []
  private loading = true
  private closed = false
  readonly replicator: Replicator
  /** Entries or messages that failed validation. */
  malformed = 0
  /** Which peers' changes this replica applies, per shard (null: all of them). */
  linkPolicy: LinkPolicy | null = null
  /** Generations this replica switched to (built or received). */
  generationsAdopted = 0
  private checkMembership = false
  /** Per shard: when this replica saw each row deleted (wall ms). */
  private readonly deletedAt = new Map<string, Map<string, number>>()
  /** Per shard: when each peer last reported exactly this replica's state (wall ms). */
  private readonly equalAt = new Map<string, Map<string, number>>()
  /** Per shard holding older generations: when this replica moved to the current one (wall ms; at load, the load). */
  private readonly adoptedAt = new Map<string, number>()

  /** The replicator saw `peer` report a shard digest equal to ours: it held all we held. */
  noteEqualState(shardId: string, peer: string): void {
    let m = this.equalAt.get(shardId)
    if (m === undefined) {
      m = new Map()
      this.equalAt.set(shardId, m)
    }
    m.set(peer, this.wall())
  }

  /**
   * When `peer` last reported (by an anti-entropy digest) holding exactly this replica's
   * state of a shard, in wall ms; null if it has not since this replica started. A report
   * later than a local write means the peer held that write and everything else held here.
   */
  peerMatchedAt(shardId: string, peer: string): number | null {
    return this.equalAt.get(shardId)?.get(peer) ?? null
  }

  /**
   * Deleted rows whose delete is stable: every other live member holding the shard has
   * since reported holding exactly this replica's state. Then every member holds the
   * delete, and every write concurrent with it is here too (a member's writes before that
   * report are in the state it matched; its writes after it have seen the delete). Their
   * entries can collapse into one marker.
   */
  stableDeletes(shard: Shard): Set<string> {
    const out = new Set<string>()
    const now = this.wall()
    let deleted = this.deletedAt.get(shard.id)
    if (deleted === undefined) {
      deleted = new Map()
      this.deletedAt.set(shard.id, deleted)
    }
    const others = this.members().filter((m) => !m.departed && m.nodeId !== this.nodeId && this.holds(m.region, shard.id))
    const equal = this.equalAt.get(shard.id)
    const pending = shard.deletedRowKeys()
    // Rows already collapsed (or live again) need no more tracking.
    const stillDeleted = new Set(pending)
    for (const row of deleted.keys()) if (!stillDeleted.has(row)) deleted.delete(row)
    for (const row of pending) {
      const at = deleted.get(row)
      if (at === undefined) {
        // deleted before this replica started: count from now
        deleted.set(row, now)
        continue
      }
      if (others.every((m) => (equal?.get(m.nodeId) ?? -1) > at)) out.add(row)
    }
    return out
  }

  private constructor(options: ReplicaOptions) {
    if (typeof options.nodeId !== 'string' || options.nodeId.length === 0 || RESERVED_NAME_CHARS.test(options.nodeId)) {
      throw new ConcordError(SqlState.invalidParameterValue, 'node id must be a non-empty string without control characters U+0000, U+001C-U+001F')
    }
    this.options = options
    this.nodeId = options.nodeId
    this.region = options.region ?? 'default'
    this.wall = options.clock ?? Date.now
    this.clock = new HybridClock(this.wall)
    this.random = options.random ?? Math.random
    this.scheduler = options.scheduler ?? realScheduler
    this.storage = options.storage ?? new MemoryStorage()
    this.queue = new StorageQueue(this.scheduler)
    // Writes refused while storage failed are accepted again; what waited is published.
    this.queue.onRecovered = () => this.afterChange()
    this.clientID = 1 + Math.floor(this.random() * 0xfffffffe)
    this.ids = new IdGenerator(this.wall, nodeNumberOf(this.nodeId))
    for (const [name, fn] of Object.entries(options.resolvers ?? {})) this.resolvers.set(name, fn)
    this.partitionOf = options.partitionOf
    this.catalogShard = this.createShard(CATALOG_SHARD)
    this.catalogShard.setView(this.catalogView())
    this.replicator = new Replicator(this, options.transport ?? null)
  }

  /** Opens a replica: loads everything its storage holds, then starts replicating. */
  static async open(options: ReplicaOptions): Promise<Replica> {
    const r = new Replica(options)
    await r.load()
    r.registerMembership()
    await r.replicator.start()
    return r
  }

  /**
   * Makes replication directional (one-way subscriptions): from now on this replica
   * applies a peer's updates, diffs and generations of a shard only if the policy says
   * it accepts them from that peer, and sends a peer diffs and generations only if the
   * peer accepts them. Checked where each shard's data is applied, after reassembly, so
   * nothing slips past in a message type or a fragment. A shard's generations are built
   * only by a member every other member accepts the shard from (see builderOf). Null:
   * every node, every shard, both ways.
   */
  setLinkPolicy(policy: LinkPolicy | null): void {
    this.linkPolicy = policy
  }

  // ---- membership and generations ---------------------------------------------------

  /**
   * Records this node as a member (catalog kind 'member'), or again after it was declared
   * departed: then it rejoins as a new member, keeping its own writes.
   */
  private registerMembership(): void {
    const me = this.getCatalog('member', this.nodeId) as { departed?: boolean; region?: string } | undefined
    if (me !== undefined && me.departed !== true && me.region === this.region) return
    this.transact((tx) => tx.setCatalog('member', this.nodeId, { region: this.region, since: this.clock.now() }))
  }

  /** Live members (not departed) as [nodeId, region, since], oldest first. */
  members(): Array<{ nodeId: string; region: string; since: number; departed: boolean }> {
    const out: Array<{ nodeId: string; region: string; since: number; departed: boolean }> = []
    for (const [id, v] of this.listCatalog('member')) {
      const o = v as { region?: unknown; since?: unknown; departed?: unknown }
      out.push({ nodeId: id, region: typeof o.region === 'string' ? o.region : 'default', since: typeof o.since === 'number' ? o.since : 0, departed: o.departed === true })
    }
    return out.sort((a, b) => a.since - b.since || (a.nodeId < b.nodeId ? -1 : 1))
  }

  /**
   * The member that builds new generations of a shard: the oldest live member holding it
   * that every other live member holding it accepts the shard from (a one-way
   * subscriber's generations would carry its local writes to its publisher). Null if
   * none qualifies: the shard is not compacted.
   */
  builderOf(id: string, members = this.members()): string | null {
    const holders = members.filter((m) => !m.departed && this.holds(m.region, id))
    const policy = this.linkPolicy
    for (const m of holders) {
      if (policy === null || holders.every((o) => o === m || policy.accepts(o.nodeId, m.nodeId, id))) return m.nodeId
    }
    return null
  }

  private compactionEnabled(): boolean {
    return this.options.compaction?.enabled !== false
  }

  /**
   * One round of generation housekeeping (run with each anti-entropy round): declare
   * long-silent members departed, build a new generation of each shard this node builds
   * whose history outweighs its live entries, and drop drained older generations.
   */
  compactionRound(): void {
    if (!this.compactionEnabled() || this.closed) return
    const members = this.members()
    const departedSet = new Set(members.filter((m) => m.departed).map((m) => m.nodeId))
    const live = members.filter((m) => !m.departed)
    if (live.length > 0 && live[0]!.nodeId === this.nodeId) this.markDeparted(live)
    for (const shard of this.shards.values()) {
      if (shard === this.catalogShard) continue
      if (shard.prevs.length > 0) {
        const since = this.adoptedAt.get(shard.id) ?? Number.POSITIVE_INFINITY
        const equal = this.equalAt.get(shard.id)
        const dropped = shard.dropDrained((w) => departedSet.has(w) || (equal?.get(w) ?? -1) > since)
        for (const g of dropped) {
          const id = previousId(shard.id, g)
          this.store({ kind: 'remove', shards: [id], run: () => this.storage.remove(id) })
        }
        if (dropped.length > 0) {
          // Entries of the dropped generation no longer count: rows they held up may change.
          for (const c of shard.rematerializeAll('remote')) this.pendingRowChanges.push(c)
          this.afterChange()
        }
        if (shard.prevs.length > 0) continue
      }
      if (!this.holds(this.region, shard.id) || shard.hasText) continue
      if (this.builderOf(shard.id, members) !== this.nodeId) continue
      const minGarbage = this.options.compaction?.minGarbage ?? 1000
      const ratio = this.options.compaction?.ratio ?? 1
      const threshold = Math.max(minGarbage, shard.map.size * ratio)
      let garbage = shard.garbage()
      let stable: Set<string> | undefined
      if (garbage < threshold) {
        // Deleted rows cost their entries until collapsed: count them as garbage too.
        stable = this.stableDeletes(shard)
        garbage += stable.size
        if (garbage < threshold) continue
      }
      // Scans every key: only once the shard is due.
      if (shard.hasHalfAppliedWrites((w) => departedSet.has(w))) continue
      this.compactShard(shard, stable ?? this.stableDeletes(shard))
    }
  }

  private markDeparted(live: Array<{ nodeId: string; region: string; since: number }>): void {
    const horizon = this.options.compaction?.departAfterMs ?? 24 * 3600 * 1000
    const now = this.wall()
    const seen = new Map(this.replicator.peerStatus().map((p) => [p.nodeId, p.lastSeen]))
    const gone = live.filter((m) => {
      if (m.nodeId === this.nodeId) return false
      const last = seen.get(m.nodeId) ?? null
      const since = last ?? hlcMillis(m.since)
      return now - since > horizon
    })
    if (gone.length === 0) return
    this.transact((tx) => {
      for (const m of gone) tx.setCatalog('member', m.nodeId, { region: m.region, since: m.since, departed: true })
    })
  }

  /** Rewrites a shard as a new generation of its live entries and tells the peers holding it. */
  compactShard(shard: Shard, stableDeleted: ReadonlySet<string> = this.stableDeletes(shard)): void {
    const counter = Math.floor(shard.generation / GENERATION_BUILDERS) + 1
    const generation = counter * GENERATION_BUILDERS + (nodeNumberOf(this.nodeId) % GENERATION_BUILDERS)
    const builderClient = 1 + (fnv1aString(`${shard.id}\u0000${generation}`) % 0xfffffffe)
    const state = shard.rewriteAsGeneration(generation, builderClient, stableDeleted)
    if (stableDeleted.size > 0) this.options.onTombstonesDropped?.(shard.id, [...stableDeleted])
    this.generationsAdopted++
    this.recordCounts.set(shard.id, 1)
    this.unpersisted = this.unpersisted.filter((u) => u.shard !== shard.id)
    this.store({ kind: 'snapshot', shards: [shard.id], run: () => this.storage.compact(shard.id, { generation, kind: 'snapshot', data: state }), retry: this.freshSnapshot(shard.id) })
    this.replicator.announceGeneration(shard, state)
  }

  /**
   * Switches a shard to a newer generation: re-applies this node's own newer entries,
   * persists the new generation as one snapshot (replacing the old log), and re-resolves.
   */
  adoptGeneration(shard: Shard, generation: number, state: Uint8Array): void {
    if (generation <= shard.generation) return
    const was = shard.generation
    shard.adoptGeneration(generation, state)
    this.adoptedAt.set(shard.id, this.wall())
    // The generation replaced stays readable until drained, on disk too, so a restart in
    // between shows the same rows.
    const prev = shard.prevs.find((p) => p.generation === was)
    if (prev !== undefined) {
      const old: StoredRecord = { generation: was, kind: 'snapshot', data: Y.encodeStateAsUpdate(prev.doc) }
      const id = previousId(shard.id, was)
      this.store({
        kind: 'snapshot',
        shards: [id],
        run: () => this.storage.compact(id, old),
        retry: () => {
          const p = shard.prevs.find((x) => x.generation === was)
          if (p !== undefined) return this.storage.compact(id, { generation: was, kind: 'snapshot', data: Y.encodeStateAsUpdate(p.doc) })
        },
      })
    }
    this.generationsAdopted++
    this.recordCounts.set(shard.id, 1)
    const snapshot: StoredRecord = { generation, kind: 'snapshot', data: Y.encodeStateAsUpdate(shard.doc) }
    // Local re-applications are already queued for append with this generation; appended
    // after the snapshot they are harmless duplicates.
    this.unpersisted = this.unpersisted.filter((u) => u.shard !== shard.id || u.record.generation === generation)
    this.store({ kind: 'snapshot', shards: [shard.id], run: () => this.storage.compact(shard.id, snapshot), retry: this.freshSnapshot(shard.id) })
    for (const c of shard.rematerializeAll('remote')) this.pendingRowChanges.push(c)
    this.afterChange()
  }

  private async load(): Promise<void> {
    const savedLsn = await this.storage.getMeta(LSN_META_KEY)
    if (savedLsn !== undefined && savedLsn.length === 8) {
      const persisted = Number(new DataView(savedLsn.buffer, savedLsn.byteOffset, 8).getBigUint64(0))
      if (Number.isSafeInteger(persisted)) this.lsn = persisted + 2 * LSN_PERSIST_STEP
    }
    this.lsnPersisted = this.lsn
    const ids = await this.storage.shards()
    const rank = (id: string) => (id === CATALOG_SHARD ? 0 : id.startsWith(PREV_PREFIX) ? 2 : 1)
    const order = [...ids].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    for (const id of order) {
      const records = await this.storage.load(id)
      if (records.length === 0) continue
      if (id.startsWith(PREV_PREFIX)) {
        this.loadPrevious(id, records)
        continue
      }
      const shard = this.shards.get(id) ?? this.createShard(id)
      this.recordCounts.set(id, records.length)
      try {
        const merged = records.length === 1 ? records[0]!.data : Y.mergeUpdates(records.map((r) => r.data))
        Y.applyUpdate(shard.doc, merged, LOAD_ORIGIN)
        shard.generation = records[records.length - 1]!.generation
      } catch (err) {
        throw new ConcordError(SqlState.internalError, `storage of shard ${id} is corrupt: ${String(err)}`)
      }
    }
    this.loading = false
    this.pendingRowChanges = []
    this.pendingCatalogChanges = []
    for (const name of this.catalogTableNames()) this.rebuildTable(name)
    this.pendingRowChanges = []
    this.pendingCatalogChanges = []
  }

  /** Restores an older generation kept as an overlay (see adoptGeneration). */
  private loadPrevious(id: string, records: StoredRecord[]): void {
    const parsed = parsePreviousId(id)
    const shard = parsed === null ? undefined : this.shards.get(parsed.shard)
    if (parsed === null || shard === undefined || parsed.generation >= shard.generation) {
      this.store({ kind: 'remove', shards: [id], run: () => this.storage.remove(id) })
      return
    }
    try {
      shard.restorePrevious(parsed.generation, records.length === 1 ? records[0]!.data : Y.mergeUpdates(records.map((r) => r.data)))
      // Equality reports from before a restart are gone; only new ones vouch for writers.
      this.adoptedAt.set(shard.id, this.wall())
    } catch (err) {
      throw new ConcordError(SqlState.internalError, `storage of ${id} is corrupt: ${String(err)}`)
    }
  }

  // ---- shards -------------------------------------------------------------

  private createShard(id: string): Shard {
    const shard = new Shard(id, this.clientID, this.nodeId, {
      onRows: (s, changes, origin) => this.onShardRows(s, changes, origin),
      onUpdate: (s, update, origin) => this.onShardUpdate(s, update, origin),
      resolvers: (name) => (name === CATALOG_MERGE ? mergeCatalogValues : this.resolvers.get(name)),
      onMalformed: () => this.malformed++,
      onLocalEntry: this.options.onLocalEntry === undefined ? undefined : (s, key, entry) => this.options.onLocalEntry!(s.id, key, entry),
      onConflict: (c) => this.noteConflict(c),
      observe: (hlc) => {
        this.clock.observe(hlc)
        const ms = hlcMillis(hlc)
        if (this.lastReplayedCommitMs === null || ms > this.lastReplayedCommitMs) this.lastReplayedCommitMs = ms
      },
    })
    this.shards.set(id, shard)
    const parsed = parseShardId(id)
    if (parsed !== null) {
      const info = this.tableInfos.get(parsed.table)
      if (info !== undefined && info.incarnation === parsed.incarnation) {
        this.tableShardList(parsed.table).push(shard)
        shard.setView(this.viewOf(info))
      }
    }
    return shard
  }

  private tableShardList(table: string): Shard[] {
    let list = this.tableShards.get(table)
    if (list === undefined) {
      list = []
      this.tableShards.set(table, list)
    }
    return list
  }

  /** The shard for an id, created empty if absent. Null when the id belongs to a dropped incarnation. */
  shardFor(id: string): Shard | null {
    const existing = this.shards.get(id)
    if (existing !== undefined) return existing
    const parsed = parseShardId(id)
    if (id !== CATALOG_SHARD && parsed === null) return null
    if (parsed !== null) {
      const info = this.tableInfos.get(parsed.table)
      if (info !== undefined && parsed.incarnation < info.incarnation) return null
    }
    return this.createShard(id)
  }

  /** Whether a node of `region` holds the shard. Unknown tables count as held by everyone. */
  holds(region: string, id: string): boolean {
    if (id === CATALOG_SHARD) return true
    const parsed = parseShardId(id)
    if (parsed === null) return false
    const info = this.tableInfos.get(parsed.table)
    if (info === undefined) return true
    if (parsed.incarnation < info.incarnation) return false
    return info.regions === null || info.regions.includes(region)
  }

  /** Regions that hold a shard, null meaning all. */
  scopeOf(id: string): string[] | null {
    const parsed = parseShardId(id)
    if (parsed === null) return null
    return this.tableInfos.get(parsed.table)?.regions ?? null
  }

  private onShardUpdate(shard: Shard, update: Uint8Array, origin: unknown): void {
    if (origin === LOAD_ORIGIN) return
    this.unpersisted.push({ shard: shard.id, record: { generation: shard.generation, kind: 'update', data: update } })
    if (origin === LOCAL_ORIGIN) this.unpublished.push({ shard, generation: shard.generation, update })
  }

  private onShardRows(shard: Shard, changes: ShardRowChange[], origin: string): void {
    const o = origin === LOCAL_ORIGIN ? 'local' : 'remote'
    if (shard === this.catalogShard) {
      this.onCatalogRows(changes, o)
      return
    }
    if (shard.table === null) return
    const now = this.wall()
    let deleted = this.deletedAt.get(shard.id)
    for (const c of changes) {
      this.pendingRowChanges.push(c)
      if (c.after === null) {
        if (deleted === undefined) {
          deleted = new Map()
          this.deletedAt.set(shard.id, deleted)
        }
        deleted.set(c.key, now)
      } else deleted?.delete(c.key)
    }
  }

  /**
   * Keeps a conflict for the listeners, once: a row is resolved again on every change to
   * it, and at load, where what was resolved before the restart is not news.
   */
  private noteConflict(c: ConflictRecord): void {
    if (this.loading || this.listeners.conflict.size === 0) return
    const id = `${c.table}\u0000${encodeRowKey(c.key)}\u0000${c.column ?? ''}\u0000${[c.winner, ...c.losers].map((v) => (v === null ? '' : `${v.writer}@${v.hlc}`)).join(',')}`
    if (this.conflictsSeen.has(id)) return
    // Bounded: forgetting old ones only risks reporting one of them again.
    if (this.conflictsSeen.size >= MAX_CONFLICTS_REMEMBERED) this.conflictsSeen.clear()
    this.conflictsSeen.add(id)
    this.pendingConflicts.push(c)
  }

  // ---- catalog --------------------------------------------------------------

  private catalogView(): TableView {
    const storageKeys = new Map<string, string>()
    const layout = tableLayout(CATALOG_TABLE, storageKeys)
    return {
      info: CATALOG_TABLE,
      // Concurrent table and column definitions merge by the DDL rules; other values last-write-wins.
      policies: new Map([['value', { custom: CATALOG_MERGE }]]),
      storageKeys,
      columns: new Map(CATALOG_TABLE.columns.map((c) => [c.name, c])),
      special: false,
      layout,
      nameByStorageKey: new Map(layout.filter((c) => c.pkAt < 0).map((c) => [c.skey, c.name])),
    }
  }

  private *catalogTableNames(): Iterable<string> {
    for (const row of this.catalogShard.rows.values()) if (row.kind === 'table' && typeof row.name === 'string') yield row.name
    for (const name of [...this.tableInfos.keys()]) yield name
  }

  private onCatalogRows(changes: ShardRowChange[], origin: 'local' | 'remote'): void {
    const affected = new Set<string>()
    let all = false
    for (const c of changes) {
      let kind: Value
      let name: Value
      try {
        ;[kind, name] = decodeRowKey(c.key, 2)
      } catch {
        this.malformed++
        continue
      }
      if (typeof kind !== 'string' || typeof name !== 'string') continue
      if (kind === 'table') affected.add(name)
      else if (kind === 'column') {
        const split = splitColumnCatalogName(name)
        if (split !== null) affected.add(split[0])
      } else if (kind === 'policy') all = true
      else if (kind === 'member' && name === this.nodeId && !this.loading) this.checkMembership = true
      let value: Json | null = null
      const text = c.after?.value
      if (typeof text === 'string') {
        try {
          value = JSON.parse(text) as Json
        } catch {
          this.malformed++
        }
      }
      this.pendingCatalogChanges.push({ kind, name, value, origin })
    }
    if (this.loading) return
    if (all) for (const n of this.catalogTableNames()) affected.add(n)
    for (const name of affected) this.rebuildTable(name)
  }

  private clusterDefaultPolicy(): PolicySpec {
    const row = this.catalogShard.rows.get(encodeRowKey(['policy', 'default']))
    if (row === undefined || typeof row.value !== 'string') return 'last_write_wins'
    try {
      return parsePolicy(JSON.parse(row.value)) ?? 'last_write_wins'
    } catch {
      return 'last_write_wins'
    }
  }

  private viewOf(info: TableInfo): TableView {
    const fallback = info.policy ?? this.clusterDefaultPolicy()
    let layout: TableView['layout'] = []
    const policies = new Map<string, PolicySpec>()
    const storageKeys = new Map<string, string>()
    for (const c of info.columns) {
      policies.set(c.name, c.policy ?? fallback)
      const cl = this.catalogShard.rowCl(encodeRowKey(['column', `${info.name}\u0000${info.incarnation}\u0000${c.name}`]))
      storageKeys.set(c.name, cl <= 1 ? c.name : `${c.name}#${cl}`)
    }
    layout = tableLayout(info, storageKeys)
    return {
      info,
      policies,
      storageKeys,
      columns: new Map(info.columns.map((c) => [c.name, c])),
      special: info.columns.some((c) => c.kind !== 'register' || hasEpochs(c)),
      layout,
      nameByStorageKey: new Map(layout.filter((c) => c.pkAt < 0).map((c) => [c.skey, c.name])),
    }
  }

  private rebuildTable(name: string): void {
    const key = encodeRowKey(['table', name])
    const row = this.catalogShard.rows.get(key)
    const def = row === undefined ? null : parseTableDefinition(row.value)
    const previous = this.tableInfos.get(name)
    let info: TableInfo | undefined
    if (def !== null) {
      const incarnation = this.catalogShard.rowCl(key)
      const prefix = `${name}\u0000${incarnation}\u0000`
      const cols: Array<[string, ColumnDefinition]> = []
      for (const r of this.catalogShard.rows.values()) {
        if (r.kind !== 'column' || typeof r.name !== 'string' || !r.name.startsWith(prefix)) continue
        const c = parseColumnDefinition(r.value)
        if (c !== null) cols.push([r.name.slice(prefix.length), c])
      }
      info = buildTableInfo(name, incarnation, def, cols)
    }
    if (previous !== undefined && (info === undefined || info.incarnation !== previous.incarnation)) {
      for (const shard of this.tableShards.get(name) ?? []) {
        for (const [key, before] of shard.rows) this.pendingRowChanges.push({ table: name, key, before, after: null, origin: 'local' })
        shard.rows.clear()
        shard.setView(null)
        this.shards.delete(shard.id)
        const id = shard.id
        this.store({ kind: 'remove', shards: [id], run: () => this.storage.remove(id) })
      }
      this.tableShards.delete(name)
    }
    if (info === undefined) {
      this.tableInfos.delete(name)
      return
    }
    this.tableInfos.set(name, info)
    const view = this.viewOf(info)
    // DDL merge can replace the primary key (an earlier concurrent CREATE won): rows keyed
    // under the other key may not decode under this one. Re-read every row from scratch,
    // so such a row is absent on every replica instead of kept as it was materialized.
    const keyChanged = previous !== undefined && previous.incarnation === info.incarnation && previous.primaryKey.join('\u0000') !== info.primaryKey.join('\u0000')
    const list: Shard[] = []
    for (const shard of this.shards.values()) {
      const parsed = parseShardId(shard.id)
      if (parsed === null || parsed.table !== name || parsed.incarnation !== info.incarnation) continue
      list.push(shard)
      if (keyChanged) {
        for (const [key, before] of shard.rows) this.pendingRowChanges.push({ table: name, key, before, after: null, origin: 'remote' })
        shard.rows.clear()
      }
      for (const c of shard.setView(view)) this.pendingRowChanges.push(c)
    }
    this.tableShards.set(name, list)
  }

  // ---- reads ------------------------------------------------------------------

  tables(): TableInfo[] {
    return [...this.tableInfos.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  table(name: string): TableInfo | undefined {
    return this.tableInfos.get(name)
  }

  get(table: string, key: Value[]): Row | undefined {
    const rowKey = encodeRowKey(key)
    for (const s of this.tableShards.get(table) ?? []) {
      const r = s.rows.get(rowKey)
      if (r !== undefined) return r
    }
    return undefined
  }

  *scan(table: string): IterableIterator<Row> {
    for (const s of this.tableShards.get(table) ?? []) yield* s.rows.values()
  }

  rowCount(table: string): number {
    let n = 0
    for (const s of this.tableShards.get(table) ?? []) n += s.rows.size
    return n
  }

  getCatalog(kind: string, name: string): Json | undefined {
    const row = this.catalogShard.rows.get(encodeRowKey([kind, name]))
    if (row === undefined || typeof row.value !== 'string') return undefined
    try {
      return JSON.parse(row.value) as Json
    } catch {
      return undefined
    }
  }

  listCatalog(kind: string): Array<[string, Json]> {
    return this.transactRead((tx) => tx.listCatalog(kind))
  }

  private transactRead<T>(fn: (tx: Transaction) => T): T {
    return fn(new LocalTransaction(this.host))
  }

  // ---- writes -------------------------------------------------------------------

  private readonly host: TransactionHost = {
    baseRow: (table, rowKey) => {
      if (table === CATALOG_TABLE.name) return this.catalogShard.rows.get(rowKey) ?? null
      for (const s of this.tableShards.get(table) ?? []) {
        const r = s.rows.get(rowKey)
        if (r !== undefined) return r
      }
      return null
    },
    baseRows: (table) => this.baseRows(table),
    baseTable: (name) => this.tableInfos.get(name),
    baseTables: () => this.tables(),
    rowCl: (table, rowKey) => {
      for (const s of this.tableShards.get(table) ?? []) {
        const cl = s.rowCl(rowKey)
        if (cl > 0) return cl
      }
      return 0
    },
    catalogRowCl: (rowKey) => this.catalogShard.rowCl(rowKey),
    now: () => this.clock.now(),
    nextId: () => this.ids.next(),
  }

  private *baseRows(table: string): Iterable<[string, Row]> {
    if (table === CATALOG_TABLE.name) {
      yield* this.catalogShard.rows
      return
    }
    for (const s of this.tableShards.get(table) ?? []) yield* s.rows
  }

  /**
   * Runs `fn` as one locally atomic transaction and returns its result. If `fn` throws,
   * nothing is applied. The writes are visible when this returns; `durable()` tells
   * when they are on disk.
   */
  transact<T>(fn: (tx: Transaction) => T): T {
    if (this.closed) throw new ConcordError(SqlState.objectNotInPrerequisiteState, 'replica is closed')
    const tx = new LocalTransaction(this.host)
    const result = fn(tx)
    this.commit(tx)
    return result
  }

  /**
   * Opens a transaction that stays open across calls until `commit` (SQL BEGIN .. COMMIT).
   * Dropping it without committing applies nothing.
   */
  begin(): OpenTransaction {
    if (this.closed) throw new ConcordError(SqlState.objectNotInPrerequisiteState, 'replica is closed')
    const tx = new LocalTransaction(this.host, true)
    let done = false
    return Object.assign(tx, {
      commit: () => {
        if (done) throw new ConcordError(SqlState.objectNotInPrerequisiteState, 'transaction already committed')
        if (this.closed) throw new ConcordError(SqlState.objectNotInPrerequisiteState, 'replica is closed')
        done = true
        this.commit(tx)
      },
    })
  }

  private commit(tx: LocalTransaction): void {
    if (tx.pending.size === 0) return
    // Storage refuses writes (disk full): nothing of this transaction is applied.
    if (this.queue.failing) throw this.queue.failureError(true)
    const hlc = this.clock.now()
    const catalog = tx.pending.get(CATALOG_TABLE.name)
    if (catalog !== undefined && catalog.size > 0) {
      this.catalogShard.transactLocal(() => {
        for (const [rowKey, w] of catalog) this.catalogShard.applyWrite(rowKey, w, this.nodeId, hlc, w.keyValues)
      })
    }
    const byShard = new Map<Shard, Array<[string, PendingRow]>>()
    for (const [table, rows] of tx.pending) {
      if (table === CATALOG_TABLE.name || rows.size === 0) continue
      const info = this.tableInfos.get(table)
      if (info === undefined) continue
      const shards = this.tableShardList(info.name)
      if (shards.length === 1 && info.partitioning === null) {
        // One shard holds the whole table: no routing, no grouping.
        const shard = shards[0]!
        shard.transactLocal(() => rows.forEach((w, rowKey) => stale(shard, rowKey, w) || shard.applyWrite(rowKey, w, this.nodeId, hlc, w.keyValues)))
        continue
      }
      for (const [rowKey, w] of rows) {
        const shard = this.locate(info, rowKey, w)
        let list = byShard.get(shard)
        if (list === undefined) {
          list = []
          byShard.set(shard, list)
        }
        list.push([rowKey, w])
      }
    }
    for (const [shard, rows] of byShard) {
      shard.transactLocal(() => {
        for (const [rowKey, w] of rows) if (!stale(shard, rowKey, w)) shard.applyWrite(rowKey, w, this.nodeId, hlc, w.keyValues)
      })
    }
    this.afterChange()
  }

  /** The shard a row lives in, or the one its partition routes it to. */
  private locate(info: TableInfo, rowKey: string, w: { keyValues: Value[]; cols: Map<string, Value> }): Shard {
    const list = this.tableShardList(info.name)
    if (list.length === 1 && info.partitioning === null) return list[0]!
    for (const s of list) if (s.rowCl(rowKey) > 0) return s
    let partition = 0
    if (this.partitionOf !== undefined && info.partitioning !== null) {
      const row: Row = {}
      info.primaryKey.forEach((c, i) => (row[c] = w.keyValues[i]!))
      for (const [c, v] of w.cols) row[c] = v
      partition = this.partitionOf(info, row)
    }
    const id = shardId(info.name, info.incarnation, partition)
    return this.shards.get(id) ?? this.createShard(id)
  }

  /** Persists, publishes and notifies whatever the last Yjs transactions produced. */
  afterChange(): void {
    if (this.checkMembership) {
      // Declared departed while away: rejoin as a new member (outside any Yjs transaction).
      this.checkMembership = false
      this.registerMembership()
    }
    this.flush()
    const rows = this.pendingRowChanges
    const cat = this.pendingCatalogChanges
    const conflicts = this.pendingConflicts
    this.pendingRowChanges = []
    this.pendingCatalogChanges = []
    this.pendingConflicts = []
    if (cat.length > 0) for (const l of this.listeners.catalog) l(cat)
    if (rows.length > 0) for (const l of this.listeners.change) l(rows)
    if (conflicts.length > 0) for (const l of this.listeners.conflict) l(conflicts)
  }

  private flush(): void {
    if (this.unpersisted.length === 0) return
    const batch = this.unpersisted
    const local = this.unpublished
    this.unpersisted = []
    this.unpublished = []
    const publish = local.map(({ shard, generation, update }) => {
      const start = this.lsn
      this.lsn += update.length
      return { shard, generation, update, start, end: this.lsn }
    })
    if (this.lsn - this.lsnPersisted >= LSN_PERSIST_STEP) {
      this.lsnPersisted = this.lsn
      const bytes = new Uint8Array(8)
      new DataView(bytes.buffer).setBigUint64(0, BigInt(this.lsn))
      this.store({ kind: 'meta', shards: [], run: () => this.storage.setMeta(LSN_META_KEY, bytes) })
    }
    for (const { shard } of batch) this.recordCounts.set(shard, (this.recordCounts.get(shard) ?? 0) + 1)
    const lsn = this.lsn
    const after = () => {
      if (publish.length > 0) {
        this.replicator.noteCommit(lsn, this.wall())
        this.replicator.gossip(publish)
      }
      this.maybeCompactStorage(batch)
    }
    const shards = [...new Set(batch.map((b) => b.shard))]
    this.store({ kind: 'append', shards, run: () => this.storage.append(batch), done: after })
  }

  /** Issues a storage write, in order (see StorageQueue). */
  private store(op: StorageOp): void {
    this.queue.store(op)
  }

  /** Retry of a shard's snapshot: the shard as it is in memory then (nothing if it is gone). */
  private freshSnapshot(id: string): () => void | Promise<void> {
    return () => {
      const s = this.shards.get(id)
      if (s !== undefined) return this.storage.compact(id, { generation: s.generation, kind: 'snapshot', data: Y.encodeStateAsUpdate(s.doc) })
    }
  }

  /**
   * The digest this replica reports for a shard in anti-entropy. A peer whose digest
   * matches records that this replica holds its state, which can make a delete stable
   * (see stableDeletes); so while some of the shard's changes are not yet durable here
   * (a crash would lose them), the digest reported is deliberately not the state's,
   * and the exchange goes on as for any difference.
   */
  reportedDigest(shard: Shard): number {
    const d = shard.digest()
    const durable = !this.queue.writing(shard.id) && !this.unpersisted.some((u) => u.shard === shard.id)
    return durable ? d : (d ^ 1) >>> 0
  }

  /**
   * Rewrites a shard's storage log as one snapshot once it holds many records. The
   * snapshot is taken in the same synchronous step as the `compact` call, so it contains
   * every update appended before it (durable or still in flight); appends issued later
   * come after it. Whatever order storage commits them in, nothing is lost.
   */
  private maybeCompactStorage(batch: Array<{ shard: string }>): void {
    for (const { shard } of batch) {
      if ((this.recordCounts.get(shard) ?? 0) < COMPACT_AFTER_RECORDS) continue
      const s = this.shards.get(shard)
      if (s === undefined) continue
      this.recordCounts.set(shard, 1)
      const snapshot: StoredRecord = { generation: s.generation, kind: 'snapshot', data: Y.encodeStateAsUpdate(s.doc) }
      this.store({ kind: 'snapshot', shards: [shard], run: () => this.storage.compact(shard, snapshot), retry: this.freshSnapshot(shard) })
    }
  }

  /** True when nothing written so far still waits for storage. */
  isDurable(): boolean {
    return this.unpersisted.length === 0 && this.queue.isDurable()
  }

  /**
   * Resolves once every change made so far is durable (not waiting for later ones);
   * rejects, with SQLSTATE 53100 or 58030, if storage failed on one of them.
   */
  durable(): Promise<void> {
    this.flush()
    return this.queue.durable()
  }

  /**
   * Runs `fn` once every change made so far to `shards` (every shard, if not given) is
   * durable; at once if it is. Whatever tells others about this replica's state goes
   * through here: a crash must never take back what a peer or a client was told.
   * `send`: a message to a peer, which may be dropped if too many wait (anti-entropy
   * sends again).
   */
  whenDurable(fn: () => void, options: { shards?: Iterable<string>; send?: boolean } = {}): void {
    this.flush()
    this.queue.whenDurable(fn, options)
  }

  /** Sends dropped because too many waited for durability (see StorageQueue). */
  get sendsDropped(): number {
    return this.queue.sendsDropped
  }

  /** Applies a remote Yjs update to a shard; false when it was rejected. */
  applyRemote(shard: Shard, update: Uint8Array): boolean {
    try {
      if (shard.applyRemote(update, REMOTE_ORIGIN)) this.onShardUpdate(shard, update, REMOTE_ORIGIN)
      return true
    } catch {
      this.malformed++
      return false
    }
  }

  /**
   * Applies a remote update tagged with a generation. 'ahead' means the sender is on a
   * newer generation than this replica (anti-entropy will bring it over); 'stale' that
   * it is for an older one (its writer re-applies it when it adopts the current one).
   */
  applyRemoteAt(shard: Shard, generation: number, update: Uint8Array): 'applied' | 'rejected' | 'ahead' | 'stale' {
    if (generation === shard.generation) return this.applyRemote(shard, update) ? 'applied' : 'rejected'
    if (generation > shard.generation) return 'ahead'
    // An older generation takes no more writes: its writer re-applies them on moving to
    // this one (held overlays hold only what was there at the switch).
    return 'stale'
  }

  /**
   * The rows that writer entries resolve to in shard `shardId` under this replica's view
   * of its table, in a fresh document: no generations, no history dropped. With every
   * entry ever written (`ReplicaOptions.onLocalEntry`), what the shard would hold had it
   * never been compacted. For verification; text columns resolve to null.
   */
  resolveEntries(shardId: string, entries: Iterable<[string, string]>): Row[] {
    const view = this.shards.get(shardId)?.table ?? null
    if (view === null) return []
    const shard = new Shard(shardId, 1, '', {
      onRows: () => {},
      onUpdate: () => {},
      resolvers: (name) => this.resolvers.get(name),
      onMalformed: () => {},
      observe: () => {},
    })
    shard.doc.transact(() => {
      for (const [k, v] of entries) shard.map.set(k, v)
    }, LOAD_ORIGIN)
    shard.setView(view)
    const rows = [...shard.rows.values()]
    shard.doc.destroy()
    return rows
  }

  // ---- misc ------------------------------------------------------------------------

  on<K extends keyof ReplicaEvents>(event: K, fn: ReplicaEvents[K]): () => void {
    const set = this.listeners[event] as Set<ReplicaEvents[K]>
    set.add(fn)
    return () => set.delete(fn)
  }

  registerResolver(name: string, fn: Resolver): void {
    this.resolvers.set(name, fn)
    for (const info of this.tableInfos.values()) {
      const view = this.viewOf(info)
      const uses = [...view.policies.values()].some((p) => typeof p === 'object' && p.custom === name)
      if (uses) this.rebuildTable(info.name)
    }
    this.afterChange()
  }

  /**
   * Sets how rows of partitioned tables are routed to partitions (shards), for layers that
   * wrap an already open replica. Every node must route the same way. Rows already stored
   * stay where they are.
   */
  setPartitionOf(fn: ReplicaOptions['partitionOf']): void {
    this.partitionOf = fn
  }

  unregisterResolver(name: string): void {
    this.resolvers.delete(name)
  }

  nextId(): bigint {
    return this.ids.next()
  }

  /** Wall-clock milliseconds from the injected clock. */
  now(): number {
    return this.wall()
  }

  /**
   * Timestamp of the newest write `writer` made to a row, as this replica holds it (null
   * if none): lets tests check that no write is lost, whatever the merge policy showed.
   */
  entryTimestamp(table: string, key: Value[], writer: string): number | null {
    const rowKey = encodeRowKey(key)
    let best: number | null = null
    for (const s of this.tableShards.get(table) ?? []) {
      const t = s.entryTimestamp(rowKey, writer)
      if (t !== null && (best === null || t > best)) best = t
    }
    return best
  }

  /** Nodes with a write in the current life of a row (its causal length), sorted. */
  rowWriters(table: string, key: Value[]): string[] {
    const rowKey = encodeRowKey(key)
    const out = new Set<string>()
    for (const s of this.tableShards.get(table) ?? []) for (const w of s.liveWriters(rowKey)) out.add(w)
    return [...out].sort()
  }

  /** Per-shard digests of the shards this replica holds, as anti-entropy compares them. */
  digests(): Map<string, number> {
    const out = new Map<string, number>()
    for (const [id, s] of this.shards) if (this.holds(this.region, id)) out.set(id, s.digest())
    return out
  }

  /**
   * Like `digests`, but covering older generations still held as overlays too: equal
   * between replicas only when they show the same rows for the same reasons (the
   * simulator's convergence check).
   */
  stateDigests(): Map<string, number> {
    const out = new Map<string, number>()
    for (const [id, s] of this.shards) if (this.holds(this.region, id)) out.set(id, s.fullDigest())
    return out
  }

  stats(): ReplicatorStats & { shards: number; malformed: number; generationsAdopted: number; tombstonesDropped: number; overlays: number } {
    let tombstonesDropped = 0
    let overlays = 0
    for (const s of this.shards.values()) {
      tombstonesDropped += s.tombstonesDropped
      overlays += s.prevs.length
    }
    return {
      ...this.replicator.stats,
      shards: this.shards.size,
      malformed: this.malformed + this.replicator.stats.rejected,
      generationsAdopted: this.generationsAdopted,
      tombstonesDropped,
      overlays,
    }
  }

  get isClosed(): boolean {
    return this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.replicator.stop()
    this.flush()
    await this.queue.drain()
    this.queue.close()
    for (const s of this.shards.values()) s.doc.destroy()
  }
}
