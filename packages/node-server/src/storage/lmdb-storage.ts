/**
 * The core `Storage` on LMDB (DESIGN.md decision 11).
 *
 * Keys and the format of the directory: store-format.ts. Records (seq ascending per shard),
 * shard markers and metadata each carry a checksum.
 *
 * Invariants:
 * - Nothing damaged is served: a record, marker or metadata value whose checksum fails, a
 *   record missing from a shard's log or one its marker does not count, a record with no
 *   shard, throw a `CorruptRecordError` naming the file, the shard and the record (`load`,
 *   `shards`, `getMeta`), so the replica does not open on it (docs/security.md, "Storage
 *   integrity"). A shard deleted whole (records and marker) or one that appeared is found
 *   against the shard directory when the shards are listed (`shards`, first at open). A
 *   directory of an older format is upgraded at open. A data
 *   file LMDB itself would crash on (a damaged meta page, a truncated file) is refused
 *   before it is opened (lmdb-file-check.ts).
 * - An `append` promise resolves only once its records are on disk (fsync'd): LMDB runs
 *   with `overlappingSync: false`, so a commit returns after the flush.
 * - One write in LMDB at a time (`lane`): writes are issued in call order, after the task
 *   that called them and the requests the sockets held when it ended (a read waiting
 *   there is answered first), once the one before has committed or failed; the writes that
 *   arrived meanwhile go together as the next LMDB transaction (group commit: concurrent
 *   writers share one fsync, and so do the parts of a row checkpoint). Each `append`
 *   commits atomically, in one LMDB transaction; a write that fails fails the others of
 *   its transaction.
 * - An append to shards that all have a marker, while the rider holds nothing, is written
 *   as an lmdb-js `batch`: its puts go to LMDB's write thread without a callback into
 *   JavaScript, so that thread never holds LMDB's write lock waiting for the event loop.
 *   Its markers are computed from the bytes last read or written (`markerBytes`), which
 *   are the file's because nothing else is in LMDB then, and a write that failed forgets
 *   them all before the next is issued; a marker read outside a write while one is in
 *   LMDB (the file may be older than the cache then) is not remembered. Every other write (a shard's first append,
 *   compact, remove, metadata, the rider's) runs as a transaction callback that reads the
 *   markers inside its transaction.
 * - The shard directory lists exactly the shards that have a marker: it is rewritten in
 *   the transaction that creates a marker (the first append or compact of a shard) or
 *   removes one, and in no other (an append to a shard that has a marker costs what it
 *   did before the directory).
 * - Sequence numbers are assigned at call time, so records load in call order, and a
 *   `compact` removes exactly the records appended before it was called.
 * - Private: the environment's directory is 0700 and its files (data.mdb, lock.mdb)
 *   0600, whatever the umask (LMDB creates them 0664 less the umask; the directory,
 *   created first and owner-only, leaves no moment when others could open them).
 * - A write that fails for lack of room rejects with `StorageFullError` (the Storage
 *   contract); LMDB reports a full file system only as an I/O error, so the medium is
 *   asked (statfs) once a commit failed.
 */
