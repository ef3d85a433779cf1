/**
 * A SQL database over one core replica: opens (or wraps) the replica, keeps the
 * node-local state shared by all sessions (secondary indexes, node settings, SQL function
 * resolvers), and offers `query` on a default session. Wire servers open one `Session`
 * per client connection with `db.session()`.
 */
import { BackupService } from './backup/backup-service.js'
import { BackupScheduler } from './backup/backup-scheduler.js'
import { readDisasterRecoveryConfig } from './backup/disaster-recovery-config.js'
import { Replica, type CatalogChange, type ReplicaOptions, type TableInfo, type Transaction, type Value } from '@concord/core'
import { sharedColumnMeta } from './catalog/table-meta.js'
import { IdSlots, SLOT_KIND, type SlotHost } from './sequences/id-slots.js'
import { slotRange } from './sequences/serial-range.js'
import { SerialSequences } from './sequences/serial-sequences.js'
import { UserSequences } from './sequences/user-sequences.js'
import { SecondaryIndexes } from './catalog/secondary-index.js'
import { CommittedSearchPaths, type SearchPath } from './catalog/search-path.js'
import { SqlError, SqlState } from './errors/sql-error.js'
import type { ExecCtx, UserFunction } from './runtime/context.js'
import type { CatalogModel } from './catalog/catalog-model.js'
import { RemoteRows } from './placement/remote-rows.js'
import { answerForwardedWrites, FORWARD_TOPIC } from './placement/write-forwarding.js'
import { FORWARD_RETURNING_MAX_CHARS } from './placement/forwarded-reply.js'
import { forwardedResult } from './forwarded-result.js'
import { answerShardSizes, SHARD_SIZES_TOPIC, type ShardSize } from './placement/shard-sizes.js'
import { RebalanceRunner } from './placement/rebalance-job.js'
import { compileRowFilter } from './exec/row-filter.js'
import { TransactionRows } from './runtime/transaction-rows.js'
import { ForeignKeyChecks } from './runtime/foreign-key-checks.js'
import { unify } from './expr/compile.js'
import { callUserFunction, callUserSetFunction } from './exec/user-function.js'
import { functionFromCatalog } from './catalog/function-def.js'
import { loadParser } from './parser/parse.js'
import { parserReady, parserReadyNow } from './parser/parser-instance.js'
import { PartitionRouter } from './placement/partition-view.js'
import type { Int8Output, QueryResult } from './result-format.js'
import { NotificationHub } from './notify/notification-hub.js'
import { RowLocks } from './runtime/row-locks.js'
import { Session, type SessionHost, type SessionOptions } from './session/session.js'
import { CLUSTER_SETTING_KIND, NODE_SETTING_KIND, Settings } from './settings/settings.js'
import { SystemCatalog } from './system/system-views.js'
import { castValue } from './types/cast.js'
import { decodeUntyped, encodeValue } from './types/storage-codec.js'
import { DirectionFilter } from './replication/direction-filter.js'
import { parseConnInfo, parseMasterNodes, type PublisherConnector } from './cluster/publisher-connector.js'
import { subscriptions } from './replication/replication-catalog.js'
import { ConflictLog } from './conflicts/conflict-log.js'
import { UniqueWatch } from './conflicts/unique-watch.js'
import { ForeignKeyWatch } from './conflicts/foreign-key-watch.js'
import { UNLIMITED_BUDGET } from './runtime/statement-budget.js'
import { RoleDirectory } from './catalog/role-directory.js'
import { BOOTSTRAP, ROLE_KINDS } from './catalog/role-record.js'
import { FailoverMonitor } from './failover/failover-monitor.js'
import { ChangeFeed, type ChangeJournalStore } from './live/change-feed.js'
import type { MembershipHost } from './cluster/peer-members.js'
import { DEFAULT_MAX_ROW_BYTES } from './runtime/row-size.js'
import { LiveQueries, type Unsubscribe } from './live/live-queries.js'
import type { LiveQueryOptions, LiveRowsListener } from './live/live-query.js'

