/**
 * What a replica persists of its shards, over the ordered `StorageQueue`: the update
 * records Yjs transactions produced and not yet handed to storage, snapshots that replace
 * a shard's log, removals, and metadata. Knows nothing of Yjs: a shard's state as it is
 * in memory comes from `stateOf`.
 *
 * Invariants:
 * - Records reach storage in the order their transactions ran, in batches (one `append`
 *   per flush, atomic across its shards).
 * - A shard's log is rewritten as one snapshot once it holds `COMPACT_AFTER_RECORDS`
 *   records whose bytes reach half the size of its last snapshot, or, whatever their
 *   size, `COMPACT_RECORDS_MAX` records or one per `SNAPSHOT_BYTES_PER_RECORD` bytes of
 *   that snapshot, whichever is more (decisions/0026): rewriting costs the whole shard, so
 *   it waits until the log has grown by a share of it, and a small update to a large
 *   table pays a bounded share of a rewrite. A log whose snapshot size is not known (one
 *   of updates only, loaded or begun here) stands for its state with its own bytes, as
 *   they were at load or when it first reached `COMPACT_AFTER_RECORDS`. The snapshot is taken in the same
 *   synchronous step as the `compact` call, so it contains every update appended before
 *   it (durable or still in flight); appends issued later come after it. Whatever order
 *   storage commits them in, nothing is lost.
 * - A snapshot retried after a storage failure is taken afresh (see StorageOp.retry).
 * - A row snapshot stored while the replica stays open (`storeRowSnapshot`, a checkpoint)
 *   names, per shard, the position of the log it resolves (`position`: records, bytes,
 *   hash of the last record), taken in the same synchronous step as the snapshot once
 *   every write issued before it is durable. Later writes leave it in place: a start
 *   applies the records after its position on top of it, and refuses it for a shard whose
 *   log was rewritten since (rows/row-snapshot.ts). `holdsRowSnapshot` says whether no
 *   write came after it.
 */
import type { Scheduler, Storage, StoredRecord } from '../api.js'
import type { ConcordError } from '../errors/concord-error.js'
import { recordChecksum } from '../codec/checked-record.js'
import type { LogPosition } from '../rows/row-snapshot.js'
import { StorageQueue } from './storage-queue.js'

/** Update records per shard before its storage log may be compacted into one snapshot. */
const COMPACT_AFTER_RECORDS = 2000
/**
 * Records past which a shard's log is compacted whatever their size: bounds what a crash
 * start replays, against what loading the snapshot costs anyway (below).
 */
const COMPACT_RECORDS_MAX = 20_000
/**
 * A shard's snapshot bytes per record its log may hold past `COMPACT_RECORDS_MAX` before
 * it is compacted whatever their size. Replaying a one-row update record took Yjs ~8-10 µs
 * and loading a snapshot ~32-49 µs a kB (100,000 rows, 11.7 MB), so a log of one record
 * per kB of snapshot replays in about a third of the snapshot's own load; a rewrite costs
 * the whole snapshot (a 1,000,000-row table: ~5 s of the event loop), so a large shard's
 * log is rewritten once per that many records instead of every 20,000.
 */
const SNAPSHOT_BYTES_PER_RECORD = 1000
/** A log is compacted once its records' bytes reach this share of its last snapshot's size. */
const COMPACT_BYTES_SHARE = 0.5

/** Records taken for one append. */
export type RecordBatch = Array<{ shard: string; record: StoredRecord }>

