/**
 * On-disk encoding of one shard record (DESIGN.md decision 11), the node's LMDB storage
 * and the browser's IndexedDB storage alike.
 *
 * Layout, version 2: [version u8 = 2][kind u8][generation: u32 hi, u32 lo][crc32c u32][data ...]
 * The checksum (core's codec/crc32c.ts) covers the ten header bytes before it and the data, so a changed
 * byte anywhere in the record is found at load instead of being applied as a different
 * Yjs update (a wrong value served for ever).
 *
 * Version 1 (before checksums: the same header without the crc, then the data) is read
 * only when asked (`legacy`): by the one-time upgrade of an old data directory
 * (node-server's store-format.ts). Afterwards a version-1 record is damage like any other.
 *
 * Decoding trusts nothing read from disk: a wrong version, kind, checksum or a short buffer
 * throws a `CorruptRecordError` instead of producing a record the core would misapply.
 */
import { checksumText, crc32c } from './crc32c.js'
import type { StoredRecord } from '../api.js'

export const RECORD_FORMAT_VERSION = 2
const LEGACY_VERSION = 1
const LEGACY_HEADER_BYTES = 10
const CHECKED_BYTES = 10
const HEADER_BYTES = 14
const KIND_UPDATE = 0
const KIND_SNAPSHOT = 1

export class CorruptRecordError extends Error {
  readonly code = 'XX001' // PostgreSQL's data_corrupted
  constructor(message: string) {
    super(message)
    this.name = 'CorruptRecordError'
  }
}

/**
 * Checksums of the records this module encoded or verified while decoding, by their data
 * (with the kind and generation they were taken with): a record's identity for a row
 * snapshot's log position (`recordChecksum`) without reading its bytes again. A start with
 * 1,000,000 rows spent a quarter of a second hashing the last record of the log afresh.
 */
const knownChecksums = new WeakMap<Uint8Array, { kind: StoredRecord['kind']; generation: number; checksum: number }>()

/** Writes `value` as four big-endian bytes at `at` (no DataView made per record). */
export function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24
  out[at + 1] = (value >>> 16) & 0xff
  out[at + 2] = (value >>> 8) & 0xff
  out[at + 3] = value & 0xff
}

/** Writes a safe integer as eight big-endian bytes (high word, then low word) at `at`. */
export function writeUint64(out: Uint8Array, at: number, n: number): void {
  writeUint32(out, at, Math.floor(n / 2 ** 32))
  writeUint32(out, at + 4, n >>> 0)
}

/** Writes the record's ten checked header bytes (version, kind, generation) at the start of `out`. */
function writeHeader(out: Uint8Array, kind: StoredRecord['kind'], generation: number): void {
  out[0] = RECORD_FORMAT_VERSION
  out[1] = kind === 'update' ? KIND_UPDATE : KIND_SNAPSHOT
  writeUint64(out, 2, generation)
}

/** The last header `headerChecksum` computed: a node's records share one generation for long. */
let lastHeader = { kind: 'update' as StoredRecord['kind'], generation: -1, checksum: 0 }

/** The crc32c of the record's ten checked header bytes. */
function headerChecksum(kind: StoredRecord['kind'], generation: number): number {
  if (lastHeader.kind === kind && lastHeader.generation === generation) return lastHeader.checksum
  const header = new Uint8Array(CHECKED_BYTES)
  writeHeader(header, kind, generation)
  lastHeader = { kind, generation, checksum: crc32c(header) }
  return lastHeader.checksum
}

/** A new zeroed array of `size` bytes: `encodeRecord`'s default. */
function newBytes(size: number): Uint8Array {
  return new Uint8Array(size)
}

/**
 * The checksum `encodeRecord` stores for `record` (crc32c of its header and data): known
 * without reading the data when this module encoded or decoded that record, computed otherwise.
 */
export function recordChecksum(record: StoredRecord): number {
  const known = knownChecksums.get(record.data)
  if (known !== undefined && known.kind === record.kind && known.generation === record.generation) return known.checksum
  const checksum = crc32c(record.data, headerChecksum(record.kind, record.generation))
  knownChecksums.set(record.data, { kind: record.kind, generation: record.generation, checksum })
  return checksum
}

/**
 * The record's bytes. `alloc` gives the array they are written into, and every byte of it
 * is written, so it may come uninitialized from a pool: the node's LMDB storage passes
 * `Buffer.allocUnsafe`, whose small buffers are views of a shared slab (no memory of
 * their own to allocate, zero and track per record, four per pgbench tpcb-like COMMIT).
 * Not the browser's IndexedDB: its structured clone of a view stores the whole buffer.
 */
