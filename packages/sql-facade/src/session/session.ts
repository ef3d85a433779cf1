/**
 * A session: one client's connection state (session settings, an open transaction) on a
 * database. A statement outside a block runs in its own core transaction. BEGIN opens a
 * core transaction that stays open (`Replica.begin`) until COMMIT applies exactly the
 * writes its statements made and reported, or ROLLBACK drops them; SAVEPOINT marks its
 * writes and ROLLBACK TO restores the mark. Reads inside the block see the replica's
 * current rows under the block's own writes (`TransactionRows`). After an error the block
 * is aborted (25P02) until ROLLBACK or ROLLBACK TO, as in PostgreSQL.
 *
 * Two ways in, as PostgreSQL's two query protocols: `queryAll` runs a script;
 * `prepare` / `describe` / `execute` take one statement apart, so a wire server learns
 * its parameters and row shape before running it, and runs it with bound values. Every
 * statement, catalog queries and SHOW included, goes through the same planner.
 */
import { reindexConcurrently } from '../exec/reindex.js'
import type { BackupService } from '../backup/backup-service.js'
import { CATALOG_SHARD, heldState, holdsTable, homeColumn, homeShardId, RowsHomedElsewhere, RowsPlacedElsewhere, takeShards, type CarriedRows, type CommitOptions, type CutShard, type Json, type OpenTransaction, type Replica, type TableInfo, type Transaction, type TransactionSavepoint } from '@concord/core'
import type { Node } from 'libpg-query'
import type { SecondaryIndexes } from '../catalog/secondary-index.js'
import type { CatalogModel } from '../catalog/catalog-model.js'
import type { SearchPath } from '../catalog/search-path.js'
import { foreignKeysOf } from '../catalog/foreign-key.js'
import { asSqlError } from '../errors/runtime-error.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx, UserFunction } from '../runtime/context.js'
import { DeferredConstraints } from '../runtime/deferred-constraints.js'
import { ForeignKeyChecks, type ForeignKeyHost } from '../runtime/foreign-key-checks.js'
import { rootPlanCtx } from '../exec/plan-root.js'
import { utility, type PausedRun, type StatementResult } from '../runtime/result.js'
import { runClusterNodeStatement } from './cluster-node-statement.js'
import type { MembershipHost } from '../cluster/peer-members.js'
import { runInTransaction } from '../exec/statement.js'
import { PlanCache } from '../plan/plan-cache.js'
import { monotonicNow, OffloadSignal, StatementBudget, type BudgetSource, type OffloadPoint } from '../runtime/statement-budget.js'
import { offloadInsertSource, offloadTables, offloadWriteTarget, type EligibilityCatalog } from './offload-eligibility.js'
import { ChangedKeys, MAX_OFFLOAD_TARGET_KEYS, MAX_OFFLOAD_WRITE_ROWS, snapshotCostMs } from './write-offload.js'
import type { TargetKeyCollector, TargetRows } from '../runtime/target-rows.js'
import type { InsertRowCollector, InsertSource } from '../runtime/insert-source.js'
import { readView } from '../catalog/view-def.js'
import { carriedBytes, MAX_CARRIED_BYTES, MAX_CARRIED_ROWS, ENGINE_SLICE_STRUCTS, MAX_OFFLOAD_INSERT_BYTES, MAX_OFFLOAD_INSERT_ROWS, MAX_OFFLOAD_ROWS, MAX_OFFLOAD_SNAPSHOT_BYTES, MAX_SLICED_ROWS, OFFLOAD_REQUEST_VERSION, SLICED_FROM_ROWS, sqlErrorOf, type OffloadReply, type OffloadRequest, type StatementOffloader } from './statement-offload.js'
import { TableWriter } from '../exec/table-writer.js'
import { applyTransactionOptions, assertWritable, mayWrite, type TransactionMode } from '../exec/transaction-mode.js'
import type { NodeRole } from '../cluster/node-role.js'
import { TransactionRows, type RowReadObserver, type RowRestriction } from '../runtime/transaction-rows.js'
import type { TableChangeSource } from '../runtime/table-change-source.js'
import { RemoteRows, UnheldRead } from '../placement/remote-rows.js'
import { federateStatement, readUnheld, refuseUnheldWrites, writeTargets } from '../placement/statement-federation.js'
import { fetchShardSizes, type ShardSize } from '../placement/shard-sizes.js'
import { rebalancePlan, rebalanceTarget, startRebalance } from '../placement/rebalance-job.js'
import { forwardWrite, notForwardable, returnsRows, unheldWriteTargets, type ForwardDestination } from '../placement/write-forwarding.js'
import { refusedPlacedWrite, type PlacedWrite } from '../placement/placed-write-forwarding.js'
import { checkReturnedSize, FORWARD_RETURNING_MAX_CHARS } from '../placement/forwarded-reply.js'
import { forwardedQueryResult } from '../forwarded-result.js'
import { callsCurrentRegion, locateQuery, pinnedHomeWrite, refusedHomeWrite, severalHomes, unpinnedHomeWrite, type HomedWrite } from '../placement/home-write-forwarding.js'
import { resultCacheOf } from '../placement/result-cache.js'
import { runCopy, type CopyHost } from '../copy/copy-statement.js'
import { callUserFunction, callUserSetFunction } from '../exec/user-function.js'
import { plpgsqlSteps } from '../exec/plpgsql.js'
import { PausableCalls, RunPauses } from '../runtime/run-pauses.js'
import { functionFromCatalog } from '../catalog/function-def.js'
import { mentionsColumn } from '../parser/column-mention.js'
import { nameList } from '../parser/name-list.js'
import { parseScript } from '../parser/parse.js'
import type { Statement } from '../parser/statement.js'
import type { SqlNotice } from '../errors/sql-notice.js'
import type { PartitionRouter } from '../placement/partition-view.js'
import { planSelect } from '../plan/select.js'
import type { PublisherConnector } from '../cluster/publisher-connector.js'
import { SUBSCRIPTION_KIND } from '../replication/replication-catalog.js'
import { execAlterSubscription, execCreateSubscription, execDropSubscription, type SubscriptionHost } from '../replication/replication-statements.js'
import { dateTimeStyleOf, withDateTimeStyle, type DateTimeStyle } from '../types/datetime-style.js'
import { keyedCursorQuery, resolveCurrentOf, splitKeyedResult, type CursorScan } from './current-of.js'
import { fieldInfo, toQueryResult, type FieldInfo, type Int8Output, type QueryResult } from '../result-format.js'
import { IdRangePending } from '../sequences/serial-sequences.js'
import { SessionSequences } from '../sequences/session-sequences.js'
import type { UserSequences } from '../sequences/user-sequences.js'
import { Settings } from '../settings/settings.js'
import { durationMillis, memoryBytes, parameterDef } from '../settings/parameters.js'
import { showRelation } from '../system/show.js'
import type { SystemCatalog } from '../system/system-views.js'
import type { RtValue } from '../types/value.js'
import { bindParam } from './bind-param.js'
import { isFailedCatalogProbe } from './catalog-probe.js'
import { describeShape, prepareStatement, type PreparedStatement } from './prepared-statement.js'
import { Cursors } from './cursors.js'
import { SqlPreparedStatements } from './sql-prepared-statements.js'
import { RoleDirectory } from '../catalog/role-directory.js'
import { sessionRole } from '../auth/session-role.js'
import { BOOTSTRAP, type RoleRecord } from '../catalog/role-record.js'
import { createsTempRelation, TempSchema } from './temp-schema.js'
import { SessionNotifications, type NotificationMark } from '../notify/session-notifications.js'
import type { NotificationHub } from '../notify/notification-hub.js'
import type { Notification } from '../notify/notification.js'
import { RowLockWait, type LockOwner, type LockWaitLimits, type RowLocker, type RowLocks } from '../runtime/row-locks.js'

interface Block {
  tx: OpenTransaction
  /** The block's rows: kept across its statements, so its index overlays are too. */
  rows: TransactionRows
  /** now() of the whole block: PostgreSQL's transaction timestamp. */
  startMicros: number
  failed: boolean
  savepoints: Array<{ name: string; mark: TransactionSavepoint; notify: NotificationMark; cursors: number }>
  mode: TransactionMode
  deferred: DeferredConstraints
  /** A statement that may change roles, grants or owners ran in the block: its role state is read from the block's transaction. */
  rolesTouched: boolean
  /** A query (anything but SET, SHOW and transaction control) ran in the block: PostgreSQL's first snapshot is taken. */
  queried: boolean
  /** `tx` spans the session's temporary relations too (temp-schema.ts). */
  temp: boolean
}

/**
 * What a session needs from its database: the replica and the node-local state all the
 * node's sessions share. `Database` provides it; the session never sees the class.
 */
export interface SessionHost {
  readonly replica: Replica
  /** Read-only parameters the embedding server decides (`Database.setServerParameter`). */
  readonly serverParameters: ReadonlyMap<string, string>
  readonly nodeId: string
  readonly region: string
  readonly indexes: SecondaryIndexes
  readonly partitions: PartitionRouter
  readonly connector: PublisherConnector | null
  readonly int8: Int8Output
  /** BACKUP / RESTORE DATABASE (backup/backup-service.ts). */
  readonly backups: BackupService
  readonly serialWaitMs: number
  /** Most bytes of values one row written here may hold (runtime/row-size.ts). */
  readonly maxRowBytes: number
  /** Row writes from which a commit is applied in slices (`Database.sliceCommitRows`); 0: never. */
  readonly sliceCommitRows: number
  /** How long a statement's top-level PL/pgSQL runs between pauses (`Database.pauseRunsAfterMs`); 0: it never pauses. */
  readonly pauseRunsAfterMs: number
  /** Rejects once the database is closed. */
  ready(): Promise<void>
  /** Whether `ready()` would resolve at once. */
  readyNow(): boolean
  /** Waits a moment for a pending SERIAL id slot claim. */
  waitForIdSlot(): Promise<void>
  userFunction(name: string): UserFunction | undefined
  /** search_path resolved over the committed catalog (kept per catalog version). */
  readonly committedSearchPath: (value: string, user: string) => SearchPath
  nextSerial(table: TableInfo, column: string): number | bigint
  /** This node's draws of user sequences. */
  readonly userSequences: UserSequences
  /** The system views and the catalog model they share. */
  readonly system: SystemCatalog
  /** The node's row locks: every session's transactions lock the rows they write here. */
  readonly rowLocks: RowLocks
  /** The libp2p addresses `SHOW concord.p2p_addresses` lists. */
  p2pAddresses(): string[]
  /** The node server's identity and join tokens, for ALTER SYSTEM ADD/REMOVE NODE; undefined without one. */
  readonly membership: MembershipHost | undefined
  /** Roles and grants as the replica holds them (cached by the database). */
  roles(): RoleDirectory
  /** This node's high-availability role: a standby takes no writes (25006). */
  readonly failover: { role(): NodeRole; writable(): boolean }
  /** LISTEN registrations of the node's sessions, and NOTIFY's way to the cluster. */
  readonly notifications: NotificationHub
  /** The node's table change feed (concord_changes, live/change-feed.ts). */
  readonly tableChanges: TableChangeSource
  /** Placed shards' sizes as their holders last reported them (measureShards). */
  shardSizes: ReadonlyMap<string, ShardSize>
}

/** Who a session is, and how it answers catalog probes; a wire server sets them per connection. */
export interface SessionOptions {
  /** The connecting role: current_user, and the owner pg_catalog shows. Default 'concord'. */
  user?: string
  /** The database the client asked for: current_database(), pg_database. Default 'concord'. */
  database?: string
  /** Answer a failed pg_catalog probe with no rows (see catalog-probe.ts). Default false. */
  lenientCatalogProbes?: boolean
  /** The connection's process id (BackendKeyData): pg_backend_pid(), and the sender of its notifications. Default 0. */
  processId?: number
  /** Told of every table read the session's statements make (a live query's session, live/). */
  readObserver?: RowReadObserver
  /**
   * The session runs a write another node forwarded here: it forwards nothing onwards
   * (placement/write-forwarding.ts). The rows it returns take at most `returningMaxChars`
   * characters of text (placement/forwarded-reply.ts), else it fails before committing;
   * with `home`, an UPDATE or DELETE of a homed table reads only its rows homed there.
   */
  forwarded?: boolean | { returningMaxChars?: number; home?: string }
  /**
   * The session is a client's connection (the node's PostgreSQL server): the connection
   * timeouts (idle_session_timeout, idle_in_transaction_session_timeout) may be set, and
   * the server closes it by `idleTimeoutMs`. Default false: they can only be 0.
   */
  connection?: boolean
  /**
   * Runs long read-only statements off the main thread (statement-offload.ts): the node
   * server's worker threads. Without one every statement runs on the event loop.
   */
  offloader?: StatementOffloader
  /**
   * Read by every statement's budget beside the session's own cancel flag: the flag a
   * worker thread's owner sets (shared memory) when the client cancels an offloaded statement.
   */
  canceled?: () => boolean
}

/** The tables of a statement not yet found movable: none (shared, never changed). */
const NO_TABLES: ReadonlySet<string> = new Set()

/** A statement that may move off the main thread, while it runs here. */
interface PendingOffload {
  point: OffloadPoint
  /** The tables it reads, once the point found it movable. */
  tables: ReadonlySet<string>
  nowMs: number
  /** Taken when the point fired, in the run's synchronous stretch; null: over the size bound. */
  shards?: CutShard[] | null
  /** The engine kept between statements they were taken for (`StatementOffloader.engine`); absent: a fresh one kept by no one. */
  engine?: OffloadRequest['engine']
  /**
   * A SELECT, UPDATE or DELETE over more rows than one take may hold: the tables the
   * engine lacks are sent to it in slices after the point (`sendToEngine`), and the
   * snapshot taken then (for a write, with the tracking of its table's changes).
   */
  sliced?: boolean
  /** The open block's row writes of `tables`, taken with them. */
  carried?: CarriedRows
  /**
   * An UPDATE or DELETE (write-offload.ts): its table, the tables its WHERE and FROM /
   * USING read (the target too, when a subquery reads it), and once the snapshot is taken
   * the changes since.
   */
  write?: { table: TableInfo; reads: ReadonlySet<string>; catalogVersion: number; changed?: ChangedKeys }
  /** An INSERT .. SELECT (runtime/insert-source.ts): the table it names, and the catalog version its snapshot was taken at. */
  insert?: { table: string; catalogVersion: number }
  /** When the statement started (ms on `monotonicNow`). */
  startMs: number
}

/** The shards a moving statement reads (`takeShards`'s filter): the catalog's and those of its tables. */
function offloadReads(o: PendingOffload): (id: string, table: string | undefined) => boolean {
  return (id, table) => id === CATALOG_SHARD || (table !== undefined && o.tables.has(table))
}

/** A Yjs state vector of nothing: a shard sliced against it is sliced whole. */
const EMPTY_STATE_VECTOR = new Uint8Array([0])

/**
 * Per replica, tables that did not fit a fresh engine when sent in slices, with their
 * rows then: a SELECT over as many rows of one of them is not sent again (it would pay
 * for the sending each time, then run here all the same).
 */
const OUTGREW_ENGINE = new WeakMap<Replica, Map<string, number>>()

/** Tables a statement may read from holders beyond those `federate` found, one run each. */
const MAX_UNFORESEEN_READS = 16

/** A statement run to its end here: its result, and whether its acknowledgement waits for storage. */
type Ran = { result: StatementResult; durable: boolean }

/**
 * A statement's first run, made synchronously, that did not simply end: it failed (`error`)
 * or paused (`ran`), with the block and savepoint mark it ran under (`runAgainWhileWaiting`).
 */
type FirstRun = { block: Block | null; mark: TransactionSavepoint | null } & ({ ran: Ran } | { error: unknown })

/** `result` with the notices its statement's parse raised first, unless the script raised them already (`raised`). */
function withParseNotices(stmt: Statement, result: QueryResult, raised: boolean): QueryResult {
  const parsed = !raised && stmt.kind === 'pg' ? stmt.notices ?? [] : []
  return parsed.length === 0 ? result : { ...result, notices: [...parsed.map((n) => n.message), ...result.notices] }
}

/** The statements a pausing statement outside a transaction block runs between (`runInOwnBlock`). */
const IMPLICIT_BLOCK: Record<'begin' | 'commit' | 'rollback', Statement> = {
  begin: { kind: 'pg', node: { TransactionStmt: { kind: 'TRANS_STMT_BEGIN' } }, text: 'BEGIN' },
  commit: { kind: 'pg', node: { TransactionStmt: { kind: 'TRANS_STMT_COMMIT' } }, text: 'COMMIT' },
  rollback: { kind: 'pg', node: { TransactionStmt: { kind: 'TRANS_STMT_ROLLBACK' } }, text: 'ROLLBACK' },
}

/** The parameters a session reports (reportedParameters): each name as reported, and the setting it shows. */
const REPORTED_PARAMETERS: ReadonlyArray<readonly [string, string]> = [
  ['in_hot_standby', 'in_hot_standby'],
  ['default_transaction_read_only', 'default_transaction_read_only'],
  ['DateStyle', 'datestyle'],
  ['IntervalStyle', 'intervalstyle'],
]