export class ShardLog {
  private readonly storage: Storage
  /** Storage writes in issue order; what is durable (see StorageQueue). */
  private readonly queue: StorageQueue
  /** A shard's state as it is in memory now, as a snapshot record; undefined once it is gone. */
  private readonly stateOf: (shard: string) => StoredRecord | undefined
  private unpersisted: RecordBatch = []
  /** Records per shard since its last snapshot. */
  private readonly recordCounts = new Map<string, number>()
  /** Bytes of the update records per shard since its last snapshot, or since `snapshotBytes` was taken from the log itself. */
  private readonly recordBytes = new Map<string, number>()
  /**
   * Size of the last snapshot per shard, written here or met at load, or for a log of
   * updates only the bytes it held at load or when it first reached `COMPACT_AFTER_RECORDS`
   * (unknown until then).
   */
  private readonly snapshotBytes = new Map<string, number>()
  /** Bytes of every record of each shard's log (its snapshot included). */
  private readonly logBytes = new Map<string, number>()
  /**
   * The last record of each shard's log until a position asks for its hash (`recordChecksum`),
   * or the hash. A snapshot, which can be large and is not kept alive for it, gives way to
   * its hash once storage has written it (and so knows its checksum without reading it again).
   */
  private readonly lastRecord = new Map<string, StoredRecord | number>()
  /** True while storage holds a row snapshot of the log as it is (no write issued since it). */
  private rowSnapshotCurrent = false
  private writeCount = 0
  /** Shards a sliced commit holds (`hold`): their changes count as not durable until released and appended. */
  private readonly held = new Set<string>()
  /** Waits for durability that started while shards were held: run again once none is. */
  private heldWaiters: Array<() => void> = []

  constructor(storage: Storage, scheduler: Scheduler, stateOf: (shard: string) => StoredRecord | undefined) {
    this.storage = storage
    this.queue = new StorageQueue(scheduler)
    this.stateOf = stateOf
  }

  /** Called once storage has taken every write it had refused again. */
  set onRecovered(fn: () => void) {
    this.queue.onRecovered = fn
  }

  /** Keeps a record for the next append. */
  record(shard: string, record: StoredRecord): void {
    this.unpersisted.push({ shard, record })
  }

  /** True when no record is kept (all were handed to storage). */
  isEmpty(): boolean {
    return this.unpersisted.length === 0
  }

  /** Takes every record kept so far for one append (`append`); null if there is none. */
  take(): RecordBatch | null {
    if (this.unpersisted.length === 0) return null
    const batch = this.unpersisted
    this.unpersisted = []
    return batch
  }

  /** Appends a batch taken by `take`; `done` runs once it is durable (then the log may be compacted). */
  append(batch: RecordBatch, done: () => void): void {
    this.beforeWrite()
    for (const { shard, record } of batch) {
      this.recordCounts.set(shard, (this.recordCounts.get(shard) ?? 0) + 1)
      this.recordBytes.set(shard, (this.recordBytes.get(shard) ?? 0) + record.data.byteLength)
      this.logBytes.set(shard, (this.logBytes.get(shard) ?? 0) + record.data.byteLength)
      this.lastRecord.set(shard, record)
    }
    const shards = [...new Set(batch.map((b) => b.shard))]
    this.queue.store({
      kind: 'append',
      shards,
      run: () => this.storage.append(batch),
      done: () => {
        done()
        this.compactLogs(batch)
      },
    })
  }

  /** Drops the records kept for `shard` (all, or all but those of generation `keep`): a snapshot issued now holds them. */
  discard(shard: string, keep?: number): void {
    this.unpersisted = this.unpersisted.filter((u) => u.shard !== shard || u.record.generation === keep)
  }

  /** Replaces `shard`'s log by `snapshot`; a retry takes the shard's state afresh. */
  snapshot(shard: string, snapshot: StoredRecord): void {
    this.beforeWrite()
    this.recordCounts.set(shard, 1)
    this.recordBytes.set(shard, 0)
    this.snapshotBytes.set(shard, snapshot.data.byteLength)
    this.logBytes.set(shard, snapshot.data.byteLength)
    this.lastRecord.set(shard, snapshot)
    const hashed = (): void => {
      if (this.lastRecord.get(shard) === snapshot) this.lastRecord.set(shard, recordChecksum(snapshot))
    }
    this.queue.store({ kind: 'snapshot', shards: [shard], run: () => this.storage.compact(shard, snapshot), retry: this.freshSnapshot(shard), done: hashed })
  }

  /** Stores a snapshot under a storage id of its own (an overlay); `retry` takes it afresh (nothing if gone). */
  snapshotAs(id: string, snapshot: StoredRecord, retry: () => StoredRecord | undefined): void {
    this.beforeWrite()
    this.queue.store({
      kind: 'snapshot',
      shards: [id],
      run: () => this.storage.compact(id, snapshot),
      retry: () => {
        const again = retry()
        if (again !== undefined) return this.storage.compact(id, again)
      },
    })
  }

