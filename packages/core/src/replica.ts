/**
 * A replica: one node's copy of the database, and the facade over the parts that keep it.
 * This class opens and closes them, runs transactions, answers reads and hands out events;
 * each job is done by one part:
 *
 *   loading/replica-loader.ts     reads what storage holds back at open
 *   catalog/catalog-view.ts       tables as the catalog shard defines them; each table's shards
 *   placement/placement.ts        which shards a region holds; which shard a row goes to
 *   changes/change-pipeline.ts    persists, publishes and reports every change; the LSN
 *   storage/shard-log.ts          shard records over the ordered storage queue (durability)
 *   housekeeping/housekeeper.ts   membership and generations, on its own timer
 *   replication/replicator.ts     gossip, anti-entropy, fragments, positions (ReplicationHost)
 *
 * Invariants: a local update is published to peers only after storage has made it
 * durable, so a node that crashes and restarts never lags behind what its peers have
 * from it (it gets a fresh Yjs client id on every start anyway). Materialized rows and
 * change events follow every Yjs transaction (see Shard). Every operation that changes
 * shards runs through the change pipeline, which settles it (persists, publishes,
 * notifies) when it returns.
 */
import type { CarriedRows, CommitOptions, LinkPolicy, OpenTransaction, ReplicaEvents, ReplicaOptions, Scheduler, Storage, StoredRecord, Transaction } from './api.js'
import { CATALOG_TABLE, SECRETS_TABLE } from './catalog/catalog-schema.js'
import { CatalogView } from './catalog/catalog-view.js'
import { CatalogLists } from './catalog/catalog-lists.js'
import { CATALOG_MERGE, mergeCatalogValues } from './catalog/definition-merge.js'
import { catalogTableView, secretsTableView } from './catalog/table-view.js'
import { ChangePipeline } from './changes/change-pipeline.js'
import { HybridClock, hlcMillis } from './clock/hlc.js'
import { IdGenerator, nodeNumberOf } from './clock/id-generator.js'
import { decodeRowKey, encodeRowKey } from './codec/row-key.js'
import { RESERVED_NAME_CHARS } from './codec/writer-entry.js'
import { assert } from './errors/assert.js'
import { ConcordError } from './errors/concord-error.js'
import { Housekeeper, type Member } from './housekeeping/housekeeper.js'
import { loadReplica } from './loading/replica-loader.js'
import { MAX_NOTICE_BODY_BYTES, MAX_NOTICE_TOPIC_BYTES } from './replication/messages.js'
import { Placement, holdsTable } from './placement/placement.js'
import { CATALOG_SHARD, SECRETS_SHARD } from './placement/shard-id.js'
import { ShardPlacements, type ShardPlacement } from './placement/shard-placement.js'
import { HomeRegions, homeColumn } from './placement/row-homing.js'
import { CatchUp } from './placement/catch-up.js'
import { JOINED_KIND, JoinCatchUp } from './placement/join-catch-up.js'
import type { ReadPart } from './replication/federated-reads.js'
import type { ReplicatorStats } from './replication/replication-context.js'
import type { ReplicationHost } from './replication/replication-host.js'
import type { SyncState } from './replication/peer-confirmations.js'
import { Replicator } from './replication/replicator.js'
import { applyRowWrites, commitWrites, planRowWrites, type CommitTarget } from './rows/commit-writes.js'
import { LocalTransaction, type TransactionHost } from './rows/local-transaction.js'
import { resolveEntriesFresh } from './rows/resolve-entries.js'
import { ALL_ROWS, encodeRowSnapshotSteps, ROW_SNAPSHOT_META_KEY, rowSnapshotPartKey, viewFingerprint, type RowSnapshotCapture, type RowSnapshotPartRef, type ShardRowCapture } from './rows/row-snapshot.js'
import { RowSnapshotParts } from './rows/row-snapshot-parts.js'
import { LOCAL_ORIGIN, REMOTE_ORIGIN, Shard, type ShardRowChange } from './rows/shard.js'
import { ShardLog } from './storage/shard-log.js'
import { DEFAULT_MAX_REMOTE_VALUE_BYTES, oversizedValue } from './replication/oversized-values.js'
import { MemoryStorage } from './storage/memory-storage.js'
import type { CatalogChange, Json, Resolver, Row, TableInfo, Value } from './types.js'

/** Row writes a sliced commit applies per turn of the scheduler (one Yjs transaction per shard each). */
const ROWS_PER_SLICE = 2_000

const realScheduler: Scheduler = {
  setTimeout(ms, fn) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
}

/**
 * What a holder sends of a table for a federated read, beyond its filter: the rows `keep`
 * accepts; of them, when `limit` is set, only the first `limit` in `order` (any `limit`
 * of them without an order); of each row, only `columns` when set (the reader takes the
 * others as NULL: the layer above asks only for what its statement reads).
 */
export interface RowSelection {
  keep: (row: Row) => boolean
  columns?: readonly string[] | null
  limit?: number | null
  order?: ((a: Row, b: Row) => number) | null
}

/**
 * Turns a federated read's filter into a predicate over a table's stored rows (or a
 * fuller `RowSelection`); null when it cannot.
 */
