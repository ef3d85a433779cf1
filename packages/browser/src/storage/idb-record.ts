/**
 * How a core `StoredRecord` and a metadata value are kept in IndexedDB, and the keys of
 * the IdbStorage layout.
 *
 * Keys (IndexedDB array keys, ordered element by element):
 *   ['f', 'format']    the database's format (a number): 2 since checksums; absent in
 *                      databases of format 1 (idb-format.ts)
 *   ['m', key]         replica metadata (`Storage.getMeta` / `setMeta`), sealed
 *   ['r', shard, seq]  a record of `shard`; `seq` grows with every append, so a range
 *                      read returns the records oldest first
 *
 * Record, format 2 (bytes, the node's record layout):
 *   [version u8 = 2][kind u8: 0 update, 1 snapshot][generation: u32 hi, u32 lo][crc32c u32][data ...]
 * The checksum (core's crc32c) covers the ten header bytes before it and the data.
 * Metadata value, format 2: [version u8 = 2][crc32c u32 of the payload][payload ...].
 * Format 1 (before checksums): a record was an object { v: 1, g, k: 'u' | 's', d }, a
 * metadata value its bare bytes; read only by the one-time upgrade (`legacy` decoders).
 *
 * Invariant: a decoder returns a record or a payload only when its checksum matches.
 * Values come back from disk, which may hold anything a damaged disk or a broken version
 * left there, so every length, tag and type is checked; anything else is a
 * `CorruptIdbRecordError`.
 */
import { checksumText, crc32c, type StoredRecord } from '@concord/core'

export const IDB_RECORD_VERSION = 2
const LEGACY_RECORD_VERSION = 1
const CHECKED_BYTES = 10
const RECORD_HEADER_BYTES = 14
const META_HEADER_BYTES = 5
const KIND_UPDATE = 0
const KIND_SNAPSHOT = 1
/** Generations are safe integers: two u32 halves, the high one below 2^21. */
const MAX_GENERATION_HI = 0x1fffff

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
  const out = new Uint8Array(RECORD_HEADER_BYTES + record.data.length)
  const view = new DataView(out.buffer)
  out[0] = IDB_RECORD_VERSION
  out[1] = record.kind === 'snapshot' ? KIND_SNAPSHOT : KIND_UPDATE
  view.setUint32(2, Math.floor(record.generation / 0x100000000))
  view.setUint32(6, record.generation >>> 0)
  out.set(record.data, RECORD_HEADER_BYTES)
  view.setUint32(CHECKED_BYTES, crc32c(record.data, crc32c(out.subarray(0, CHECKED_BYTES))))
  return out
}

/** A format-2 record; `where` (database and key) prefixes every error. */
export function decodeIdbRecord(value: unknown, where: string): StoredRecord {
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not a checksummed record (${describe(value)})`)
  if (value.length < RECORD_HEADER_BYTES) throw new CorruptIdbRecordError(`${where}: record of ${value.length} bytes is shorter than its ${RECORD_HEADER_BYTES}-byte header`)
  if (value[0] !== IDB_RECORD_VERSION) throw new CorruptIdbRecordError(`${where}: unknown record version ${value[0]}`)
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  const stored = view.getUint32(CHECKED_BYTES)
  const data = value.subarray(RECORD_HEADER_BYTES)
  const computed = crc32c(data, crc32c(value.subarray(0, CHECKED_BYTES)))
  if (stored !== computed) throw new CorruptIdbRecordError(`${where}: checksum mismatch (stored ${checksumText(stored)}, computed ${checksumText(computed)})`)
  // Checked after the checksum only as a guard against a version that wrote them wrong.
  const kind = value[1]
  if (kind !== KIND_UPDATE && kind !== KIND_SNAPSHOT) throw new CorruptIdbRecordError(`${where}: bad kind ${kind}`)
  const hi = view.getUint32(2)
  if (hi > MAX_GENERATION_HI) throw new CorruptIdbRecordError(`${where}: bad generation`)
  // `data` is a view: IndexedDB hands out a fresh copy of the value on every read.
  return { generation: hi * 0x100000000 + view.getUint32(6), kind: kind === KIND_SNAPSHOT ? 'snapshot' : 'update', data }
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
  const out = new Uint8Array(META_HEADER_BYTES + payload.length)
  out[0] = IDB_RECORD_VERSION
  new DataView(out.buffer).setUint32(1, crc32c(payload))
  out.set(payload, META_HEADER_BYTES)
  return out
}

/** The payload of a sealed metadata value; `where` prefixes every error. */
export function openMeta(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not bytes (${describe(value)})`)
  if (value.length < META_HEADER_BYTES) throw new CorruptIdbRecordError(`${where}: value of ${value.length} bytes is shorter than its header`)
  if (value[0] !== IDB_RECORD_VERSION) throw new CorruptIdbRecordError(`${where}: unknown value version ${value[0]}`)
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(1)
  const payload = value.subarray(META_HEADER_BYTES)
  const computed = crc32c(payload)
  if (stored !== computed) throw new CorruptIdbRecordError(`${where}: checksum mismatch (stored ${checksumText(stored)}, computed ${checksumText(computed)})`)
  return payload
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