  remove(id: string): void {
    this.beforeWrite()
    this.recordCounts.delete(id)
    this.recordBytes.delete(id)
    this.snapshotBytes.delete(id)
    this.logBytes.delete(id)
    this.lastRecord.delete(id)
    this.queue.store({ kind: 'remove', shards: [id], run: () => this.storage.remove(id) })
  }

  /** Stores a metadata value (no shard's log changes: a row snapshot stays current). */
  setMeta(key: string, value: Uint8Array): void {
    this.queue.store({ kind: 'meta', shards: [], run: () => this.storage.setMeta(key, value) })
  }

  /**
   * Stores a row snapshot of the log as it stood when `writes` read `writesAtCapture` (the
   * caller checked `isDurable` and took the positions from `position` in that same
   * synchronous step): its values in the order given (its parts, then the manifest that
   * names them). It describes the log as it is only if no write came since.
   */
  storeRowSnapshot(values: ReadonlyArray<readonly [key: string, value: Uint8Array]>, writesAtCapture: number): void {
    for (const [key, value] of values) this.setMeta(key, value)
    this.rowSnapshotCurrent = writesAtCapture === this.writeCount
  }

  /** Writes issued to the logs so far (appends, snapshots, removals): a row snapshot taken at one count describes the log while it stays. */
  get writes(): number {
    return this.writeCount
  }

  /** True while storage holds a row snapshot stored by `storeRowSnapshot` (or found current at load) and no write came after it. */
  get holdsRowSnapshot(): boolean {
    return this.rowSnapshotCurrent
  }

  /** At load: storage holds a row snapshot of every shard as loaded. */
  loadedCurrentRowSnapshot(): void {
    this.rowSnapshotCurrent = true
  }

  /** A write makes the stored row snapshot older than the log (still usable: see the header). */
  private beforeWrite(): void {
    this.rowSnapshotCurrent = false
    this.writeCount++
  }

  /**
   * At load: the records a shard's log holds. A log that starts with a snapshot is
   * rewritten by the same rule as one written here (its update records' bytes against the
   * snapshot's); a log of updates only, once the updates written after the start reach that
   * share of the bytes it held (the state it would be rewritten as is about that large).
   * Not by the record count alone, which made the first 2,000 writes after a start rewrite a
   * large table whole (100,000 pgbench accounts: ~0.2 s of CPU and 20 MB written for 400 kB
   * of updates).
   */
  loaded(shard: string, records: readonly StoredRecord[]): void {
    this.recordCounts.set(shard, records.length)
    let bytes = 0
    for (const r of records) bytes += r.data.byteLength
    this.logBytes.set(shard, bytes)
    const first = records[0]
    if (first?.kind === 'snapshot') {
      this.snapshotBytes.set(shard, first.data.byteLength)
      this.recordBytes.set(shard, bytes - first.data.byteLength)
    } else if (first !== undefined) {
      this.snapshotBytes.set(shard, bytes)
      this.recordBytes.set(shard, 0)
    }
    if (records.length > 0) this.lastRecord.set(shard, records[records.length - 1]!)
  }

  /** Where `shard`'s log stands, as a row snapshot names it; undefined when unknown. */
  position(shard: string): LogPosition | undefined {
    const records = this.recordCounts.get(shard)
    const bytes = this.logBytes.get(shard)
    let last = this.lastRecord.get(shard)
    if (records === undefined || bytes === undefined || last === undefined) return undefined
    if (typeof last !== 'number') {
      last = recordChecksum(last)
      this.lastRecord.set(shard, last)
    }
    return { records, bytes, last }
  }

  /** Records `shard`'s storage log holds (loaded, appended and compacted by this log); undefined when unknown. */
  recordCount(shard: string): number | undefined {
    return this.recordCounts.get(shard)
  }

  /**
   * A sliced commit holds `shard` (docs/decisions/0038-sliced-commits.md): until `release`,
   * the shard holds changes not durable, its log is not rewritten from the document, and
   * whatever waits for its durability (or for everything's) waits for the release too.
   */
  hold(shard: string): void {
    this.held.add(shard)
  }

