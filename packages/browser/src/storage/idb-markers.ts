/**
 * The shard markers of an IdbStorage database: key ['k', shard], value core's sealed
 * `ShardMarker` (codec/shard-marker.ts, the node's marker): the first and next sequence
 * numbers of the shard's records and how many there are. A checksum finds a changed
 * byte inside a record; only a count finds a whole record deleted from a shard's log
 * (or one that appeared).
 *
 * Invariant: a shard has a marker exactly when it has records, and its first, next and
 * count are the lowest seq, the highest seq + 1 and the number of the shard's records.
 * Every write that changes a shard's records (append, compact, remove, the format
 * upgrade) writes its marker in the same IndexedDB transaction, which commits whole, so
 * after a crash the two still agree. `checkMarkers` holds a database to it at open.
 */
import { afterAppend, CorruptRecordError, decodeMarker, EMPTY_MARKER, type ShardMarker } from '@concord/core'
import { CorruptIdbRecordError, keyText, parseRecordKey } from './idb-record.js'

export function markerKey(shard: string): IDBValidKey {
  return ['k', shard]
}

/** Every marker key. */
export function allMarkersRange(): IDBKeyRange {
  return IDBKeyRange.bound(['k'], ['k', []])
}

/** The markers the record keys (read oldest first) call for: what a fresh marker per shard says. */
export function markersOf(recordKeys: readonly IDBValidKey[]): Map<string, ShardMarker> {
  const markers = new Map<string, ShardMarker>()
  for (const key of recordKeys) {
    const parsed = parseRecordKey(key)
    if (parsed === null) continue
    markers.set(parsed.shard, afterAppend(markers.get(parsed.shard) ?? EMPTY_MARKER, parsed.seq))
  }
  return markers
}

/** A stored marker's value; `where` (database, shard and key) prefixes every error. */
export function openMarker(value: unknown, where: string): ShardMarker {
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not bytes`)
  try {
    return decodeMarker(value)
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new CorruptIdbRecordError(`${where}: ${e.message}`)
    throw e
  }
}

/**
 * Checks every shard's records (their keys) against its marker and returns the markers;
 * a shard that disagrees (a record missing or added, a marker without records, records
 * without a marker, a damaged marker) is a `CorruptIdbRecordError` naming `dbName` and the shard.
 */
export function checkMarkers(dbName: string, recordKeys: readonly IDBValidKey[], markerKeys: readonly IDBValidKey[], markerValues: readonly unknown[]): Map<string, ShardMarker> {
  const found = markersOf(recordKeys)
  const stored = new Map<string, ShardMarker>()
  for (let i = 0; i < markerKeys.length; i++) {
    const key = markerKeys[i]!
    const shard = Array.isArray(key) && key.length === 2 && typeof key[1] === 'string' ? key[1] : undefined
    if (shard === undefined) throw new CorruptIdbRecordError(`${dbName} is damaged: marker key ${keyText(key)} names no shard`)
    stored.set(shard, openMarker(markerValues[i], `${dbName} is damaged: shard ${JSON.stringify(shard)} marker ${keyText(key)}`))
  }
  for (const [shard, marker] of stored) {
    const records = found.get(shard)
    const where = `${dbName} is damaged: shard ${JSON.stringify(shard)}`
    if (records === undefined) throw new CorruptIdbRecordError(`${where}: its marker counts ${describe(marker)} but the shard holds none (records were deleted)`)
    if (records.first !== marker.first || records.next !== marker.next || records.count !== marker.count) {
      throw new CorruptIdbRecordError(`${where}: holds ${describe(records)} but its marker counts ${describe(marker)} (a record was deleted or added)`)
    }
  }
  for (const [shard, records] of found) {
    if (!stored.has(shard)) throw new CorruptIdbRecordError(`${dbName} is damaged: shard ${JSON.stringify(shard)}: holds ${describe(records)} but has no marker`)
  }
  return stored
}

function describe(m: ShardMarker): string {
  return `${m.count} record${m.count === 1 ? '' : 's'} (seq ${m.first} to ${m.next - 1})`
}