export class Session {
  readonly settings: Settings
  private block: Block | null = null
  /** `everyTableHeld` of one catalog version. */
  private heldCheck: { version: number; all: boolean } | null = null
  /** SET SESSION CHARACTERISTICS AS TRANSACTION: the mode of later transactions. */
  private characteristics: TransactionMode = { readOnly: false }
  /** Set by COMMIT / ROLLBACK AND CHAIN: the characteristics of the block to open once the statement has ended. */
  private chainMode: TransactionMode | null = null

  private readonly database: string
  private readonly lenientCatalogProbes: boolean
  private readonly forwarded: boolean
  /** Of a forwarded session: the most text its returned rows may take, and the home region its UPDATE or DELETE reads. */
  private readonly forwardedBounds: { returningMaxChars: number; home?: string }
  /** The running statement's statement_mem in bytes; Infinity when 0 (no bound). */
  private memoryLimit = Infinity
  /** The node's plpgsql_hold_timeout in ms, read when a statement's PL/pgSQL loop first asks (statement-budget.ts `loopTick`). */
  private readonly holdLimit = (): number => durationMillis(this.settings.show('plpgsql_hold_timeout') ?? '0')
  /** The running statement's deadline (ms on `monotonicNow`); Infinity without statement_timeout. */
  private deadline = Infinity
  /** What the running statement's pg_sleep calls asked to wait (ms), waited after it ran. */
  private pendingSleepMs = 0
  /**
   * The execution context's functions that read nothing of one statement: made once per
   * session rather than per statement (`execCtx` runs for every statement).
   */
  private readonly sessionCallbacks: Pick<ExecCtx, 'clockMicros' | 'random' | 'hlc' | 'sessionObjects' | 'nextId' | 'notify' | 'sleep' | 'listeningChannels' | 'nodeCaughtUp' | 'nextSerial' | 'replication'> = {
    clockMicros: () => this.db.replica.now() * 1000,
    random: () => this.db.replica.random(),
    hlc: () => this.db.replica.clock.now(),
    sessionObjects: () => ({
      prepared: this.sqlPrepared.list().map((p) => ({ name: p.name, text: p.text, preparedAt: p.preparedAt, parameterTypes: SqlPreparedStatements.declaredTypes(p) })),
      cursors: this.cursors.list(),
    }),
    nextId: () => this.db.replica.nextId(),
    notify: (channel, payload) => this.notifications.notify(channel, payload),
    sleep: (ms) => {
      this.pendingSleepMs += ms
    },
    listeningChannels: () => this.notifications.listening(),
    nodeCaughtUp: (nodeId, region, table) => this.db.replica.nodeCaughtUp(nodeId, region, table),
    nextSerial: (table, column) => this.db.nextSerial(table, column),
    replication: () => ({ lsn: this.db.replica.lsn, lastReplayedCommitMs: this.db.replica.lastReplayedCommitMs, role: this.db.failover.role() }),
  }
  /** The execution context's methods that read its statement's transaction (see `contextMethods`). */
  private readonly contextMethods: ContextMethods
  /** Set by `cancel()` while a query string or execute runs; cleared when the next one starts. */
  private cancelRequested = false
  /** A query string or an Execute is under way (from its call until its result or error). */
  private busy = false
  private readonly budgetSource: BudgetSource
  /** See SessionOptions.offloader; null: statements always run here. */
  private readonly offloader: StatementOffloader | null
  /** The running statement, while it may still move off the main thread. */
  private offload: PendingOffload | null = null
  /** Aborted by a cancel request while the running statement runs elsewhere. */
  private offloadAbort: AbortController | null = null
  /** What reportedParameters last answered. */
  private reported: ReadonlyArray<readonly [string, string]> | null = null
  /** How the running UPDATE or DELETE reads its target rows (runtime/target-rows.ts); null: as always. */
  private targetRows: TargetRows | null = null
  /** Where the running INSERT .. SELECT takes its source rows (runtime/insert-source.ts); null: its SELECT. */
  private insertSource: InsertSource | null = null
  /** The running statement's now() (epoch µs) when fixed in advance: a write whose WHERE ran elsewhere at that time. */
  private pinnedNowMicros: number | null = null
  /** SELECT plans kept across this session's executions (plan/plan-cache.ts). */
  readonly plans: PlanCache = new PlanCache(() => this.db.replica.catalogVersion)
  /** currval / lastval state. */
  private readonly sequences: SessionSequences
  /** PREPARE / EXECUTE / DEALLOCATE. */
  readonly sqlPrepared = new SqlPreparedStatements()
  /** DECLARE / FETCH / MOVE / CLOSE. */
  readonly cursors = new Cursors()
  /**
   * Rows of tables not held here that holders sent for the statement running now
   * (placement/): set only while `runOne` runs, which is synchronous, so statements of
   * concurrent queries on one session never see each other's.
   */
  private statementRemote: RemoteRows | null = null
  /** LISTEN / NOTIFY / UNLISTEN. */
  private readonly notifications: SessionNotifications
  private noticeReceiver: ((n: SqlNotice) => void) | null = null
  private readonly processId: number
  private readonly readObserver: RowReadObserver | null
  /** Rows the session's statements see of one table (a live query's incremental runs); null: all. */
  rowRestriction: RowRestriction | null = null

  readonly db: SessionHost
  /** The session's temporary tables and views. */
  private readonly temp: TempSchema
  /** This session's hold on the node's row locks (its transaction's locks). */
  private readonly locker: RowLocker

  constructor(
    db: SessionHost,
    options: SessionOptions = {},
  ) {
    this.db = db
    this.contextMethods = contextMethods(db)
    this.settings = new Settings(db.replica, options.user ?? 'concord', db.serverParameters)
    this.settings.connection = options.connection === true
    this.settings.setDynamic((key) => this.readOnlyParameter(key))
    this.database = options.database ?? 'concord'
    this.lenientCatalogProbes = options.lenientCatalogProbes ?? false
    this.forwarded = options.forwarded !== undefined && options.forwarded !== false
    const bounds = typeof options.forwarded === 'object' ? options.forwarded : {}
    this.forwardedBounds = { returningMaxChars: bounds.returningMaxChars ?? FORWARD_RETURNING_MAX_CHARS, ...(bounds.home !== undefined ? { home: bounds.home } : {}) }
    this.sequences = new SessionSequences(db.userSequences, () => db.replica.clock.now())
    this.processId = options.processId ?? 0
    this.readObserver = options.readObserver ?? null
    this.notifications = new SessionNotifications(db.notifications, this.processId)
    this.temp = new TempSchema(db.replica)
    const owner: LockOwner = { pid: this.processId, sessionJournal: null }
    this.locker = { locks: db.rowLocks, owner, unshared: () => this.block === null && !db.rowLocks.othersHold(owner) }
    this.offloader = options.offloader ?? null
    const external = options.canceled
    this.budgetSource = { now: monotonicNow, canceled: external === undefined ? () => this.cancelRequested : () => this.cancelRequested || external() }
  }

  /** The rows of `tx` as this session's statements read and write them (locking what they write). */
  private newRows(tx: Transaction): TransactionRows {
    const rows = new TransactionRows(tx, this.db.indexes, true, this.statementRemote, this.readObserver)
    rows.maxRowBytes = this.db.maxRowBytes
    rows.setLocker(this.locker)
    rows.restrict(this.rowRestriction)
    return rows
  }

  /**
   * Hands this session's notifications (channels it LISTENs to, committed NOTIFYs of any
   * session of the cluster) to `receiver`, once the session is outside a transaction
   * block; null stops it (they wait, see `takeNotifications`).
   */
  onNotification(receiver: ((n: Notification) => void) | null): void {
    this.notifications.onNotification(receiver)
  }

  /**
   * Hands the notices parsing raises (an identifier truncated to 63 bytes, 42622) to
   * `receiver` as they are raised, before the statement runs, as PostgreSQL sends them:
   * the wire writes them ahead of the statement's results or its error. Without a
   * receiver (null), a statement's parse notices open its result's `notices` (and are
   * not seen when it fails).
   */
  onNotice(receiver: ((n: SqlNotice) => void) | null): void {
    this.noticeReceiver = receiver
  }

  /** Raises the parse notices of `stmts` to the receiver; false when there is none (they go in results). */
  private raiseParseNotices(stmts: readonly Statement[]): boolean {
    const receiver = this.noticeReceiver
    if (receiver === null) return false
    for (const st of stmts) if (st.kind === 'pg') for (const n of st.notices ?? []) receiver(n)
    return true
  }

  /** Notifications waiting for this session (no receiver set), oldest first. */
  takeNotifications(): Notification[] {
    return this.notifications.take()
  }

  /** Ends the session: its LISTENs stop and its temporary tables and views are dropped. */
  async close(): Promise<void> {
    // A statement running elsewhere for a client that left is stopped.
    this.offloadAbort?.abort()
    this.notifications.close()
    this.block = null
    // A disconnected session's transaction is over: its row locks go with it, and its advisory locks.
    this.db.rowLocks.release(this.locker.owner)
    this.db.rowLocks.releaseSession(this.locker.owner)
    await this.temp.discard()
  }

  /** DISCARD TEMP / ALL: drops the session's temporary relations (not inside a block that uses them). */
  private discardTemp(): void {
    if (this.block?.temp) throw new SqlError(SqlState.featureNotSupported, 'DISCARD inside a transaction block that uses temporary relations is not supported')
    // Nothing waits on the close: the replica is dropped from the session now, its memory freed when closed.
    void this.temp.discard()
  }

  /**
   * Before a statement that creates a temporary relation: opens the session's temporary
   * replica, and layers an open block's transaction over it.
   */
  private async prepareTemp(stmt: Statement): Promise<void> {
    if (!createsTempRelation(stmt)) return
    await this.temp.open()
    const b = this.block
    if (b && !b.temp) {
      b.tx = this.temp.layerOpen(b.tx)
      b.rows = this.newRows(b.tx)
      b.temp = true
    }
  }

  /**
   * A client's cancel request (CancelRequest on the wire): the running statement, or the
   * next statement of the running query string, fails with 57014 at its next budget
   * check. Statements run synchronously on the event loop, so a request from another
   * connection is seen only while the query string awaits (a SERIAL id wait, the
   * durability wait after a write); with nothing running it does nothing, as in PostgreSQL.
   */
  cancel(): void {
    if (!this.busy) return
    this.cancelRequested = true
    // A statement running elsewhere is told at once (the event loop is free to hear the request).
    this.offloadAbort?.abort()
  }

  /**
   * Runs one client request (query string or Execute); a cancel request applies to it
   * until it ends. Its answer in the same turn when `run` gives one, else a promise;
   * errors are SqlErrors either way.
   */
  private request<T>(run: () => T | Promise<T>): T | Promise<T> {
    this.busy = true
    this.cancelRequested = false
    let ran: T | Promise<T>
    try {
      ran = run()
    } catch (e) {
      this.requestEnded()
      throw asSqlError(e)
    }
    if (!(ran instanceof Promise)) {
      this.requestEnded()
      return ran
    }
    return ran.then(
      (answer) => {
        this.requestEnded()
        return answer
      },
      (e: unknown) => {
        this.requestEnded()
        throw asSqlError(e)
      },
    )
  }

  private requestEnded(): void {
    this.busy = false
    this.cancelRequested = false
  }

  /**
   * Opens a transaction block whose transaction holds `rows`: another engine's block's row
   * writes, carried with a statement moved off its main thread (offloaded-statement.ts).
   */
  beginCarrying(rows: CarriedRows): void {
    if (this.block !== null || this.temp.active) throw new SqlError(SqlState.activeSqlTransaction, 'carried writes open a block of their own')
    this.transactionStatement('TRANS_STMT_BEGIN', '', undefined)
    const b = this.block as Block | null
    if (b === null) throw new SqlError(SqlState.internalError, 'BEGIN opened no block')
    b.tx = this.db.replica.begin(rows)
    b.rows = this.newRows(b.tx)
  }

  /**
   * From now on the session's UPDATEs and DELETEs of `table` only find their target rows
   * and add their keys to the collector (at most `limit`), writing nothing: a worker's
   * session answering for a write (offloaded-statement.ts, session/write-offload.ts).
   */
  collectTargetKeys(table: string, limit: number): TargetKeyCollector {
    const collector: TargetKeyCollector = { kind: 'collect', table, keys: [], limit, done: false }
    this.targetRows = collector
    return collector
  }

  /**
   * From now on the session's INSERT .. SELECTs into `table` only compute the rows they
   * would insert and hand them to the collector (at most `limit` rows, about `maxBytes`
   * bytes), inserting nothing: a worker's session answering for an INSERT .. SELECT
   * (offloaded-statement.ts, runtime/insert-source.ts).
   */
  collectInsertRows(table: string, limit: number, maxBytes: number): InsertRowCollector {
    const collector: InsertRowCollector = { kind: 'collect', table, limit, maxBytes, rows: { columns: [], rows: [] }, done: false }
    this.insertSource = collector
    return collector
  }

  get inTransaction(): boolean {
    return this.block !== null
  }

  get transactionFailed(): boolean {
    return this.block?.failed ?? false
  }

  /**
   * How long this session may now wait for its client's next request before the server
   * closes it: idle_in_transaction_session_timeout inside a transaction block (failed or
   * not), idle_session_timeout outside one; 0 for no limit.
   */
  idleTimeoutMs(): number {
    return durationMillis(this.settings.show(this.block !== null ? 'idle_in_transaction_session_timeout' : 'idle_session_timeout') ?? '0')
  }

  /** Runs every statement of `sql`; returns one result per statement. */
  async queryAll(sql: string, params: unknown[] = []): Promise<QueryResult[]> {
    return await this.queryAllNow(sql, params)
  }

  /**
   * `queryAll`, answered in the same turn when no statement of `sql` waits (a SERIAL id, a
   * locked row, the durability of a commit): the wire then writes the answer without the
   * five async frames between it and the session, each a promise and a microtask turn.
   * Errors are thrown (or the promise rejects) as SqlErrors; a cancel request applies
   * until the answer, as for `request`.
   */
  queryAllNow(sql: string, params: unknown[] = []): QueryResult[] | Promise<QueryResult[]> {
    return this.request(() => this.runScript(sql, params))
  }

  /** A query string's statements run: synchronously when none of them waits (see `runStatement`). */
  private runScript(sql: string, params: unknown[]): QueryResult[] | Promise<QueryResult[]> {
    // Awaited only when it would wait: `ready` is three async frames deep, a dozen
    // microtask turns a statement.
    if (!this.db.readyNow()) return this.db.ready().then(() => this.runScriptReady(sql, params))
    return this.runScriptReady(sql, params)
  }

  private runScriptReady(sql: string, params: unknown[]): QueryResult[] | Promise<QueryResult[]> {
    const stmts = parseScript(sql)
    // PostgreSQL parses the whole query string first: its notices come before any result.
    const raised = this.raiseParseNotices(stmts)
    if (params.length > 0 && stmts.length > 1) throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement')
    const bound = params.map(bindParam)
    // Several statements in one query string run as one implicit transaction, as in
    // PostgreSQL: an error undoes them all (each committed on its own before, so a batch
    // that failed half way kept its first half).
    const implicit = stmts.length > 1 && this.block === null && stmts.every((s) => this.joinsImplicitBlock(s))
    if (!implicit) return this.runEach(stmts, bound, raised)
    return this.runImplicitBlock(stmts, bound, raised)
  }

  /** Several statements of one query string in one implicit transaction (`runScript`). */
  private async runImplicitBlock(stmts: Statement[], bound: RtValue[], raised: boolean): Promise<QueryResult[]> {
    await this.runStatement(implicitStatement('BEGIN'), [])
    let out: QueryResult[]
    try {
      out = await this.runEach(stmts, bound, raised)
    } catch (e) {
      // Ended directly: a pending cancel request would stop a ROLLBACK run as a statement.
      if (this.block !== null) this.transactionStatement('TRANS_STMT_ROLLBACK', '', undefined)
      throw e
    }
    try {
      await this.runStatement(implicitStatement('COMMIT'), [])
    } catch (e) {
      // A deferred check that fails at COMMIT: the transaction is over either way.
      if (this.block !== null) this.transactionStatement('TRANS_STMT_ROLLBACK', '', undefined)
      throw e
    }
    return out
  }

  /**
   * Whether a statement of a multi-statement query may share its implicit transaction:
   * not one that controls transactions or refuses a block (VACUUM, ALTER SYSTEM, COPY ..),
   * not Concord's own statements, not a write to a table held elsewhere (forwarded to a
   * holder one statement at a time, never inside a block). A query holding one runs its
   * statements one by one, as before (docs/compatibility.md).
   */
  private joinsImplicitBlock(stmt: Statement): boolean {
    if (stmt.kind !== 'pg') return false
    const n = stmt.node
    if (NO_IMPLICIT_BLOCK.some((k) => k in n)) return false
    if ('IndexStmt' in n && n.IndexStmt.concurrent === true) return false
    // A table placed elsewhere as it is created: the statements after it may write it through a holder.
    const options = 'CreateStmt' in n ? n.CreateStmt.options : 'AlterTableStmt' in n ? n.AlterTableStmt.cmds?.flatMap((c) => ('AlterTableCmd' in c && c.AlterTableCmd.def && 'List' in c.AlterTableCmd.def ? c.AlterTableCmd.def.List.items ?? [] : [])) : undefined
    if (options?.some((o) => 'DefElem' in o && PLACEMENT_OPTIONS.includes(o.DefElem.defname ?? ''))) return false
    for (const target of writeTargets(n)) {
      const info = this.db.replica.table(target)
      if (info !== undefined && (!this.db.replica.holdsWhole(info) || homeColumn(info) !== null)) return false
    }
    return true
  }

