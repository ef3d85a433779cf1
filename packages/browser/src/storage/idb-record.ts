/**
 * How a core `StoredRecord` is kept in IndexedDB, and the keys of the IdbStorage layout.
 *
 * Keys (IndexedDB array keys, ordered element by element):
 *   ['r', shard, seq]  a record of `shard`; `seq` grows with every append, so a range
 *                      read returns the records oldest first
 *   ['m', key]         replica metadata (`Storage.getMeta` / `setMeta`)
 * Value of a record, format 1: { v: 1, g: generation, k: 'u' | 's', d: Uint8Array }.
 * Values come back from disk, which may hold anything an older or broken version wrote,
 * so decoding checks every field.
 */
import type { StoredRecord } from '@concord/core'

export const IDB_RECORD_VERSION = 1

export interface IdbRecordValue {
  v: number
  g: number
  k: 'u' | 's'
  d: Uint8Array
}

export class CorruptIdbRecordError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CorruptIdbRecordError'
  }
}

export function recordKey(shard: string, seq: number): IDBValidKey {
  return ['r', shard, seq]
}

/** Every record key of `shard`: numbers sort before arrays, so `[]` bounds the range. */
export function shardRange(shard: string): IDBKeyRange {
  return IDBKeyRange.bound(['r', shard], ['r', shard, []])
}

/** Every record key of every shard. */
export function allRecordsRange(): IDBKeyRange {
  return IDBKeyRange.bound(['r'], ['r', []])
}

export function metaKey(key: string): IDBValidKey {
  return ['m', key]
}

export function encodeIdbRecord(record: StoredRecord): IdbRecordValue {
  return { v: IDB_RECORD_VERSION, g: record.generation, k: record.kind === 'snapshot' ? 's' : 'u', d: record.data }
}

export function decodeIdbRecord(value: unknown, where: string): StoredRecord {
  if (typeof value !== 'object' || value === null) throw new CorruptIdbRecordError(`${where}: not an object`)
  const r = value as Partial<IdbRecordValue>
  if (r.v !== IDB_RECORD_VERSION) throw new CorruptIdbRecordError(`${where}: unknown record version ${String(r.v)}`)
  if (typeof r.g !== 'number' || !Number.isSafeInteger(r.g) || r.g < 0) throw new CorruptIdbRecordError(`${where}: bad generation`)
  if (r.k !== 'u' && r.k !== 's') throw new CorruptIdbRecordError(`${where}: bad kind`)
  if (!(r.d instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: data is not bytes`)
  return { generation: r.g, kind: r.k === 's' ? 'snapshot' : 'update', data: r.d }
}

/** Decodes a key read from a record range: ['r', shard, seq]. */
export function parseRecordKey(key: IDBValidKey): { shard: string; seq: number } | null {
  if (!Array.isArray(key) || key.length !== 3 || key[0] !== 'r') return null
  const [, shard, seq] = key
  if (typeof shard !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq)) return null
  return { shard, seq }
}
