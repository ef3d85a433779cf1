/**
 * The interfaces a replica plugs into and the surface it offers the layers above.
 *
 * Core knows nothing of sockets, files or timers: each environment (Node server, browser,
 * simulator) supplies a `Transport`, a `Storage`, a clock, a random source and a
 * `Scheduler`. Everything that waits or reads time goes through these, so the simulator
 * can drive a replica deterministically.
 */
import type { CatalogChange, ColumnKind, ColumnSpec, ConflictRecord, Json, PartitionSpec, PolicySpec, Resolver, Row, RowChange, TableInfo, TableSpec, Value } from './types.js'

/** One durable record of a shard: an update, or a snapshot that replaces everything before it. */
export interface StoredRecord {
  /** Generation of the shard this record belongs to (docs/decisions/0012-generations.md). */
  generation: number
  kind: 'update' | 'snapshot'
  data: Uint8Array
}

/**
 * A storage write failed because the medium is full: the disk, the file system's quota,
 * the browser's storage quota. The `Storage` contract names this one failure because the
 * replica reports it apart (a full disk, SQLSTATE 53100, rather than an I/O error) and
 * because it is expected to pass once room is made: the write is parked and retried.
 * Matched by class, or by `name` for an error from another copy of this module.
 */
export class StorageFullError extends Error {
  constructor(message = 'no space left on the storage medium', options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageFullError'
  }
}

/**
 * Durable storage of shard documents. Implementations must make `append` durable before
 * its returned promise settles (or before it returns, when it returns nothing): a replica
 * only tells a client a write is done, and only gossips it to peers, once that holds.
 *
 * Failures: a write (append, compact, remove, setMeta) that fails because the medium is
 * full rejects (or throws) with a `StorageFullError`; any other failure with any other
 * error. A failed write changes nothing: an append batch lands whole or not at all.
 * Arguments a storage cannot hold (a name or value past its limits) are refused with a
 * `RangeError` or `TypeError`, never by a full-medium error.
 */
export interface Storage {
  /** Appends updates to shards, atomically across the batch. */
  append(batch: Array<{ shard: string; record: StoredRecord }>): void | Promise<void>
  /** Every shard id this storage holds. */
  shards(): string[] | Promise<string[]>
  /** The records of one shard, oldest first, starting at its latest snapshot. */
  load(shard: string): StoredRecord[] | Promise<StoredRecord[]>
  /** Replaces all records of a shard by one snapshot. */
  compact(shard: string, snapshot: StoredRecord): void | Promise<void>
  /** Removes a shard (dropped table). */
  remove(shard: string): void | Promise<void>
  /** Small durable key-value area for replica metadata (client ids, counters). */
  getMeta(key: string): Uint8Array | undefined | Promise<Uint8Array | undefined>
  setMeta(key: string, value: Uint8Array): void | Promise<void>
  close?(): void | Promise<void>
}

/** Receives what a transport hears. */
export interface TransportHandler {
  onMessage(from: string, data: Uint8Array): void
  onPeerUp(peer: string): void
  onPeerDown(peer: string): void
}

/**
 * Best-effort message passing between replicas. Messages may be lost, delayed,
 * duplicated or reordered; the replication protocol repairs all of that.
 * Peers are named by their replica node id.
 */
export interface Transport {
  start(handler: TransportHandler): void | Promise<void>
  /** Sends to one peer (anti-entropy, hello). */
  send(peer: string, data: Uint8Array): void
  /** Sends to every peer subscribed to `topic` (fresh updates: gossip). */
  publish(topic: string, data: Uint8Array): void
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /** Peers currently connected. */
  peers(): string[]
  /**
   * Bytes queued for `peer` and not yet written, when the transport can tell. A message
   * sent in fragments is paced by it, so a transport that drops past a queue limit is
   * never handed more than about one message's worth at a time.
   */
  backlog?(peer: string): number
  stop(): void | Promise<void>
}

/**
 * Which shards flow between which nodes (see Replica.setLinkPolicy). Every node must
 * answer alike for any pair (derive it from the replicated catalog): it also decides
 * who may build a shard's generations.
 */