export interface DatabaseOptions extends Partial<ReplicaOptions> {
  nodeId: string
  region?: string
  /** See AttachOptions.changeJournal. */
  changeJournal?: ChangeJournalStore
  /** How int8 values appear in `rows`: decimal strings (default, as node-postgres) or JS bigints. */
  int8?: Int8Output
  /**
   * How long a statement waits for this node's new SERIAL id range to be confirmed by the
   * other members before failing with 55000 (default 10 s; 0 with `attach`).
   */
  serialWaitMs?: number
}

/** Options of `Database.attach` (a replica opened elsewhere). */
export interface AttachOptions {
  int8?: Int8Output
  serialWaitMs?: number
  /**
   * Where table change feeds are kept across restarts (live/change-feed.ts; the node
   * server's LMDB storage). Without it the feed is in memory: a restart starts a new epoch.
   */
  changeJournal?: ChangeJournalStore
}

/** See `Database.sliceCommitRows`: about 0.1 s of commit (docs/benchmarks.md, "Sliced commits"). */
export const DEFAULT_SLICE_COMMIT_ROWS = 10_000

/** See `Database.pauseRunsAfterMs`: a DO block's loop holds the event loop about this long at most between pauses. */
export const DEFAULT_PAUSE_RUNS_MS = 20

/** Between checks while a statement waits for an id range. */
const SERIAL_POLL_MS = 100

export class Database implements SessionHost {
  readonly indexes: SecondaryIndexes
  readonly partitions: PartitionRouter
  /** Conflicts between masters this node resolved (view concord_conflicts). */
  readonly conflicts = new ConflictLog()
  /** BACKUP / RESTORE DATABASE and the concord_backups history (backup/). */
  readonly backups: BackupService
  /** Scheduled backups of this node (backup_schedule, backup_target, disaster_recovery_config). */
  private readonly backupScheduler: BackupScheduler
  /** pg_catalog, information_schema and Concord's views over this database. */
  readonly system: SystemCatalog
  private p2pSource: () => string[] = () => []
  /** See `setServerParameter`. */
  readonly serverParameters = new Map<string, string>()
  private readonly uniqueWatch: UniqueWatch
  private readonly functionCache = new Map<string, UserFunction | null>()
  private readonly defaultSession: Session
  private readonly unsubscribe: Array<() => void> = []
  private closed = false
  /**
   * How much text the rows a write forwarded here returns (RETURNING) may take, in
   * characters of the reply (placement/forwarded-reply.ts); past it the write fails with
   * 54000 before it commits. Tests lower it.
   */
  forwardReturningMaxChars = FORWARD_RETURNING_MAX_CHARS
  /** Reaches other nodes by PostgreSQL address (node server); null in memory and in the simulator. */
  connector: PublisherConnector | null = null
  /** Applies subscriptions' direction to the transport; null when opened without one or attached. */
  directionFilter: DirectionFilter | null = null
  /** How int8 values appear in query results (see DatabaseOptions.int8). */
  readonly int8: Int8Output
  /** See DatabaseOptions.serialWaitMs. */
  readonly serialWaitMs: number
  /**
   * Most bytes of values one row written on this node may hold; a larger write fails with
   * 54000 (runtime/row-size.ts). The node server's `--max-row-size` sets it.
   */
  maxRowBytes = DEFAULT_MAX_ROW_BYTES
  /**
   * Row writes from which a session's commit is applied in slices, other clients served
   * between them (docs/decisions/0038-sliced-commits.md); 0 (the default): always in one
   * step. The node server and the browser replica set DEFAULT_SLICE_COMMIT_ROWS: they serve
   * clients on a real event loop. A simulated one (SimCluster) has no client to serve
   * between slices, and its scheduler moves only when the simulation is driven.
   */
  sliceCommitRows = 0
  /**
   * How long a DO block's PL/pgSQL runs before it pauses for a turn of the event loop,
   * other clients served and a cancel request seen meanwhile
   * (docs/decisions/0039-pausable-plpgsql.md); 0 (the default): it runs to its end. Set by
   * the node server and the browser replica, as `sliceCommitRows` is.
   */
  pauseRunsAfterMs = 0
  /** This node's id slots and SERIAL sequences (node-local state over the catalog). */
  readonly idSlots: IdSlots
  readonly serials: SerialSequences
  /** This node's draws of user sequences (CREATE SEQUENCE). */
  readonly userSequences: UserSequences
  private slotCheckScheduled = false
  /** Roles as the replica's catalog holds them; dropped when a role kind changes (see `roles`). */
  private roleCache: RoleDirectory | null = null
  private readonly searchPaths: CommittedSearchPaths
  /** Active-passive roles, heartbeats and auto-failover of this node (failover/). */
  readonly failover: FailoverMonitor