  /** The statements of a query string one by one: one statement that waits for nothing answers synchronously. */
  private runEach(stmts: Statement[], bound: RtValue[], raised: boolean): QueryResult[] | Promise<QueryResult[]> {
    if (stmts.length === 0) return [toQueryResult(utility('EMPTY'), this.db.int8)]
    const only = stmts[0]!
    if (stmts.length > 1 || (only.kind === 'pg' && 'CopyStmt' in only.node)) return this.runEachWaiting(stmts, bound, raised)
    const result = this.runStatement(only, bound)
    if (result instanceof Promise) return this.runEachWaiting(stmts, bound, raised, result)
    return [withParseNotices(only, result, raised)]
  }

  /** `runEach` for what waits: several statements, COPY, or one statement's run (`started`) that waited. */
  private async runEachWaiting(stmts: Statement[], bound: RtValue[], raised: boolean, started?: Promise<QueryResult>): Promise<QueryResult[]> {
    if (started !== undefined) return [withParseNotices(stmts[0]!, await started, raised)]
    const out: QueryResult[] = []
    for (const [i, stmt] of stmts.entries()) {
      if (stmt.kind === 'pg' && 'CopyStmt' in stmt.node) {
        // The COPY sub-protocol takes over the connection until the data ends.
        if (i !== stmts.length - 1) throw new SqlError(SqlState.featureNotSupported, 'COPY must be the last statement of a query string')
        // Refused before the data flows, as PostgreSQL does on a standby or in a READ ONLY block.
        if (stmt.node.CopyStmt.is_from && this.writeMode().readOnly) {
          if (this.block) this.block.failed = true
          throw new SqlError(SqlState.readOnlySqlTransaction, 'cannot execute COPY FROM in a read-only transaction')
        }
        // COPY FROM into a table not held here fails now, before any data (COPY TO reads through `federate`).
        try {
          refuseUnheldWrites(stmt.node, this.block?.tx ?? this.db.replica, this.db.region)
        } catch (e) {
          if (this.block) this.block.failed = true
          throw e
        }
        out.push(await runCopy(stmt.node.CopyStmt, this.copyHost()))
        break
      }
      // Between statements the event loop runs: other clients are served, and a cancel request is seen.
      if (i > 0) await yieldToEventLoop()
      out.push(withParseNotices(stmt, await this.runStatement(stmt, bound), raised))
    }
    return out
  }

  async query(sql: string, params: unknown[] = []): Promise<QueryResult> {
    const all = await this.queryAll(sql, params)
    return all[all.length - 1]!
  }

  /**
   * Parses one statement for the extended protocol (Parse): 42601 for a syntax error or
   * for more than one statement. `paramTypes` are the client's declared type OIDs (0:
   * unspecified). Nothing runs and nothing about the database is checked yet.
   */
  async prepare(sql: string, paramTypes: number[] = []): Promise<PreparedStatement> {
    try {
      await this.db.ready()
    } catch (e) {
      throw asSqlError(e)
    }
    return this.prepareReady(sql, paramTypes)
  }

  /**
   * `prepare` without waiting, for a wire that answers Parse in the same turn: null when
   * it would have to wait (the database closed, or its parser being replaced).
   */
  prepareNow(sql: string, paramTypes: number[] = []): PreparedStatement | null {
    return this.db.readyNow() ? this.prepareReady(sql, paramTypes) : null
  }

  /** Whether this node holds every shard of a table (one function for every statement's RemoteRows). */
  private readonly holdsWhole = (info: TableInfo): boolean => this.db.replica.holdsWhole(info)

  private prepareReady(sql: string, paramTypes: number[]): PreparedStatement {
    try {
      // The open block's transaction sees tables it created; temporary relations, a read
      // transaction over them; otherwise the committed catalog (what a fresh transaction
      // shows, without making one per statement).
      const tx = this.block?.tx ?? (this.temp.active ? this.temp.begin() : this.db.replica)
      const prepared = prepareStatement(sql, paramTypes, (name) => tx.table(name))
      if (prepared.statement !== null) this.raiseParseNotices([prepared.statement])
      return prepared
    } catch (e) {
      throw asSqlError(e)
    }
  }