import { chmodSync, mkdirSync, readdirSync, statfsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'
import { afterAppend, checkMetaValue, compareShardDirectory, CorruptRecordError, decodeMarker, decodeRecord, decodeShardDirectory, directoryDamage, EMPTY_MARKER, encodeMarker, encodeRecord, encodeShardDirectory, openValueInPlace, sameBytes, sealValue, StorageFullError, type ShardMarker, type Storage, type StoredRecord } from '@concord/core'
import { afterNextPoll } from './after-next-poll.js'
import { checkLmdbFile } from './lmdb-file-check.js'
import { DIRECTORY_KEY, markerRange, openStoreFormat, type StoreKey as Key } from './store-format.js'

/** LMDB keys are limited to 1978 bytes; leave room for the tag and sequence number. */
const MAX_NAME_BYTES = 1024
/** Where a record is encoded: a small one in Node's shared Buffer pool (see core's `encodeRecord`). */
const pooledBytes = (size: number): Uint8Array => Buffer.allocUnsafe(size)
/** Upper bound on records in one append batch; the core batches far fewer. */
const MAX_BATCH = 100_000
/** Upper bound on writes issued as one LMDB transaction (see `issue`). */
const MAX_GROUP = 10_000
/** A failed commit with less room than this left on the medium failed for lack of it. */
const FULL_BELOW_BYTES = 64 * 1024
/**
 * Error codes of a full medium: errno ENOSPC and EDQUOT (as numbers from LMDB, as strings
 * from Node), and LMDB's MDB_MAP_FULL.
 */
const FULL_CODES: ReadonlySet<unknown> = new Set([28, 122, -30792, 'ENOSPC', 'EDQUOT'])

export interface LmdbStorageOptions {
  /** Directory of the LMDB environment; created if absent. */
  path: string
  /**
   * `true` (default): a write is acknowledged after fsync. `false`: after commit only
   * (survives a process crash, not a power loss); for tests and benchmarks.
   */
  durable?: boolean
}

/**
 * Writes that ride along in the storage's next write transaction (the change journal,
 * lmdb-change-journal.ts): `ride` runs inside each write transaction before its own
 * writes, puts what it holds, and returns what to call once that transaction commits or
 * fails (null when it held nothing). While `holds` says true, every write is issued as
 * a transaction it rides in (none as a batch).
 */
export interface TransactionRider {
  holds(): boolean
  ride(tx: RiderTransaction): { committed(): void; failed(): void } | null
}

/** One record to append: its shard, its sequence number, its encoded bytes. */
interface RecordWrite {
  shard: string
  seq: number
  value: Uint8Array
}

/** A write waiting in the lane: records to append (with the appends next to it), or a transaction of its own. */
interface LaneWrite {
  appends: RecordWrite[] | null
  run: (() => void) | null
  resolve: () => void
  reject: (err: unknown) => void
}

/** What a rider may do inside a write transaction (keys under its own tag only). */
export interface RiderTransaction {
  put(key: Key, value: Uint8Array): void
  remove(key: Key): void
  keys(start: Key, end: Key): Key[]
}

export class LmdbStorage implements Storage {
  private readonly db: RootDatabase<Uint8Array, Key>
  private readonly path: string
  /** Next sequence number per shard, loaded lazily from the last stored key. */
  private readonly nextSeq = new Map<string, number>()
  /**
   * Per shard, the marker bytes last read or written and what they decode to: a marker
   * stored as exactly these bytes is not opened again (its checksum was checked, or it was
   * sealed here, when they were remembered). Only a cache: a write transaction that failed
   * leaves other bytes in the file, which are decoded as before.
   */
  private readonly markerBytes = new Map<string, { bytes: Uint8Array; marker: ShardMarker }>()
  /** Writes called and not yet issued to LMDB, in call order (see the invariants). */
  private readonly lane: LaneWrite[] = []
  /** The write in LMDB now: settles (never rejects) once it committed or failed. */
  private flight: Promise<void> | null = null
  /** Cancels the lane's next issue, scheduled `afterNextPoll`; null when none is. */
  private cancelIssue: (() => void) | null = null
  /** True while a transaction callback runs (its reads see the transaction). */
  private inWrite = false
  private closed = false
  private rider: TransactionRider | null = null
  private readonly riderTx: RiderTransaction = {
    put: (key, value) => void this.db.put(key, value),
    remove: (key) => void this.db.remove(key),
    keys: (start, end) => [...this.db.getKeys({ start, end })],
  }

  constructor(options: LmdbStorageOptions) {
    const durable = options.durable ?? true
    this.path = options.path
    makePrivateDir(options.path)
    checkLmdbFile(this.file(), REMEDY)
    this.db = open<Uint8Array, Key>(options.path, {
      encoding: 'binary',
      overlappingSync: false,
      noSync: !durable,
    })
    try {
      openStoreFormat(this.db, this.file())
    } catch (e) {
      void this.db.close()
      throw e
    }
    for (const name of readdirSync(options.path)) {
      const file = join(options.path, name)
      if (statSync(file).isFile()) narrow(file, 0o600)
    }
  }

  async append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    this.assertOpen()
    if (batch.length === 0) return
    if (batch.length > MAX_BATCH) throw new RangeError(`append batch of ${batch.length} records exceeds ${MAX_BATCH}`)
    const writes = batch.map(({ shard, record }): RecordWrite => {
      checkName(shard, 'shard')
      return { shard, seq: this.takeSeq(shard), value: encodeRecord(record, pooledBytes) }
    })
    await this.queue(writes, null)
  }

  /**
   * The shards that hold records. Throws when a record belongs to no shard (its marker is
   * gone), or when the shards that have a marker are not those the shard directory lists
   * (a shard deleted whole, or one that appeared). A replica asks first thing at open.
   */
  shards(): string[] {
    this.assertOpen()
    const out = new Set<string>()
    for (const key of this.db.getKeys(markerRange())) out.add(key[1])
    let shard: string | undefined
    while (true) {
      // One key per shard: jump past the shard just seen.
      const range = shard === undefined ? { start: ['r', '', 0] as Key } : { start: ['r', shard, Number.MAX_SAFE_INTEGER] as Key }
      const next = this.db.getKeys({ ...range, end: ['s'], limit: 2 })
      const found = [...next].find((k) => k[1] !== shard)
      if (found === undefined) break
      shard = found[1]
      if (!out.has(shard)) this.corrupt(shard, found[2] as number, 'a record of a shard that has no marker (the marker is missing)')
    }
    const damage = directoryDamage(compareShardDirectory(this.listed(), out))
    if (damage !== null) this.corrupt(damage.shard, undefined, damage.what)
    return [...out]
  }

  /** Every record of `shard` from its latest snapshot on, verified (see the invariants). */
  load(shard: string): StoredRecord[] {
    this.assertOpen()
    checkName(shard, 'shard')
    const marker = this.marker(shard) ?? EMPTY_MARKER
    const out: StoredRecord[] = []
    let count = 0
    for (const { key, value } of this.db.getRange(recordRange(shard))) {
      const seq = key[2] as number
      if (seq < marker.first || seq >= marker.next) this.corrupt(shard, seq, `sequence number outside the shard's ${marker.first}..${marker.next - 1}`)
      count++
      let record: StoredRecord
      try {
        // lmdb-js gives a binary store's range values as copies the reader owns (a slice of
        // its shared buffer, a copy of a mapped page): the record's data is a view of it.
        record = decodeRecord(value, { owned: true })
      } catch (e) {
        this.corrupt(shard, seq, (e as Error).message)
      }
      // Why: a snapshot replaces everything before it, even if a compact left older records.
      if (record.kind === 'snapshot') out.length = 0
      out.push(record)
    }
    if (count !== marker.count) this.corrupt(shard, undefined, `${marker.count - count} of its ${marker.count} records are missing`)
    return out
  }

  async compact(shard: string, snapshot: StoredRecord): Promise<void> {
    this.assertOpen()
    checkName(shard, 'shard')
    if (snapshot.kind !== 'snapshot') throw new RangeError('compact takes a snapshot record')
    const seq = this.takeSeq(shard)
    const value = encodeRecord(snapshot, pooledBytes)
    await this.queue(null, () => {
      const stored = this.marker(shard)
      const marker = stored ?? EMPTY_MARKER
      let removed = 0
      for (const key of [...this.db.getKeys({ start: ['r', shard, 0], end: ['r', shard, seq] })]) {
        this.db.remove(key)
        removed++
      }
      // What is left has higher numbers than the snapshot (none, in call order), so it comes first.
      const kept = marker.count - removed
      this.putMarker(shard, { first: seq, next: Math.max(marker.next, seq + 1), count: kept + 1 })
      this.db.put(['r', shard, seq], value)
      if (stored === undefined) this.relist([shard], [])
    })
  }

  async remove(shard: string): Promise<void> {
    this.assertOpen()
    checkName(shard, 'shard')
    await this.queue(null, () => {
      const marked = this.db.doesExist(['s', shard])
      for (const key of this.db.getKeys(recordRange(shard))) this.db.remove(key)
      this.db.remove(['s', shard])
      this.markerBytes.delete(shard)
      if (marked) this.relist([], [shard])
    })
  }

  getMeta(key: string): Uint8Array | undefined {
    this.assertOpen()
    checkName(key, 'meta key')
    // lmdb-js's `get` returns a copy the caller owns (`getBinary`), so the payload is a view of it.
    const value = this.db.get(['m', key])
    if (value === undefined) return undefined
    try {
      return openValueInPlace(value)
    } catch (e) {
      throw new CorruptRecordError(`${this.file()}: metadata ${JSON.stringify(key)} is damaged: ${(e as Error).message}. ${REMEDY}`)
    }
  }

  async setMeta(key: string, value: Uint8Array): Promise<void> {
    this.assertOpen()
    checkName(key, 'meta key')
    checkMetaValue(value)
    // Sealed now (a copy): the transaction runs later, and the caller may reuse its buffer.
    const sealed = sealValue(value)
    await this.queue(null, () => {
      this.db.put(['m', key], sealed)
    })
  }

  /** Installs the rider of every later write transaction (see TransactionRider). */
  setRider(rider: TransactionRider | null): void {
    this.rider = rider
  }

  /** Reads a rider's keys outside any transaction (at open). */
  riderRange(start: Key, end: Key): Array<{ key: Key; value: Uint8Array }> {
    this.assertOpen()
    return [...this.db.getRange({ start, end })].map(({ key, value }) => ({ key, value }))
  }

  /** A write transaction of the rider's alone: what it holds, on disk. */
  async flushRider(): Promise<void> {
    this.assertOpen()
    await this.queue(null, () => {})
  }

  /** Puts `appends` (or runs `run` as a transaction) in its turn; settles once it committed or failed. */
  private queue(appends: RecordWrite[] | null, run: (() => void) | null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.lane.push({ appends, run, resolve, reject })
      this.scheduleIssue()
    })
  }

  private scheduleIssue(): void {
    if (this.flight !== null || this.cancelIssue !== null || this.lane.length === 0) return
    // After the current task: whatever the rider is handed in the task that called a
    // write, it holds when the write is issued (tested in lmdb-storage.test.ts). And after
    // the loop's next look at its sockets: a request that came in while this task ran (a
    // read of the row a peer's update just applied) is answered before the write starts.
    this.cancelIssue = afterNextPoll(() => {
      this.cancelIssue = null
      this.issue()
    })
  }

  /**
   * Issues what the lane holds as one LMDB transaction (at most MAX_BATCH records and
   * MAX_GROUP writes): appends alone through `writeAppends`, anything else as a
   * transaction callback that runs each write in call order.
   */
  private issue(): void {
    if (this.flight !== null || this.lane.length === 0) return
    const group: LaneWrite[] = []
    let count = 0
    let appendsOnly = true
    for (let next = this.lane[0]; next !== undefined && group.length < MAX_GROUP; next = this.lane[0]) {
      const n = next.appends?.length ?? 0
      if (group.length > 0 && count + n > MAX_BATCH) break
      group.push(this.lane.shift() as LaneWrite)
      count += n
      if (next.appends === null) appendsOnly = false
    }
    let p: Promise<unknown>
    try {
      if (appendsOnly) p = this.writeAppends(group.length === 1 ? group[0]!.appends! : group.flatMap((w) => w.appends!))
      else p = this.write(() => {
        for (const w of group) {
          if (w.appends !== null) this.putAppends(w.appends)
          else w.run!()
        }
      })
    } catch (e) {
      p = Promise.reject(e)
    }
    this.flight = this.commit(p).then(
      () => {
        for (const w of group) w.resolve()
      },
      (err: unknown) => {
        // What this write put in the marker cache may not be in the file.
        this.markerBytes.clear()
        for (const w of group) w.reject(err)
      },
    )
    void this.flight.then(() => {
      this.flight = null
      this.scheduleIssue()
    })
  }

  /**
   * Appends `writes`: as a batch when every shard has a marker and the rider holds
   * nothing (see the invariants), otherwise as a transaction that reads the markers.
   */
  private writeAppends(writes: RecordWrite[]): Promise<unknown> {
    const { markers, created } = nextMarkers(writes, (shard) => this.markerBytes.get(shard)?.marker ?? this.marker(shard))
    if (created.length > 0 || this.rider?.holds() === true) return this.write(() => this.putAppends(writes))
    const sealed = [...markers].map(([shard, marker]) => ({ shard, bytes: encodeMarker(marker), marker }))
    for (const m of sealed) this.markerBytes.set(m.shard, { bytes: m.bytes, marker: m.marker })
    return this.transaction(() => {
      for (const w of writes) this.db.put(['r', w.shard, w.seq], w.value)
      for (const m of sealed) this.db.put(['s', m.shard], m.bytes)
    }, true)
  }

  /** Inside a write transaction: puts `writes` and their shards' markers, read here. */
  private putAppends(writes: RecordWrite[]): void {
    const { markers, created } = nextMarkers(writes, (shard) => this.marker(shard))
    for (const w of writes) this.db.put(['r', w.shard, w.seq], w.value)
    for (const [shard, marker] of markers) this.putMarker(shard, marker)
    if (created.length > 0) this.relist(created, [])
  }

  /** `fn` as a write transaction, the rider first. */
  private write(fn: () => void): Promise<unknown> {
    let after: { committed(): void; failed(): void } | null = null
    const p = this.transaction(() => {
      this.inWrite = true
      try {
        after = this.rider?.ride(this.riderTx) ?? null
        fn()
      } finally {
        this.inWrite = false
      }
    })
    p.then(
      () => (after as { committed(): void } | null)?.committed(),
      () => (after as { failed(): void } | null)?.failed(),
    )
    return p
  }

  /**
   * Queues `fn` as an LMDB write transaction (`batch`: as an lmdb-js batch, `fn` run now
   * and its puts written without a callback); the promise settles with its commit. The one
   * place writes reach LMDB: a test stands a failing commit in here (the full-disk case of
   * the storage contract suite).
   */
  protected transaction(fn: () => void, batch = false): Promise<unknown> {
    return batch ? this.db.batch(fn) : this.db.transaction(fn)
  }

  /**
   * Awaits an LMDB commit. A failed one rejects with a `StorageFullError` when the medium
   * has no room left (by the error's code, or by asking the file system: LMDB itself
   * reports a full disk as an I/O error), otherwise with an error whose `code` says what
   * happened. lmdb-js attaches a second, rejected promise to the error (`commitError`);
   * it is handled here, or it would bring the process down.
   */
  private async commit(p: Promise<unknown>): Promise<void> {
    try {
      await p
    } catch (err) {
      const detail = (err as { commitError?: unknown }).commitError
      let cause: unknown = err
      if (detail instanceof Promise) {
        cause = await detail.then(
          () => err,
          (e: unknown) => e,
        )
      }
      const code = (cause as { code?: unknown } | null)?.code
      if (FULL_CODES.has(code) || this.mediumFull()) throw new StorageFullError(`no space left on device (${this.path})`, { cause })
      const message = `storage write failed: ${String((cause as { message?: unknown } | null)?.message ?? cause)}`
      throw Object.assign(new Error(message), { code: String(code ?? 'EIO') })
    }
  }

  /** True when the file system holding the store has (almost) no room left; false when it cannot tell. */
  private mediumFull(): boolean {
    try {
      const fs = statfsSync(this.path)
      return fs.bavail * fs.bsize < FULL_BELOW_BYTES
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // What was called before the close is written first.
    while (this.flight !== null || this.lane.length > 0) {
      this.cancelIssue?.()
      this.cancelIssue = null
      this.issue()
      await this.flight
    }
    await this.db.close()
  }

  private takeSeq(shard: string): number {
    let seq = this.nextSeq.get(shard)
    if (seq === undefined) {
      seq = 0
      // In reverse, lmdb-js walks from `start` (high) down to `end` (low, exclusive).
      const last = { start: ['r', shard, Number.MAX_SAFE_INTEGER] as Key, end: ['r', shard] as Key, reverse: true, limit: 1 }
      for (const key of this.db.getKeys(last)) seq = (key[2] as number) + 1
    }
    this.nextSeq.set(shard, seq + 1)
    return seq
  }

  /** The marker of `shard`, or undefined when it has none; a damaged one throws. */
  private marker(shard: string): ShardMarker | undefined {
    const value = this.db.get(['s', shard])
    if (value === undefined) return undefined
    const known = this.markerBytes.get(shard)
    if (known !== undefined && sameBytes(known.bytes, value)) return known.marker
    let marker: ShardMarker
    try {
      marker = decodeMarker(value)
    } catch (e) {
      this.corrupt(shard, undefined, `its marker is damaged: ${(e as Error).message}`)
    }
    // Read outside a write while one is in LMDB, the bytes may be older than those the
    // cache holds for that write (a batch's markers go in before it commits): not kept.
    if (this.flight === null || this.inWrite) this.markerBytes.set(shard, { bytes: value, marker })
    return marker
  }

  /** Inside a write transaction: stores `shard`'s marker (remembered with its bytes). */
  private putMarker(shard: string, marker: ShardMarker): void {
    const bytes = encodeMarker(marker)
    this.db.put(['s', shard], bytes)
    this.markerBytes.set(shard, { bytes, marker })
  }

  /** The shards the directory lists; a missing or damaged directory throws. */
  private listed(): Set<string> {
    const value = this.db.get(DIRECTORY_KEY)
    if (value === undefined) throw new CorruptRecordError(`${this.file()} is damaged: its shard directory is missing. ${REMEDY}`)
    try {
      return decodeShardDirectory(value)
    } catch (e) {
      throw new CorruptRecordError(`${this.file()} is damaged: its shard directory is damaged: ${(e as Error).message}. ${REMEDY}`)
    }
  }

  /** Inside a write transaction: `created` shards got a marker, `removed` ones lost theirs. */
  private relist(created: readonly string[], removed: readonly string[]): void {
    const listed = this.listed()
    for (const shard of created) listed.add(shard)
    for (const shard of removed) listed.delete(shard)
    this.db.put(DIRECTORY_KEY, encodeShardDirectory(listed))
  }

  private corrupt(shard: string, seq: number | undefined, what: string): never {
    const record = seq === undefined ? '' : ` record ${seq}`
    throw new CorruptRecordError(`${this.file()} is damaged: shard ${JSON.stringify(shard)}${record}: ${what}. ${REMEDY}`)
  }

  /** The LMDB data file, as messages name it. */
  private file(): string {
    return join(this.path, 'data.mdb')
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('LmdbStorage is closed')
  }
}

