/**
 * The core `Storage` on IndexedDB, through idb-keyval (DESIGN.md decision 11).
 *
 * One database per replica name (`concord:<name>`), one object store, keys as described
 * in idb-record.ts. Every write is one read-write IndexedDB transaction with strict
 * durability, and its promise settles on the transaction's `complete` event: an
 * acknowledged append is on disk, and a batch lands whole or not at all.
 *
 * Ordering invariant: IndexedDB runs read-write transactions over the same store in the
 * order they were created (and completes them in that order: `held`, the shards held, is
 * updated once a write is complete, so a failed one changes nothing). Every method creates its transaction after the same number
 * of awaits (`ready`, then the store), so transactions follow call order: a `compact`
 * called after an `append` deletes that append's record (the snapshot covers it), and an
 * append called after a `compact` survives it. Sequence numbers are assigned at call
 * time for the same reason.
 *
 * Integrity: every record and metadata value carries a CRC-32C (idb-record.ts), verified
 * whenever it is read back: `load` (every shard is loaded when a replica opens) and
 * `getMeta`. A damaged value rejects with `CorruptIdbRecordError` naming the database and
 * the key, and is never returned. Each shard's marker (idb-markers.ts) counts its records
 * and is written in the transaction that changes them; a shard whose records disagree
 * with it (one deleted or added) makes the open reject the same way, and so does a shard
 * deleted whole, records and marker, or one that appeared: the shard directory
 * (idb-directory.ts) lists every shard that has a marker. The database's
 * format is checked (and a database written before checksums, markers or the directory upgraded)
 * before anything else runs (idb-format.ts).
 *
 * Failures: arguments are checked at call time, before anything is queued (the core's
 * storage-arguments rules); a transaction the browser aborts for lack of quota
 * (QuotaExceededError) rejects with `StorageFullError`, as the Storage contract asks.
 */
import { get, promisifyRequest } from 'idb-keyval'
import { checkAppendBatch, checkMetaValue, checkSnapshot, checkStorageName, StorageFullError, type Storage, type StoredRecord } from '@concord/core'
import { afterAppend, EMPTY_MARKER, encodeMarker } from '@concord/core'
import { allRecordsRange, CorruptIdbRecordError, decodeIdbRecord, encodeIdbRecord, keyText, metaKey, openMeta, parseRecordKey, recordKey, sealMeta, shardRange } from './idb-record.js'
import { allMarkersRange, checkMarkers, markerKey, openMarker } from './idb-markers.js'
import { checkDirectory, DIRECTORY_KEY, relist } from './idb-directory.js'
import { damagedAdvice, openIdbFormat } from './idb-format.js'
import { createStrictStore, type StrictStore } from './strict-store.js'

export interface IdbStorageOptions {
  /** Replica name; the IndexedDB database is `concord:<name>`. */
  name: string
  /** IndexedDB implementation; default the global `indexedDB` (tests pass fake-indexeddb's). */
  indexedDB?: IDBFactory
}

const STORE_NAME = 'records'
/** Largest meta value accepted; metadata is small (ids, counters). */
const MAX_META_BYTES = 1024 * 1024

export class IdbStorage implements Storage {
  readonly dbName: string
  private readonly name: string
  private readonly store: StrictStore
  private readonly ready: Promise<void>
  private nextSeq = 0
  private readonly held = new Set<string>()
  private closed = false

  constructor(options: IdbStorageOptions) {
    if (!options.name) throw new Error('IdbStorage needs a name')
    this.name = options.name
    this.dbName = `concord:${options.name}`
    this.store = createStrictStore(this.dbName, STORE_NAME, options.indexedDB ?? indexedDB)
    this.ready = this.open()
    // Every method awaits `ready` and reports its failure; a storage closed unused must not leave it unhandled.
    this.ready.catch(() => undefined)
  }