  /**
   * The columns `statement` returns, learnt by planning it without running it; null
   * when it returns no rows or its shape cannot be known without running it (see
   * describeShape). Planning fails as running would (42P01 for a missing table ..),
   * and the failure aborts an open block, as any error does.
   */
  async describe(statement: PreparedStatement): Promise<FieldInfo[] | null> {
    try {
      await this.db.ready()
      const shape = describeShape(statement.statement)
      if (shape === null) return null
      if (this.block?.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
      try {
        if (shape.kind === 'show') return showRelation(shape.name, this.settings, this.db).columns.map(fieldInfo)
        const params = statement.paramTypes.map(() => null)
        const plan = (ctx: ExecCtx) => planSelect(shape.select, rootPlanCtx(ctx, mentionsColumn(shape.node, 'shard_location'), mentionsColumn(shape.node, 'tableoid')), null).columns.map(fieldInfo)
        if (this.block) return plan(this.execCtx(this.block.tx, params, this.block.startMicros, this.block.rows))
        // Planned in a transaction that is dropped: planning a query writes nothing, and this makes sure.
        return plan(this.execCtx(this.temp.begin(), params, this.db.replica.now() * 1000))
      } catch (e) {
        if (this.block) this.block.failed = true
        throw e
      }
    } catch (e) {
      throw asSqlError(e)
    }
  }

  /** Runs a prepared statement with bound parameters (Bind + Execute). */
  async execute(statement: PreparedStatement, params: unknown[] = []): Promise<QueryResult> {
    return await this.executeNow(statement, params)
  }

  /** `execute`, answered in the same turn when the statement waits for nothing (see `queryAllNow`). */
  executeNow(statement: PreparedStatement, params: unknown[] = []): QueryResult | Promise<QueryResult> {
    if (!this.db.readyNow()) return this.db.ready().then(() => this.executeNow(statement, params), (e: unknown) => Promise.reject(asSqlError(e)))
    if (statement.statement === null) return toQueryResult(utility('EMPTY'), this.db.int8)
    if (statement.statement.kind === 'pg' && 'CopyStmt' in statement.statement.node) {
      throw new SqlError(SqlState.featureNotSupported, 'COPY over the extended query protocol is not supported; send it as a simple query')
    }
    return this.request(() => this.runStatement(statement.statement!, params.map(bindParam)))
  }

  /** What COPY runs through: this session's statements and its transaction block. */
  private copyHost(): CopyHost {
    const self = this // the getters below read the live block
    return {
      run: async (stmt) => await this.runStatement(stmt, []),
      get inBlock() {
        return self.block !== null
      },
      get blockFailed() {
        return self.block?.failed ?? false
      },
      begin: () => void this.transactionStatement('TRANS_STMT_BEGIN', '', undefined),
      commit: async () => {
        if (this.db.replica.isCommitting) await this.db.replica.settled()
        const lsn = this.db.replica.lsn
        this.transactionStatement('TRANS_STMT_COMMIT', '', undefined)
        await this.slicedCommitEnd()
        if (this.db.replica.lsn !== lsn) await this.db.replica.durable()
      },
      abandon: (own) => {
        if (own) this.transactionStatement('TRANS_STMT_ROLLBACK', '', undefined)
        else if (this.block) this.block.failed = true
      },
    }
  }

  /**
   * Runs one statement; a write is acknowledged only once durable. Answers synchronously
   * when nothing is awaited on the way (no forwarding, no holder to read from, no
   * temporary relation or rebalance to prepare, a run that waited for nothing, nothing to
   * make durable): a promise otherwise. Each async frame and `await` on the way cost a
   * promise and a turn of the microtask queue, for every statement.
   */
  private runStatement(stmt: Statement, params: RtValue[]): QueryResult | Promise<QueryResult> {
    if (this.block !== null && mayLockRows(stmt)) this.block.queried = true
    // Another node forwards only the writes it cannot apply itself; anything else in a
    // forwarded call would run here with this node's rights (docs/security.md, Member rights).
    if (this.forwarded && !(stmt.kind === 'pg' && ('InsertStmt' in stmt.node || 'UpdateStmt' in stmt.node || 'DeleteStmt' in stmt.node || 'MergeStmt' in stmt.node))) {
      throw new SqlError(SqlState.insufficientPrivilege, 'a forwarded statement must be an INSERT, UPDATE, DELETE or MERGE')
    }
    if (stmt.kind === 'backup' || stmt.kind === 'restore') return this.backupStatement(stmt)
    if (stmt.kind === 'clusterNode') {
      if (this.block) throw new SqlError(SqlState.activeSqlTransaction, 'ALTER SYSTEM cannot run inside a transaction block')
      const result = runClusterNodeStatement(this.db, stmt, this.currentRole().superuser)
      return this.db.replica.durable().then(() => toQueryResult(result, this.db.int8))
    }
    if (this.block && !this.block.failed && stmt.kind === 'pg' && 'IndexStmt' in stmt.node && stmt.node.IndexStmt.concurrent === true) {
      this.block.failed = true
      throw new SqlError(SqlState.activeSqlTransaction, 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block')
    }
    if (stmt.kind === 'pg' && isSubscriptionStatement(stmt.node)) {
      assertWritable(this.writeMode(), stmt)
      return this.subscriptionStatement(stmt.node).then((r) => toQueryResult(r, this.db.int8))
    }
    if (this.block === null && this.pauses(stmt)) return this.runInOwnBlock(stmt, params)
    const timeoutMs = durationMillis(this.settings.show('statement_timeout') ?? '0')
    this.deadline = timeoutMs > 0 ? monotonicNow() + timeoutMs : Infinity
    this.memoryLimit = memoryBytes(this.settings.show('statement_mem') ?? '0', 'kB') || Infinity
    let out: QueryResult | Promise<QueryResult>
    try {
      out = this.runTimed(stmt, params)
    } catch (e) {
      this.endStatement()
      throw e
    }
    if (!(out instanceof Promise)) {
      this.endStatement()
      return out
    }
    return this.endStatementAfter(out)
  }

  /** `endStatement` once `running` settled (one async frame: `finally` on the promise took three turns). */
  private async endStatementAfter(running: Promise<QueryResult>): Promise<QueryResult> {
    try {
      return await running
    } finally {
      this.endStatement()
    }
  }

  /** BACKUP DATABASE / RESTORE DATABASE (`runStatement`). */
  private async backupStatement(stmt: Statement & { kind: 'backup' | 'restore' }): Promise<QueryResult> {
    if (this.block) throw new SqlError(SqlState.activeSqlTransaction, `${stmt.kind.toUpperCase()} DATABASE cannot run inside a transaction block`)
    // They read and write files (or buckets) as the server: superusers only, as COPY to a file.
    if (!this.currentRole().superuser) throw new SqlError(SqlState.insufficientPrivilege, `must be superuser to run ${stmt.kind.toUpperCase()} DATABASE`)
    if (stmt.kind === 'restore') assertWritable(this.writeMode(), stmt)
    const r = stmt.kind === 'backup' ? await this.db.backups.backup(stmt.target) : await this.db.backups.restore(stmt.source, stmt.asOf)
    return toQueryResult(r, this.db.int8)
  }

  /** What every statement leaves behind it once it ended, however (`runStatement`). */
  private endStatement(): void {
    this.chainMode = null
    this.deadline = Infinity
    this.slicedCommit = null
  }

  /**
   * The statement under its deadline and memory limit (`runStatement`): synchronously
   * when nothing on its way waits, else the same steps awaited (`runTimedWaiting`).
   */
  private runTimed(stmt: Statement, params: RtValue[]): QueryResult | Promise<QueryResult> {
    try {
      this.budget().check()
    } catch (e) {
      if (this.block) this.block.failed = true
      throw e
    }
    const forwarding = this.forwardWrite(stmt, params)
    if (forwarding !== null || createsTempRelation(stmt) || plansRebalance(stmt) || this.mayFederate(stmt)) return this.runTimedWaiting(stmt, params, forwarding)
    const lsn = this.db.replica.lsn
    this.pendingSleepMs = 0
    let moved: Ran | { query: QueryResult } | Promise<Ran | { query: QueryResult }>
    try {
      moved = this.runOrOffload(stmt, params, new RemoteRows(this.db.region, this.holdsWhole))
    } catch (e) {
      return this.afterFailedRun(stmt, params, e)
    }
    if (moved instanceof Promise || this.pendingSleepMs > 0) return this.runTimedWaiting(stmt, params, null, { moved, lsn })
    if ('query' in moved) return moved.query
    return this.finishRun(moved, lsn)
  }

  /**
   * `runTimed`'s steps where one waits: a write forwarded to a holder (`forwarding`),
   * a temporary relation or a rebalance prepared, rows read from holders; or, given
   * `started`, a run begun synchronously that waited or asked for a pg_sleep.
   */
  private async runTimedWaiting(
    stmt: Statement, params: RtValue[], forwarding: Promise<QueryResult | { targetHomes: string[] }> | null,
    started?: { moved: Ran | { query: QueryResult } | Promise<Ran | { query: QueryResult }>; lsn: number },
  ): Promise<QueryResult> {
    let lsn: number
    let targetHomes: string[] | undefined
    if (started !== undefined) {
      lsn = started.lsn
    } else {
      // A forward's failure is the statement's, as it is: nothing ran here.
      const forwarded = forwarding === null ? null : await forwarding
      if (forwarded !== null && !('targetHomes' in forwarded)) return forwarded
      // A forwarded UPDATE or DELETE the sender found homed here reads only those rows.
      targetHomes = this.forwardedBounds.home !== undefined ? [this.forwardedBounds.home] : forwarded?.targetHomes
      lsn = this.db.replica.lsn
    }
    let r: Ran
    try {
      let moved: Ran | { query: QueryResult }
      if (started !== undefined) {
        moved = await started.moved
      } else {
        const remote = new RemoteRows(this.db.region, this.holdsWhole)
        if (createsTempRelation(stmt)) await this.prepareTemp(stmt)
        if (plansRebalance(stmt)) await this.measureShards(stmt)
        if (this.mayFederate(stmt)) await this.federate(stmt, remote, targetHomes, false, params)
        this.pendingSleepMs = 0
        moved = await this.runOrOffload(stmt, params, remote)
      }
      if ('query' in moved) return moved.query
      r = moved
      if (this.pendingSleepMs > 0) await this.sleepPending()
    } catch (e) {
      return await this.afterFailedRun(stmt, params, e)
    }
    return await this.finishRun(r, lsn)
  }

  /**
   * A statement's run failed with `e`: what the failure leaves undone, then the statement
   * run elsewhere when its rows are all held by one other region or node, or `e` thrown.
   */
  private afterFailedRun(stmt: Statement, params: RtValue[], e: unknown): QueryResult | Promise<QueryResult> {
    // Outside a block the statement was its own transaction: its NOTIFYs go with it.
    if (this.block === null) this.notifications.abort()
    // An error aborts the whole transaction unless a savepoint may resume it: as in
    // PostgreSQL, its row locks are released now (ROLLBACK then only ends the block).
    if (this.block === null || (this.block.failed && this.block.savepoints.length === 0)) this.db.rowLocks.release(this.locker.owner)
    if (this.lenientCatalogProbes && this.block === null && isFailedCatalogProbe(stmt, e)) return toQueryResult({ command: 'SELECT', rowCount: 0, columns: [], rows: [] }, this.db.int8)
    // Its rows are all homed in one other region: it runs there instead (nothing was applied here).
    if (e instanceof RowsHomedElsewhere && stmt.kind === 'pg' && this.block === null && !this.forwarded) {
      const homed = refusedHomeWrite(e, this.db.replica, this.db.replica)
      if (homed !== null) return this.forwardHomeWrite(stmt, params, homed, e)
    }
    // Its rows all route to partitions placed on other nodes that one node holds: it runs there.
    if (e instanceof RowsPlacedElsewhere && stmt.kind === 'pg' && this.block === null && !this.forwarded) {
      const placed = refusedPlacedWrite(e, this.db.replica, this.db.replica)
      if (placed !== null) return this.forwardPlacedWrite(stmt, params, placed, e)
    }
    throw e
  }

  /** A statement run to its end (`r`, `lsn` the replica's before it): answered once shown and durable. */
  private finishRun(r: Ran, lsn: number): QueryResult | Promise<QueryResult> {
    if (this.slicedCommit === null && !(r.durable && this.db.replica.lsn !== lsn)) return this.answer(r)
    return this.finishRunWaiting(r, lsn)
  }

  private async finishRunWaiting(r: Ran, lsn: number): Promise<QueryResult> {
    // A commit applied in slices is answered once all of it is in and shown.
    if (this.slicedCommit !== null) await this.slicedCommitEnd()
    // Acknowledged only once durable, if it wrote anything (a read waits for nothing,
    // and keeps working while storage refuses writes).
    if (r.durable && this.db.replica.lsn !== lsn) await this.db.replica.durable()
    return this.answer(r)
  }

  /** The answer of a statement that ended: its notifications sent if it committed, a chained block begun. */
  private answer(r: Ran): QueryResult {
    // Committed (a statement outside a block, or COMMIT): its notifications go out.
    if (this.block === null) this.notifications.commit()
    // COMMIT / ROLLBACK AND CHAIN: the next block starts now that this one has ended.
    const chained = this.chainMode
    if (chained !== null) {
      this.chainMode = null
      this.beginBlock(chained)
    }
    return this.styled(() => toQueryResult(r.result, this.db.int8))
  }

  /**
   * Whether `stmt`'s PL/pgSQL may pause, other clients served meanwhile (decision 0039): a
   * DO block, or `SELECT f(..)` of one VOLATILE PL/pgSQL function (the default; STABLE and
   * IMMUTABLE ones may move off the event loop instead) with constant arguments, so that
   * running the statement again calls it once, with the same arguments (`PausableCalls`).
   */
  private pauses(stmt: Statement): boolean {
    if (this.db.pauseRunsAfterMs <= 0 || this.forwarded || stmt.kind !== 'pg') return false
    if ('DoStmt' in stmt.node) return true
    const call = topLevelCall(stmt.node)
    if (call === null) return false
    const def = this.block !== null ? txFunctions(this.block.tx)(call) : this.db.userFunction(call)
    return def !== undefined && def.language === 'plpgsql' && def.setof !== true && def.trigger !== true && def.volatility === undefined
  }

  /**
   * A statement that pauses, outside a transaction block: it runs in a block of its own
   * (BEGIN, the statement, COMMIT), as one transaction, its writes seen by no one until
   * COMMIT; an error rolls it back.
   */
  private async runInOwnBlock(stmt: Statement, params: RtValue[]): Promise<QueryResult> {
    await this.runStatement(IMPLICIT_BLOCK.begin, [])
    let result: QueryResult
    try {
      result = await this.runStatement(stmt, params)
    } catch (e) {
      // The cancel request (or the deadline) that ended the block does not stop its ROLLBACK.
      this.cancelRequested = false
      if (this.block !== null) await this.runStatement(IMPLICIT_BLOCK.rollback, [])
      throw e
    }
    // Nor a late one its COMMIT: the statement is done. A failed COMMIT ends the block too.
    this.cancelRequested = false
    await this.runStatement(IMPLICIT_BLOCK.commit, [])
    return result
  }

  /**
   * Runs the rest of a statement that paused (its PL/pgSQL's loop): a turn of the event loop
   * between its steps, where other clients are served and a cancel request arrives; the
   * statement's deadline and cancel are checked before each step.
   */
  private async resumePaused(first: { result: StatementResult; durable: boolean }, paused: PausedRun): Promise<{ result: StatementResult; durable: boolean }> {
    const scheduler = this.db.replica.scheduler
    for (;;) {
      await new Promise<void>((resolve) => scheduler.setTimeout(0, resolve))
      try {
        this.budget().check()
        const done = withDateTimeStyle(this.dateTimeStyle(), () => paused.resume())
        if (done !== null) return { result: done, durable: first.durable }
      } catch (e) {
        if (this.block) this.block.failed = true
        throw e
      }
    }
  }

  /** The end of the commit this session's last statement started in slices (`sliceOptions`), if any. */
  private slicedCommit: Promise<void> | null = null

  /**
   * How this session's commits apply: past `Database.sliceCommitRows` row writes, in slices
   * with other clients served between them (docs/decisions/0038-sliced-commits.md).
   */
  private readonly sliceOptions: CommitOptions = {
    sliceAbove: undefined,
    onSliced: (done) => {
      this.slicedCommit = done
    },
  }

  private commitOptions(): CommitOptions {
    this.sliceOptions.sliceAbove = this.db.sliceCommitRows > 0 ? this.db.sliceCommitRows : undefined
    return this.sliceOptions
  }

  /** Waits for the sliced commit the last statement started, if any (its failure is the statement's). */
  private async slicedCommitEnd(): Promise<void> {
    const sliced = this.slicedCommit
    if (sliced === null) return
    this.slicedCommit = null
    await sliced
  }

  /** The last style built, with the setting values it was built from (read twice per statement). */
  private lastStyle: { dateStyle: string; intervalStyle: string; floatDigits: string; style: DateTimeStyle } | null = null

  /** The session's DateStyle and IntervalStyle, which its statements run and print their results in. */
  private dateTimeStyle(): DateTimeStyle {
    const dateStyle = this.settings.show('datestyle') ?? 'ISO, MDY'
    const intervalStyle = this.settings.show('intervalstyle') ?? 'postgres'
    const floatDigits = this.settings.show('extra_float_digits') ?? '1'
    const last = this.lastStyle
    if (last !== null && last.dateStyle === dateStyle && last.intervalStyle === intervalStyle && last.floatDigits === floatDigits) return last.style
    const style = dateTimeStyleOf(dateStyle, intervalStyle, Number(floatDigits))
    this.lastStyle = { dateStyle, intervalStyle, floatDigits, style }
    return style
  }

  /** Builds a result in the session's styles (its dates and intervals are printed here). */
  private styled(build: () => QueryResult): QueryResult {
    return withDateTimeStyle(this.dateTimeStyle(), build)
  }

  /**
   * A statement outside a block that writes a table this node's region does not hold runs
   * on a holder instead, acknowledged once durable there (placement/write-forwarding.ts);
   * null when it is not such a statement, or cannot be forwarded (it is then refused).
   * An UPDATE or DELETE of a homed table not pinned to one region runs where its rows are
   * found (`targetHomes`: here, reading only the rows homed in those regions).
   */
  private forwardWrite(stmt: Statement, params: RtValue[]): Promise<QueryResult | { targetHomes: string[] }> | null {
    // Null synchronously when there is nothing to forward (most statements): nothing awaited.
    if (stmt.kind !== 'pg' || !this.mayForward(stmt)) return null
    const targets = unheldWriteTargets(stmt.node, this.db.replica, this.db.region)
    if (targets.length === 0) {
      // An UPDATE or DELETE pinned to one other home region runs there (placement/home-write-forwarding.ts).
      const homed = pinnedHomeWrite(stmt.node, this.db.replica, this.db.replica)
      if (homed !== null) return this.forwardHomeWrite(stmt, params, homed)
      const unpinned = unpinnedHomeWrite(stmt.node, this.db.replica, this.db.replica)
      return unpinned === null ? null : this.locateHomeWrite(stmt, params, unpinned)
    }
    if (notForwardable(stmt.node, params) !== null) return null
    return this.sendWrite(stmt, params, targets)
  }

  /** Whether `forwardWrite` may forward `stmt` at all: a statement outside a block, not itself forwarded here. */
  private mayForward(stmt: Statement): boolean {
    return stmt.kind === 'pg' && this.block === null && !this.forwarded
  }

  /**
   * An UPDATE or DELETE of a homed table not pinned to one region: finds the home regions
   * of the rows it matches (a federated read of their home column under the same WHERE),
   * then runs it here over the rows of the regions held here (none matched: it writes
   * nothing), or forwards it to the one other region holding them all, pinned there; rows
   * of several regions are 0A000 (placement/home-write-forwarding.ts).
   */
  private async locateHomeWrite(stmt: Statement & { kind: 'pg' }, params: RtValue[], info: TableInfo): Promise<QueryResult | { targetHomes: string[] }> {
    const locate: Statement = { kind: 'pg', node: locateQuery(stmt.node, info), text: stmt.text }
    const remote = new RemoteRows(this.db.region, this.holdsWhole)
    // Read afresh: a kept result (query_result_cache_ttl) could miss rows the write must reach.
    await this.federate(locate, remote, undefined, true, params)
    const found = await this.runWaitingForIds(locate, params, remote)
    const homes = [...new Set(found.result.rows.map((row) => String(row[0])))].sort()
    const r = this.db.replica
    const elsewhere = homes.filter((h) => !r.holdsHere(homeShardId(info, h)))
    if (elsewhere.length === 0) return { targetHomes: homes }
    if (homes.length > 1) throw severalHomes(info, homes, r.region)
    return await this.forwardHomeWrite(stmt, params, { info, home: homes[0]! }, undefined, true)
  }

  /**
   * Forwards a statement whose rows are all homed in `homed.home` to a node of that region;
   * one that cannot be forwarded is refused (0A000) with the reason (`refused`: core's
   * refusal of the run here, rethrown with it).
   */
  private async forwardHomeWrite(stmt: Statement & { kind: 'pg' }, params: RtValue[], homed: HomedWrite, refused?: Error, pin = false): Promise<QueryResult> {
    const why = notForwardable(stmt.node, params) ?? (callsCurrentRegion(stmt.node) ? 'it calls current_region(), which would name that region there' : null)
    if (why !== null) {
      const what = refused?.message ?? `cannot write rows of relation "${homed.info.name}" homed in region ${homed.home} on this node (region ${this.db.region})`
      throw new SqlError(SqlState.featureNotSupported, `${what}; not forwarded to region ${homed.home}: ${why}`, {
        hint: `Run the statement on a node of region ${homed.home}.`,
      })
    }
    return await this.sendWrite(stmt, params, [homed.info], { home: homed.home }, pin)
  }

  /**
   * Forwards a statement whose rows all route to shards `placed.nodes` hold to the nearest
   * of them; one that cannot be forwarded is refused (0A000) with the reason, after core's
   * refusal (placement/placed-write-forwarding.ts).
   */
  private async forwardPlacedWrite(stmt: Statement & { kind: 'pg' }, params: RtValue[], placed: PlacedWrite, refused: Error): Promise<QueryResult> {
    const why = notForwardable(stmt.node, params)
    if (why !== null) {
      throw new SqlError(SqlState.featureNotSupported, `${refused.message}; not forwarded to node(s) ${placed.nodes.join(', ')}: ${why}`, {
        hint: `Run the statement on node ${placed.nodes[0]}.`,
      })
    }
    return await this.sendWrite(stmt, params, [placed.info], { nodes: placed.nodes, where: placed.where })
  }

  /**
   * Sends a write to a holder (of `targets`, or `to`: of rows homed in a region, with `pin`
   * its UPDATE or DELETE reads only those there; or one of some nodes) and returns its
   * answer once durable there.
   */
  private async sendWrite(stmt: Statement & { kind: 'pg' }, params: RtValue[], targets: TableInfo[], to?: ForwardDestination, pin = false): Promise<QueryResult> {
    assertWritable(this.writeMode(), stmt)
    // The holder reads the statement's literals in the default styles; other ones would be misread there.
    const style = this.dateTimeStyle()
    if (style.order !== 'MDY' || style.interval === 'sql_standard') {
      throw new SqlError(SqlState.featureNotSupported, 'a write forwarded to another region reads dates and intervals in DateStyle MDY and IntervalStyle postgres', {
        hint: "SET DateStyle = 'ISO, MDY' and IntervalStyle = 'postgres' for writes to tables held in other regions.",
      })
    }
    // Returned rows come back as the holder prints them: in the default styles.
    if (returnsRows(stmt.node) && (style.output !== 'ISO' || style.interval !== 'postgres')) {
      throw new SqlError(SqlState.featureNotSupported, 'a write forwarded to another region returns its rows (RETURNING) in DateStyle ISO and IntervalStyle postgres only', {
        hint: "SET DateStyle = 'ISO, MDY' and IntervalStyle = 'postgres' for writes with RETURNING to tables held in other regions.",
      })
    }
    try {
      // Cached reads of a table written from here are dropped, whatever the outcome (placement/result-cache.ts).
      for (const t of targets) resultCacheOf(this.db.replica).invalidate(t.name)
      const home = to !== undefined && 'home' in to ? to.home : undefined
      const request = { sql: stmt.text, params: params as Array<string | null>, user: this.currentRole().name, ...(pin && home !== undefined ? { home } : {}) }
      const { peer, result } = await forwardWrite(this.db.replica, targets, request, to)
      this.notifications.commit()
      return this.styled(() => forwardedQueryResult(result, this.db.int8, peer))
    } catch (e) {
      this.notifications.abort()
      throw e
    }
  }

  /**
   * Before a statement that plans a rebalance (REBALANCE SHARDS, concord_rebalance_plan):
   * asks the holders of every placed shard for its size (placement/shard-sizes.ts).
   */
  private async measureShards(stmt: Statement): Promise<void> {
    if (!plansRebalance(stmt)) return
    const r = this.db.replica
    const shards = r.tables().flatMap((t) => r.placedShards(t).map((p) => ({ id: p.id, nodes: p.placement.nodes })))
    this.db.shardSizes = await fetchShardSizes(r, shards)
  }

  /**
   * ALTER TABLE .. REBALANCE SHARDS: starts the moves of the table's plan as a background
   * job (placement/rebalance-job.ts) and returns; pg_stat_concord_rebalance shows them.
   */
  private rebalanceShards(table: string): StatementResult {
    if (this.block) throw new SqlError(SqlState.activeSqlTransaction, 'ALTER TABLE .. REBALANCE SHARDS cannot run inside a transaction block')
    if (!this.currentRole().superuser) throw new SqlError(SqlState.insufficientPrivilege, 'must be superuser to rebalance shards')
    const r = this.db.replica
    r.transact((tx) => {
      const root = rebalanceTarget(tx, table)
      startRebalance(r, tx, root, rebalancePlan(r, tx, root, this.db.shardSizes), r.clock.now(), r.now())
    })
    return utility('ALTER TABLE')
  }

  /**
   * Before a statement runs: refuses its writes to tables not held here and reads the
   * tables not held here that it reads from holders (placement/statement-federation.ts).
   * A failure fails the statement (and its block) before anything ran. `targetHomes`: an
   * UPDATE or DELETE of a homed table reads only those regions' rows of it; `fresh`: no
   * kept result (query_result_cache_ttl) answers; `params`: the statement's bound
   * parameters, so a condition on one narrows the read as a constant does.
   */
  private async federate(stmt: Statement, remote: RemoteRows, targetHomes?: readonly string[], fresh = false, params: readonly RtValue[] = []): Promise<void> {
    if (stmt.kind !== 'pg' || !this.mayFederate(stmt)) return
    try {
      const ttl = fresh ? 0 : durationMillis(this.settings.show('query_result_cache_ttl') ?? '0')
      await federateStatement(stmt.node, this.block?.tx ?? this.db.replica, remote, this.db.replica, ttl, targetHomes, params)
      // The wait is where a cancel request or the deadline can be seen.
      this.budget().check()
    } catch (e) {
      if (this.block) this.block.failed = true
      throw e
    }
  }

  /** Whether `federate` has anything to refuse or read for `stmt`. */
  private mayFederate(stmt: Statement): boolean {
    if (stmt.kind !== 'pg' || this.block?.failed) return false
    // Every table is held here (no placement keeps one away, the common case): nothing to
    // refuse or read, so the statement's tree is not walked. A block that ran DDL may hold
    // tables the committed catalog does not show yet: it takes the walk.
    return this.block?.rolesTouched === true || !this.everyTableHeld()
  }

  /** Whether this node's region holds every table of the committed catalog (kept per catalog version). */
  private everyTableHeld(): boolean {
    const version = this.db.replica.catalogVersion
    if (this.heldCheck?.version !== version) {
      const region = this.db.region
      // A homed table (home_region_column) is held here only in part: its statements take the walk.
      this.heldCheck = { version, all: this.db.replica.tables().every((t) => holdsTable(region, t) && homeColumn(t) === null) }
    }
    return this.heldCheck.all
  }

  /**
   * Waits what the statement's pg_sleep calls asked for, in slices, so that a cancel
   * request or the statement's deadline ends the wait (57014, failing an open block).
   */
  private async sleepPending(): Promise<void> {
    const end = monotonicNow() + this.pendingSleepMs
    this.pendingSleepMs = 0
    try {
      for (let left = end - monotonicNow(); left > 0; left = end - monotonicNow()) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, SLEEP_SLICE_MS)))
        this.budget().check()
      }
    } catch (e) {
      if (this.block) this.block.failed = true
      throw e
    }
  }

  /** A budget for one run of the current statement (every execCtx gets one). */
  private budget(): StatementBudget {
    return new StatementBudget(this.deadline, this.budgetSource, this.memoryLimit, this.offload?.point ?? null, this.holdLimit)
  }

  /**
   * Runs the statement here; if it is eligible to move off the main thread and runs past
   * `offload_after`, runs it again from the start elsewhere over a snapshot taken when it
   * stopped (statement-offload.ts). `query`: the answer from elsewhere, ready to send.
   */
  private runOrOffload(stmt: Statement, params: RtValue[], remote: RemoteRows): Ran | { query: QueryResult } | Promise<Ran | { query: QueryResult }> {
    const pending = this.pendingOffload(stmt, params)
    if (pending === null) return this.runWaitingForIds(stmt, params, remote)
    this.offload = pending
    let running: Ran | Promise<Ran>
    try {
      running = this.runWaitingForIds(stmt, params, remote)
    } catch (e) {
      this.offload = null
      // Whatever ended a run past the point (the signal, or an error something made of
      // it), the run is discarded: the statement's answer comes from elsewhere.
      if (!(e instanceof OffloadSignal) && !pending.point.fired) throw e
      return this.runPastOffloadPoint(stmt, params, remote, pending, null)
    }
    if (running instanceof Promise) return this.awaitOffloadable(stmt, params, remote, pending, running)
    this.offload = null
    return this.runPastOffloadPoint(stmt, params, remote, pending, running)
  }

  /** `runOrOffload` for a run that waited (a row lock, SERIAL ids, a pause): the same, once it ended. */
  private async awaitOffloadable(stmt: Statement, params: RtValue[], remote: RemoteRows, pending: PendingOffload, running: Promise<Ran>): Promise<Ran | { query: QueryResult }> {
    let ran: Ran | null = null
    try {
      ran = await running
    } catch (e) {
      if (!(e instanceof OffloadSignal) && !pending.point.fired) throw e
    } finally {
      this.offload = null
    }
    return await this.runPastOffloadPoint(stmt, params, remote, pending, ran)
  }

  /**
   * What follows a run that may have passed its offload point: `ran` is its answer (null:
   * it ended by the signal or an error made of it).
   */
  private runPastOffloadPoint(stmt: Statement, params: RtValue[], remote: RemoteRows, pending: PendingOffload, ran: Ran | null): Ran | Promise<Ran | { query: QueryResult }> {
    // A run that ended without passing the point answers; one that passed it (even if
    // something swallowed the signal) is discarded and run elsewhere. A write that ran to
    // its end committed: it answers whatever happened (it must never run twice).
    if (ran !== null && (!pending.point.fired || pending.write !== undefined || pending.insert !== undefined)) {
      pending.write?.changed?.stop()
      return ran
    }
    return this.runElsewhere(stmt, params, remote, pending)
  }

  /** A run discarded past its offload point: the statement runs again from the start elsewhere, or here if not taken. */
  private async runElsewhere(stmt: Statement, params: RtValue[], remote: RemoteRows, pending: PendingOffload): Promise<Ran | { query: QueryResult }> {
    if (pending.write !== undefined) {
      // In a block, the discarded run failed it as any error does (it stopped before writing:
      // `stayHere`); the run here decides, as on the event loop.
      if (this.block !== null) this.block.failed = false
      return await this.offloadWrite(stmt, params, remote, pending)
    }
    if (pending.insert !== undefined) {
      // As for a write: the discarded run stopped before inserting (`stayHere`) and failed the block only as a signal.
      if (this.block !== null) this.block.failed = false
      return await this.offloadInsert(stmt, params, remote, pending)
    }
    // The discarded run failed an open block as any error does; it was not failed before
    // (a failed block's statement stops at 25P02), and the answer from elsewhere decides.
    if (this.block !== null) this.block.failed = false
    await this.sendSlices(pending)
    const request = this.offloadRequest(stmt, params, pending)
    let reply
    try {
      reply = await this.askOffloader(request)
    } catch (e) {
      if (this.block !== null) this.block.failed = true
      throw e
    }
    // Not taken (a snapshot over its bound, no worker): the statement runs here after all.
    if (reply === null) return await this.runWaitingForIds(stmt, params, remote)
    if (!reply.ok) {
      // An error aborts an open block here as on the event loop (25P02 until ROLLBACK [TO SAVEPOINT]).
      if (this.block !== null) this.block.failed = true
      throw sqlErrorOf(reply.error)
    }
    return { query: reply.result }
  }

  /**
   * For a statement over tables the kept engine lacks past SLICED_FROM_ROWS (`sliced`):
   * sends them in slices (`sendToEngine`). A cancel request or the deadline between slices
   * ends the statement, nothing run or written, and fails an open block as any error does.
   */
  private async sendSlices(pending: PendingOffload): Promise<void> {
    if (pending.sliced !== true) return
    try {
      await this.sendToEngine(pending)
    } catch (e) {
      if (this.block !== null) this.block.failed = true
      throw e
    }
  }

  /** Runs a moved statement on the offloader, where a cancel request reaches it; null request: null (run here). */
  private async askOffloader(request: OffloadRequest | null): Promise<OffloadReply | null> {
    if (request === null) return null
    const abort = new AbortController()
    if (this.cancelRequested) abort.abort()
    this.offloadAbort = abort
    try {
      return await this.offloader!.run(request, abort.signal)
    } finally {
      this.offloadAbort = null
    }
  }

  /** The request that moves the statement (as it stood at its offload point); null: no snapshot (over its bound). */
  private offloadRequest(stmt: Statement | null, params: RtValue[], pending: PendingOffload): OffloadRequest | null {
    const shards = pending.shards ?? null
    if (shards === null) return null
    const left = this.deadline === Infinity ? 0 : Math.max(1, Math.ceil(this.deadline - monotonicNow()))
    return {
      version: OFFLOAD_REQUEST_VERSION,
      nodeId: this.db.nodeId,
      region: this.db.region,
      nowMs: pending.nowMs,
      loginUser: this.settings.loginUser,
      database: this.database,
      processId: this.processId,
      settings: this.settings.sessionValues(),
      serverParameters: [...this.db.serverParameters],
      int8: this.db.int8,
      maxRowBytes: this.db.maxRowBytes,
      sql: stmt?.text ?? '',
      params: params as Array<string | Uint8Array | null>,
      timeoutMs: left,
      shards,
      ...(pending.engine !== undefined ? { engine: pending.engine } : {}),
      ...(pending.carried !== undefined ? { carried: pending.carried } : {}),
      ...(pending.write !== undefined ? { targetKeys: { table: pending.write.table.name, limit: MAX_OFFLOAD_TARGET_KEYS } } : {}),
      ...(pending.insert !== undefined ? { insertRows: { table: pending.insert.table, limit: MAX_OFFLOAD_INSERT_ROWS, maxBytes: MAX_OFFLOAD_INSERT_BYTES } } : {}),
    }
  }

  /**
   * An UPDATE or DELETE past its offload point (session/write-offload.ts): a worker finds
   * its target rows over the snapshot; then it runs here, its target-row scan reading only
   * those rows and the rows of the table changed since the snapshot. When the worker gives
   * no keys (no snapshot, no worker, an error there, a cancel) it runs here whole, as
   * without an offloader: its own checks end it if it was canceled or is past its deadline.
   */
  private async offloadWrite(stmt: Statement, params: RtValue[], remote: RemoteRows, pending: PendingOffload): Promise<{ result: StatementResult; durable: boolean }> {
    const write = pending.write!
    // The snapshot (and the tracking of the table's changes) is taken when the last slice is in.
    await this.sendSlices(pending)
    const changed = write.changed
    try {
      const reply = await this.askOffloader(changed === undefined ? null : this.offloadRequest(stmt, params, pending))
      this.budget().check()
      if (reply === null || !reply.ok || reply.keys === undefined || changed === undefined) return await this.runWaitingForIds(stmt, params, remote)
      changed.add(reply.keys)
      const r = this.db.replica
      const restriction = changed.restriction(() => {
        const now = r.table(write.table.name)
        return r.catalogVersion === write.catalogVersion && now !== undefined && now.incarnation === write.table.incarnation && r.holdsWhole(now)
      })
      this.targetRows = restriction
      // now() is the statement's start, as the worker had it: the WHERE answers there and here alike.
      this.pinnedNowMicros = pending.nowMs * 1000
      try {
        return await this.runWaitingForIds(stmt, params, remote)
      } finally {
        this.targetRows = null
        this.pinnedNowMicros = null
      }
    } finally {
      changed?.stop()
    }
  }

  /**
   * An INSERT .. SELECT past its offload point (runtime/insert-source.ts): a worker runs
   * its SELECT over the snapshot and returns the rows it would insert; then it runs here,
   * inserting those rows instead of running its SELECT (defaults, constraints, triggers,
   * ON CONFLICT, RETURNING as always). When the worker gives no rows (no snapshot, no
   * worker, an error there, a cancel, rows over the bound) it runs here whole, as without
   * an offloader: its own checks end it if it was canceled or is past its deadline.
   */
  private async offloadInsert(stmt: Statement, params: RtValue[], remote: RemoteRows, pending: PendingOffload): Promise<{ result: StatementResult; durable: boolean }> {
    const insert = pending.insert!
    const reply = await this.askOffloader(this.offloadRequest(stmt, params, pending))
    this.budget().check()
    if (reply === null || !reply.ok || reply.rows === undefined) return await this.runWaitingForIds(stmt, params, remote)
    const r = this.db.replica
    // The rows were converted for the catalog of the snapshot: a run after it moved runs its SELECT here.
    this.insertSource = { kind: 'supply', table: insert.table, rows: reply.rows, applies: () => r.catalogVersion === insert.catalogVersion }
    // now() is the statement's start, as the SELECT had it there (and as a run here from the start would have).
    this.pinnedNowMicros = pending.nowMs * 1000
    try {
      return await this.runWaitingForIds(stmt, params, remote)
    } finally {
      this.insertSource = null
      this.pinnedNowMicros = null
    }
  }

  /**
   * The statement's offload state when it may move off the main thread; null when it runs
   * here whatever happens. Whether it is eligible (offload-eligibility.ts) is asked only
   * once it has run `offload_after`: short statements never walk their tree for it.
   */
  private pendingOffload(stmt: Statement, params: RtValue[]): PendingOffload | null {
    if (this.offloader === null || !this.blockMayMove() || this.forwarded || this.readObserver !== null || this.rowRestriction !== null || this.temp.active) return null
    // SELECT, and UPDATE, DELETE and INSERT .. SELECT (write-offload.ts, runtime/insert-source.ts), in a block or not.
    if (stmt.kind !== 'pg' || !('SelectStmt' in stmt.node || 'UpdateStmt' in stmt.node || 'DeleteStmt' in stmt.node || 'InsertStmt' in stmt.node)) return null
    if (!params.every((p) => p === null || typeof p === 'string' || p instanceof Uint8Array)) return null
    const afterMs = durationMillis(this.settings.show('offload_after') ?? '0')
    if (afterMs <= 0) return null
    const startMs = monotonicNow()
    const pending: PendingOffload = {
      startMs,
      point: {
        at: startMs + afterMs,
        fired: false,
        // Asked from inside the run (a budget check): a failure to decide keeps the statement here, never fails it.
        movable: () => {
          try {
            return this.movable(stmt, pending)
          } catch {
            return false
          }
        },
      },
      tables: NO_TABLES,
      // In a block now() is the block's start (PostgreSQL's transaction timestamp).
      nowMs: this.block !== null ? this.block.startMicros / 1000 : this.db.replica.now(),
    }
    return pending
  }

  /**
   * Whether the open block, if any, lets a statement move: it spans no temporary relations
   * and no node or cluster setting waits for its COMMIT. Isolation is READ COMMITTED: a
   * block's statement reads the replica's current state under the block's own writes, so a
   * snapshot taken at the offload point plus the block's row writes of the tables read
   * (carried, `movable`) is what it reads. A block holding DDL, grants or other catalog
   * writes keeps its statements here (its catalog is not the snapshot's).
   */
  private blockMayMove(): boolean {
    const b = this.block
    return b === null || (!b.failed && !b.temp && !this.settings.pendingWrites)
  }

  /** Whether a statement past its offload point may move (offload-eligibility.ts); notes the tables it reads. */
  private movable(stmt: Statement, pending: PendingOffload): boolean {
    if (!this.blockMayMove()) return false
    const r = this.db.replica
    const catalog: EligibilityCatalog = {
      table: (name) => r.table(name),
      tables: () => r.tables(),
      userFunction: (name) => this.db.userFunction(name),
      holdsWhole: (info) => r.holdsWhole(info),
      viewQuery: (name) => {
        const view = readView(r, name)
        return view === undefined || view.temporary === true ? undefined : view.query
      },
      systemView: (schema, name) => this.db.system.schemaOf(schema, name),
    }
    if (stmt.kind === 'pg' && 'InsertStmt' in stmt.node) {
      // Its SELECT moves as a SELECT would (the same walk and bounds); the target is written here.
      const source = offloadInsertSource(stmt, catalog)
      // Bounded by the rows its snapshot takes whole (tables the kept engine holds go as diffs).
      if (source === null || this.coldRows(source.tables) > MAX_OFFLOAD_ROWS || source.tables.reduce((n, t) => n + r.rowCount(t.name), 0) > MAX_SLICED_ROWS) return false
      if (!this.readsMove(pending, new Set(source.tables.map((t) => t.name)))) return false
      pending.insert = { table: source.target.name, catalogVersion: r.catalogVersion }
      return true
    }
    if (stmt.kind === 'pg' && !('SelectStmt' in stmt.node)) {
      const target = offloadWriteTarget(stmt, catalog)
      if (target === null) return false
      const rows = r.rowCount(target.table.name)
      const reads = target.reads.filter((t) => t.name !== target.table.name)
      const readRows = reads.reduce((n, t) => n + r.rowCount(t.name), 0)
      const all = [target.table, ...reads]
      const cold = this.coldRows(all)
      // Past SLICED_FROM_ROWS of what the kept engine lacks, those tables go to it in slices
      // first (no pause as long as a whole snapshot's), as for a SELECT; past MAX_OFFLOAD_ROWS only so.
      const sliced = cold > SLICED_FROM_ROWS && this.fitsEngine(all) && (this.offloader?.engine?.() ?? null) !== null
      if (rows > MAX_OFFLOAD_WRITE_ROWS || rows + readRows > MAX_SLICED_ROWS || (cold > MAX_OFFLOAD_ROWS && !sliced)) return false
      // Not before it has held the event loop as long as the snapshot would (a diff, for
      // tables the offloader's kept engine holds: little).
      if (!this.rentPaid(pending, cold)) return false
      if (!this.readsMove(pending, new Set(all.map((t) => t.name)))) return false
      pending.write = { table: target.table, reads: new Set(target.reads.map((t) => t.name)), catalogVersion: r.catalogVersion }
      pending.sliced = sliced
      return true
    }
    const tables = offloadTables(stmt, catalog)
    if (tables === null) return false
    // The snapshot's cost grows with the rows (taken on the event loop): past the bound the
    // tables go to the worker's engine in slices first, within a bound of their own.
    const rows = tables.reduce((n, t) => n + r.rowCount(t.name), 0)
    const fits = this.fitsEngine(tables)
    if ((rows > MAX_OFFLOAD_ROWS && !fits) || rows > MAX_SLICED_ROWS) return false
    // As for a write: a scan of a large table no engine holds ends here long before the
    // table could be sent (count(*) over 1,000,000 rows: a fraction of a second here,
    // seconds moved, the worker loading every row first).
    if (!this.rentPaid(pending, this.coldRows(tables))) return false
    if (!this.readsMove(pending, new Set(tables.map((t) => t.name)))) return false
    // Past SLICED_FROM_ROWS, what an engine kept between statements lacks goes to it in
    // slices (no pause as long as a whole snapshot's); past MAX_OFFLOAD_ROWS only so.
    pending.sliced = rows > SLICED_FROM_ROWS && fits && (this.offloader?.engine?.() ?? null) !== null
    return rows <= MAX_OFFLOAD_ROWS || pending.sliced
  }

  /**
   * Rent or buy: whether the statement has held the event loop as long as taking `cold`
   * rows the kept engine lacks would. If not, its offload point moves to that time and
   * it is asked again then (write-offload.ts, `snapshotCostMs`).
   */
  private rentPaid(pending: PendingOffload, cold: number): boolean {
    const due = pending.startMs + snapshotCostMs(cold)
    if (monotonicNow() >= due) return true
    pending.point.at = due
    return false
  }

  /** Whether `tables` may be sent to an engine in slices: none outgrew a fresh engine at its present row count (`OUTGREW_ENGINE`). */
  private fitsEngine(tables: ReadonlyArray<{ name: string }>): boolean {
    const r = this.db.replica
    const outgrew = OUTGREW_ENGINE.get(r)
    return outgrew === undefined || tables.every((t) => r.rowCount(t.name) < (outgrew.get(t.name) ?? Infinity))
  }

  /** Rows of `tables` the offloader's kept engine does not hold (`engineHolds`): what a snapshot takes whole. */
  private coldRows(tables: ReadonlyArray<{ name: string }>): number {
    return tables.reduce((n, t) => n + (this.engineHolds(t.name) ? 0 : this.db.replica.rowCount(t.name)), 0)
  }

  /** Whether the offloader's kept engine holds every shard of `table`, in its current generation: its snapshot is then a diff. */
  private engineHolds(table: string): boolean {
    const engine = this.offloader?.engine?.() ?? null
    if (engine === null) return false
    let any = false
    for (const [id, shard] of this.db.replica.shards) {
      if (shard.viewName() !== table) continue
      const held = engine.held.get(id)
      if (held === undefined || held.generation !== shard.generation || shard.prevs.length > 0) return false
      any = true
    }
    return any
  }

  /**
   * Notes the tables a moving statement reads; in a transaction block their rows the block
   * wrote travel with it (the worker reads through them as the statement would here).
   * False when they cannot: the block holds what cannot travel (DDL ..), or too much.
   */
  private readsMove(pending: PendingOffload, names: ReadonlySet<string>): boolean {
    const carried = this.block === null ? null : this.block.tx.carryRows(names, MAX_CARRIED_ROWS)
    if (this.block !== null && (carried === null || carriedBytes(carried, MAX_CARRIED_BYTES) > MAX_CARRIED_BYTES)) return false
    pending.tables = names
    if (carried !== null && carried.tables.length > 0) pending.carried = carried
    return true
  }

  /**
   * Runs a statement; if it needed SERIAL ids while this node's new id range awaits
   * confirmation, waits (up to `serialWaitMs`) and runs it again. The failed run left no
   * trace, in a transaction block too, so the block is not aborted by it.
   */
  private runWaitingForIds(stmt: Statement, params: RtValue[], remote: RemoteRows): Ran | Promise<Ran> {
    const deadline = this.db.replica.now() + this.db.serialWaitMs
    const notifyMark = this.notifications.mark()
    // Session-level advisory locks outlive the run: one run again must not take them twice.
    const locks = this.db.rowLocks
    const owner = this.locker.owner
    const advisoryMark = locks.sessionMark(owner)
    let running: Ran | Promise<Ran>
    try {
      running = this.runAgainWhileWaiting(stmt, params, remote, deadline, notifyMark, () => locks.undoSessionSince(owner, advisoryMark))
    } catch (e) {
      locks.endSessionJournal(owner)
      throw e
    }
    if (!(running instanceof Promise)) {
      locks.endSessionJournal(owner)
      return running
    }
    return running.finally(() => locks.endSessionJournal(owner))
  }

  /**
   * Runs the statement, and again after each wait a run ended on (see the loop below). The
   * first run is made synchronously when nothing is awaited before it, and a run that
   * ends answers at once: no promise and no turn of the microtask queue for the
   * statements that wait for nothing (most of them; each async frame between the wire
   * and the run cost a turn or more).
   */
  private runAgainWhileWaiting(stmt: Statement, params: RtValue[], remote: RemoteRows, deadline: number, notifyMark: NotificationMark, undoAdvisory: () => void): Ran | Promise<Ran> {
    if (this.db.replica.isCommitting && mayWrite(stmt)) return this.runAgainLoop(stmt, params, remote, deadline, notifyMark, undoAdvisory, null)
    const block = this.block
    const { pauses, mark } = this.runMark(stmt, block)
    let ran: Ran
    try {
      ran = withDateTimeStyle(this.dateTimeStyle(), () => this.runOne(stmt, params, remote, pauses))
    } catch (error) {
      return this.runAgainLoop(stmt, params, remote, deadline, notifyMark, undoAdvisory, { block, mark, error })
    }
    if (ran.result.paused === undefined) return ran
    return this.runAgainLoop(stmt, params, remote, deadline, notifyMark, undoAdvisory, { block, mark, ran })
  }

  /**
   * Whether a run in `block` may pause (a DO block), and the savepoint it is undone to if
   * it stops on a locked row. The mark copies the block's writes: taken only when another
   * session holds a lock, or may take one while a DO block pauses.
   */
  private runMark(stmt: Statement, block: Block | null): { pauses: boolean; mark: TransactionSavepoint | null } {
    const pauses = block !== null && this.pauses(stmt)
    const mark = block !== null && !block.failed && mayLockRows(stmt) && (pauses || this.db.rowLocks.othersHold(this.locker.owner)) ? block.tx.savepoint() : null
    return { pauses, mark }
  }

  /** The runs of `runAgainWhileWaiting` from the first that did not simply end (`first`; null: none made yet). */
  private async runAgainLoop(stmt: Statement, params: RtValue[], remote: RemoteRows, deadline: number, notifyMark: NotificationMark, undoAdvisory: () => void, first: FirstRun | null): Promise<Ran> {
    for (let reads = 0; ; ) {
      let block: Block | null
      let mark: TransactionSavepoint | null
      let pauses = false
      if (first !== null) {
        block = first.block
        mark = first.mark
      } else {
        // A sliced commit applying shows none of its rows yet: a write waits for its end, then
        // reads them, as it would wait for their row locks (docs/decisions/0038-sliced-commits.md).
        if (this.db.replica.isCommitting && mayWrite(stmt)) await this.db.replica.settled()
        // A run stopped by a locked row is undone and run again once the lock is released.
        block = this.block
        ;({ pauses, mark } = this.runMark(stmt, block))
      }
      try {
        let ran: Ran
        if (first !== null) {
          const made = first
          first = null
          if ('error' in made) throw made.error
          ran = made.ran
        } else {
          ran = withDateTimeStyle(this.dateTimeStyle(), () => this.runOne(stmt, params, remote, pauses))
        }
        const paused = ran.result.paused
        return paused === undefined ? ran : await this.resumePaused(ran, paused)
      } catch (e) {
        if (e instanceof RowLockWait && (block === null || mark !== null)) {
          if (block !== null && mark !== null) {
            block.tx.rollbackTo(mark)
            block.rows.invalidate()
            block.failed = false
          } else {
            // Outside a block the run's transaction was dropped; it holds nothing while it waits.
            this.db.rowLocks.release(this.locker.owner)
          }
          undoAdvisory()
          this.notifications.rollbackTo(notifyMark)
          try {
            await this.db.rowLocks.wait(this.locker.owner, e, this.lockWaitLimits())
          } catch (failed) {
            if (this.block) this.block.failed = true
            throw failed
          }
          continue
        }
        // A table not held here that `federate` did not foresee (read by a function, an
        // EXECUTE): outside a block the failed run left no trace, so read it and run again.
        // Inside a block its writes so far might not be undone: the block fails (0A000).
        if (e instanceof UnheldRead && this.block === null && reads < MAX_UNFORESEEN_READS) {
          reads++
          undoAdvisory()
          this.notifications.rollbackTo(notifyMark)
          await readUnheld(e.unheld, remote, this.db.replica)
          this.budget().check()
          continue
        }
        if (!(e instanceof IdRangePending) || this.db.replica.now() >= deadline) throw e
        if (this.block) this.block.failed = false
        undoAdvisory()
        this.notifications.rollbackTo(notifyMark)
        await this.db.waitForIdSlot()
        try {
          // The wait is where a cancel request or the deadline can be seen; the failed run left no trace.
          this.budget().check()
        } catch (canceled) {
          if (this.block) this.block.failed = true
          throw canceled
        }
      }
    }
  }

  /** How long a wait for a row lock may last: lock_timeout, statement_timeout, a cancel request. */
  private lockWaitLimits(): LockWaitLimits {
    return {
      lockTimeoutMs: durationMillis(this.settings.show('lock_timeout') ?? '0'),
      deadline: this.deadline,
      now: monotonicNow,
      canceled: () => this.cancelRequested,
    }
  }

  /** Runs a statement over `remote` (rows holders sent for it): synchronous from start to end. */
  private runOne(stmt: Statement, params: RtValue[], remote: RemoteRows, pauses = false): { result: StatementResult; durable: boolean } {
    this.statementRemote = remote
    this.block?.rows.setRemote(remote)
    try {
      return this.runStatementNow(stmt, params, pauses)
    } finally {
      this.statementRemote = null
      // Outside a block (a statement of its own, COMMIT, ROLLBACK) the transaction ended: its locks are released.
      if (this.block === null) this.db.rowLocks.release(this.locker.owner)
      // Still in the run's synchronous stretch: the snapshot holds what the run was reading.
      const o = this.offload
      if (o !== null && o.point.fired && o.shards === undefined && o.sliced !== true) this.takeOffloadShards(o)
    }
  }

  /**
   * Takes the state a moving statement reads (the catalog and its tables), in the run's
   * synchronous stretch: for the offloader's engine kept between statements, what it
   * lacks; for a fresh one (none kept, one holding nothing, a shard it cannot take, past
   * its maxBytes), whole. Null shards: over MAX_OFFLOAD_SNAPSHOT_BYTES. A write follows
   * its table's changes from the snapshot on (write-offload.ts), started here: no turn of
   * the event loop between.
   */
  private takeOffloadShards(o: PendingOffload): void {
    const r = this.db.replica
    const only = offloadReads(o)
    const engine = this.offloader?.engine?.() ?? null
    const diff = engine !== null && engine.held.size > 0 ? takeShards(r, only, MAX_OFFLOAD_SNAPSHOT_BYTES, engine.held) : null
    if (engine !== null && diff !== null && !diff.stale && engine.bytes + diff.bytes <= engine.maxBytes) {
      o.shards = diff.shards
      o.engine = { id: engine.id, fresh: false, states: diff.states, bytes: diff.bytes }
    } else {
      const taken = takeShards(r, only, MAX_OFFLOAD_SNAPSHOT_BYTES)
      o.shards = taken?.shards ?? null
      if (taken !== null && engine !== null) o.engine = { id: engine.id, fresh: true, states: taken.states, bytes: taken.bytes }
    }
    const w = o.write
    if (w !== undefined && o.shards !== null && w.catalogVersion === r.catalogVersion) w.changed = new ChangedKeys(r, w.table.name, w.table.primaryKey.length, w.reads)
  }

  /**
   * Sends the offloader's engine, in slices, the shards of a moving SELECT's or UPDATE's
   * or DELETE's tables it lacks, each slice taken in its own turn of the event loop (`Shard.sliceState`: at
   * least the shard's state when slicing began); a shard is recorded as held with that
   * state once its last slice is applied. An engine holding nothing, or a shard in
   * another generation, or too little room beside what it holds (its maxBytes), and the
   * engine is opened afresh over the catalog first. Then takes the snapshot (what the
   * engine lacks still) as `takeOffloadShards` does at the point. Null shards when the
   * engine cannot take them (gone meanwhile, past its maxBytes even fresh, a shard with
   * older generations): the statement then runs here. A cancel request or the deadline
   * between slices ends the statement (57014).
   */
  private async sendToEngine(o: PendingOffload): Promise<void> {
    const r = this.db.replica
    const offloader = this.offloader!
    const only = offloadReads(o)
    const engine = offloader.engine?.() ?? null
    // No statement runs: the slices are only applied (the block's writes stay for the statement's request).
    const base = (shards: CutShard[], e: NonNullable<OffloadRequest['engine']>): OffloadRequest => ({
      ...this.offloadRequest(null, [], { ...o, shards, carried: undefined })!,
      engine: e,
      applyOnly: true,
    })
    const apply = async (request: OffloadRequest): Promise<boolean> => {
      const reply = await this.askOffloader(request)
      this.budget().check()
      return reply !== null && reply.ok
    }
    if (engine === null) return void (o.shards = null)
    const lacking = [...r.shards].filter(([id, shard]) => id !== CATALOG_SHARD && only(id, shard.viewName())).map(([id]) => id)
    // A fresh engine, over the catalog alone.
    const openFresh = async (): Promise<boolean> => {
      const e = offloader.engine?.() ?? null
      const taken = takeShards(r, (id) => id === CATALOG_SHARD, MAX_OFFLOAD_SNAPSHOT_BYTES)
      return e !== null && taken !== null && (await apply(base(taken.shards, { id: e.id, fresh: true, states: taken.states, bytes: taken.bytes })))
    }
    const sendLacking = async (): Promise<'sent' | 'full' | 'failed'> => {
      for (const id of lacking) {
        let e = offloader.engine?.() ?? null
        const shard = r.shards.get(id)
        if (e === null || shard === undefined || shard.prevs.length > 0) return 'failed'
        const held = e.held.get(id)
        if (held !== undefined && held.generation === shard.generation) continue
        const state = heldState(shard)
        const slices = shard.sliceState(EMPTY_STATE_VECTOR, ENGINE_SLICE_STRUCTS)
        let bytes = e.bytes
        for (let data = slices.next(); data !== null; ) {
          const next = slices.next()
          bytes += data.byteLength
          if (bytes > e.maxBytes) return 'full'
          const cut: CutShard = { shard: id, generation: shard.generation, kind: 'diff', data, stateVector: state.stateVector, overlays: [] }
          const at = e.id
          // The shard counts as held once its last slice is in.
          if (!(await apply(base([cut], { id: at, fresh: false, states: next === null ? [[id, state]] : [], bytes: data.byteLength })))) return 'failed'
          e = offloader.engine?.() ?? null
          if (e === null || e.id !== at) return 'failed'
          data = next
        }
      }
      return 'sent'
    }
    // A shard held in another generation is another document: only a fresh engine takes it.
    const otherGeneration = lacking.some((id) => {
      const held = engine.held.get(id)
      return held !== undefined && held.generation !== r.shards.get(id)!.generation
    })
    const opened = engine.held.size === 0 || otherGeneration
    if (opened && !(await openFresh())) return void (o.shards = null)
    let sent = await sendLacking()
    // No room beside what the kept engine holds: once more, on a fresh one holding only these tables.
    if (sent === 'full' && !opened) sent = (await openFresh()) ? await sendLacking() : 'failed'
    if (sent === 'full') {
      // Not even a fresh engine has room: not sent again until fewer rows.
      const outgrew = OUTGREW_ENGINE.get(r) ?? new Map<string, number>()
      OUTGREW_ENGINE.set(r, outgrew)
      for (const t of o.tables) outgrew.set(t, r.rowCount(t))
    }
    if (sent !== 'sent') return void (o.shards = null)
    this.takeOffloadShards(o)
  }

  private runStatementNow(given: Statement, params: RtValue[], pauses = false): { result: StatementResult; durable: boolean } {
    const stmt = resolveCurrentOf(given, (name) => this.cursors.currentOf(name))
    const node = stmt.kind === 'pg' ? stmt.node : null
    if (node && 'TransactionStmt' in node) return { result: this.transactionStatement(node.TransactionStmt.kind ?? 'TRANS_STMT_BEGIN', node.TransactionStmt.savepoint_name ?? '', node.TransactionStmt.options, node.TransactionStmt.chain === true), durable: true }
    if (this.block?.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
    try {
      if (node && ('VariableSetStmt' in node || 'VariableShowStmt' in node || 'AlterSystemStmt' in node || 'DiscardStmt' in node)) {
        return { result: this.settingStatement(node), durable: true }
      }
      if (stmt.kind === 'rebalance') return { result: this.rebalanceShards(stmt.table), durable: true }
      if (node && 'VacuumStmt' in node && node.VacuumStmt.is_vacuumcmd && this.block) {
        throw new SqlError(SqlState.activeSqlTransaction, 'VACUUM cannot run inside a transaction block')
      }
      if (node && 'ReindexStmt' in node && this.block && (reindexConcurrently(node.ReindexStmt) || (node.ReindexStmt.kind !== 'REINDEX_OBJECT_INDEX' && node.ReindexStmt.kind !== 'REINDEX_OBJECT_TABLE'))) {
        const what = reindexConcurrently(node.ReindexStmt) ? 'REINDEX CONCURRENTLY' : `REINDEX ${String(node.ReindexStmt.kind).replace('REINDEX_OBJECT_', '')}`
        throw new SqlError(SqlState.activeSqlTransaction, `${what} cannot run inside a transaction block`)
      }
      if (node && 'PrepareStmt' in node) {
        this.sqlPrepared.prepare(node.PrepareStmt, stmt.text, this.db.replica.now() * 1000)
        return { result: utility('PREPARE'), durable: false }
      }
      if (node && 'DeallocateStmt' in node) {
        this.sqlPrepared.deallocate(node.DeallocateStmt.isall ? null : node.DeallocateStmt.name ?? '')
        return { result: utility(node.DeallocateStmt.isall ? 'DEALLOCATE ALL' : 'DEALLOCATE'), durable: false }
      }
      if (node && 'FetchStmt' in node) return { result: this.cursors.fetch(node.FetchStmt), durable: false }
      if (node && 'ClosePortalStmt' in node) {
        this.cursors.close(node.ClosePortalStmt.portalname ?? null)
        return { result: utility(node.ClosePortalStmt.portalname ? 'CLOSE CURSOR' : 'CLOSE CURSOR ALL'), durable: false }
      }
      if (node && 'DeclareCursorStmt' in node) return this.declareCursor(node.DeclareCursorStmt, stmt.text)
      if (node && 'ListenStmt' in node) {
        this.notifications.listen(node.ListenStmt.conditionname ?? '')
        return { result: utility('LISTEN'), durable: false }
      }
      if (node && 'UnlistenStmt' in node) {
        this.notifications.unlisten(node.UnlistenStmt.conditionname ?? null)
        return { result: utility('UNLISTEN'), durable: false }
      }
      if (node && 'NotifyStmt' in node) {
        this.notifications.notify(node.NotifyStmt.conditionname ?? '', node.NotifyStmt.payload ?? '')
        return { result: utility('NOTIFY'), durable: false }
      }
      if (node && 'ExecuteStmt' in node) return this.executePrepared(node.ExecuteStmt.name ?? '', node.ExecuteStmt.params ?? [])
      assertWritable(this.writeMode(), stmt)
      if (node && 'CreateTableAsStmt' in node && node.CreateTableAsStmt.query && 'ExecuteStmt' in node.CreateTableAsStmt.query) {
        return this.createTableAsExecute(node.CreateTableAsStmt, node.CreateTableAsStmt.query.ExecuteStmt, stmt.text)
      }
      if (node && 'ConstraintsSetStmt' in node) return { result: this.setConstraints(node.ConstraintsSetStmt.constraints, !!node.ConstraintsSetStmt.deferred), durable: false }
      if (this.block) {
        if (!isDataStatement(stmt)) this.block.rolesTouched = true
        const ctx = this.execCtx(this.block.tx, params, this.block.startMicros, this.block.rows)
        ctx.deferred = this.block.deferred
        if (pauses) ctx.pausable = new PausableCalls(new RunPauses(this.db.pauseRunsAfterMs, monotonicNow), plpgsqlSteps)
        // A block that ran only data statements holds no uncommitted DDL, grants or role
        // changes for the catalog version to miss: its SELECTs may use cached plans too.
        if (!this.block.rolesTouched && !this.block.temp && !ctx.temporaryRelations) ctx.planCache = this.plans
        return { result: runInTransaction(stmt, ctx), durable: false }
      }
      const nowMicros = this.pinnedNowMicros ?? this.db.replica.now() * 1000
      const result = this.temp.transact((tx) => {
        const ctx = this.execCtx(tx, params, nowMicros)
        // Outside a block no uncommitted DDL can hide from the catalog version; temporary relations shadow names.
        if (!ctx.temporaryRelations) ctx.planCache = this.plans
        const r = runInTransaction(stmt, ctx)
        // A forwarded write's returned rows go back in one reply: bounded before it commits.
        if (this.forwarded) checkReturnedSize(r, this.forwardedBounds.returningMaxChars)
        return r
      }, this.commitOptions())
      return { result, durable: true }
    } catch (e) {
      if (this.block) this.block.failed = true
      throw e
    }
  }

  /** transaction_read_only, default_transaction_read_only and in_hot_standby as this session sees them now. */
  private readOnlyParameter(key: string): string | undefined {
    if (key === 'is_superuser') {
      try {
        return this.currentRole().superuser ? 'on' : 'off'
      } catch {
        return 'off' // a role that no longer exists
      }
    }
    const standby = !this.db.failover.writable()
    if (key === 'in_hot_standby') return standby ? 'on' : 'off'
    if (key === 'transaction_read_only') return standby || (this.block?.mode ?? this.characteristics).readOnly ? 'on' : 'off'
    if (key === 'default_transaction_read_only') return standby || this.characteristics.readOnly ? 'on' : 'off'
    return undefined
  }

  /**
   * The ParameterStatus a wire server reports for this session, at startup and whenever one
   * changes (PostgreSQL 14+ reports the first two, so libpq's target_session_attrs needs no
   * query; DateStyle and IntervalStyle tell drivers how dates and intervals print).
   */
  reportedParameters(): ReadonlyArray<readonly [string, string]> {
    const last = this.reported
    // The same array while nothing changed: the wire server asks before every ReadyForQuery.
    let same = last !== null
    for (let i = 0; same && i < REPORTED_PARAMETERS.length; i++) same = last![i]![1] === this.settings.show(REPORTED_PARAMETERS[i]![1])
    if (same) return last!
    this.reported = REPORTED_PARAMETERS.map(([name, setting]) => [name, this.settings.show(setting)!] as const)
    return this.reported
  }

  /** The running transaction's mode: READ ONLY as the block or session says, and on a standby always. */
  private writeMode(): TransactionMode {
    const mode = this.block?.mode ?? this.characteristics
    return mode.readOnly || this.db.failover.writable() ? mode : { ...mode, readOnly: true }
  }

  /** Runs `fn` in the open block's transaction, or in a transaction of its own (committed when it returns). */
  private withTransaction(fn: (ctx: ExecCtx) => StatementResult): { result: StatementResult; durable: boolean } {
    if (this.block) {
      const ctx = this.execCtx(this.block.tx, [], this.block.startMicros, this.block.rows)
      ctx.deferred = this.block.deferred
      return { result: fn(ctx), durable: false }
    }
    const nowMicros = this.db.replica.now() * 1000
    return { result: this.temp.transact((tx) => fn(this.execCtx(tx, [], nowMicros)), this.commitOptions()), durable: true }
  }

  /** EXECUTE name (args): the prepared statement with its arguments evaluated in the same transaction. */
  private executePrepared(name: string, args: Node[]): { result: StatementResult; durable: boolean } {
    const prepared = this.sqlPrepared.get(name)
    assertWritable(this.writeMode(), prepared.statement)
    return this.withTransaction((ctx) => {
      const { values, types } = SqlPreparedStatements.bindArguments(prepared, args, ctx)
      const run: ExecCtx = { ...ctx, params: values, paramTypes: types }
      run.foreignKeys = ctx.foreignKeys
      return runInTransaction(prepared.statement, run)
    })
  }

  /** CREATE TABLE .. AS EXECUTE name [(args)]: the prepared SELECT, with its arguments bound, fills the new table. */
  private createTableAsExecute(
    c: NonNullable<Extract<Node, { CreateTableAsStmt: unknown }>['CreateTableAsStmt']>,
    e: NonNullable<Extract<Node, { ExecuteStmt: unknown }>['ExecuteStmt']>,
    text: string,
  ): { result: StatementResult; durable: boolean } {
    const prepared = this.sqlPrepared.get(e.name ?? '')
    const query = prepared.statement.kind === 'pg' ? prepared.statement.node : null
    if (!query || !('SelectStmt' in query)) throw new SqlError(SqlState.wrongObjectType, 'prepared statement is not a SELECT')
    return this.withTransaction((ctx) => {
      const { values, types } = SqlPreparedStatements.bindArguments(prepared, e.params ?? [], ctx)
      const run: ExecCtx = { ...ctx, params: values, paramTypes: types }
      run.foreignKeys = ctx.foreignKeys
      return runInTransaction({ kind: 'pg', node: { CreateTableAsStmt: { ...c, query } }, text }, run)
    })
  }

  /** DECLARE: runs the cursor's query now and keeps its rows (cursors.ts). */
  private declareCursor(stmt: NonNullable<Extract<Node, { DeclareCursorStmt: unknown }>['DeclareCursorStmt']>, text: string): { result: StatementResult; durable: boolean } {
    this.cursors.checkDeclare(stmt, this.block !== null)
    const query = stmt.query
    if (!query || !('SelectStmt' in query)) throw new SqlError(SqlState.syntaxError, 'DECLARE CURSOR takes a SELECT or VALUES query')
    const nowMicros = this.block?.startMicros ?? this.db.replica.now() * 1000
    let scan: CursorScan | null = null
    const { result } = this.withTransaction((ctx) => {
      // A plain scan of one table also selects its rows' keys, for WHERE CURRENT OF.
      const keyed = keyedCursorQuery(query, (name) => ctx.tx.table(name)?.primaryKey ?? null)
      if (keyed) {
        try {
          const split = splitKeyedResult(runInTransaction({ kind: 'pg', node: keyed.node, text }, ctx), keyed.table, keyed.keyColumns)
          scan = split.scan
          return split.result
        } catch (e) {
          // Not a plain scan after all (an aggregate in the select list: 42803 ..): the query runs as written.
          if (!(e instanceof SqlError) || !e.code.startsWith('42')) throw e
        }
      }
      return runInTransaction({ kind: 'pg', node: query, text }, ctx)
    })
    this.cursors.declare(stmt, text, result, this.block !== null, nowMicros, scan)
    return { result: utility('DECLARE CURSOR'), durable: false }
  }

  /** CREATE / ALTER / DROP SUBSCRIPTION: they reach the publisher first, so they run outside core transactions. */
  private async subscriptionStatement(node: Node): Promise<StatementResult> {
    if (this.block?.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
    const what = 'CreateSubscriptionStmt' in node ? 'CREATE' : 'DropSubscriptionStmt' in node ? 'DROP' : 'ALTER'
    if (!this.currentRole().superuser) throw new SqlError(SqlState.insufficientPrivilege, `must be superuser to ${what.toLowerCase()} subscriptions`)
    if (this.block) {
      this.block.failed = true
      throw new SqlError(SqlState.activeSqlTransaction, `${what} SUBSCRIPTION cannot run inside a transaction block`)
    }
    const db = this.db
    const host: SubscriptionHost = {
      nodeId: db.nodeId,
      catalog: db.replica,
      connector: db.connector,
      now: () => db.replica.now(),
      write: async (name, value) => {
        db.replica.transact((tx) => tx.setCatalog(SUBSCRIPTION_KIND, name, value))
        await db.replica.durable()
      },
    }
    if ('CreateSubscriptionStmt' in node) return execCreateSubscription(node.CreateSubscriptionStmt, host)
    if ('AlterSubscriptionStmt' in node) return execAlterSubscription(node.AlterSubscriptionStmt, host)
    if ('DropSubscriptionStmt' in node) return execDropSubscription(node.DropSubscriptionStmt, host)
    throw new SqlError(SqlState.internalError, 'not a subscription statement')
  }

  /** Opens a transaction block running in `mode`. */
  private beginBlock(mode: TransactionMode): void {
    const tx = this.temp.begin()
    this.block = {
      tx, rows: this.newRows(tx), startMicros: this.db.replica.now() * 1000, failed: false, savepoints: [], mode,
      deferred: new DeferredConstraints(), rolesTouched: false, queried: false, temp: this.temp.active,
    }
    this.settings.beginTransaction()
    this.notifications.begin()
  }

  /**
   * BEGIN, COMMIT, ROLLBACK and savepoints. `chain` (COMMIT / ROLLBACK AND CHAIN): once the
   * block has ended, a new one starts with the ended block's characteristics (read only or
   * not), as in PostgreSQL; outside a block it is 25P01, not a notice. The new block opens
   * in runStatement, after the ended one is durable, its row locks released and its
   * notifications sent (`chainMode`).
   */
  private transactionStatement(kind: string, savepoint: string, options: Node[] | undefined, chain = false): StatementResult {
    if (chain && !this.block && (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK')) {
      throw new SqlError(SqlState.noActiveSqlTransaction, `${kind === 'TRANS_STMT_COMMIT' ? 'COMMIT' : 'ROLLBACK'} AND CHAIN can only be used in transaction blocks`)
    }
    switch (kind) {
      case 'TRANS_STMT_BEGIN': case 'TRANS_STMT_START': {
        if (this.block) return utility('BEGIN', ['there is already a transaction in progress'])
        this.beginBlock(applyTransactionOptions(this.characteristics, options))
        return utility('BEGIN')
      }
      case 'TRANS_STMT_COMMIT': {
        const block = this.block
        this.block = null
        if (!block) return utility('COMMIT', ['there is no transaction in progress'])
        if (block.failed) {
          this.settings.endTransaction(false)
          this.cursors.endBlock(false)
          this.notifications.abort()
          if (chain) this.chainMode = block.mode
          return utility('ROLLBACK')
        }
        try {
          // Deferred constraints are checked last; a violation rolls the block back.
          const due = block.deferred.due(true)
          if (due.length) this.execCtx(block.tx, [], block.startMicros, block.rows).foreignKeys.runDeferred(due)
          // Node and cluster settings SET in the block are written in its core transaction.
          for (const w of this.settings.commitWrites()) block.tx.setCatalog(w.kind, w.name, w.value)
          block.tx.commit(this.commitOptions())
        } catch (e) {
          this.settings.endTransaction(false)
          this.cursors.endBlock(false)
          this.notifications.abort()
          throw e
        }
        this.settings.endTransaction(true)
        this.cursors.endBlock(true)
        if (chain) this.chainMode = block.mode
        return utility('COMMIT')
      }
      case 'TRANS_STMT_ROLLBACK': {
        const block = this.block
        if (!block) return utility('ROLLBACK', ['there is no transaction in progress'])
        this.block = null
        this.settings.endTransaction(false)
        this.cursors.endBlock(false)
        this.notifications.abort()
        if (chain) this.chainMode = block.mode
        return utility('ROLLBACK')
      }
      case 'TRANS_STMT_SAVEPOINT': case 'TRANS_STMT_RELEASE': case 'TRANS_STMT_ROLLBACK_TO': {
        // A savepoint marks the block's writes; rolling back to it restores them.
        const block = this.block
        const what = kind === 'TRANS_STMT_SAVEPOINT' ? 'SAVEPOINT' : kind === 'TRANS_STMT_RELEASE' ? 'RELEASE SAVEPOINT' : 'ROLLBACK TO SAVEPOINT'
        if (!block) throw new SqlError(SqlState.noActiveSqlTransaction, `${what} can only be used in transaction blocks`)
        if (kind === 'TRANS_STMT_SAVEPOINT') {
          if (block.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
          block.savepoints.push({ name: savepoint, mark: block.tx.savepoint(), notify: this.notifications.mark(), cursors: this.cursors.mark() })
          this.settings.savepoint()
          return utility('SAVEPOINT')
        }
        let i = block.savepoints.length - 1
        while (i >= 0 && block.savepoints[i]!.name !== savepoint) i--
        if (i < 0) {
          block.failed = true
          throw new SqlError(SqlState.invalidSavepointSpecification, `savepoint "${savepoint}" does not exist`)
        }
        if (kind === 'TRANS_STMT_RELEASE') {
          if (block.failed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
          block.savepoints.length = i
          this.settings.releaseSavepoint(i)
          return utility('RELEASE')
        }
        block.tx.rollbackTo(block.savepoints[i]!.mark)
        this.notifications.rollbackTo(block.savepoints[i]!.notify)
        this.cursors.rollbackTo(block.savepoints[i]!.cursors)
        block.rows.invalidate()
        block.savepoints.length = i + 1
        block.failed = false
        this.settings.rollbackToSavepoint(i)
        return utility('ROLLBACK')
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, 'prepared transactions are not supported')
    }
  }

  private execCtx(tx: Transaction, params: RtValue[], nowMicros: number, rows = this.newRows(tx)): ExecCtx {
    const db = this.db
    const cb = this.sessionCallbacks
    const methods = this.contextMethods
    const keyHost = new ContextKeyHost()
    const ctx: ExecCtx = {
      tx,
      temporaryRelations: this.block ? this.block.tx === tx && this.block.temp : this.temp.active,
      rows,
      foreignKeys: new ForeignKeyChecks(keyHost),
      params,
      nowMicros,
      // Every field named, absent ones undefined: one shape for every statement's context
      // (a conditional spread made a temporary object and a shape of its own per case).
      targetRows: this.targetRows ?? undefined,
      insertSource: this.insertSource ?? undefined,
      clockMicros: cb.clockMicros,
      nodeId: db.nodeId,
      region: db.region,
      database: this.database,
      settings: this.settings,
      // Set below, once the context can build the role directory.
      role: BOOTSTRAP,
      roles: methods.roles,
      // After a block changed roles, grants or owners, its own transaction shows them; otherwise the database's cached copy is current.
      roleDirectory: this.block?.rolesTouched ? undefined : db.roles(),
      // Inside BEGIN .. COMMIT a function the block created (or replaced) is read from the block's transaction.
      functions: this.block ? txFunctions(tx) : txFunctions(tx, methods.committedFunction),
      committedSearchPath: db.committedSearchPath,
      partitions: db.partitions,
      systemView: methods.systemView,
      catalog: methods.catalog,
      catalogModel: undefined,
      random: cb.random,
      hlc: cb.hlc,
      sessionObjects: cb.sessionObjects,
      nextId: cb.nextId,
      notify: cb.notify,
      sleep: cb.sleep,
      listeningChannels: cb.listeningChannels,
      tableChanges: this.db.tableChanges,
      membership: this.db.membership,
      rebalancePlan: methods.rebalancePlan,
      nodeCaughtUp: cb.nodeCaughtUp,
      processId: this.processId,
      nextSerial: cb.nextSerial,
      allTables: methods.allTables,
      sequences: this.sequences.access(tx),
      replication: cb.replication,
      callUserFunction,
      callUserSetFunction,
      depth: 0,
      budget: this.budget(),
      // Set by the caller or later in the run: named here, so adding them keeps the shape.
      planSlots: undefined,
      planCache: undefined,
      deferred: undefined,
      paramTypes: undefined,
      transitionTables: undefined,
      pausable: undefined,
      notices: undefined,
    }
    keyHost.ctx = ctx
    ctx.role = sessionRole(this.settings.user, ctx)
    return ctx
  }

  /** SET CONSTRAINTS {ALL | name, ..} {DEFERRED | IMMEDIATE}. */
  private setConstraints(names: Node[] | undefined, deferred: boolean): StatementResult {
    const list = (names ?? []).map((n) => ('RangeVar' in n ? n.RangeVar.relname ?? '' : ''))
    const all = list.length === 0
    const tables = (this.block?.tx ?? this.db.replica).tables()
    for (const name of list) {
      const fk = tables.flatMap((t) => foreignKeysOf(t)).find((k) => k.name === name)
      if (!fk) throw new SqlError(SqlState.undefinedObject, `constraint "${name}" does not exist`)
      if (!fk.deferrable) throw new SqlError(SqlState.wrongObjectType, `constraint "${name}" is not deferrable`)
    }
    if (!this.block) return utility('SET CONSTRAINTS', ['SET CONSTRAINTS can only be used in transaction blocks'])
    this.block.deferred.set(all ? null : list, deferred)
    // Constraints made IMMEDIATE are checked now, as in PostgreSQL.
    const due = this.block.deferred.due(false)
    if (due.length) this.execCtx(this.block.tx, [], this.block.startMicros, this.block.rows).foreignKeys.runDeferred(due)
    return utility('SET CONSTRAINTS')
  }

  /**
   * SET default_transaction_read_only / transaction_read_only: the parameter forms of SET
   * SESSION CHARACTERISTICS AS TRANSACTION and SET TRANSACTION (they were refused as
   * read-only parameters). The session's default is set outside a transaction block only
   * (inside one, PostgreSQL would undo it with the block: 0A000 here).
   */
  /** A connection's startup `-c default_transaction_read_only=on` (PGOPTIONS): as SET before any block. */
  setDefaultReadOnly(value: string): void {
    this.setReadOnly('default_transaction_read_only', value, false)
  }

  private setReadOnly(setting: string, value: string | null, isLocal: boolean): StatementResult {
    let readOnly = false
    if (value !== null) {
      const v = value.toLowerCase()
      if (['on', 'true', 'yes', '1', 't', 'y'].includes(v)) readOnly = true
      else if (!['off', 'false', 'no', '0', 'f', 'n'].includes(v)) throw new SqlError(SqlState.invalidParameterValue, `parameter "${setting}" requires a Boolean value`)
    }
    if (setting === 'transaction_read_only') {
      this.refuseReadWriteSwitch(readOnly)
      if (this.block) this.block.mode = { ...this.block.mode, readOnly }
      return utility(value === null ? 'RESET' : 'SET')
    }
    if (isLocal) return utility('SET', this.block ? undefined : ['SET LOCAL can only be used in transaction blocks'])
    if (this.block) throw new SqlError(SqlState.featureNotSupported, 'SET default_transaction_read_only inside a transaction block is not supported', { hint: 'Set it outside the block, or use SET TRANSACTION READ ONLY in it.' })
    this.characteristics = { ...this.characteristics, readOnly }
    return utility(value === null ? 'RESET' : 'SET')
  }

  /** SET TRANSACTION .. / SET SESSION CHARACTERISTICS AS TRANSACTION .. */
  private setTransactionMode(name: string, args: Node[] | undefined): StatementResult {
    if (name.toUpperCase() === 'SESSION CHARACTERISTICS') {
      this.characteristics = applyTransactionOptions(this.characteristics, args)
      return utility('SET')
    }
    if (!this.block) {
      applyTransactionOptions(this.characteristics, args)
      return utility('SET', ['SET TRANSACTION can only be used in transaction blocks'])
    }
    const mode = applyTransactionOptions(this.block.mode, args)
    this.refuseReadWriteSwitch(mode.readOnly)
    this.block.mode = mode
    return utility('SET')
  }

  /**
   * PostgreSQL's check_transaction_read_only: a read-only block turns read-write only
   * before its first query, and never inside a savepoint (25001).
   */
  private refuseReadWriteSwitch(readOnly: boolean): void {
    const block = this.block
    if (block === null || readOnly || !block.mode.readOnly) return
    if (block.savepoints.length > 0) throw new SqlError(SqlState.activeSqlTransaction, 'cannot set transaction read-write mode inside a read-only transaction')
    if (block.queried) throw new SqlError(SqlState.activeSqlTransaction, 'transaction read-write mode must be set before any query')
  }

  private settingStatement(node: Node): StatementResult {
    if ('VariableShowStmt' in node) {
      const rel = showRelation(node.VariableShowStmt.name ?? '', this.settings, this.db)
      return { command: 'SHOW', rowCount: null, columns: rel.columns, rows: rel.rows(null) }
    }
    if ('DiscardStmt' in node && node.DiscardStmt.target === 'DISCARD_TEMP') {
      this.discardTemp()
      return utility('DISCARD TEMP')
    }
    if ('DiscardStmt' in node && node.DiscardStmt.target === 'DISCARD_SEQUENCES') {
      this.sequences.discard()
      return utility('DISCARD SEQUENCES')
    }
    // Plans are cached per node and checked against the catalog on use: nothing of the session's to drop.
    if ('DiscardStmt' in node && node.DiscardStmt.target === 'DISCARD_PLANS') return utility('DISCARD PLANS')
    if ('DiscardStmt' in node) {
      // First: it refuses a transaction block (25001) before anything is discarded.
      this.settings.discardAll()
      this.characteristics = { readOnly: false }
      this.discardTemp()
      this.sequences.discard()
      this.sqlPrepared.deallocate(null)
      this.cursors.close(null)
      this.notifications.unlisten(null)
      this.db.rowLocks.releaseSession(this.locker.owner)
      return utility('DISCARD ALL')
    }
    if ('AlterSystemStmt' in node) {
      const s = node.AlterSystemStmt.setstmt!
      const kind = s.kind ?? 'VAR_SET_VALUE'
      if (!this.currentRole().superuser) throw new SqlError(SqlState.insufficientPrivilege, `permission denied to set parameter "${s.name ?? ''}"`)
      const writes = kind === 'VAR_RESET_ALL' ? this.settings.alterSystemResetAll() : this.settings.alterSystem(s.name ?? '', kind === 'VAR_SET_VALUE' ? (s.args ?? []).map(argText).join(', ') : null)
      this.writeSettings(writes)
      return utility('ALTER SYSTEM')
    }
    const s = (node as { VariableSetStmt: NonNullable<Extract<Node, { VariableSetStmt: unknown }>['VariableSetStmt']> }).VariableSetStmt
    const kind = s.kind ?? 'VAR_SET_VALUE'
    if (kind === 'VAR_RESET_ALL') {
      this.settings.resetAll()
      // default_transaction_read_only is a session parameter too (SET SESSION CHARACTERISTICS).
      if (!this.block) this.characteristics = { readOnly: false }
      return utility('RESET')
    }
    if (kind === 'VAR_SET_MULTI') return this.setTransactionMode(s.name ?? '', s.args)
    const setting = (s.name ?? '').toLowerCase()
    if (setting === 'default_transaction_read_only' || setting === 'transaction_read_only') {
      return this.setReadOnly(setting, kind === 'VAR_SET_VALUE' ? (s.args ?? []).map(argText).join(', ') : null, !!s.is_local)
    }
    if (setting === 'role' || setting === 'session_authorization') return this.setRole(setting, kind, s.args, !!s.is_local)
    // SET of a node or cluster parameter writes the replicated catalog: superusers only, as ALTER SYSTEM.
    const scope = parameterDef((s.name ?? '').toLowerCase())?.scope
    if (scope !== undefined && scope !== 'session' && !this.currentRole().superuser) {
      throw new SqlError(SqlState.insufficientPrivilege, `permission denied to set parameter "${s.name ?? ''}"`)
    }
    const value = kind === 'VAR_SET_VALUE' ? (s.args ?? []).map(argText).join(', ') : null
    const { writes, warning } = this.settings.set(s.name ?? '', value, !!s.is_local)
    this.writeSettings(writes)
    return utility(kind === 'VAR_RESET' ? 'RESET' : 'SET', warning ? [warning] : undefined)
  }

  /** The role statements run as, as the open block (or else the replica) sees the catalog. */
  private currentRole(): RoleRecord {
    const block = this.block
    return sessionRole(this.settings.user, { roles: () => (block?.rolesTouched ? new RoleDirectory(block.tx) : this.db.roles()) })
  }

  /**
   * SET [LOCAL] ROLE / SET SESSION AUTHORIZATION, and their RESET / DEFAULT / NONE forms.
   * SESSION AUTHORIZATION to another role needs a login role that is a superuser; ROLE
   * needs a session user that is a superuser or a member of the role. Both are session
   * parameters (undone with a rolled-back block); privileges are then checked as the new
   * current_user.
   */
  private setRole(setting: string, kind: string, args: Node[] | undefined, isLocal: boolean): StatementResult {
    const given = kind === 'VAR_SET_VALUE' ? (args ?? []).map(argText).join('') : null
    let target = given === null || (setting === 'role' && given.toLowerCase() === 'none') ? null : given
    const directory = this.block?.rolesTouched ? new RoleDirectory(this.block.tx) : this.db.roles()
    if (target !== null) {
      const role = directory.role(target)
      if (!role) throw new SqlError(SqlState.undefinedObject, `role "${target}" does not exist`)
      if (setting === 'session_authorization') {
        if (target === this.settings.loginUser) target = null
        else if (!sessionRole(this.settings.loginUser, { roles: () => directory }).superuser) {
          throw new SqlError(SqlState.insufficientPrivilege, 'permission denied to set session authorization')
        }
      } else {
        const session = sessionRole(this.settings.sessionUser, { roles: () => directory })
        if (!session.superuser && session.oid !== role.oid && !directory.memberOf(session.oid).has(role.oid)) {
          throw new SqlError(SqlState.insufficientPrivilege, `permission denied to set role "${target}"`)
        }
      }
    }
    const { warning } = this.settings.setIdentity(setting === 'role' ? 'role' : 'session_authorization', target, isLocal)
    // A new session user starts with no SET ROLE in effect.
    if (setting === 'session_authorization') this.settings.setIdentity('role', null, isLocal)
    return utility(kind === 'VAR_RESET' ? 'RESET' : 'SET', warning ? [warning] : undefined)
  }

  /** Performs node and cluster setting writes outside a transaction block (autocommit). */
  private writeSettings(writes: Array<{ kind: string; name: string; value: Json | null }>): void {
    if (writes.length === 0) return
    this.db.replica.transact((tx) => {
      for (const w of writes) tx.setCatalog(w.kind, w.name, w.value)
    })
  }
}

/** How often a pg_sleep wait looks at the cancel flag and the statement's deadline. */
const SLEEP_SLICE_MS = 50

/** Lets I/O callbacks run (a resolved promise would run only microtasks); setImmediate where there is one (Node), as timers are clamped to 1 ms. */
function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)))
}

