/**
 * The shard directory a storage keeps beside its shard markers (the node's LMDB and the
 * browser's IndexedDB, each under ['d', 'shards']): the ids of every shard that has a
 * marker. A marker counts its shard's records, so a record deleted or added is found;
 * the directory counts the markers, so a shard deleted whole (its records together with
 * its marker) is found too, instead of the storage opening as if it never held it.
 *
 * Payload (sealed by checked-record.ts): [count: u32] then `count` times [length: u16]
 * [id: UTF-8], none twice, no trailing bytes; written in ascending order (not required
 * of a stored one: an id that is not well-formed UTF-16 reads back changed, as in a key).
 *
 * Invariant (kept by each storage): the directory lists exactly the shards that have a
 * marker. It is rewritten only when a marker is created or removed, in the transaction
 * that does so; an append to a shard that already has a marker does not touch it.
 */
import { CorruptRecordError, openValue, sealValue } from './checked-record.js'

/** Most ids a directory holds; far beyond the shards one replica keeps. */
export const MAX_DIRECTORY_SHARDS = 1_000_000
/** Longest id, in UTF-8 bytes (the node's LMDB key limit is lower). */
const MAX_ID_BYTES = 0xffff

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeShardDirectory(ids: Iterable<string>): Uint8Array {
  const sorted = [...new Set(ids)].sort()
  if (sorted.length > MAX_DIRECTORY_SHARDS) throw new RangeError(`a shard directory of ${sorted.length} shards exceeds ${MAX_DIRECTORY_SHARDS}`)
  const encoded = sorted.map((id) => encoder.encode(id))
  const payload = new Uint8Array(4 + encoded.reduce((n, b) => n + 2 + b.length, 0))
  const view = new DataView(payload.buffer)
  view.setUint32(0, encoded.length)
  let at = 4
  for (const bytes of encoded) {
    if (bytes.length > MAX_ID_BYTES) throw new RangeError(`shard id of ${bytes.length} bytes exceeds ${MAX_ID_BYTES}`)
    view.setUint16(at, bytes.length)
    payload.set(bytes, at + 2)
    at += 2 + bytes.length
  }
  return sealValue(payload)
}

/** The ids a stored directory lists; anything but a well-formed one throws `CorruptRecordError`. */
export function decodeShardDirectory(bytes: Uint8Array): Set<string> {
  const payload = openValue(bytes)
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  if (payload.length < 4) throw new CorruptRecordError(`shard directory of ${payload.length} bytes is shorter than its count`)
  const count = view.getUint32(0)
  if (count > MAX_DIRECTORY_SHARDS || count * 2 > payload.length - 4) throw new CorruptRecordError(`shard directory counts ${count} shards in ${payload.length} bytes`)
  const ids = new Set<string>()
  let at = 4
  for (let i = 0; i < count; i++) {
    if (at + 2 > payload.length) throw new CorruptRecordError(`shard directory ends inside the length of id ${i}`)
    const length = view.getUint16(at)
    if (at + 2 + length > payload.length) throw new CorruptRecordError(`shard directory id ${i} of ${length} bytes runs past its end`)
    let id: string
    try {
      id = decoder.decode(payload.subarray(at + 2, at + 2 + length))
    } catch {
      throw new CorruptRecordError(`shard directory id ${i} is not UTF-8`)
    }
    if (ids.has(id)) throw new CorruptRecordError(`shard directory lists id ${i} twice`)
    ids.add(id)
    at += 2 + length
  }
  if (at !== payload.length) throw new CorruptRecordError(`shard directory has ${payload.length - at} trailing bytes`)
  return ids
}

/**
 * How the shards listed by a directory and those that have a marker differ: `deleted`
 * are listed without a marker (the shard's records and marker are gone), `unlisted` have
 * a marker the directory does not list (a shard that appeared). Both sorted.
 */
export function compareShardDirectory(listed: ReadonlySet<string>, marked: Iterable<string>): { deleted: string[]; unlisted: string[] } {
  const seen = new Set(marked)
  const deleted = [...listed].filter((id) => !seen.has(id)).sort()
  const unlisted = [...seen].filter((id) => !listed.has(id)).sort()
  return { deleted, unlisted }
}

/** What a storage's message says of a shard `compareShardDirectory` found (no shard: nothing wrong). */
export function directoryDamage(found: { deleted: string[]; unlisted: string[] }): { shard: string; what: string } | null {
  const [deleted] = found.deleted
  if (deleted !== undefined) {
    const others = found.deleted.length - 1
    const more = others === 0 ? '' : ` (and ${others} other shard${others === 1 ? '' : 's'})`
    return { shard: deleted, what: `the shard directory lists it but its records and marker are gone (the shard was deleted)${more}` }
  }
  const [unlisted] = found.unlisted
  if (unlisted !== undefined) return { shard: unlisted, what: 'it has a marker but the shard directory does not list it (a shard was added)' }
  return null
}
