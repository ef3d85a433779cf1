/**
 * On-disk encoding of one shard record (DESIGN.md decision 11).
 *
 * Layout, version 1: [version u8][kind u8][generation: u32 hi, u32 lo][data ...].
 * Decoding trusts nothing read from disk: a wrong version, kind or a short buffer throws
 * a `CorruptRecordError` instead of producing a record the core would misapply.
 */
import type { StoredRecord } from '@concord/core'

export const RECORD_FORMAT_VERSION = 1
const HEADER_BYTES = 10
const KIND_UPDATE = 0
const KIND_SNAPSHOT = 1

export class CorruptRecordError extends Error {
  readonly code = 'XX001' // PostgreSQL's data_corrupted
  constructor(message: string) {
    super(message)
    this.name = 'CorruptRecordError'
  }
}

export function encodeRecord(record: StoredRecord): Uint8Array {
  const { generation, kind, data } = record
  if (!Number.isSafeInteger(generation) || generation < 0) throw new RangeError(`bad generation ${generation}`)
  if (kind !== 'update' && kind !== 'snapshot') throw new RangeError(`bad record kind ${String(kind)}`)
  if (!(data instanceof Uint8Array)) throw new TypeError('record data must be a Uint8Array')
  const out = new Uint8Array(HEADER_BYTES + data.length)
  const view = new DataView(out.buffer)
  out[0] = RECORD_FORMAT_VERSION
  out[1] = kind === 'update' ? KIND_UPDATE : KIND_SNAPSHOT
  view.setUint32(2, Math.floor(generation / 2 ** 32))
  view.setUint32(6, generation >>> 0)
  out.set(data, HEADER_BYTES)
  return out
}

export function decodeRecord(bytes: Uint8Array): StoredRecord {
  if (bytes.length < HEADER_BYTES) throw new CorruptRecordError(`record of ${bytes.length} bytes is shorter than its header`)
  if (bytes[0] !== RECORD_FORMAT_VERSION) throw new CorruptRecordError(`unknown record format version ${bytes[0]}`)
  const kindByte = bytes[1]
  if (kindByte !== KIND_UPDATE && kindByte !== KIND_SNAPSHOT) throw new CorruptRecordError(`unknown record kind ${kindByte}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const generation = view.getUint32(2) * 2 ** 32 + view.getUint32(6)
  if (!Number.isSafeInteger(generation)) throw new CorruptRecordError(`generation ${generation} out of range`)
  // Copy: the caller may keep the data while LMDB reuses the buffer it returned.
  const data = bytes.slice(HEADER_BYTES)
  return { generation, kind: kindByte === KIND_UPDATE ? 'update' : 'snapshot', data }
}
