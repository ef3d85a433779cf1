/**
 * How a core `StoredRecord` and a metadata value are kept in IndexedDB, and the keys of
 * the IdbStorage layout.
 *
 * Keys (IndexedDB array keys, ordered element by element):
 *   ['d', 'shards']    the shard directory: every shard that has a marker (idb-directory.ts)
 *   ['f', 'format']    the database's format (a number): 4 since the shard directory, 3
 *                      since shard markers, 2 with checksums only; absent in databases of
 *                      format 1 (idb-format.ts)
 *   ['k', shard]       the shard's marker: which records it holds (idb-markers.ts)
 *   ['m', key]         replica metadata (`Storage.getMeta` / `setMeta`), sealed
 *   ['r', shard, seq]  a record of `shard`; `seq` grows with every append, so a range
 *                      read returns the records oldest first
 *
 * Record, format 2 (bytes: core's codec/checked-record.ts, the node's record layout):
 *   [version u8 = 2][kind u8: 0 update, 1 snapshot][generation: u32 hi, u32 lo][crc32c u32][data ...]
 * The checksum (core's crc32c) covers the ten header bytes before it and the data.
 * Metadata value, format 2 (core's sealValue): [version u8 = 2][crc32c u32 of the payload][payload ...].
 * Format 1 (before checksums): a record was an object { v: 1, g, k: 'u' | 's', d }, a
 * metadata value its bare bytes; read only by the one-time upgrade (`legacy` decoders).
 *
 * Invariant: a decoder returns a record or a payload only when its checksum matches.
 * Values come back from disk, which may hold anything a damaged disk or a broken version
 * left there, so every length, tag and type is checked; anything else is a
 * `CorruptIdbRecordError`.
 */
import { CorruptRecordError, decodeRecord, encodeRecord, openValue, RECORD_FORMAT_VERSION, sealValue, type StoredRecord } from '@concord/core'

export const IDB_RECORD_VERSION = RECORD_FORMAT_VERSION
const LEGACY_RECORD_VERSION = 1

/** A stored value that cannot be trusted; the message names the database and the key. */
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

/** Every metadata key. */
export function allMetaRange(): IDBKeyRange {
  return IDBKeyRange.bound(['m'], ['m', []])
}

/** A key as error messages print it: `["r","t:3:0",17]`. */
export function keyText(key: IDBValidKey): string {
  try {
    return JSON.stringify(key)
  } catch {
    return String(key)
  }
}

export function encodeIdbRecord(record: StoredRecord): Uint8Array {
  return encodeRecord(record)
}

/** A format-2 record (core's checked record, as the node stores it); `where` (database and key) prefixes every error. */
export function decodeIdbRecord(value: unknown, where: string): StoredRecord {
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not a checksummed record (${describe(value)})`)
  return named(where, () => decodeRecord(value))
}

/** A format-1 record (an object, no checksum), read only by the upgrade to format 2. */
export function decodeLegacyIdbRecord(value: unknown, where: string): StoredRecord {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) throw new CorruptIdbRecordError(`${where}: not a format-1 record (${describe(value)})`)
  const r = value as { v?: unknown; g?: unknown; k?: unknown; d?: unknown }
  if (r.v !== LEGACY_RECORD_VERSION) throw new CorruptIdbRecordError(`${where}: unknown record version ${String(r.v)}`)
  if (typeof r.g !== 'number' || !Number.isSafeInteger(r.g) || r.g < 0) throw new CorruptIdbRecordError(`${where}: bad generation`)
  if (r.k !== 'u' && r.k !== 's') throw new CorruptIdbRecordError(`${where}: bad kind`)
  if (!(r.d instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: data is not bytes`)
  return { generation: r.g, kind: r.k === 's' ? 'snapshot' : 'update', data: r.d }
}

export function sealMeta(payload: Uint8Array): Uint8Array {
  return sealValue(payload)
}

/** The payload of a sealed metadata value; `where` prefixes every error. */
export function openMeta(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not bytes (${describe(value)})`)
  return named(where, () => openValue(value))
}

/** Core's `CorruptRecordError` as this storage's error, naming the database and key. */
function named<T>(where: string, decode: () => T): T {
  try {
    return decode()
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new CorruptIdbRecordError(`${where}: ${e.message}`)
    throw e
  }
}

/** Decodes a key read from a record range: ['r', shard, seq]. */
export function parseRecordKey(key: IDBValidKey): { shard: string; seq: number } | null {
  if (!Array.isArray(key) || key.length !== 3 || key[0] !== 'r') return null
  const [, shard, seq] = key
  if (typeof shard !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq)) return null
  return { shard, seq }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return `${value.length} bytes`
  return typeof value === 'object' ? 'an object' : typeof value
}
