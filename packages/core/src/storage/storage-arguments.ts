/**
 * What every `Storage` accepts (api.ts), checked where a write enters an implementation,
 * before anything changes: a shard id or metadata key is a string; a record's generation
 * is a non-negative safe integer, its kind 'update' or 'snapshot', its data bytes; what
 * `compact` stores is a snapshot; a metadata value is bytes. A bad argument is refused
 * with a `TypeError` (wrong type) or `RangeError` (a value out of bounds), so a bug in a
 * caller stops at the boundary instead of reaching the disk. Limits of one medium (the
 * length of a name, the size of a value) are that implementation's own, refused the
 * same way.
 */
import type { StoredRecord } from '../api.js'

export function checkStorageName(name: unknown, what: 'shard' | 'meta key'): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string`)
}

export function checkStoredRecord(record: StoredRecord): void {
  if (typeof record !== 'object' || record === null) throw new TypeError('a stored record must be an object')
  const { generation, kind, data } = record as { generation: unknown; kind: unknown; data: unknown }
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) {
    throw new RangeError(`bad record generation ${String(generation)}`)
  }
  if (kind !== 'update' && kind !== 'snapshot') throw new RangeError(`bad record kind ${String(kind)}`)
  if (!(data instanceof Uint8Array)) throw new TypeError('record data must be a Uint8Array')
}

/** Checks every record of an append batch (all before any is stored: a batch lands whole). */
export function checkAppendBatch(batch: ReadonlyArray<{ shard: string; record: StoredRecord }>): void {
  if (!Array.isArray(batch)) throw new TypeError('an append batch must be an array')
  for (const { shard, record } of batch) {
    checkStorageName(shard, 'shard')
    checkStoredRecord(record)
  }
}

/** `compact` stores a snapshot: it replaces everything before it. */
export function checkSnapshot(record: StoredRecord): void {
  checkStoredRecord(record)
  if (record.kind !== 'snapshot') throw new RangeError('compact takes a snapshot record')
}

export function checkMetaValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError('a metadata value must be a Uint8Array')
}