  /** Ends a hold, after the released records were appended (`append`): the waits go on from there. */
  release(shard: string): void {
    this.held.delete(shard)
    if (this.held.size > 0) return
    const waiters = this.heldWaiters
    this.heldWaiters = []
    for (const w of waiters) w()
  }

  /** True when some change of `shard` is not yet durable (kept, held, or written and not complete). */
  holdsUndurable(shard: string): boolean {
    return this.held.has(shard) || this.queue.writing(shard) || this.unpersisted.some((u) => u.shard === shard)
  }

  /** True when nothing kept, held or written so far still waits for storage. */
  isDurable(): boolean {
    return this.unpersisted.length === 0 && this.held.size === 0 && this.queue.isDurable()
  }

  /** True while storage refuses writes. */
  get failing(): boolean {
    return this.queue.failing
  }

  /** The error a write gets while storage fails (see StorageQueue.failureError). */
  failureError(refused = false): ConcordError {
    return this.queue.failureError(refused)
  }

  /** Resolves once every write issued so far is durable (records kept and not yet taken excluded). */
  durable(): Promise<void> {
    if (this.held.size === 0) return this.queue.durable()
    return new Promise((resolve, reject) => this.heldWaiters.push(() => void this.queue.durable().then(resolve, reject)))
  }

  /** See StorageQueue.whenDurable; a wait that covers a held shard starts once the hold ends. */
  whenDurable(fn: () => void, options: { shards?: Iterable<string>; send?: boolean } = {}): void {
    if (this.held.size > 0) {
      // The shards are read twice here: an iterable given once is copied.
      const shards = options.shards === undefined ? undefined : [...options.shards]
      options = { ...options, shards }
      if (shards === undefined || shards.some((s) => this.held.has(s))) {
        this.heldWaiters.push(() => this.queue.whenDurable(fn, options))
        return
      }
    }
    this.queue.whenDurable(fn, options)
  }

  /** Sends dropped because too many waited for durability (see StorageQueue). */
  get sendsDropped(): number {
    return this.queue.sendsDropped
  }

  /** Waits for writes in flight, then takes no more retries (a clean close). */
  async close(): Promise<void> {
    await this.queue.drain()
    this.queue.close()
  }

  /** A snapshot retried: the shard as it is in memory then (nothing if it is gone). */
  private freshSnapshot(shard: string): () => void | Promise<void> {
    const take = (): void | Promise<void> => {
      const state = this.stateOf(shard)
      if (state !== undefined) return this.storage.compact(shard, state)
    }
    // A held document holds part of a commit: taken once the hold ends.
    return () => (this.held.has(shard) ? new Promise<void>((resolve) => this.heldWaiters.push(resolve)).then(take) : take())
  }

  /** True when `shard`'s log has grown enough to be rewritten as one snapshot (see the module header). */
  private compactionDue(shard: string): boolean {
    const records = this.recordCounts.get(shard) ?? 0
    if (records < COMPACT_AFTER_RECORDS) return false
    let last = this.snapshotBytes.get(shard)
    if (last === undefined) {
      // A log begun here, of updates only: its bytes so far stand for the state it would be
      // rewritten as (a bulk load's records are about that large); judged by the rule from here.
      last = this.recordBytes.get(shard) ?? 0
      this.snapshotBytes.set(shard, last)
      this.recordBytes.set(shard, 0)
    }
    if (records >= Math.max(COMPACT_RECORDS_MAX, last / SNAPSHOT_BYTES_PER_RECORD)) return true
    return (this.recordBytes.get(shard) ?? 0) >= last * COMPACT_BYTES_SHARE
  }

  /** Rewrites the logs of the batch's shards that hold many records as one snapshot each. */
  private compactLogs(batch: RecordBatch): void {
    for (const { shard } of batch) {
      // A held shard's document holds part of a commit: its log waits for the next append.
      if (this.held.has(shard) || !this.compactionDue(shard)) continue
      const state = this.stateOf(shard)
      if (state === undefined) continue
      this.snapshot(shard, state)
    }
  }
}