  /**
   * Checks (or upgrades) the format, then reads every record key, marker and the shard
   * directory once: each shard's records must agree with its marker, and the shards that
   * have a marker must be those the directory lists; then the shards held and the next
   * sequence number.
   */
  private async open(): Promise<void> {
    await openIdbFormat(this.store, this.dbName, this.name)
    const [keys, markerKeys, markers, directory] = await this.store.use('readonly', (s) =>
      Promise.all([
        promisifyRequest(s.getAllKeys(allRecordsRange())),
        promisifyRequest(s.getAllKeys(allMarkersRange())),
        promisifyRequest(s.getAll(allMarkersRange())),
        promisifyRequest(s.get(DIRECTORY_KEY)) as Promise<unknown>,
      ]),
    )
    this.verified(() => checkDirectory(this.dbName, directory, checkMarkers(this.dbName, keys, markerKeys, markers).keys()))
    for (const key of keys) {
      const parsed = parseRecordKey(key)
      if (parsed === null) continue
      this.held.add(parsed.shard)
      if (parsed.seq >= this.nextSeq) this.nextSeq = parsed.seq + 1
    }
  }

  async append(batch: Array<{ shard: string; record: StoredRecord }>): Promise<void> {
    this.assertOpen()
    checkAppendBatch(batch)
    if (batch.length === 0) return
    // Encoded (so copied) now: the caller may reuse its buffers once this call returns.
    const taken = batch.map(({ shard, record }) => ({ shard, value: encodeIdbRecord(record) }))
    await this.ready
    const entries = taken.map(({ shard, value }) => ({ shard, seq: this.nextSeq++, value }))
    const seqs = new Map<string, number[]>()
    for (const { shard, seq } of entries) {
      const list = seqs.get(shard)
      if (list === undefined) seqs.set(shard, [seq])
      else list.push(seq)
    }
    await this.writeChecked((s, refuse) => {
      for (const { shard, seq, value } of entries) s.put(value, recordKey(shard, seq))
      const created: string[] = []
      // Each marker is read and rewritten inside this transaction: it counts exactly what committed before.
      for (const [shard, added] of seqs) {
        const stored = s.get(markerKey(shard))
        stored.onsuccess = () => {
          try {
            const value: unknown = stored.result
            let marker = value === undefined ? EMPTY_MARKER : openMarker(value, `${this.dbName} is damaged: shard ${JSON.stringify(shard)} marker ${keyText(markerKey(shard))}`)
            for (const seq of added) marker = afterAppend(marker, seq)
            s.put(encodeMarker(marker), markerKey(shard))
            // A new marker: the directory, read after every marker of the batch, lists `created` as it is by then.
            if (value === undefined && created.push(shard) === 1) relist(s, this.dbName, created, [], refuse)
          } catch (err) {
            refuse(err as Error)
          }
        }
      }
    })
    for (const { shard } of taken) this.held.add(shard)
  }

  async shards(): Promise<string[]> {
    await this.ready
    return [...this.held]
  }

  async load(shard: string): Promise<StoredRecord[]> {
    await this.ready
    // Keys and values from one transaction, so they pair up; the keys name a damaged record.
    const [keys, values] = await this.store.use('readonly', (s) => Promise.all([promisifyRequest(s.getAllKeys(shardRange(shard))), promisifyRequest(s.getAll(shardRange(shard)))]))
    const records = values.map((v: unknown, i) => this.verified(() => decodeIdbRecord(v, `${this.dbName} is damaged: shard ${JSON.stringify(shard)} record ${keyText(keys[i]!)}`)))
    let start = 0
    for (let i = records.length - 1; i >= 0; i--) {
      if (records[i]!.kind === 'snapshot') {
        start = i
        break
      }
    }
    return start === 0 ? records : records.slice(start)
  }