export function encodeRecord(record: StoredRecord, alloc: (size: number) => Uint8Array = newBytes): Uint8Array {
  const { generation, kind, data } = record
  if (!Number.isSafeInteger(generation) || generation < 0) throw new RangeError(`bad generation ${generation}`)
  if (kind !== 'update' && kind !== 'snapshot') throw new RangeError(`bad record kind ${String(kind)}`)
  if (!(data instanceof Uint8Array)) throw new TypeError('record data must be a Uint8Array')
  const out = alloc(HEADER_BYTES + data.length)
  writeHeader(out, kind, generation)
  out.set(data, HEADER_BYTES)
  const checksum = crc32c(data, headerChecksum(kind, generation))
  writeUint32(out, CHECKED_BYTES, checksum)
  // A snapshot (a compaction's: large) is named by it once written; an update record is
  // small and mostly never named, so none is remembered per commit.
  if (kind === 'snapshot') knownChecksums.set(data, { kind, generation, checksum })
  return out
}

/** Decodes a stored record; `legacy` also accepts version 1 (no checksum); `owned`: the data is a view of `bytes` (see below). */
export function decodeRecord(bytes: Uint8Array, options: { legacy?: boolean; owned?: boolean } = {}): StoredRecord {
  if (bytes.length < 1) throw new CorruptRecordError('empty record')
  const legacy = options.legacy === true && bytes[0] === LEGACY_VERSION
  if (!legacy && bytes[0] !== RECORD_FORMAT_VERSION) throw new CorruptRecordError(`unknown record format version ${bytes[0]}`)
  const headerBytes = legacy ? LEGACY_HEADER_BYTES : HEADER_BYTES
  if (bytes.length < headerBytes) throw new CorruptRecordError(`record of ${bytes.length} bytes is shorter than its header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (!legacy) {
    const stored = view.getUint32(CHECKED_BYTES)
    const computed = crc32c(bytes.subarray(HEADER_BYTES), crc32c(bytes.subarray(0, CHECKED_BYTES)))
    if (stored !== computed) throw new CorruptRecordError(`checksum mismatch (stored ${checksumText(stored)}, computed ${checksumText(computed)})`)
  }
  const kindByte = bytes[1]
  if (kindByte !== KIND_UPDATE && kindByte !== KIND_SNAPSHOT) throw new CorruptRecordError(`unknown record kind ${kindByte}`)
  const generation = view.getUint32(2) * 2 ** 32 + view.getUint32(6)
  if (!Number.isSafeInteger(generation)) throw new CorruptRecordError(`generation ${generation} out of range`)
  // Copy, unless the caller owns `bytes` (`owned`: a read that returned its own copy, as
  // lmdb-js's range over a binary store does): LMDB may reuse the buffer it returned (and
  // a Buffer's `slice` would be a view, not a copy). Either way a plain Uint8Array.
  const data = options.owned === true
    ? new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, bytes.byteLength - headerBytes)
    : new Uint8Array(bytes.subarray(headerBytes))
  const kind = kindByte === KIND_UPDATE ? 'update' : 'snapshot'
  if (!legacy) knownChecksums.set(data, { kind, generation, checksum: view.getUint32(CHECKED_BYTES) })
  return { generation, kind, data }
}


/**
 * The frame around every small value stored besides records (the node's shard markers and
 * replica metadata, the browser's metadata): [version u8 = 2][crc32c u32 of the payload]
 * [payload ...]. Version 2 matches the record format that introduced checksums.
 *
 * Invariant: `openValue` returns a payload only when its checksum matches; anything else
 * (short, another version, a changed byte) is a `CorruptRecordError`.
 */
const VALUE_VERSION = 2
const VALUE_HEADER_BYTES = 5

export function sealValue(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(VALUE_HEADER_BYTES + payload.length)
  out[0] = VALUE_VERSION
  // Byte by byte: a DataView needs `out.buffer`, which V8 makes (and copies into) for a
  // small array held on its heap (every shard marker, each append).
  writeUint32(out, 1, crc32c(payload))
  out.set(payload, VALUE_HEADER_BYTES)
  return out
}

/** The payload of a sealed value (a copy: LMDB may reuse the buffer it returned). */
export function openValue(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(openValueInPlace(bytes))
}

/**
 * The payload of a sealed value as a view of `bytes`, for a caller that owns them (a read
 * that returned a copy, such as lmdb-js's `get`): a large value is not copied again (the
 * row snapshot of a 1,000,000-row table is ~80 MB, whose copy is ~0.3 s of page faults).
 */
export function openValueInPlace(bytes: Uint8Array): Uint8Array {
  if (bytes.length < VALUE_HEADER_BYTES) throw new CorruptRecordError(`value of ${bytes.length} bytes is shorter than its header`)
  if (bytes[0] !== VALUE_VERSION) throw new CorruptRecordError(`unknown value format version ${bytes[0]}`)
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  // A plain Uint8Array whatever `bytes` is (a Buffer's subarray would be a Buffer).
  const payload = new Uint8Array(bytes.buffer, bytes.byteOffset + VALUE_HEADER_BYTES, bytes.byteLength - VALUE_HEADER_BYTES)
  const computed = crc32c(payload)
  if (stored !== computed) throw new CorruptRecordError(`checksum mismatch (stored ${checksumText(stored)}, computed ${checksumText(computed)})`)
  return payload
}