/** Whether a statement plans a rebalance (REBALANCE SHARDS, concord_rebalance_plan), which needs the shards' sizes first. */
function plansRebalance(stmt: Statement): boolean {
  return stmt.kind === 'rebalance' || /concord_rebalance_plan/i.test(stmt.text)
}

/** Whether a statement may lock rows (anything but transaction control and settings). */
/** Statements that never share a multi-statement query's implicit transaction (see joinsImplicitBlock). */
const NO_IMPLICIT_BLOCK = [
  'TransactionStmt', 'CopyStmt', 'VacuumStmt', 'CreatedbStmt', 'DropdbStmt', 'AlterSystemStmt', 'DiscardStmt', 'ReindexStmt',
  'CreateSubscriptionStmt', 'AlterSubscriptionStmt', 'DropSubscriptionStmt', 'ClusterStmt', 'CheckPointStmt', 'AlterDatabaseStmt',
]

/** Table parameters that place a table's rows (on other nodes, possibly). */
const PLACEMENT_OPTIONS = ['replication_regions', 'shard_location', 'shard_replication_factor', 'home_region_column']

const implicitStatements = new Map<string, Statement>()

/** BEGIN / COMMIT of a multi-statement query's implicit transaction. */
function implicitStatement(sql: 'BEGIN' | 'COMMIT'): Statement {
  let s = implicitStatements.get(sql)
  if (s === undefined) implicitStatements.set(sql, (s = parseScript(sql)[0]!))
  return s
}