/** What a message about damage tells the operator to do. */
const REMEDY =
  'Concord does not serve damaged data: restore the data directory from a backup (concord restore), ' +
  'or move it away and start an empty node that joins a peer (--join) to copy the data back from the cluster'

function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  narrow(path, 0o700)
}

/** Removes group and other permissions (a no-op when there are none). */
function narrow(path: string, mode: number): void {
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode)
}

/** Each shard's marker once `writes` are appended (`stored`: its marker now), and the shards that had none. */
function nextMarkers(writes: readonly RecordWrite[], stored: (shard: string) => ShardMarker | undefined): { markers: Map<string, ShardMarker>; created: string[] } {
  const markers = new Map<string, ShardMarker>()
  const created: string[] = []
  for (const w of writes) {
    let marker = markers.get(w.shard)
    if (marker === undefined) {
      marker = stored(w.shard)
      if (marker === undefined) created.push(w.shard)
    }
    markers.set(w.shard, afterAppend(marker ?? EMPTY_MARKER, w.seq))
  }
  return { markers, created }
}

function recordRange(shard: string): { start: Key; end: Key } {
  // Sequence numbers are non-negative safe integers, so [0, MAX_SAFE] covers them all.
  return { start: ['r', shard, 0], end: ['r', shard, Number.MAX_SAFE_INTEGER] }
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string`)
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new RangeError(`${what} longer than ${MAX_NAME_BYTES} bytes`)
}
