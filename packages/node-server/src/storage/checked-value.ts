/**
 * The frame around every small value LMDB holds besides records (shard markers, replica
 * metadata, see lmdb-storage.ts): [version u8 = 2][crc32c u32 of the payload][payload ...].
 * Version 2 matches the record format that introduced checksums (record-codec.ts); before
 * it these values were stored bare, and store-format.ts wraps them once.
 *
 * Invariant: `openValue` returns a payload only when its checksum matches; anything else
 * (short, another version, a changed byte) is a `CorruptRecordError`.
 */
import { checksumText, crc32c } from '@concord/core'
import { CorruptRecordError } from './record-codec.js'

const VALUE_VERSION = 2
const HEADER_BYTES = 5

export function sealValue(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length)
  out[0] = VALUE_VERSION
  new DataView(out.buffer).setUint32(1, crc32c(payload))
  out.set(payload, HEADER_BYTES)
  return out
}

/** The payload of a sealed value (a copy: LMDB may reuse the buffer it returned). */
export function openValue(bytes: Uint8Array): Uint8Array {
  if (bytes.length < HEADER_BYTES) throw new CorruptRecordError(`value of ${bytes.length} bytes is shorter than its header`)
  if (bytes[0] !== VALUE_VERSION) throw new CorruptRecordError(`unknown value format version ${bytes[0]}`)
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1)
  const payload = Uint8Array.from(bytes.subarray(HEADER_BYTES))
  const computed = crc32c(payload)
  if (stored !== computed) throw new CorruptRecordError(`checksum mismatch (stored ${checksumText(stored)}, computed ${checksumText(computed)})`)
  return payload
}