  readonly replica: Replica
  private readonly ownsReplica: boolean
  readonly notifications: NotificationHub
  private readonly liveQueries: LiveQueries
  /** Changes of followed tables, by position (concord_changes, LISTEN concord_changes_<table>). */
  readonly tableChanges: ChangeFeed
  /** Runs the shard moves of REBALANCE SHARDS this node takes part in (placement/rebalance-job.ts). */
  readonly rebalance: RebalanceRunner
  /** Placed shards' sizes as their holders last reported them to a statement here (concord_rebalance_plan). */
  shardSizes: ReadonlyMap<string, ShardSize> = new Map()
  /** Row locks of this node's sessions (runtime/row-locks.ts). */
  readonly rowLocks = new RowLocks()

  private constructor(replica: Replica, ownsReplica: boolean, router: PartitionRouter, options: AttachOptions) {
    this.replica = replica
    this.searchPaths = new CommittedSearchPaths(replica, () => replica.catalogVersion)
    this.ownsReplica = ownsReplica
    this.int8 = options.int8 ?? 'string'
    this.serialWaitMs = Math.max(0, options.serialWaitMs ?? 0)
    this.indexes = new SecondaryIndexes(replica)
    this.notifications = new NotificationHub(replica)
    this.unsubscribe.push(() => this.notifications.close())
    this.tableChanges = new ChangeFeed(replica, this.notifications, options.changeJournal ?? null)
    this.backups = new BackupService(replica)
    this.backupScheduler = new BackupScheduler({
      replica,
      backups: this.backups,
      disasterRecoveryConfig: () => readDisasterRecoveryConfig(replica, () => this.session()),
      warn: (line) => this.backups.log(line),
    })
    this.system = new SystemCatalog({ replica, conflicts: this.conflicts, backups: this.backups, rowLocks: this.rowLocks })
    this.partitions = router
    router.bind(replica)
    const slotHost: SlotHost = {
      nodeId: replica.nodeId,
      members: () => replica.members(),
      listCatalog: (kind) => replica.listCatalog(kind),
      writeCatalog: (kind, name, value) => replica.transact((tx) => tx.setCatalog(kind, name, value)),
      catalogMatchedAt: (peer) => replica.peerMatchedAt(replica.catalogShard.id, peer),
      hlc: () => replica.clock.now(),
      wallMs: () => replica.now(),
      random: () => replica.random(),
    }
    this.idSlots = new IdSlots(slotHost)
    this.serials = new SerialSequences(slotHost, this.idSlots)
    this.userSequences = new UserSequences(slotHost, this.idSlots)
    this.failover = new FailoverMonitor(replica)
    this.unsubscribe.push(replica.on('catalog', (changes) => this.onCatalog(changes)))
    this.uniqueWatch = new UniqueWatch(replica, (e) => this.conflicts.add(e))
    this.unsubscribe.push(replica.on('conflict', (records) => this.conflicts.addRecords(replica, records)))
    const foreignKeys = new ForeignKeyWatch(this, (e) => this.conflicts.add(e))
    this.unsubscribe.push(
      replica.on('change', (changes) => {
        this.uniqueWatch.onChanges(changes)
        foreignKeys.onChanges(changes)
      }),
    )
    this.scheduleSlotCheck()
    this.applyConflictHistoryLimit()
    for (const [name] of replica.listCatalog('function')) this.registerResolver(name)
    // Federated reads this node answers apply the reader's pushed-down WHERE terms here.
    replica.setRowFilter((table, filter) => compileRowFilter(this.resolverCtx(), table, filter))
    // Writes other nodes forward to this one, for tables its region holds (placement/write-forwarding.ts).
    this.unsubscribe.push(
      replica.handleCalls(
        FORWARD_TOPIC,
        answerForwardedWrites(async (user, sql, params, home) => {
          const session = this.session({ user, forwarded: { returningMaxChars: this.forwardReturningMaxChars, ...(home !== undefined ? { home } : {}) } })
          return forwardedResult(await session.query(sql, params))
        }),
      ),
    )
    // Sizes of the shards this node holds, for other nodes' rebalance plans (placement/shard-sizes.ts).
    this.unsubscribe.push(replica.handleCalls(SHARD_SIZES_TOPIC, answerShardSizes(replica)))
    this.rebalance = new RebalanceRunner(replica)
    this.rebalance.start()
    this.unsubscribe.push(() => this.rebalance.stop())
    this.defaultSession = new Session(this)
    this.liveQueries = new LiveQueries(replica, this)
    this.unsubscribe.push(() => this.liveQueries.close())
  }

