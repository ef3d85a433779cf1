/**
 * In-memory `Storage`: durable for the lifetime of the object. The simulator keeps one
 * per node across crashes, so a restarted replica reloads exactly what it had appended;
 * tests use it as the reference behaviour for the durable implementations. Arguments are
 * checked as every storage checks them (storage-arguments.ts); a write never fails
 * otherwise (memory is not a medium that fills up).
 */
import type { Storage, StoredRecord } from '../api.js'
import { checkAppendBatch, checkMetaValue, checkSnapshot, checkStorageName } from './storage-arguments.js'

export class MemoryStorage implements Storage {
  private readonly records = new Map<string, StoredRecord[]>()
  private readonly meta = new Map<string, Uint8Array>()
  /** Bytes appended in total (for benchmarks and metrics). */
  bytesWritten = 0

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