  async compact(shard: string, snapshot: StoredRecord): Promise<void> {
    this.assertOpen()
    checkStorageName(shard, 'shard')
    checkSnapshot(snapshot)
    const value = encodeIdbRecord(snapshot)
    await this.ready
    const seq = this.nextSeq++
    await this.writeChecked((s, refuse) => {
      s.delete(IDBKeyRange.bound(['r', shard], ['r', shard, seq], false, true))
      s.put(value, recordKey(shard, seq))
      // Every older record is deleted, and none is newer (sequence numbers follow call order).
      s.put(encodeMarker({ first: seq, next: seq + 1, count: 1 }), markerKey(shard))
      // The shard may have had no marker (a new id): listed unless it already is.
      relist(s, this.dbName, [shard], [], refuse)
    })
    this.held.add(shard)
  }

  async remove(shard: string): Promise<void> {
    this.assertOpen()
    checkStorageName(shard, 'shard')
    await this.ready
    await this.writeChecked((s, refuse) => {
      s.delete(shardRange(shard))
      s.delete(markerKey(shard))
      relist(s, this.dbName, [], [shard], refuse)
    })
    this.held.delete(shard)
  }

  async getMeta(key: string): Promise<Uint8Array | undefined> {
    await this.ready
    const value: unknown = await get(metaKey(key), this.store.use)
    if (value === undefined) return undefined
    return this.verified(() => openMeta(value, `${this.dbName} is damaged: metadata ${keyText(metaKey(key))}`))
  }

  async setMeta(key: string, value: Uint8Array): Promise<void> {
    this.assertOpen()
    checkStorageName(key, 'meta key')
    checkMetaValue(value)
    if (value.length > MAX_META_BYTES) throw new RangeError(`meta value of ${value.length} bytes exceeds ${MAX_META_BYTES}`)
    const sealed = sealMeta(value)
    await this.ready
    await this.write((s) => {
      s.put(sealed, metaKey(key))
    })
  }

  /**
   * Runs `fill` in one read-write transaction and resolves once it is complete (durable:
   * see strict-store.ts). The one place writes reach IndexedDB: a test stands a quota
   * failure in here (the full-medium case of the storage contract suite).
   */
  protected async write(fill: (store: IDBObjectStore) => void): Promise<void> {
    try {
      await this.store.use('readwrite', (s) => {
        fill(s)
        return promisifyRequest(s.transaction)
      })
    } catch (err) {
      // The browser aborts a transaction past the origin's quota with this DOMException.
      if ((err as { name?: unknown } | null)?.name === 'QuotaExceededError') throw new StorageFullError(`storage quota of ${this.dbName} exceeded`, { cause: err })
      throw err
    }
  }

  /**
   * `write`, with `refuse` for what a request callback finds damaged inside the
   * transaction: it aborts the transaction, and the write rejects with that error
   * (with the page's advice) instead of the abort.
   */
  private async writeChecked(fill: (store: IDBObjectStore, refuse: (err: Error) => void) => void): Promise<void> {
    let refused: Error | undefined
    try {
      await this.write((s) =>
        fill(s, (err) => {
          if (refused !== undefined) return
          refused = err
          s.transaction.abort()
        }),
      )
    } catch (err) {
      throw refused === undefined ? err : advised(refused, this.name)
    }
  }

  /** Runs a decoder; its error gains what the page can do about it. */
  private verified<T>(decode: () => T): T {
    try {
      return decode()
    } catch (err) {
      throw advised(err, this.name)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    // Transactions already created still complete; the connection closes after them.
    this.store.close()
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`storage ${this.dbName} is closed`)
  }
}

/** A `CorruptIdbRecordError` with what the page can do about it appended; any other error as it is. */
function advised(err: unknown, name: string): unknown {
  return err instanceof CorruptIdbRecordError ? new CorruptIdbRecordError(`${err.message}. ${damagedAdvice(name)}`) : err
}

/** Deletes a replica's database (every shard and its metadata). */
export async function deleteIdbStorage(name: string, factory: IDBFactory = indexedDB): Promise<void> {
  await promisifyRequest(factory.deleteDatabase(`concord:${name}`))
}