  /**
   * Opens a replica with `options` (in-memory storage unless one is given) and wraps it.
   * The replica places rows of partitioned tables in their partitions' shards.
   */
  static async open(options: DatabaseOptions): Promise<Database> {
    await loadParser()
    const router = new PartitionRouter()
    // Subscriptions make replication directional: the filter applies them per message.
    const filter = options.transport ? new DirectionFilter(options.transport) : null
    const replica = await Replica.open({ partitionOf: router.partitionOf, ...options, ...(filter ? { transport: filter } : {}), region: options.region ?? 'default' })
    // Peers' messages wait in the filter until the database listens to the replica (the
    // change feed, conflict watches): no change is applied unheard.
    const db = await Database.attach(replica, true, router, {
      ...(options.int8 ? { int8: options.int8 } : {}),
      serialWaitMs: options.serialWaitMs ?? 10_000,
      ...(options.changeJournal ? { changeJournal: options.changeJournal } : {}),
      bind: () => filter?.bind(replica),
    })
    db.directionFilter = filter
    return db
  }

  /**
   * Wraps an already open replica (the simulator's, a server's). For partitions to be
   * separate shards, open that replica with `partitionOf: router.partitionOf` of a
   * `PartitionRouter` and pass the same router here (SimCluster does); every node of a
   * cluster must route the same way. Without it, every partition stays in shard 0.
   */
  static async attach(replica: Replica, ownsReplica = false, router = new PartitionRouter(), options: AttachOptions & { bind?: () => void } = {}): Promise<Database> {
    await loadParser()
    const db = new Database(replica, ownsReplica, router, options)
    options.bind?.()
    // Announce this node in the replicated catalog (pg_nodes, pg_regions).
    replica.transact((tx) => tx.setCatalog('node', replica.nodeId, { nodeId: replica.nodeId, region: replica.region, startedAt: replica.now() }))
    await replica.durable()
    db.backupScheduler.start()
    return db
  }

  /**
   * Gives the database a way to reach other nodes, then acts on the persisted master list
   * (ALTER SYSTEM SET master_nodes) as SET does.
   */
  setConnector(connector: PublisherConnector): void {
    this.connector = connector
    // After a restart: rejoin the publishers of this node's enabled subscriptions.
    for (const s of subscriptions(this.replica, this.replica.nodeId)) {
      if (!s.enabled || s.publisher === null) continue
      try {
        connector.follow(parseConnInfo(s.conninfo))
      } catch {
        // Checked at CREATE SUBSCRIPTION; a record that no longer parses is left alone.
      }
    }
    try {
      this.applyMasters(new Settings(this.replica))
    } catch {
      // A malformed persisted master list was rejected when it was set.
    }
  }

  /** With multi_master_enabled on, joins every node of master_nodes (resolved by PostgreSQL address). */
  applyMasters(settings: Settings): void {
    if (this.connector === null || settings.show('multi_master_enabled') !== 'on') return
    for (const conn of parseMasterNodes(settings.show('master_nodes') ?? '')) this.connector.follow(conn)
  }

  /** Records how to reach this node (pg_nodes.addresses, pg_stat_replication.client_addr on its peers). */
  announceAddresses(addresses: string[]): void {
    const prev = this.replica.getCatalog('node', this.replica.nodeId)
    const base = typeof prev === 'object' && prev !== null && !Array.isArray(prev) ? prev : { nodeId: this.replica.nodeId, region: this.replica.region, startedAt: this.replica.now() }
    this.replica.transact((tx) => tx.setCatalog('node', this.replica.nodeId, { ...base, addresses }))
  }

