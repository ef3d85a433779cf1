/**
 * The core `Storage` on LMDB (DESIGN.md decision 11).
 *
 * Keys (ordered-binary arrays):
 *   ['r', shard, seq] -> encoded record (record-codec.ts), seq ascending per shard
 *   ['s', shard]      -> marker: the shard exists (so `shards()` need not scan records)
 *   ['m', key]        -> replica metadata bytes
 *
 * Invariants:
 * - An `append` promise resolves only once its records are on disk (fsync'd): LMDB runs
 *   with `overlappingSync: false`, so a commit returns after the flush. Appends that arrive
 *   while a commit is in flight are grouped by lmdb-js into the next transaction (group
 *   commit), so concurrent writers share one fsync.
 * - Each `append` batch commits atomically (one `transaction` callback).
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
import { checkMetaValue, StorageFullError, type Storage, type StoredRecord } from '@concord/core'
import { decodeRecord, encodeRecord } from './record-codec.js'

type Key = [string, string] | [string, string, number]

/** LMDB keys are limited to 1978 bytes; leave room for the tag and sequence number. */
const MAX_NAME_BYTES = 1024
/** Upper bound on records in one append batch; the core batches far fewer. */
const MAX_BATCH = 100_000
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

export class LmdbStorage implements Storage {
  private readonly db: RootDatabase<Uint8Array, Key>
  private readonly path: string
  /** Next sequence number per shard, loaded lazily from the last stored key. */
  private readonly nextSeq = new Map<string, number>()
  private closed = false

  constructor(options: LmdbStorageOptions) {
    const durable = options.durable ?? true
    this.path = options.path
    makePrivateDir(options.path)
    this.db = open<Uint8Array, Key>(options.path, {
      encoding: 'binary',
      overlappingSync: false,
      noSync: !durable,
    })
    for (const name of readdirSync(options.path)) {
      const file = join(options.path, name)
      if (statSync(file).isFile()) narrow(file, 0o600)
    }
  }

  async append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    this.assertOpen()
    if (batch.length === 0) return
    if (batch.length > MAX_BATCH) throw new RangeError(`append batch of ${batch.length} records exceeds ${MAX_BATCH}`)
    const writes = batch.map(({ shard, record }) => {
      checkName(shard, 'shard')
      return { shard, seq: this.takeSeq(shard), value: encodeRecord(record) }
    })
    await this.commit(this.transaction(() => {
      for (const w of writes) {
        this.db.put(['s', w.shard], EMPTY)
        this.db.put(['r', w.shard, w.seq], w.value)
      }
    }))
  }

  shards(): string[] {
    this.assertOpen()
    const out: string[] = []
    for (const key of this.db.getKeys({ start: ['s', ''], end: ['t'] })) out.push(key[1])
    return out
  }

  load(shard: string): StoredRecord[] {
    this.assertOpen()
    checkName(shard, 'shard')
    const out: StoredRecord[] = []
    for (const { value } of this.db.getRange(recordRange(shard))) {
      const record = decodeRecord(value)
      // Why: a snapshot replaces everything before it, even if a compact left older records.
      if (record.kind === 'snapshot') out.length = 0
      out.push(record)
    }
    return out
  }

  async compact(shard: string, snapshot: StoredRecord): Promise<void> {
    this.assertOpen()
    checkName(shard, 'shard')
    if (snapshot.kind !== 'snapshot') throw new RangeError('compact takes a snapshot record')
    const seq = this.takeSeq(shard)
    const value = encodeRecord(snapshot)
    await this.commit(this.transaction(() => {
      for (const key of this.db.getKeys({ start: ['r', shard, 0], end: ['r', shard, seq] })) this.db.remove(key)
      this.db.put(['s', shard], EMPTY)
      this.db.put(['r', shard, seq], value)
    }))
  }

  async remove(shard: string): Promise<void> {
    this.assertOpen()
    checkName(shard, 'shard')
    await this.commit(this.transaction(() => {
      for (const key of this.db.getKeys(recordRange(shard))) this.db.remove(key)
      this.db.remove(['s', shard])
    }))
  }

  getMeta(key: string): Uint8Array | undefined {
    this.assertOpen()
    checkName(key, 'meta key')
    const value = this.db.get(['m', key])
    return value === undefined ? undefined : Uint8Array.from(value)
  }

  async setMeta(key: string, value: Uint8Array): Promise<void> {
    this.assertOpen()
    checkName(key, 'meta key')
    checkMetaValue(value)
    // Copied now: the transaction runs later, and the caller may reuse its buffer.
    const copy = Uint8Array.from(value)
    await this.commit(this.transaction(() => {
      this.db.put(['m', key], copy)
    }))
  }

  /**
   * Queues `fn` as an LMDB write transaction; the promise settles with its commit. The one
   * place writes reach LMDB: a test stands a failing commit in here (the full-disk case of
   * the storage contract suite).
   */
  protected transaction(fn: () => void): Promise<unknown> {
    return this.db.transaction(fn)
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

  private assertOpen(): void {
    if (this.closed) throw new Error('LmdbStorage is closed')
  }
}

const EMPTY = new Uint8Array(0)

function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  narrow(path, 0o700)
}

/** Removes group and other permissions (a no-op when there are none). */
function narrow(path: string, mode: number): void {
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode)
}

function recordRange(shard: string): { start: Key; end: Key } {
  // Sequence numbers are non-negative safe integers, so [0, MAX_SAFE] covers them all.
  return { start: ['r', shard, 0], end: ['r', shard, Number.MAX_SAFE_INTEGER] }
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string`)
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new RangeError(`${what} longer than ${MAX_NAME_BYTES} bytes`)
}