export interface LinkPolicy {
  /** Whether node `receiver` applies what node `sender` sends of shard `shardId`. */
  accepts(receiver: string, sender: string, shardId: string): boolean
}

/** Timers, injected so the simulator owns time. */
export interface Scheduler {
  setTimeout(ms: number, fn: () => void): () => void
}

export interface ReplicaOptions {
  /** Unique and stable per node; must not contain '\u0000'. */
  nodeId: string
  /** Region this node serves; default 'default'. */
  region?: string
  storage?: Storage
  transport?: Transport
  /**
   * Answer from local rows at once even on empty storage (no catch-up wait for a brand-new
   * joiner, placement/join-catch-up.ts): for offline-first replicas (the browser), whose
   * application shows sync status itself. It still records its joining, so others do not
   * catch up from it before it has caught up itself. Default false.
   */
  answerBeforeCatchUp?: boolean
  /** Wall clock in milliseconds; default Date.now. */
  clock?: () => number
  /** Uniform random in [0, 1); default Math.random. */
  random?: () => number
  scheduler?: Scheduler
  resolvers?: Record<string, Resolver>
  /** Partition (shard) number of a row of a partitioned table; default 0 for all rows. */
  partitionOf?: (table: TableInfo, row: Row) => number
  /**
   * Store a row snapshot at a clean close and at each `checkpointRows`, so the next open
   * serves rows before applying the shards' records (rows/row-snapshot.ts); default true.
   */
  rowSnapshots?: boolean
  /**
   * Rows a `checkpointRows` encodes per turn of the scheduler (`setTimeout(0)` between
   * turns), so a checkpoint of a large replica does not hold its thread for the whole
   * encoding (about 2 µs a row); the rows and books are taken in one step first, and a
   * write meanwhile only makes the stored checkpoint older than the log. Default 0: the
   * whole encoding in one step (a browser page being hidden, whose timers are throttled,
   * checkpoints so). A clean close always encodes in one step.
   */
  checkpointRowsPerTurn?: number
  /**
   * Schedules the hand-off to storage of what an operation applied from peers alone (no
   * local change in it): the node server's runs `fn` after its event loop's next look at
   * the sockets, so a read waiting there (of the row just applied) is answered before the
   * row's records are encoded and queued. Whatever waits for durability meanwhile waits for
   * that hand-off first. Default: handed over as the operation settles.
   */
  handOffRemote?: (fn: () => void) => void
  /** Something stored could not be used and the replica worked around it (a damaged row snapshot: loaded from the records instead). */
  onWarning?: (message: string) => void
  /** Milliseconds between anti-entropy rounds; default 1000. 0 disables the timer. */
  antiEntropyIntervalMs?: number
  /**
   * Milliseconds between housekeeping rounds (membership, generations: see Housekeeper);
   * default `antiEntropyIntervalMs`. 0 disables the timer (`compactionRound()` still runs one).
   */
  housekeepingIntervalMs?: number
  /** Milliseconds fresh updates may wait to be batched before gossip; default 0 (next tick). */
  gossipDelayMs?: number
  /**
   * Peers' catalog changes are applied at most once per this many milliseconds, those that
   * came in between together (replication/catalog-pacing.ts, decision 32); default 50. 0: each at once.
   */
  catalogPacingMs?: number
  /** Upper bound on one encoded message; default 64 MiB. */
  maxMessageBytes?: number
  /**
   * Largest value (one row entry, one text insertion) a remote update may carry; larger
   * updates are refused, counted as malformed and reported to `onOversizedUpdate`.
   * Default 16 MiB (replication/oversized-values.ts).
   */
  maxRemoteValueBytes?: number
  /** A remote update was refused for carrying a value of `bytes` bytes (see maxRemoteValueBytes). */
  onOversizedUpdate?: (shardId: string, bytes: number) => void
  /** How long a federated read waits for one holder's answer (ms); default 5000. */
  federatedReadTimeoutMs?: number
  /** Most bytes (about) of rows a holder sends in answer to one federated read; default 16 MiB. */
  federatedReadMaxBytes?: number
  /**
   * Generation compaction (docs/decisions/0012-generations.md): the oldest live member holding a shard
   * rewrites it as a new generation of live values once its Yjs history outweighs its live
   * entries. Default enabled.
   */
  compaction?: {
    enabled?: boolean
    /** Compact when overwritten structs exceed max(minGarbage, live entries x ratio). Defaults 1000 and 1. */
    minGarbage?: number
    ratio?: number
    /** A member silent this long is declared departed; default 24 h. */
    departAfterMs?: number
  }
  /**
   * Called with every writer entry this replica writes for a local transaction (shard id,
   * entry key, entry). For verification: the simulation campaign resolves everything ever
   * written without compaction and compares (see `Replica.resolveEntries`).
   */
  onLocalEntry?: (shardId: string, key: string, entry: string) => void
  /** Called on the builder with the row keys whose tombstones a new generation dropped. */
  onTombstonesDropped?: (shardId: string, rowKeys: string[]) => void
}

