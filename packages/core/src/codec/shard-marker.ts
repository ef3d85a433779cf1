/**
 * The marker a storage keeps per shard (the node's LMDB under ['s', shard], the browser's
 * IndexedDB under ['k', shard]): which record sequence numbers the shard's log holds, so that a record missing from the file (or one that appeared) is found
 * at load, not only a changed byte inside one (core's codec/checked-record.ts checks those).
 *
 * Payload (sealed by checked-record.ts): [first seq: u32 hi, lo][next seq: u32 hi, lo]
 * [count: u32 hi, lo]. Every record of the shard has first <= seq < next, and there are
 * exactly `count` of them (not next - first: a batch whose commit failed leaves a gap).
 */
import { CorruptRecordError, openValue, sealValue, writeUint64 } from './checked-record.js'

export interface ShardMarker {
  readonly first: number
  readonly next: number
  readonly count: number
}

const PAYLOAD_BYTES = 24

export const EMPTY_MARKER: ShardMarker = { first: 0, next: 0, count: 0 }

export function encodeMarker(m: ShardMarker): Uint8Array {
  const payload = new Uint8Array(PAYLOAD_BYTES)
  // Byte by byte, not through a DataView of `payload.buffer` (see sealValue): one per shard an append writes.
  writeUint64(payload, 0, m.first)
  writeUint64(payload, 8, m.next)
  writeUint64(payload, 16, m.count)
  return sealValue(payload)
}

export function decodeMarker(bytes: Uint8Array): ShardMarker {
  const payload = openValue(bytes)
  if (payload.length !== PAYLOAD_BYTES) throw new CorruptRecordError(`shard marker of ${payload.length} bytes, expected ${PAYLOAD_BYTES}`)
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const [first, next, count] = [0, 1, 2].map((i) => view.getUint32(i * 8) * 2 ** 32 + view.getUint32(i * 8 + 4)) as [number, number, number]
  if (![first, next, count].every(Number.isSafeInteger) || first > next || count > next - first) {
    throw new CorruptRecordError(`shard marker out of range (first ${first}, next ${next}, count ${count})`)
  }
  return { first, next, count }
}

/** The marker after appending a record with sequence number `seq` (above every one before). */
export function afterAppend(m: ShardMarker, seq: number): ShardMarker {
  return { first: m.count === 0 ? seq : m.first, next: Math.max(m.next, seq + 1), count: m.count + 1 }
}