export type RowFilterCompiler = (table: TableInfo, filter: string) => ((row: Row) => boolean) | RowSelection | null

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
  /**
   * The secrets (catalog-schema.ts SECRETS_TABLE): held by every replica, never served to
   * a scoped peer (replication/peer-scope.ts), and fed to no change stream.
   */
  readonly secretsShard: Shard
  readonly replicator: Replicator<Shard>
  /** Membership and generations (see Housekeeper). */
  readonly housekeeper: Housekeeper
  /** Commit time (HLC milliseconds) of the newest remote change applied; null if none yet. */
  lastReplayedCommitMs: number | null = null
  /** Entries or messages that failed validation. */
  malformed = 0
  /** Table shards whose rows the open took from the row snapshot: as stored, or with later records applied on top. */
  readonly rowsRestored = { exact: 0, after: 0 }
  /** The row snapshot's parts storage holds: a checkpoint writes only those of shards changed since. */
  private readonly rowSnapshotParts = new RowSnapshotParts()
  /** Catalog objects by kind, fed by the catalog's changed rows (placement and the housekeeper only read them). */
  private readonly catalogLists = new CatalogLists(() => this.catalog.version, () => this.catalogShard.rows.values())
  /** Which peers' changes this replica applies, per shard (null: all of them). */
  linkPolicy: LinkPolicy | null = null
  private readonly clientID: number
  private readonly ids: IdGenerator
  private readonly wall: () => number
  private readonly resolvers = new Map<string, Resolver>()
  private readonly log: ShardLog
  private readonly pipeline: ChangePipeline
  private readonly catalog: CatalogView<Shard>
  private readonly placement: Placement<Shard>
  /** How a federated read's filter is applied here (`setRowFilter`); null: not at all. */
  private rowFilter: RowFilterCompiler | null = null
  private loading = true
  private closed = false
  /** A check for join marks due is scheduled (scheduleJoinMarks). */
  private joinMarksScheduled = false

  private constructor(options: ReplicaOptions) {
    if (typeof options.nodeId !== 'string' || options.nodeId.length === 0 || RESERVED_NAME_CHARS.test(options.nodeId)) {
      throw new ConcordError('invalidParameterValue', 'node id must be a non-empty string without control characters U+0000, U+001C-U+001F')
    }
    const replica = this
    this.options = options
    this.nodeId = options.nodeId
    this.region = options.region ?? 'default'
    this.wall = options.clock ?? Date.now
    this.clock = new HybridClock(this.wall)
    this.random = options.random ?? Math.random
    this.scheduler = options.scheduler ?? realScheduler
    this.storage = options.storage ?? new MemoryStorage()
    this.log = new ShardLog(this.storage, this.scheduler, (id) => this.snapshotOf(id))
    // Writes refused while storage failed are accepted again; what waited is published.
    this.log.onRecovered = () => this.pipeline.settle()
    this.clientID = 1 + Math.floor(this.random() * 0xfffffffe)
    this.ids = new IdGenerator(this.wall, nodeNumberOf(this.nodeId))
    for (const [name, fn] of Object.entries(options.resolvers ?? {})) this.resolvers.set(name, fn)
    this.pipeline = new ChangePipeline({
      log: this.log,
      publish: (lsn, updates) => {
        this.replicator.noteCommit(lsn, this.wall())
        this.replicator.gossip(updates)
      },
      beforeSettle: () => this.housekeeper.rejoinIfDeparted(),
      loading: () => this.loading,
      handOffRemote: options.handOffRemote,
    })
    this.catalog = new CatalogView<Shard>({
      get catalogShard() {
        return replica.catalogShard
      },
      shards: () => this.shards.values(),
      forget: (shard) => {
        this.shards.delete(shard.id)
        this.log.remove(shard.id)
      },
      rowChanges: (changes) => this.pipeline.rows(changes),
      catalogChange: (change) => this.onCatalogChange(change),
      malformed: () => this.malformed++,
      loading: () => this.loading,
    })
    this.placement = new Placement<Shard>(
      {
        tableOfShard: (table, incarnation) => this.catalog.tableOfShard(table, incarnation),
        shardList: (table) => this.catalog.shardList(table),
        tables: () => this.catalog.tables(),
        shard: (id) => this.shards.get(id),
        createShard: (id) => this.createShard(id),
      },
      new ShardPlacements(this.catalogLists),
      new CatchUp(this.catalogLists),
      new JoinCatchUp(this.catalogLists),
      new HomeRegions(this.catalogLists),
      options.partitionOf,
    )
    this.housekeeper = new Housekeeper(
      {
        nodeId: this.nodeId,
        region: this.region,
        scheduler: this.scheduler,
        options,
        get isClosed() {
          return replica.closed
        },
        get linkPolicy() {
          return replica.linkPolicy
        },
        get catalogShard() {
          return replica.catalogShard
        },
        now: () => this.wall(),
        hlc: () => this.clock.now(),
        shards: () => this.shards.values(),
        holds: (nodeId, region, id) => this.placement.holds(nodeId, region, id),
        caughtUpOn: (id) => this.placement.caughtUpOnShard(this.nodeId, this.region, id),
        getCatalog: (kind, name) => this.catalog.getCatalog(kind, name),
        catalogVersion: () => this.catalog.version,
        membersVersion: () => this.catalogLists.version('member'),
        // Read every round on every node (members): re-listed only when the catalog changed.
        listCatalog: (kind) => this.catalogLists.list(kind),
        transact: (fn) => this.transact(fn),
        peersLastSeen: () => new Map(this.replicator.peerStatus().map((p) => [p.nodeId, p.lastSeen])),
        announceGeneration: (shard, state) => this.replicator.announceGeneration(shard, state),
        askState: (peer, shardId) => this.replicator.askState(peer, shardId),
        reportedDigest: (shard) => this.reportedDigest(shard),
        askReports: (shardId, holders) => this.replicator.askReports(shardId, holders),
        shard: (id) => this.shards.get(id),
      },
      this.log,
      this.pipeline,
    )
    this.catalogShard = this.createShard(CATALOG_SHARD)
    this.catalogShard.setView(catalogTableView())
    this.secretsShard = this.createShard(SECRETS_SHARD)
    this.secretsShard.setView(secretsTableView())
    this.replicator = new Replicator(this.replicationHost(), options.transport ?? null, {
      antiEntropyIntervalMs: options.antiEntropyIntervalMs,
      maxMessageBytes: options.maxMessageBytes,
      catalogPacingMs: options.catalogPacingMs,
      federatedRead: { timeoutMs: options.federatedReadTimeoutMs, maxBytes: options.federatedReadMaxBytes },
    })
  }

  /** Opens a replica: loads everything its storage holds, then starts housekeeping and replicating. */
  static async open(options: ReplicaOptions): Promise<Replica> {
    const r = new Replica(options)
    await r.load()
    // A brand-new joiner: empty storage (no member, no table) and peers to catch up from.
    // An offline-first replica (answerBeforeCatchUp) answers from what it holds meanwhile,
    // but records its joining all the same: until it has caught up it is no source others
    // may catch up from (placement/join-catch-up.ts).
    const joining = options.transport !== undefined && r.listCatalog('member').length === 0 && r.catalog.tables().length === 0
    r.housekeeper.registerMembership(joining)
    r.scheduleJoinMarks()
    r.housekeeper.start()
    await r.replicator.start()
    return r
  }

  private async load(): Promise<void> {
    await loadReplica({
      storage: this.storage,
      restoreSequence: (saved) => this.pipeline.sequence.restore(saved),
      shard: (id) => this.shards.get(id),
      createShard: (id) => this.createShard(id),
      loadedLog: (id, records) => this.log.loaded(id, records),
      removeStored: (id) => this.log.remove(id),
      restoredOverlay: (shard) => this.housekeeper.restoredOverlay(shard),
      // Tables known before their shards load: each shard's rows are resolved as its
      // records are applied, in one pass (resolving them all again afterwards doubled the
      // cost of a start).
      catalogLoaded: () => this.catalog.rebuildAll(),
      restoredSnapshot: (hlc, replayedMs, named) => {
        this.clock.observe(hlc)
        this.lastReplayedCommitMs = replayedMs
        this.rowSnapshotParts.loadedManifest(hlc, named)
      },
      restoredRows: (how, part) => {
        if (how === 'exact') {
          this.rowsRestored.exact++
          this.rowSnapshotParts.loadedExact(part)
        } else this.rowsRestored.after++
      },
      rowSnapshotCurrent: () => this.log.loadedCurrentRowSnapshot(),
      warn: (message) => this.options.onWarning?.(message),
    })
    this.loading = false
    this.pipeline.discardChanges()
    // Overlays restored after their shard's rows were resolved change what the rows show.
    for (const s of this.shards.values()) if (s.prevs.length > 0 && s.table !== null) s.setView(s.table)
    this.pipeline.discardChanges()
    assert(this.log.isEmpty(), 'loading writes nothing back')
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

  // ---- shards ----------------------------------------------------------------------

  private createShard(id: string): Shard {
    const shard = new Shard(id, this.clientID, this.nodeId, {
      onRows: (s, changes, origin) => this.onShardRows(s, changes, origin),
      onUpdate: (s, update, origin) => this.pipeline.onUpdate(s, update, origin),
      resolvers: (name) => (name === CATALOG_MERGE ? mergeCatalogValues : this.resolvers.get(name)),
      onMalformed: () => this.malformed++,
      onLocalEntry: this.options.onLocalEntry === undefined ? undefined : (s, key, entry) => this.options.onLocalEntry!(s.id, key, entry),
      onConflict: (c) => this.pipeline.conflict(c),
      observe: (hlc) => {
        this.clock.observe(hlc)
        const ms = hlcMillis(hlc)
        if (this.lastReplayedCommitMs === null || ms > this.lastReplayedCommitMs) this.lastReplayedCommitMs = ms
      },
    })
    this.shards.set(id, shard)
    this.catalog.attach(shard)
    return shard
  }

  /** A shard's state as it is in memory now, as a snapshot record (undefined once it is gone). */
  private snapshotOf(id: string): StoredRecord | undefined {
    const s = this.shards.get(id)
    return s === undefined ? undefined : { generation: s.generation, kind: 'snapshot', data: s.encodeState() }
  }

  private onShardRows(shard: Shard, changes: ShardRowChange[], origin: string): void {
    if (shard === this.catalogShard) {
      this.catalogLists.note(changes)
      this.catalog.onCatalogRows(changes, origin === LOCAL_ORIGIN ? 'local' : 'remote')
      return
    }
    // Secrets are read where they are used (getSecret); no change feed or listener sees them.
    if (shard === this.secretsShard || shard.table === null) return
    this.pipeline.rows(changes)
    this.housekeeper.noteRows(shard, changes)
  }

  private onCatalogChange(change: CatalogChange): void {
    // Declared departed while away: it rejoins at the next settle (outside any Yjs transaction).
    if (change.kind === 'member' && change.name === this.nodeId && !this.loading) this.housekeeper.ownMemberChanged()
    this.scheduleJoinMarks()
    this.pipeline.catalog(change)
  }

  /** The shard for an id, created empty if absent. Null when the id belongs to a dropped incarnation. */
  shardFor(id: string): Shard | null {
    return this.placement.shardFor(id)
  }

  /** Whether node `nodeId` of `region` holds the shard. Unknown tables count as held by everyone. */
  holds(nodeId: string, region: string, id: string): boolean {
    return this.placement.holds(nodeId, region, id)
  }

  /** Whether this replica holds the shard. */
  holdsHere(id: string): boolean {
    return this.placement.holds(this.nodeId, this.region, id)
  }

  /**
   * Whether this replica holds every shard of a table, so it can read the table's rows
   * itself. Asked twice per indexed read (the index, then the row), so answers are kept
   * per table info until the catalog moves: every input of the answer (placements, homes,
   * catch-up records and marks, members) is a catalog object, and `catalog.version` moves
   * synchronously on every change to the catalog shard, before anyone reads it.
   */
  holdsWhole(info: TableInfo): boolean {
    if (this.wholeAt !== this.catalog.version) {
      this.wholeAt = this.catalog.version
      this.whole = new WeakMap()
    }
    let held = this.whole.get(info)
    if (held === undefined) {
      held = this.placement.holdsWhole(this.nodeId, this.region, info, this.options.answerBeforeCatchUp !== true)
      this.whole.set(info, held)
    }
    return held
  }

  /** `holdsWhole`'s answers, for catalog version `wholeAt`. */
  private whole = new WeakMap<TableInfo, boolean>()
  private wholeAt = -1

  /** Whether this replica has caught up on a table it started holding (placement/catch-up.ts); true if it always held it. */
  caughtUp(info: TableInfo): boolean {
    return this.placement.caughtUp(this.nodeId, this.region, info)
  }

  /** Whether node `nodeId` of `region` has caught up on a table it holds (placement/catch-up.ts, join-catch-up.ts). */
  nodeCaughtUp(nodeId: string, region: string, info: TableInfo): boolean {
    return this.placement.caughtUp(nodeId, region, info)
  }

  /** Whether every row shard `id` can hold is placed within `regions` (placement/region-scope.ts: a region-scoped peer's shards). */
  shardWithinRegions(id: string, regions: ReadonlySet<string>): boolean {
    return this.placement.withinRegions(id, regions)
  }

  /** The placed shards of a table's current incarnation (`shard_location`). */
  placedShards(info: TableInfo): ReadonlyArray<{ id: string; partition: number; placement: ShardPlacement }> {
    return this.placement.placedShards(info)
  }

  /** The placement of a shard (`shard_location`); null when its table's regions hold it. */
  placementOf(id: string): ShardPlacement | null {
    return this.placement.placementOf(id)
  }

  /**
   * The rows of a table this node does not hold whole, read from the nearest holders that
   * answer (replication/federated-reads.ts): the shards held here are read here, every
   * other part (the shards of its regions, each placed shard) from a holder of it; as
   * fresh as those holders, every column of this replica's view of the table (null where
   * a holder has none). Throws when some part has no holder that answers
   * (`sqlclientUnableToEstablishSqlconnection`) or the rows exceed a holder's limit
   * (`programLimitExceeded`); never returns part of the table.
   */
  async readFromHolder(table: string, filter = '', only?: { homeRegions?: readonly string[] }): Promise<{ from: string; rows: Row[] }> {
    const info = this.table(table)
    if (info === undefined) throw new ConcordError('undefinedTable', `relation "${table}" does not exist`)
    if (this.holdsWhole(info)) return { from: this.nodeId, rows: [...this.scan(table)] }
    const parts: ReadPart[] = []
    // Not caught up yet: nothing held here is read here.
    const caughtUp = this.placement.caughtUp(this.nodeId, this.region, info)
    const homed = homeColumn(info) !== null
    const regionHeld = holdsTable(this.region, info) && caughtUp && !homed
    if (!regionHeld && !homed) parts.push({ shard: null, nodes: null, label: '' })
    for (const p of this.placement.placedShards(info)) {
      if (caughtUp && p.placement.nodes.includes(this.nodeId)) continue
      parts.push({ shard: p.id, nodes: p.placement.nodes, label: `partition ${p.partition} (placed on ${p.placement.location})` })
    }
    // A homed table: each home region's shard (only those asked for), here when held here.
    const localHomes: string[] = []
    for (const p of this.placement.homeParts(info)) {
      if (only?.homeRegions !== undefined && !only.homeRegions.includes(p.home)) continue
      if (caughtUp && this.holdsHere(p.shard)) localHomes.push(p.shard)
      else parts.push({ shard: p.shard, nodes: null, regions: p.regions, label: `rows homed in region ${p.home}` })
    }
    // What is held here is read here (taken before the wait: the answer is as of now).
    const local = caughtUp ? [...this.heldRows(info, { unplaced: regionHeld, shards: homed ? localHomes : null })] : []
    const got = parts.length === 0 ? { from: this.nodeId, columns: [], rows: [] } : await this.replicator.readRows(info, filter, parts)
    const at = new Map(got.columns.map((c, i) => [c, i]))
    const rows = got.rows.map((values) => {
      const row: Row = {}
      for (const c of info.columns) {
        const i = at.get(c.name)
        row[c.name] = i === undefined ? null : values[i]!
      }
      return row
    })
    return { from: got.from, rows: local.length === 0 ? rows : local.concat(rows) }
  }

  /**
   * The committed rows of a table's shards held here: those without a placement when
   * `unplaced`, every placed one held here, or only the placed `shards` listed when given.
   */
  private *heldRows(info: TableInfo, parts: { unplaced: boolean; shards: readonly string[] | null }): Iterable<Row> {
    for (const s of this.catalog.shardsOf(info.name)) {
      if (!this.holdsHere(s.id)) continue
      const placed = this.placement.placementOf(s.id) !== null || homeColumn(info) !== null
      if (placed ? parts.shards !== null && !parts.shards.includes(s.id) : !parts.unplaced) continue
      yield* s.rows.values()
    }
  }

  /**
   * Sets how this replica applies the filter of a federated read it answers (the layer
   * above knows what a filter means; see `readFromHolder`): a predicate over stored rows,
   * or null when it cannot apply the filter. Without one, every row is sent.
   */
  setRowFilter(compile: RowFilterCompiler | null): void {
    this.rowFilter = compile
  }

  /**
   * What a federated read's filter selects: every row and column when there is none or it
   * cannot be applied. A row the filter cannot judge (it throws) is kept: the reader
   * decides; an order that throws leaves the rows unlimited.
   */
  private rowSelectionFor(info: TableInfo, filter: string): Required<RowSelection> {
    const all: Required<RowSelection> = { keep: () => true, columns: null, limit: null, order: null }
    if (filter === '' || this.rowFilter === null) return all
    let got: ReturnType<RowFilterCompiler>
    try {
      got = this.rowFilter(info, filter)
    } catch {
      got = null
    }
    if (got === null) return all
    const selection = typeof got === 'function' ? { keep: got } : got
    const test = selection.keep
    const names = new Set(info.columns.map((c) => c.name))
    const columns = selection.columns?.every((c) => names.has(c)) ? selection.columns : null
    const limit = selection.limit !== undefined && selection.limit !== null && Number.isSafeInteger(selection.limit) && selection.limit >= 0 ? selection.limit : null
    const keep = (row: Row) => {
      try {
        return test(row)
      } catch {
        return true
      }
    }
    return { keep, columns, limit, order: limit === null ? null : (selection.order ?? null) }
  }

  /** The rows a holder sends for a federated read of `info` (see `rowSelectionFor`), as value arrays of `columns`. */
  private selectedRows(info: TableInfo, filter: string, parts: { unplaced: boolean; shards: readonly string[] }): { columns: string[]; rows: Value[][] } {
    const selection = this.rowSelectionFor(info, filter)
    const columns = [...(selection.columns ?? info.columns.map((c) => c.name))]
    let kept: Row[] = []
    for (const row of this.heldRows(info, parts)) {
      if (!selection.keep(row)) continue
      kept.push(row)
      // Without an order any `limit` rows do.
      if (selection.limit !== null && selection.order === null && kept.length >= selection.limit) break
    }
    if (selection.limit !== null && selection.order !== null && kept.length > selection.limit) {
      try {
        kept = kept.sort(selection.order).slice(0, selection.limit)
      } catch {
        // An order that cannot compare two rows limits nothing: the reader sorts and limits.
      }
    }
    return { columns, rows: kept.map((row) => columns.map((c) => row[c] ?? null)) }
  }

  /**
   * Sets how rows of partitioned tables are routed to partitions (shards), for layers that
   * wrap an already open replica. Every node must route the same way. Rows already stored
   * stay where they are.
   */
  setPartitionOf(fn: ReplicaOptions['partitionOf']): void {
    this.placement.partitionOf = fn
  }

  // ---- replication ---------------------------------------------------------------------

  /** What the replicator sees of this replica. */
  private replicationHost(): ReplicationHost<Shard> {
    const replica = this
    return {
      nodeId: this.nodeId,
      region: this.region,
      scheduler: this.scheduler,
      get isClosed() {
        return replica.closed
      },
      get lsn() {
        return replica.lsn
      },
      get linkPolicy() {
        return replica.linkPolicy
      },
      random: () => this.random(),
      now: () => this.wall(),
      shards: () => this.shards.values(),
      shard: (id) => this.shards.get(id),
      shardFor: (id) => this.placement.shardFor(id),
      holds: (nodeId, region, id) => this.placement.holds(nodeId, region, id),
      scopeOf: (id) => this.placement.scopeOf(id),
      reportedDigest: (shard) => this.reportedDigest(shard),
      whenDurable: (fn, options) => this.whenDurable(fn, options),
      applyRemote: (shard, update) => this.applyRemote(shard, update),
      applyRemoteAt: (shard, generation, update) => {
        if (generation === shard.generation) return this.applyRemote(shard, update) ? 'applied' : 'rejected'
        // Newer: anti-entropy brings that generation over. Older: its writer re-applies it
        // on moving to this one (overlays hold only what was there at the switch).
        return generation > shard.generation ? 'ahead' : 'stale'
      },
      adoptGeneration: (shard, generation, state) => this.housekeeper.adoptGeneration(shard, generation, state),
      noteEqualState: (shardId, peer) => this.housekeeper.noteEqualState(shardId, peer),
      vouchesFor: (shardId, generation, holders) => this.housekeeper.vouchesFor(shardId, generation, holders),
      noteReports: (shardId, generation, groups) => this.housekeeper.noteReports(shardId, generation, groups),
      heldSets: (peer, shardIds) => this.housekeeper.heldSets(peer, shardIds),
      noteHeld: (from, sets) => this.housekeeper.noteHeld(from, sets),
      releaseCopy: (shard) => this.releaseCopy(shard),
      heldEverythingOf: (peer) => this.heldEverythingOf(peer),
      readRows: (table, incarnation, filter, parts) => {
        const info = this.catalog.table(table)
        if (info === undefined || info.incarnation !== incarnation) return null
        // Still catching up on the table: what is here may be short.
        if (!this.placement.caughtUp(this.nodeId, this.region, info)) return null
        if (parts.unplaced && !holdsTable(this.region, info)) return null
        for (const id of parts.shards) if (!this.placement.servesById(this.nodeId, this.region, id)) return null
        return this.selectedRows(info, filter, parts)
      },
      batch: (fn) => this.pipeline.run(fn),
      applyCatalogTogether: (fn) => this.catalogShard.applyRemoteTogether(fn),
      onNotice: (origin, topic, body) => {
        for (const l of this.noticeListeners) l(origin, topic, body)
      },
      liveMembers: () => this.housekeeper.liveMembers(),
    }
  }

  /**
   * An anti-entropy exchange with `peer` brought every shard it listed: each table this
   * replica is catching up on (placement/catch-up.ts, join-catch-up.ts) is caught up once
   * such exchanges with caught-up peers have covered every part of it held here
   * (Placement.caughtUpThrough; a former holder that has handed its copies over covers
   * nothing). Recorded in the catalog, out of the message's handling.
   */
  private heldEverythingOf(peer: string): void {
    const region = this.replicator.peerRegion(peer)
    if (region === undefined || this.closed) return
    const done = this.placement.caughtUpThrough({ nodeId: this.nodeId, region: this.region }, { nodeId: peer, region })
    if (done.records.length === 0 && done.joinMarks.length === 0) return
    this.scheduler.setTimeout(0, () => {
      if (this.closed || this.log.failing) return
      try {
        this.transact((tx) => {
          for (const { kind, name, value } of done.records) tx.setCatalog(kind, name, value)
          this.writeJoinMarks(tx, done.joinMarks)
        })
      } catch {
        // Storage refused the write: a later exchange marks it again.
      }
    })
  }

  /** Adds join marks (table names) to this node's `joined` record, read as it is now: none when it has none. */
  private writeJoinMarks(tx: Transaction, tables: readonly string[]): void {
    if (tables.length === 0) return
    const record = this.placement.joinCatchUp.joinedWithMarks(this.nodeId, tables)
    if (record !== null) tx.setCatalog(JOINED_KIND, record.name, record.value)
  }

  /**
   * After a catalog change: marks this node caught up on tables it joined holding but no
   * other node is a source of (placement/join-catch-up.ts), so later joiners catch up
   * from it. Once per batch of changes, out of the change's handling.
   */
  private scheduleJoinMarks(): void {
    if (this.joinMarksScheduled || this.loading || this.closed) return
    this.joinMarksScheduled = true
    this.scheduler.setTimeout(0, () => {
      this.joinMarksScheduled = false
      if (this.closed) return
      if (this.log.failing) return
      const due = this.placement.joinMarksDue({ nodeId: this.nodeId, region: this.region })
      if (due.length === 0) return
      try {
        this.transact((tx) => this.writeJoinMarks(tx, due))
      } catch {
        // Storage refused the write: the next catalog change tries again.
      }
    })
  }

  /**
   * Drops this replica's copy of a shard it does not hold (placed elsewhere since it was
   * written here), once a holder has shown it has every update of the copy: out of
   * memory, and removed from storage. Nothing is lost: the holder has it all.
   */
  private releaseCopy(shard: Shard): void {
    if (this.holdsHere(shard.id) || this.shards.get(shard.id) !== shard || this.closed) return
    this.catalog.detach(shard)
    this.shards.delete(shard.id)
    this.log.remove(shard.id)
  }

  /** Applies a remote Yjs update to a shard (persisted, and reported, before this returns); false when it was rejected. */
  applyRemote(shard: Shard, update: Uint8Array): boolean {
    return this.pipeline.run(() => {
      try {
        const oversized = oversizedValue(update, this.options.maxRemoteValueBytes ?? DEFAULT_MAX_REMOTE_VALUE_BYTES)
        if (oversized > 0) {
          // Refused as a whole, as a malformed update is: applying it is what stalled links.
          this.malformed++
          this.options.onOversizedUpdate?.(shard.id, oversized)
          return false
        }
        if (shard.applyRemote(update, REMOTE_ORIGIN)) this.pipeline.onUpdate(shard, update, REMOTE_ORIGIN)
        return true
      } catch {
        this.malformed++
        return false
      }
    })
  }

  /**
   * The digest this replica reports for a shard in anti-entropy. A peer whose digest
   * matches records that this replica holds its state, which can make a delete stable
   * (see Housekeeper.stableDeletes); so while some of the shard's changes are not yet
   * durable here (a crash would lose them), the digest reported is deliberately not the
   * state's, and the exchange goes on as for any difference.
   */
  reportedDigest(shard: Shard): number {
    const d = shard.digest()
    return this.log.holdsUndurable(shard.id) ? (d ^ 1) >>> 0 : d
  }

  /** Per-shard digests of the shards this replica holds, as anti-entropy compares them. */
  digests(): Map<string, number> {
    const out = new Map<string, number>()
    for (const [id, s] of this.shards) if (this.holdsHere(id)) out.set(id, s.digest())
    return out
  }

  /**
   * Like `digests`, but covering older generations still held as overlays too: equal
   * between replicas only when they show the same rows for the same reasons (the
   * simulator's convergence check).
   */
  stateDigests(): Map<string, number> {
    const out = new Map<string, number>()
    for (const [id, s] of this.shards) if (this.holdsHere(id)) out.set(id, s.fullDigest())
    return out
  }

  // ---- durability ----------------------------------------------------------------------

  /** Moves on every change to the catalog, local or replicated (catalog-view.ts). */
  get catalogVersion(): number {
    return this.catalog.version
  }

  /** This replica's change sequence: bytes of local updates committed so far (see LocalSequence). */
  get lsn(): number {
    return this.pipeline.sequence.value
  }

  /** True when nothing written so far still waits for storage. */
  isDurable(): boolean {
    return this.log.isDurable()
  }

  /**
   * Resolves once every change made so far is durable (not waiting for later ones);
   * rejects, with `diskFull` or `ioError`, if storage failed on one of them.
   */
  durable(): Promise<void> {
    this.pipeline.flush()
    return this.log.durable()
  }

  /**
   * Runs `fn` once every change made so far to `shards` (every shard, if not given) is
   * durable; at once if it is. Whatever tells others about this replica's state goes
   * through here: a crash must never take back what a peer or a client was told.
   * `send`: a message to a peer, which may be dropped if too many wait (anti-entropy
   * sends again).
   */
  whenDurable(fn: () => void, options: { shards?: Iterable<string>; send?: boolean } = {}): void {
    // Read now: the wait may start after a hand-off (ReplicaOptions.handOffRemote).
    if (options.shards !== undefined && !Array.isArray(options.shards)) options = { ...options, shards: [...options.shards] }
    this.pipeline.whenHandedOff(() => this.log.whenDurable(fn, options))
  }

  /**
   * Hands what was applied so far to storage now, rather than when `handOffRemote` runs:
   * a write that must reach storage with a row's records or after them (the change
   * journal's entry of a row a peer sent) calls it first.
   */
  handOff(): void {
    this.pipeline.flush()
  }

  /** Sends dropped because too many waited for durability (see StorageQueue). */
  get sendsDropped(): number {
    return this.log.sendsDropped
  }

  // ---- membership and generations (Housekeeper) ---------------------------------------------

  /** Members as the catalog records them, oldest first. */
  members(): Member[] {
    return this.housekeeper.members()
  }

  /** The member that builds new generations of a shard (see Housekeeper.builderOf). */
  builderOf(id: string, members?: Member[]): string | null {
    return this.housekeeper.builderOf(id, members)
  }

  /** One round of generation housekeeping (the housekeeper also runs one on its timer). */
  compactionRound(): void {
    this.housekeeper.compactionRound()
  }

  /** Rewrites a shard as a new generation of its live entries and tells the peers holding it. */
  compactShard(shard: Shard, stableDeleted?: ReadonlySet<string>): void {
    this.housekeeper.compactShard(shard, stableDeleted)
  }

  /** Deleted rows of a shard whose delete is stable (see Housekeeper.stableDeletes). */
  stableDeletes(shard: Shard): Set<string> {
    return this.housekeeper.stableDeletes(shard)
  }

  /** The replicator saw `peer` report a shard digest equal to ours: it held all we held. */
  noteEqualState(shardId: string, peer: string): void {
    this.housekeeper.noteEqualState(shardId, peer)
  }

  /** When `peer` last reported holding exactly this replica's state of a shard (see Housekeeper.peerMatchedAt). */
  peerMatchedAt(shardId: string, peer: string): number | null {
    return this.housekeeper.peerMatchedAt(shardId, peer)
  }

  /** Generations this replica switched to (built or received). */
  get generationsAdopted(): number {
    return this.housekeeper.generationsAdopted
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
    return resolveEntriesFresh(shardId, view, entries, (name) => this.resolvers.get(name))
  }

  // ---- reads ------------------------------------------------------------------------

  tables(): readonly TableInfo[] {
    return this.catalog.tables()
  }

  table(name: string): TableInfo | undefined {
    return this.catalog.table(name)
  }

  get(table: string, key: Value[]): Row | undefined {
    return this.getHeld(table, encodeRowKey(key))
  }

  getHeld(table: string, rowKey: string): Row | undefined {
    for (const s of this.catalog.shardsOf(table)) {
      const r = s.rows.get(rowKey)
      if (r !== undefined) return r
    }
    return undefined
  }

  *scan(table: string): IterableIterator<Row> {
    for (const s of this.catalog.shardsOf(table)) yield* s.rows.values()
  }

  /** `scan` with each row's key (`encodeRowKey` of its primary key): the strings the rows are held under. */
  *scanKeyed(table: string): IterableIterator<[string, Row]> {
    for (const s of this.catalog.shardsOf(table)) yield* s.rows
  }

  rowCount(table: string): number {
    let n = 0
    for (const s of this.catalog.shardsOf(table)) n += s.rows.size
    return n
  }

  getCatalog(kind: string, name: string): Json | undefined {
    return this.catalog.getCatalog(kind, name)
  }

  listCatalog(kind: string): Array<[string, Json]> {
    return new LocalTransaction(this.txHost).listCatalog(kind)
  }

  /**
   * Every node's value of each catalog object of `kind` that the catalog's document still
   * holds, dead objects included: what a peer reading the catalog is sent, beyond what
   * `listCatalog` resolves (see `Transaction.replaceCatalog`). Values that do not parse are left out.
   */
  catalogEntryValues(kind: string): Array<[string, Json[]]> {
    const out: Array<[string, Json[]]> = []
    for (const [rowKey, values] of this.catalogShard.entryValues('value')) {
      let key: Value[]
      try {
        key = decodeRowKey(rowKey, 2)
      } catch {
        continue
      }
      if (key[0] !== kind || typeof key[1] !== 'string') continue
      const parsed: Json[] = []
      for (const v of values) {
        if (typeof v !== 'string') continue
        try {
          parsed.push(JSON.parse(v) as Json)
        } catch {
          // a malformed value from a broken peer is skipped
        }
      }
      out.push([key[1], parsed])
    }
    return out
  }

  /** A secret (`Transaction.setSecret`) as this replica holds it; undefined when absent (a scoped browser never has any). */
  getSecret(kind: string, name: string): string | undefined {
    const v = this.secretsShard.rows.get(encodeRowKey([kind, name]))?.value
    return typeof v === 'string' ? v : undefined
  }

  /**
   * Timestamp of the newest write `writer` made to a row, as this replica holds it (null
   * if none): lets tests check that no write is lost, whatever the merge policy showed.
   */
  entryTimestamp(table: string, key: Value[], writer: string): number | null {
    const rowKey = encodeRowKey(key)
    let best: number | null = null
    for (const s of this.catalog.shardsOf(table)) {
      const t = s.entryTimestamp(rowKey, writer)
      if (t !== null && (best === null || t > best)) best = t
    }
    return best
  }

  /** Nodes with a write in the current life of a row (its causal length), sorted. */
  rowWriters(table: string, key: Value[]): string[] {
    const rowKey = encodeRowKey(key)
    const out = new Set<string>()
    for (const s of this.catalog.shardsOf(table)) for (const w of s.liveWriters(rowKey)) out.add(w)
    return [...out].sort()
  }

  // ---- writes -----------------------------------------------------------------------

  private readonly txHost: TransactionHost = {
    baseRow: (table, rowKey) => {
      if (table === CATALOG_TABLE.name) return this.catalogShard.rows.get(rowKey) ?? null
      if (table === SECRETS_TABLE.name) return this.secretsShard.rows.get(rowKey) ?? null
      return this.baseRow(table, rowKey)
    },
    baseRows: (table) => this.baseRows(table),
    baseRowValues: (table) => {
      if (table === CATALOG_TABLE.name) return this.catalogShard.rows.values()
      if (table === SECRETS_TABLE.name) return this.secretsShard.rows.values()
      const shards = this.catalog.shardsOf(table)
      return shards.length === 1 ? shards[0]!.rows.values() : [...this.baseRows(table)].map(([, row]) => row)
    },
    baseTable: (name) => this.catalog.table(name),
    baseTables: () => this.tables(),
    rowCl: (table, rowKey) => {
      for (const s of this.catalog.shardsOf(table)) {
        const cl = s.rowCl(rowKey)
        if (cl > 0) return cl
      }
      return 0
    },
    catalogRowCl: (rowKey) => this.catalogShard.rowCl(rowKey),
    now: () => this.clock.now(),
    nextId: () => this.ids.next(),
    region: () => this.region,
    holdsWhole: (info) => this.holdsWhole(info),
    caughtUp: (info) => this.caughtUp(info),
    placedElsewhere: (info, rowKey, key) => this.placement.placedElsewhere(this.nodeId, info, rowKey, key),
    joinedHolders: (regions) => this.placement.joinCatchUp.joinedHolders(regions),
    guardCatalogWrite: (kind, name) => this.catalogWriteGuard?.(kind, name),
    guardTableWrite: (table) => this.tableWriteGuard?.(table),
  }

  /**
   * Called before every catalog write of a local transaction (`setCatalog`); throwing
   * aborts the transaction. The node server refuses here what this node may not write (a
   * member without the admin right: node-server member-rights.ts). Null: every write.
   */
  catalogWriteGuard: ((kind: string, name: string) => void) | null = null

  /**
   * Called before every row write of a local transaction (insert, upsert, update,
   * increment, delete) with the table's name; throwing aborts the transaction. A browser
   * replica holding a scoped token refuses here the tables its token does not let it
   * write (sql-facade auth/write-scope.ts). Null: every table.
   */
  tableWriteGuard: ((table: string) => void) | null = null

  private baseRow(table: string, rowKey: string): Row | null {
    for (const s of this.catalog.shardsOf(table)) {
      const r = s.rows.get(rowKey)
      if (r !== undefined) return r
    }
    return null
  }

  private *baseRows(table: string): Iterable<[string, Row]> {
    if (table === CATALOG_TABLE.name) {
      yield* this.catalogShard.rows
      return
    }
    if (table === SECRETS_TABLE.name) {
      yield* this.secretsShard.rows
      return
    }
    for (const s of this.catalog.shardsOf(table)) yield* s.rows
  }

  /**
   * Runs `fn` as one locally atomic transaction and returns its result. If `fn` throws,
   * nothing is applied. The writes are visible when this returns; `durable()` tells
   * when they are on disk.
   */
  transact<T>(fn: (tx: Transaction) => T, options?: CommitOptions): T {
    if (this.closed) throw new ConcordError('objectNotInPrerequisiteState', 'replica is closed')
    const tx = new LocalTransaction(this.txHost)
    const result = fn(tx)
    this.commit(tx, options)
    return result
  }

  /**
   * Opens a transaction that stays open across calls until `commit` (SQL BEGIN .. COMMIT).
   * Dropping it without committing applies nothing.
   */
  begin(carried?: CarriedRows): OpenTransaction {
    if (this.closed) throw new ConcordError('objectNotInPrerequisiteState', 'replica is closed')
    const tx = new LocalTransaction(this.txHost, true)
    // Another replica's transaction's row writes, reopened here (OpenTransaction.carryRows).
    if (carried !== undefined) tx.carryIn(carried)
    let done = false
    return Object.assign(tx, {
      commit: (options?: CommitOptions) => {
        if (done) throw new ConcordError('objectNotInPrerequisiteState', 'transaction already committed')
        if (this.closed) throw new ConcordError('objectNotInPrerequisiteState', 'replica is closed')
        done = true
        this.commit(tx, options)
      },
    })
  }

  /** Applies a transaction's writes in one step (rows/commit-writes.ts), then settles. */
  private commit(tx: LocalTransaction, options?: CommitOptions): void {
    if (tx.pending.size === 0) return
    // Storage refuses writes (disk full): nothing of this transaction is applied.
    if (this.log.failing) throw this.log.failureError(true)
    // A row routed to a placed shard held elsewhere would replicate nowhere: refused before anything applies.
    for (const [table, rows] of tx.pending) {
      const info = table === CATALOG_TABLE.name || table === SECRETS_TABLE.name ? undefined : this.catalog.table(table)
      if (info !== undefined) this.placement.checkWrites(this.nodeId, this.region, info, rows)
    }
    if (options?.sliceAbove !== undefined && this.commitSliced(tx, options.sliceAbove, options.onSliced)) return
    this.pipeline.run(() => commitWrites(tx.pending, this.clock.now(), this.commitTarget()))
  }

  private commitTarget(): CommitTarget {
    return {
      nodeId: this.nodeId,
      catalogShard: this.catalogShard,
      secretsShard: this.secretsShard,
      table: (name) => this.catalog.table(name),
      shardList: (table) => this.catalog.shardList(table),
      locate: (info, rowKey, w) => this.placement.locate(info, rowKey, w),
    }
  }

  /** The sliced commit applying now (`commitSliced`), if any. */
  private slicing: Promise<void> | null = null

  /** True while a sliced commit is applying: its shards show none of it yet, and are held (see `commitSliced`). */
  get isCommitting(): boolean {
    return this.slicing !== null
  }

  /** Resolves once no sliced commit is applying; at once when none is. Never rejects. */
  async settled(): Promise<void> {
    // Bounded: each wait ends one commit, and none starts while one applies.
    while (this.slicing !== null) await this.slicing.catch(() => {})
  }

  /**
   * Applies a commit of at least `sliceAbove` row writes (and no catalog or secrets write)
   * in slices of ROWS_PER_SLICE, a turn of the scheduler between them, so other clients
   * are served meanwhile (docs/decisions/0038-sliced-commits.md). Its shards are held
   * until the last slice: their materialized rows keep showing the state before it
   * (`Shard.hold`), their updates are kept back from storage and peers
   * (`ChangePipeline.hold`) and reach storage in one append when released, and whatever
   * waits for their durability waits for that (`ShardLog.hold`); anti-entropy, generations,
   * hibernation and backups leave them alone meanwhile. A crash before the release leaves
   * none of the commit anywhere. False (nothing done) when the commit does not qualify,
   * or another sliced commit is applying (this one then applies at once, into the held
   * shards: shown and stored with the other).
   */
  private commitSliced(tx: LocalTransaction, sliceAbove: number, onSliced: ((done: Promise<void>) => void) | undefined): boolean {
    const pending = tx.pending
    if (this.slicing !== null || pending.has(CATALOG_TABLE.name) || pending.has(SECRETS_TABLE.name)) return false
    let count = 0
    for (const rows of pending.values()) count += rows.size
    if (count < sliceAbove) return false
    const plan = planRowWrites(pending, this.commitTarget()).map(([shard, rows]) => [shard, [...rows]] as const)
    const hlc = this.clock.now()
    for (const [shard] of plan) {
      shard.hold()
      this.pipeline.hold(shard)
      this.log.hold(shard.id)
    }
    let next = 0
    let at = 0
    const slice = (): boolean => {
      let budget = ROWS_PER_SLICE
      this.pipeline.run(() => {
        while (budget > 0 && next < plan.length) {
          const [shard, rows] = plan[next]!
          const end = Math.min(rows.length, at + budget)
          const part = rows.slice(at, end)
          shard.transactLocal(() => applyRowWrites(shard, part, this.nodeId, hlc))
          budget -= end - at
          at = end
          if (at >= rows.length) {
            next++
            at = 0
          }
        }
      })
      return next >= plan.length
    }
    const release = (): void => {
      this.slicing = null
      this.pipeline.run(() => {
        for (const [shard] of plan) {
          this.pipeline.release(shard)
          this.onShardRows(shard, shard.release(), LOCAL_ORIGIN)
        }
      })
      for (const [shard] of plan) this.log.release(shard.id)
    }
    let resolve!: () => void
    let reject!: (err: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    // Never an unhandled rejection: `onSliced`'s receiver sees the failure.
    promise.catch(() => {})
    this.slicing = promise
    const step = (): void => {
      try {
        if (!slice()) {
          this.scheduler.setTimeout(0, step)
          return
        }
      } catch (err) {
        // What was applied stays (as a failed one-step commit's would): shown and stored.
        release()
        reject(err)
        return
      }
      release()
      resolve()
    }
    step()
    onSliced?.(promise)
    return true
  }

  nextId(): bigint {
    return this.ids.next()
  }

  /** Wall-clock milliseconds from the injected clock. */
  now(): number {
    return this.wall()
  }

  /**
   * How far connected peers have confirmed this replica's shards (see
   * replication/peer-confirmations.ts): what an application shows as online (every shard
   * confirmed) or syncing. `onSyncState` calls `fn` whenever a peer's report or the set of
   * peers changes; a local change shows in the next `syncState()` (listen to 'change').
   */
  syncState(): SyncState {
    return this.replicator.confirmations.state(this.digests(), (id) => this.holdsHere(id))
  }

  onSyncState(fn: () => void): () => void {
    return this.replicator.confirmations.onChange(fn)
  }

  /**
   * Application metadata kept beside the replica's own (keys with a '/', such as
   * 'browser/pending-changes'; core's own keys have none). Written through the replica's
   * ordered storage queue, after every write issued before it and parked and retried with
   * them if storage fails; resolves once durable, rejects as `durable()` does.
   */
  async setMeta(key: string, value: Uint8Array): Promise<void> {
    checkAppMetaKey(key)
    if (this.closed) throw new ConcordError('objectNotInPrerequisiteState', 'replica is closed')
    this.log.setMeta(key, value.slice())
    await this.durable()
  }

  /** Application metadata as storage holds it (see `setMeta`). */
  async getMeta(key: string): Promise<Uint8Array | undefined> {
    checkAppMetaKey(key)
    return await this.storage.getMeta(key)
  }

  // ---- events and resolvers ------------------------------------------------------------

  private readonly noticeListeners = new Set<(origin: string, topic: string, body: Uint8Array) => void>()

  /**
   * Sends an ephemeral notice (SQL NOTIFY) to every other node, once everything written
   * so far here is durable and gossiped: a receiver that acts on it usually has the
   * writes it announces (gossip keeps one sender's order; not guaranteed). Never stored
   * or repaired: a node not reached now never gets it. Limits in replication/messages.ts.
   */
  publishNotice(topic: string, body: Uint8Array): void {
    if (new TextEncoder().encode(topic).length > MAX_NOTICE_TOPIC_BYTES || body.length > MAX_NOTICE_BODY_BYTES) throw new RangeError('notice too large')
    if (this.closed) return
    this.whenDurable(() => this.replicator.notice(topic, body))
  }

  /**
   * Calls peer `peer` on `topic` (replication/peer-calls.ts): resolves with the answer of
   * the handler it registered, rejects when it is unreachable, silent past `timeoutMs`
   * (default 10 s of the injected clock), or has no handler.
   */
  call(peer: string, topic: string, body: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    return this.replicator.call(peer, topic, body, timeoutMs)
  }

  /** Answers peers' calls on `topic`; returns the function that stops answering. */
  handleCalls(topic: string, handler: (from: string, body: Uint8Array) => Promise<Uint8Array>): () => void {
    return this.replicator.handleCalls(topic, handler)
  }

  /** Connected peers of the regions holding a table, nearest first. */
  holdersOf(info: TableInfo): string[] {
    return this.replicator.holdersOf(info)
  }

  /** Listens to other nodes' notices; returns the function that stops listening. */
  onNotice(fn: (origin: string, topic: string, body: Uint8Array) => void): () => void {
    this.noticeListeners.add(fn)
    return () => this.noticeListeners.delete(fn)
  }

  on<K extends keyof ReplicaEvents>(event: K, fn: ReplicaEvents[K]): () => void {
    return this.pipeline.on(event, fn)
  }

  registerResolver(name: string, fn: Resolver): void {
    this.resolvers.set(name, fn)
    this.pipeline.run(() => this.catalog.rebuildUsing(name))
  }

  unregisterResolver(name: string): void {
    this.resolvers.delete(name)
  }

  // ---- life ---------------------------------------------------------------------------

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
    // A sliced commit applying ends first: closed halfway, it would be lost (never half kept).
    await this.settled()
    this.closed = true
    this.housekeeper.stop()
    await this.replicator.stop()
    this.pipeline.flush()
    // A checkpoint with nothing written after it is the snapshot a close would store.
    if (this.options.rowSnapshots !== false && !this.log.holdsRowSnapshot) await this.storeRowSnapshot()
    await this.log.close()
    for (const s of this.shards.values()) s.destroy()
  }

  /**
   * Stores the row snapshot once every write issued is durable (a write that completes
   * can issue a log compaction: waited for too). Not when storage fails: the next open
   * then loads every shard from its records. `rowsPerTurn`: the rows, taken in one step
   * with the log's positions, are encoded that many per turn of the scheduler; false once
   * the replica closed meanwhile (its close stored a newer one).
   */
  private async storeRowSnapshot(rowsPerTurn = ALL_ROWS): Promise<boolean> {
    // `durable`, not the log's: records a peer's rows left for a later hand-off go first.
    for (let i = 0; i < 4 && !this.log.failing && !this.log.isDurable(); i++) await this.durable().catch(() => {})
    if (this.log.failing || !this.log.isDurable()) return false
    const capture = this.captureRows()
    const writes = this.log.writes
    const steps = encodeRowSnapshotSteps(capture, rowsPerTurn)
    let step = steps.next()
    for (; step.done !== true; step = steps.next()) {
      if (rowsPerTurn === ALL_ROWS) continue
      await new Promise<void>((resolve) => this.scheduler.setTimeout(0, resolve))
      if (this.closed) return false
    }
    const written = capture.shards.map((c) => c.head)
    const cleared = this.rowSnapshotParts.issued(written, capture.kept)
    const values: Array<[string, Uint8Array]> = step.value.parts.map((p) => [rowSnapshotPartKey(p.shard), p.bytes])
    for (const key of cleared) values.push([key, new Uint8Array(0)])
    values.push([ROW_SNAPSHOT_META_KEY, step.value.manifest])
    this.log.storeRowSnapshot(values, writes)
    return true
  }

  /**
   * Stores the row snapshot now, as a clean close does (a checkpoint): the next open, after
   * a crash too, starts from these rows and applies on top only the records written after
   * it (docs/decisions/0033-row-checkpoints.md). Resolves true once it is durable and no
   * write came after the rows were taken; false when `rowSnapshots` is off, writes stay in
   * flight, or storage fails. Encoded `checkpointRowsPerTurn` rows per turn when set.
   */
  async checkpointRows(): Promise<boolean> {
    if (this.closed || this.options.rowSnapshots === false) return false
    const perTurn = this.options.checkpointRowsPerTurn ?? 0
    if (!(await this.storeRowSnapshot(perTurn > 0 ? perTurn : ALL_ROWS))) return false
    await this.log.durable().catch(() => {})
    return this.log.holdsRowSnapshot && this.log.isDurable()
  }

  /** True while storage holds a row snapshot of the replica as it is (`checkpointRows`, a clean close, or found so at open) and nothing was written since. */
  get rowsCheckpointed(): boolean {
    return this.log.holdsRowSnapshot
  }

  /**
   * The rows and books of every table shard that qualifies (rows/row-snapshot.ts) and the
   * log's positions, taken in one step: the next open's row snapshot, rows not yet
   * encoded. A shard whose stored part still describes it keeps that part (`kept`).
   */
  private captureRows(): RowSnapshotCapture {
    const shards: ShardRowCapture[] = []
    const kept: RowSnapshotPartRef[] = []
    const hlc = this.clock.peek()
    const id = this.rowSnapshotParts.nextId(hlc)
    for (const s of this.shards.values()) {
      const position = this.log.position(s.id)
      if (s === this.catalogShard || s === this.secretsShard || position === undefined || s.table === null || !s.qualifiesForRowSnapshot()) continue
      const fingerprint = viewFingerprint(s.table)
      const part = this.rowSnapshotParts.kept(s.id, s.generation, position, fingerprint)
      if (part !== undefined) {
        kept.push(part)
        continue
      }
      const capture = s.rowCapture(position, id, fingerprint)
      if (capture !== null) shards.push(capture)
    }
    return { hlc, replayedMs: this.lastReplayedCommitMs, shards, kept }
  }
}

/** Application metadata keys contain a '/'; core's own (`lsn` ..) do not. */
function checkAppMetaKey(key: string): void {
  if (!key.includes('/')) throw new ConcordError('invalidParameterValue', `metadata key "${key}" is reserved: application keys contain '/'`)
}