  get nodeId(): string {
    return this.replica.nodeId
  }

  get region(): string {
    return this.replica.region
  }

  async ready(): Promise<void> {
    if (this.closed) throw new SqlError(SqlState.connectionDoesNotExist, 'database is closed')
    // A parser replacing a failed one (parser-instance.ts) is waited for, not failed on.
    await parserReady()
  }

  /** Whether `ready()` would resolve at once. */
  readyNow(): boolean {
    return !this.closed && parserReadyNow()
  }

  /** A new session with its own settings and transaction state. */
  /**
   * Roles, memberships, table owners and grants as the replica holds them now (cached
   * until one of them changes). Wire servers ask it who may log in (auth/login-policy.ts).
   */
  roles(): RoleDirectory {
    return (this.roleCache ??= new RoleDirectory(this.replica))
  }

  session(options: SessionOptions = {}): Session {
    return new Session(this, options)
  }

  /**
   * The value of a read-only parameter that the server embedding this database decides
   * (`max_connections` from `concord start --max-connections`): SHOW and pg_settings answer it.
   */
  setServerParameter(name: 'max_connections', value: string): void {
    this.serverParameters.set(name, value)
  }

  /** Where `SHOW concord.p2p_addresses` reads this node's libp2p addresses (the node server's transport). */
  setP2pAddresses(source: () => string[]): void {
    this.p2pSource = source
  }

  p2pAddresses(): string[] {
    return this.p2pSource()
  }

  /**
   * The node server's side of `ALTER SYSTEM ADD/REMOVE NODE` (its libp2p identity, its join
   * tokens); undefined (a simulated or embedded database): those statements fail with 0A000.
   */
  membership: MembershipHost | undefined = undefined

  query(sql: string, params?: unknown[]): Promise<QueryResult> {
    return this.defaultSession.query(sql, params)
  }

  queryAll(sql: string, params?: unknown[]): Promise<QueryResult[]> {
    return this.defaultSession.queryAll(sql, params)
  }

  /**
   * A live query: runs the SELECT `sql` and hands its rows to `onRows`, then again each
   * time a change (local, or replicated from a peer) alters them. Resolves, once the
   * first rows were handed, to the function that stops it; rejects if the first run
   * fails. See live/live-query.ts for which changes re-run it.
   */
  live(sql: string, params: unknown[], onRows: LiveRowsListener, options?: LiveQueryOptions): Promise<Unsubscribe> {
    return this.liveQueries.live(sql, params, onRows, options)
  }

  /**
   * `search_path` resolved over the committed catalog for the role `user` (kept per catalog
   * version): what a statement whose transaction wrote no catalog object sees.
   */
  readonly committedSearchPath = (value: string, user: string): SearchPath => this.searchPaths.get(value, user)

  userFunction(name: string): UserFunction | undefined {
    let f = this.functionCache.get(name)
    if (f === undefined) {
      const v = this.replica.getCatalog('function', name)
      f = v === undefined || v === null ? null : (functionFromCatalog(v) ?? null)
      this.functionCache.set(name, f)
    }
    return f ?? undefined
  }

  /** The node setting conflict_history_limit bounds concord_conflicts (see ConflictLog). */
  private applyConflictHistoryLimit(): void {
    const n = Number(new Settings(this.replica).show('conflict_history_limit'))
    if (Number.isSafeInteger(n) && n > 0) this.conflicts.setLimit(n)
  }

  private onCatalog(changes: CatalogChange[]): void {
    this.failover.onCatalog(changes)
    for (const c of changes) {
      if (ROLE_KINDS.has(c.kind)) this.roleCache = null
      if (c.kind === 'function') {
        this.functionCache.delete(c.name)
        if (c.value === null) this.replica.unregisterResolver(c.name)
        else this.registerResolver(c.name)
      } else if ((c.kind === CLUSTER_SETTING_KIND && c.name === 'multi_master_enabled') || (c.kind === NODE_SETTING_KIND && c.name === `${this.nodeId}/master_nodes`)) {
        try {
          this.applyMasters(new Settings(this.replica))
        } catch {
          // A malformed persisted master list was rejected when it was set; nothing to join.
        }
      } else if (c.kind === NODE_SETTING_KIND && c.name === `${this.nodeId}/conflict_history_limit`) {
        this.applyConflictHistoryLimit()
      } else if (c.kind === NODE_SETTING_KIND && c.name.startsWith(`${this.nodeId}/backup_`)) {
        this.backupScheduler.settingsChanged()
      } else if (c.kind === SLOT_KIND || c.kind === 'member') {
        this.idSlots.invalidate()
        if (c.kind === 'member' && c.name !== this.nodeId) this.scheduleSlotCheck()
      } else if (c.kind === 'column') {
        this.indexes.invalidate(c)
      } else if (c.kind === 'index' || c.kind === 'table') {
        this.indexes.invalidate(c)
        this.partitions.invalidate()
        this.uniqueWatch.invalidate()
      }
    }
  }