function mayLockRows(stmt: Statement): boolean {
  if (stmt.kind !== 'pg') return true
  const n = stmt.node
  return !('TransactionStmt' in n || 'VariableSetStmt' in n || 'VariableShowStmt' in n)
}

/**
 * The function `SELECT f(..)` calls when that is the whole statement (one call in the
 * select list, arguments constants or parameters, nothing else); null for any other.
 */
function topLevelCall(n: Node): string | null {
  if (!('SelectStmt' in n)) return null
  // Asked of every statement of a session that pauses: the cheap tests first, with no copy.
  const select = n.SelectStmt
  if (select.targetList?.length !== 1 || (select.fromClause?.length ?? 0) > 0) return null
  const target = select.targetList[0]!
  const val = 'ResTarget' in target ? target.ResTarget.val : undefined
  if (val === undefined || !('FuncCall' in val)) return null
  for (const [k, v] of Object.entries(select)) {
    if (k === 'targetList' || v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue
    if (!(k === 'op' && v === 'SETOP_NONE') && !(k === 'limitOption' && v === 'LIMIT_OPTION_DEFAULT')) return null
  }
  const f = val.FuncCall
  if (f.over !== undefined || f.agg_star === true || f.agg_distinct === true || f.func_variadic === true || (f.agg_order?.length ?? 0) > 0 || f.agg_filter !== undefined) return null
  const names = f.funcname ?? []
  const last = names[names.length - 1]
  if (last === undefined || !('String' in last) || names.length > 2) return null
  const constant = (a: Node): boolean => 'A_Const' in a || 'ParamRef' in a || ('TypeCast' in a && a.TypeCast.arg !== undefined && constant(a.TypeCast.arg))
  return (f.args ?? []).every(constant) ? (last.String.sval ?? '') : null
}

/** SELECT, INSERT, UPDATE, DELETE: statements that cannot change roles, grants or owners. */
function isDataStatement(stmt: Statement): boolean {
  if (stmt.kind !== 'pg') return false
  const n = stmt.node
  return ('SelectStmt' in n && !n.SelectStmt.intoClause) || 'InsertStmt' in n || 'UpdateStmt' in n || 'DeleteStmt' in n
}

function isSubscriptionStatement(n: Node): boolean {
  return 'CreateSubscriptionStmt' in n || 'AlterSubscriptionStmt' in n || 'DropSubscriptionStmt' in n
}

function argText(n: Node): string {
  if ('A_Const' in n) {
    const c = n.A_Const
    if (c.sval) return c.sval.sval ?? ''
    if (c.ival) return String(c.ival.ival ?? 0)
    if (c.fval) return c.fval.fval ?? ''
    if (c.boolval) return c.boolval.boolval ? 'on' : 'off'
    return ''
  }
  if ('TypeCast' in n && n.TypeCast.arg) return argText(n.TypeCast.arg)
  if ('ColumnRef' in n) return nameList(n.ColumnRef.fields).join('.')
  return ''
}

/**
 * A statement's context as its foreign-key checks' host: one object reading the context,
 * where a host of four closures over the statement's transaction and rows was five
 * objects and their scope per statement (~0.25 KB of a point SELECT's allocation). The
 * context's transaction, rows and time are set when it is made and never changed after.
 */
class ContextKeyHost implements ForeignKeyHost {
  /** The context, set once it is made (before any check runs). */
  ctx: ExecCtx | null = null

  get rows(): TransactionRows {
    return this.ctx!.rows
  }

  get nowMicros(): number {
    return this.ctx!.nowMicros
  }

  table(name: string): TableInfo | undefined {
    return this.ctx!.tx.table(name)
  }

  tables(): readonly TableInfo[] {
    return this.ctx!.tx.tables()
  }

  writerFor(table: TableInfo): TableWriter {
    return new TableWriter(table, rootPlanCtx(this.ctx!))
  }
}

/** The execution context's members `contextMethods` makes. */
type ContextMethods = Pick<ExecCtx, 'roles' | 'systemView' | 'catalog' | 'rebalancePlan' | 'allTables'> & {
  /** A committed user function, as the database caches them (`txFunctions` outside a block). */
  committedFunction(name: string): UserFunction | undefined
}

/**
 * The execution context's functions that read the statement's transaction, as methods
 * called on the context (`this`): made once per session. As closures over each
 * statement's transaction they were six functions and their scope per statement (~0.3 KB
 * of a point SELECT's ~13 KB allocated, by `npm run bench:alloc`). A spread copy of a
 * context (a function call's) reads through itself, with the same transaction.
 */
function contextMethods(db: SessionHost): ContextMethods {
  return {
    roles(this: ExecCtx): RoleDirectory {
      return (this.roleDirectory ??= new RoleDirectory(this.tx))
    },
    systemView(this: ExecCtx, schema: string | null, name: string) {
      return db.system.view(schema, name, this)
    },
    catalog(this: ExecCtx): CatalogModel {
      return (this.catalogModel ??= db.system.model(this.tx, this))
    },
    rebalancePlan(this: ExecCtx, table: string) {
      return rebalancePlan(db.replica, this.tx, rebalanceTarget(this.tx, table), db.shardSizes)
    },
    allTables(this: ExecCtx) {
      return this.tx.tables()
    },
    committedFunction: (name) => db.userFunction(name),
  }
}

/** User functions as a block's transaction holds them, each read once per statement. */
/**
 * User functions as `tx` sees them: the database's cached `committed` ones while the
 * transaction has written no catalog object (outside a block), else read from the
 * transaction and remembered until its next catalog write (a function a statement's own
 * EXECUTE replaced is called as replaced).
 */
function txFunctions(tx: Transaction, committed?: (name: string) => UserFunction | undefined): (name: string) => UserFunction | undefined {
  // Made at the first lookup: every statement makes this function, few call it.
  let seen: Map<string, UserFunction | undefined> | null = null
  let at = tx.catalogWrites
  return (name) => {
    const writes = tx.catalogWrites
    if (committed !== undefined && writes === 0) return committed(name)
    seen ??= new Map()
    if (writes !== at) {
      seen.clear()
      at = writes
    }
    if (!seen.has(name)) {
      const v = tx.getCatalog('function', name)
      seen.set(name, v === undefined || v === null ? undefined : functionFromCatalog(v))
    }
    return seen.get(name)
  }
}