/** Work inside `Replica.transact`. Reads see the transaction's own writes. */
export interface Transaction {
  createTable(spec: TableSpec): TableInfo
  dropTable(name: string): void
  addColumn(table: string, column: ColumnSpec): void
  dropColumn(table: string, column: string): void
  /** ALTER TABLE .. RENAME TO: rows stay where they are (their storage keeps the old name). */
  renameTable(name: string, newName: string): void
  /** ALTER TABLE .. RENAME COLUMN: values keep their entry key, so old-name writes still land. */
  renameColumn(table: string, column: string, newName: string): void
  /**
   * Rewrites a column's type name, policy or meta in place (its data stays). A new `kind`
   * (register <-> counter) starts a new epoch: every value stays (merge/column-epochs.ts).
   */
  alterColumn(table: string, column: string, patch: { type?: string; policy?: PolicySpec | null; meta?: Json; kind?: ColumnKind }): void
  alterTable(name: string, patch: { policy?: PolicySpec; regions?: string[] | null; options?: Record<string, string>; meta?: Json; partitioning?: PartitionSpec | null }): void
  table(name: string): TableInfo | undefined
  /** Every table as this transaction sees it (its own DDL included), by name. */
  tables(): readonly TableInfo[]
  /**
   * Moves on every catalog write this transaction makes (tables, columns, catalog objects)
   * and when it rolls back to a savepoint: a plan made while it had one value holds while
   * it has it (no other change reaches the transaction's catalog within one synchronous
   * run). Absent: not counted (plan afresh).
   */
  readonly catalogWrites?: number

  /** Generic replicated catalog objects (settings, functions, indexes ...), last writer wins. */
  setCatalog(kind: string, name: string, value: Json | null): void
  /**
   * `setCatalog`, and at commit every other node's entry of the object is deleted from
   * the catalog's document, so none of its earlier values stays in the catalog's state
   * (which every peer reading the catalog, a scoped browser included, is sent). For
   * last-write-wins objects whose earlier values must not outlive them.
   */
  replaceCatalog(kind: string, name: string, value: Json | null): void
  getCatalog(kind: string, name: string): Json | undefined
  listCatalog(kind: string): Array<[string, Json]>
  /**
   * Secrets (role verifiers): like catalog objects, but kept in the secrets shard, which
   * every node holds and no scoped browser replica is ever sent
   * (docs/decisions/0034-role-secrets-off-browsers.md). A write is guarded as a catalog
   * write of `kind`.
   */
  setSecret(kind: string, name: string, value: string | null): void
  getSecret(kind: string, name: string): string | undefined