  /**
   * The next SERIAL / identity value of a column: int2 and int4 from this node's id slots
   * (node-unique, fit the type), int8 from the replica's 64-bit node-unique ids.
   */
  nextSerial(table: TableInfo, column: string): number | bigint {
    const col = table.columns.find((c) => c.name === column)
    const type = col === undefined ? 'int8' : sharedColumnMeta(col).t.id
    if (type !== 'int2' && type !== 'int4') return this.replica.nextId()
    // A renamed table or column draws on from where it was: its positions are kept under
    // the names its storage keeps (the column's entry key less its DROP + ADD suffix).
    const stored = col?.skey === undefined ? column : col.skey.replace(/#\d+$/, '')
    return this.serials.next({ table: table.name, incarnation: table.incarnation, column, type, stored: [table.storage ?? table.name, stored] })
  }

  /**
   * Whether this node can draw SERIAL ids without waiting: it holds a confirmed id slot,
   * or knows no other member (then it claims one when needed). Claims one first if it
   * has peers and neither holds nor waits for one; confirms pending claims.
   */
  serialReady(): boolean {
    this.idSlots.confirmPending()
    if (!this.idSlots.hasPeers()) return true
    if (this.idSlots.usable().length > 0) return true
    if (this.idSlots.pending().length === 0) this.idSlots.claim(preferSmallSlots(this.idSlots))
    this.askForCatalogReports()
    return false
  }

  /**
   * Sends every connected peer this node's digests. A peer answers a digest by starting
   * an exchange of its own with a random peer, so reports that it holds this node's
   * catalog (what confirms an id slot claim) come sooner than by the regular rounds.
   */
  private askForCatalogReports(): void {
    for (const p of this.replica.replicator.peerStatus()) if (p.connected) this.replica.replicator.syncWith(p.nodeId)
  }

  /** Waits a moment for a pending id slot claim (a statement failed with IdRangePending). */
  async waitForIdSlot(): Promise<void> {
    this.serialReady()
    await new Promise<void>((resolve) => this.replica.scheduler.setTimeout(SERIAL_POLL_MS, resolve))
  }

  /** A node that learns of another member claims an id slot ahead of its first SERIAL insert. */
  private scheduleSlotCheck(): void {
    if (this.slotCheckScheduled || this.closed) return
    this.slotCheckScheduled = true
    // Not from inside the catalog listener: the claim is a write of its own.
    this.replica.scheduler.setTimeout(0, () => {
      this.slotCheckScheduled = false
      if (this.closed || this.replica.isClosed) return
      try {
        this.serialReady()
      } catch {
        // Storage refuses writes: the first SERIAL insert claims instead (and reports it).
      }
    })
  }

  /**
   * Registers a SQL function as a core conflict resolver under its name. Core hands the
   * resolver stored values without their column, so values are decoded from their
   * self-describing encoding (see storage-codec) and the result is stored back the same way.
   */
  private registerResolver(name: string): void {
    const replica = this.replica
    replica.registerResolver(name, (a: Value, b: Value): Value => {
      const def = this.userFunction(name)
      if (!def || def.args.length !== 2) return b
      const x = decodeUntyped(a)
      const y = decodeUntyped(b)
      const t = unify([x.type, y.type], name)
      const now = replica.now() * 1000
      const args = [castValue(x.value, x.type, t, now), castValue(y.value, y.type, t, now)]
      const argTypes = def.args.map((arg) => (arg.type.id === 'anyelement' ? t : arg.type))
      const result = def.returns.id === 'anyelement' ? t : def.returns
      const ctx = this.resolverCtx()
      return encodeValue(callUserFunction(ctx, def, argTypes, args.map((v, i) => castValue(v, t, argTypes[i]!, now)), result))
    })
  }

  /** A read-only context for resolvers, which run while core materializes rows. */
  private resolverCtx(): ExecCtx {
    const replica = this.replica
    const readOnly = () => {
      throw new SqlError(SqlState.featureNotSupported, 'a conflict resolver cannot write')
    }
    const settings = new Settings(replica)
    const tx: Transaction = {
      createTable: readOnly, dropTable: readOnly, addColumn: readOnly, dropColumn: readOnly, alterColumn: readOnly, alterTable: readOnly, renameTable: readOnly, renameColumn: readOnly,
      table: (n) => replica.table(n),
      setCatalog: readOnly,
      replaceCatalog: readOnly,
      getCatalog: (k, n) => replica.getCatalog(k, n),
      listCatalog: (k) => replica.listCatalog(k),
      setSecret: readOnly,
      getSecret: (k, n) => replica.getSecret(k, n),
      tables: () => replica.tables(),
      get: (t, k) => replica.get(t, k),
      getHeld: (t, k) => replica.getHeld(t, k),
      scan: (t) => replica.scan(t),
      insert: readOnly, insertNew: readOnly, upsert: readOnly, update: readOnly, increment: readOnly, delete: readOnly,
      writtenKeys: () => [],
    }
    // A resolver reads only what is held here: a table held elsewhere fails loudly (UnheldRead).
    const rows = new TransactionRows(tx, this.indexes, false, new RemoteRows(replica.region, (info) => replica.holdsWhole(info)))
    let model: CatalogModel | undefined
    const ctx: ExecCtx = {
      tx,
      temporaryRelations: false,
      rows,
      foreignKeys: new ForeignKeyChecks({ rows, table: (n) => replica.table(n), tables: () => replica.tables(), writerFor: readOnly, nowMicros: replica.now() * 1000 }),
      params: [],
      nowMicros: replica.now() * 1000,
      clockMicros: () => replica.now() * 1000,
      nodeId: replica.nodeId,
      region: replica.region,
      database: 'concord',
      settings,
      role: BOOTSTRAP,
      roles: () => this.roles(),
      functions: (n) => this.userFunction(n),
      partitions: this.partitions,
      systemView: (schema, name) => this.system.view(schema, name, ctx),
      catalog: () => (model ??= this.system.model(replica, ctx)),
      random: () => 0.5,
      hlc: readOnly,
      sessionObjects: () => ({ prepared: [], cursors: [] }),
      notify: readOnly,
      listeningChannels: () => [],
      processId: 0,
      nextId: () => {
        throw new SqlError(SqlState.featureNotSupported, 'a conflict resolver cannot draw ids')
      },
      nextSerial: () => {
        throw new SqlError(SqlState.featureNotSupported, 'a conflict resolver cannot draw ids')
      },
      allTables: () => replica.tables(),
      sequences: {
        nextval: readOnly, currval: readOnly, setval: readOnly, lastval: readOnly, lastSequence: () => null, lastDrawn: readOnly, dropped: readOnly,
      },
      replication: () => ({ lsn: replica.lsn, lastReplayedCommitMs: replica.lastReplayedCommitMs, role: this.failover.role() }),
      callUserFunction,
      callUserSetFunction,
      depth: 0,
      budget: UNLIMITED_BUDGET,
    }
    return ctx
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.failover.close()
    this.backupScheduler.stop()
    for (const u of this.unsubscribe) u()
    this.replica.setRowFilter(null)
    this.indexes.close()
    if (this.ownsReplica) await this.replica.close()
    // After the replica: it applies no change the feed would not hear.
    await this.tableChanges.close()
  }
}

/** Slots that also give SMALLSERIAL a range when one is free, else any. */
function preferSmallSlots(slots: IdSlots): (slot: number) => boolean {
  const small = (s: number) => slotRange(s, 'int2') !== null
  return slots.exhausted(small) ? () => true : small
}

/** Opens a database on a new replica (in-memory storage and no network unless given). */
export function openDatabase(options: DatabaseOptions): Promise<Database> {
  return Database.open(options)
}
