/**
 * In-memory `Storage`: durable for the lifetime of the object. The simulator keeps one
 * per node across crashes, so a restarted replica reloads exactly what it had appended;
 * tests use it as the reference behaviour for the durable implementations; `concord start
 * --memory` runs a node on one. Arguments are checked as every storage checks them
 * (storage-arguments.ts); a write never fails otherwise (memory is not a medium that
 * fills up).
 *
 * `snapshot()` / `MemoryStorage.fromSnapshot()` are the in-memory form of copying a stopped
 * node's data directory: a harness saves a prepared database once and starts fresh nodes
 * on copies of it. A snapshot is plain data (structured-clone and `v8.serialize` safe) and
 * shares no buffer with the storage it came from or goes to.
 */
import type { Storage, StoredRecord } from '../api.js'
import { checkAppendBatch, checkMetaValue, checkSnapshot, checkStorageName } from './storage-arguments.js'

/** Everything a MemoryStorage holds, as plain data. */
export interface MemorySnapshot {
  records: Array<[shard: string, records: StoredRecord[]]>
  meta: Array<[key: string, value: Uint8Array]>
}

export class MemoryStorage implements Storage {
  private readonly records = new Map<string, StoredRecord[]>()
  private readonly meta = new Map<string, Uint8Array>()
  /** Bytes appended in total (for benchmarks and metrics). */
  bytesWritten = 0

  /** A copy of every record and meta entry held now. */
  snapshot(): MemorySnapshot {
    return {
      records: [...this.records].map(([shard, list]) => [shard, list.map((r) => ({ generation: r.generation, kind: r.kind, data: r.data.slice() }))]),
      meta: [...this.meta].map(([k, v]) => [k, v.slice()]),
    }
  }

  /** A new storage holding a copy of `snapshot`. */
  static fromSnapshot(snapshot: MemorySnapshot): MemoryStorage {
    const st = new MemoryStorage()
    for (const [shard, list] of snapshot.records) st.append(list.map((record) => ({ shard, record })))
    for (const [k, v] of snapshot.meta) st.setMeta(k, v)
    return st
  }

  append(batch: Array<{ shard: string; record: StoredRecord }>): void {
    checkAppendBatch(batch)
    for (const { shard, record } of batch) {
      let list = this.records.get(shard)
      if (list === undefined) {
        list = []
        this.records.set(shard, list)
      }
      list.push({ generation: record.generation, kind: record.kind, data: record.data.slice() })
      this.bytesWritten += record.data.length
    }
  }

  shards(): string[] {
    return [...this.records.keys()]
  }

  load(shard: string): StoredRecord[] {
    const list = this.records.get(shard) ?? []
    let start = 0
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.kind === 'snapshot') {
        start = i
        break
      }
    }
    return list.slice(start)
  }

  compact(shard: string, snapshot: StoredRecord): void {
    checkStorageName(shard, 'shard')
    checkSnapshot(snapshot)
    this.records.set(shard, [{ ...snapshot, kind: 'snapshot', data: snapshot.data.slice() }])
  }

  remove(shard: string): void {
    checkStorageName(shard, 'shard')
    this.records.delete(shard)
  }

  getMeta(key: string): Uint8Array | undefined {
    return this.meta.get(key)
  }

  setMeta(key: string, value: Uint8Array): void {
    checkStorageName(key, 'meta key')
    checkMetaValue(value)
    this.meta.set(key, value.slice())
  }

  /** Total bytes currently held across all shards. */
  size(): number {
    let n = 0
    for (const list of this.records.values()) for (const r of list) n += r.data.length
    return n
  }
}