  get(table: string, key: Value[]): Row | undefined
  /**
   * The row held under `rowKey` (`encodeRowKey` of its primary key, as an index entry keeps
   * it), if live: `get` without encoding the key again, and with the string the row is held
   * under, its hash included.
   */
  getHeld(table: string, rowKey: string): Row | undefined
  scan(table: string): Iterable<Row>
  /**
   * Inserts a row; throws 23505 if a live row has the key. Missing columns become null.
   * Columns named in `defaulted` hold defaults the statement filled in (it did not name
   * them): a value another node writes concurrently to such a column wins over it.
   */
  insert(table: string, row: Row, defaulted?: Iterable<string>): void
  /**
   * `insert` for a caller that has not read the key (an INSERT's new row): the key is looked
   * up once, here, so a table whose rows are not all held here is refused as `get` refuses
   * it (a row with the key could be held elsewhere), where `get` then `insert` looked it up twice.
   */
  insertNew(table: string, row: Row, defaulted?: Iterable<string>): void
  /** Writes the given columns, creating the row if it is absent. */
  upsert(table: string, row: Row): void
  /** Writes the given columns of an existing row; false if there is none. */
  update(table: string, key: Value[], changes: Row): boolean
  /** Adds `delta` to a counter column of an existing row; false if there is none. */
  increment(table: string, key: Value[], column: string, delta: number | bigint): boolean
  delete(table: string, key: Value[]): boolean
  /**
   * Primary keys of the rows of `table` this transaction has written (inserted, updated
   * or deleted): the only rows whose view here may differ from the replica's. Lets a
   * layer with its own indexes over committed rows overlay the transaction's writes.
   */
  writtenKeys(table: string): Value[][]
}

/** One pending row write as `OpenTransaction.carryRows` copies it (structured-clone safe). */
export interface CarriedRow {
  keyValues: Value[]
  live: boolean
  reset: boolean
  cols: Array<[string, Value]>
  incr: Array<[string, number | bigint]>
  dflt?: string[]
  /** The row's causal length when the transaction first changed it (a transaction kept open). */
  baseCl?: number
}

/** A transaction's pending row writes of some tables (`OpenTransaction.carryRows`). */
export interface CarriedRows {
  tables: Array<{ table: string; rows: CarriedRow[] }>
}

declare const savepointBrand: unique symbol
/** Marks a state of an `OpenTransaction` to roll back to (opaque). */
export interface TransactionSavepoint {
  readonly [savepointBrand]: true
}

/**
 * A transaction kept open across calls (`Replica.begin`): SQL's BEGIN .. COMMIT. Reads see
 * the replica's current rows under this transaction's own writes; nothing is applied
 * until `commit`, which applies exactly the buffered writes, as `transact` would.
 */
export interface OpenTransaction extends Transaction {
  /** Marks the current writes (SQL SAVEPOINT). */
  savepoint(): TransactionSavepoint
  /** Discards every write made since `mark`; the mark stays usable. */
  rollbackTo(mark: TransactionSavepoint): void
  /**
   * The pending writes of the rows of `tables`, copied as plain data, for another replica
   * holding the same rows to reopen (`Replica.begin(carried)`): its reads of those tables
   * then see what this transaction's reads see. Null when the transaction holds writes the
   * rows do not carry (DDL, grants, catalog objects, renames) or more than `maxRows` row
   * writes of those tables.
   */
  carryRows(tables: ReadonlySet<string>, maxRows: number): CarriedRows | null
  /**
   * Applies the writes in one step (or in slices: `CommitOptions`); the transaction must
   * not be used afterwards.
   */
  commit(options?: CommitOptions): void
}

/**
 * How a commit may be applied. By default in one synchronous step, visible when it
 * returns. With `sliceAbove`, a commit of at least that many row writes (and no catalog
 * or secrets write) is applied in slices, a turn of the scheduler between them
 * (docs/decisions/0038-sliced-commits.md): readers see none of it until all of it, it
 * reaches storage in one append and peers after it; `onSliced` gets its end.
 */
export interface CommitOptions {
  sliceAbove?: number
  /** Called, when the commit is sliced, with a promise of its end (every row applied and shown). */
  onSliced?: (done: Promise<void>) => void
}

export interface ReplicaEvents {
  change: (changes: RowChange[]) => void
  catalog: (changes: CatalogChange[]) => void
  /** Concurrent writes this replica resolved (once per conflict; not at load). */
  conflict: (conflicts: ConflictRecord[]) => void
}

export type { CatalogChange, RowChange }
