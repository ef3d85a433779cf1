/**
 * The format of an LMDB data directory as a whole, and the one-time upgrades of a
 * directory written before values carried checksums (format 1) or before the shard
 * directory (format 2).
 *
 * Keys (ordered-binary arrays):
 *   ['f', 'format'] -> [format u8]: 3 since the shard directory, 2 since checksums;
 *                      absent in directories of format 1
 *   ['d', 'shards'] -> the shard directory (core's codec/shard-directory.ts): the id of
 *                      every shard that has a marker, so a shard deleted whole is found
 *   ['r', shard, seq] -> record (core's codec/checked-record.ts)
 *   ['s', shard]      -> shard marker (core's codec/shard-marker.ts): the shard exists, and which records it holds
 *   ['m', key]        -> replica metadata, sealed (core's codec/checked-record.ts)
 *   ['j', table, seq] -> the table change journal (lmdb-change-journal.ts), sealed; not
 *                        part of the format check (a directory without it has none yet)
 *
 * Format 1 (no checksums: version-1 records, empty markers, bare metadata) is read once,
 * at the first open by a version that knows format 2, and rewritten in place in one write
 * transaction: every record re-encoded with its checksum, every shard given a marker that
 * counts its records, every metadata value sealed, then the shard directory and the
 * format key written. Format 2 gets its shard directory the same way, listing the
 * markers it holds. What the old format held is trusted as it is (it has nothing to
 * verify against); from then on, a version-1 record, an empty marker or a shard the
 * directory and the markers disagree on is damage.
 *
 * Why a new number rather than "a directory without the shard directory gets one at
 * open": a directory that lost it together with a whole shard would then be re-listed
 * and trusted; and a version that knows only format 2 would create and remove shards
 * without updating the directory, so it must refuse format 3 (it does: unknown format).
 *
 * A directory that says another format, or whose format key is missing while it holds
 * format-2 markers or a shard directory, is refused: nothing is rewritten on a guess.
 */
import type { RangeOptions, RootDatabase } from 'lmdb'
import { afterAppend, CorruptRecordError, decodeRecord, EMPTY_MARKER, encodeMarker, encodeRecord, encodeShardDirectory, sealValue, type ShardMarker } from '@concord/core'

export type StoreKey = [string, string] | [string, string, number]

export const STORE_FORMAT = 3
/** Checksums and markers, no shard directory; upgraded by adding the directory. */
const UNLISTED_FORMAT = 2
const FORMAT_KEY: StoreKey = ['f', 'format']
export const DIRECTORY_KEY: StoreKey = ['d', 'shards']
/** Every shard marker key (a fresh object: lmdb-js writes into the options it is given). */
export function markerRange(): RangeOptions {
  return { start: ['s', ''], end: ['t'] }
}

/** Checks the directory's format and upgrades one of format 1 or 2; `file` names it in errors. */
export function openStoreFormat(db: RootDatabase<Uint8Array, StoreKey>, file: string): void {
  const format = db.get(FORMAT_KEY)
  if (format !== undefined) {
    if (format.length !== 1 || (format[0] !== STORE_FORMAT && format[0] !== UNLISTED_FORMAT)) {
      throw new CorruptRecordError(`${file}: unknown data directory format ${Buffer.from(format).toString('hex')} (this version reads ${STORE_FORMAT})`)
    }
    if (format[0] === UNLISTED_FORMAT) db.transactionSync(() => writeDirectory(db, [...db.getKeys(markerRange())].map((key) => key[1])))
    return
  }
  for (const { key, value } of db.getRange(markerRange())) {
    if (value.length !== 0) {
      throw new CorruptRecordError(`${file}: the format key is missing but shard ${JSON.stringify(key[1])} has a format-${UNLISTED_FORMAT} marker: refusing to guess`)
    }
  }
  if (db.get(DIRECTORY_KEY) !== undefined) throw new CorruptRecordError(`${file}: the format key is missing but the directory has a shard directory (format ${STORE_FORMAT}): refusing to guess`)
  db.transactionSync(() => upgradeFromFormat1(db, file))
}

/** Lists `shards` (every shard that has a marker, as they are now) and marks the format. */
function writeDirectory(db: RootDatabase<Uint8Array, StoreKey>, shards: Iterable<string>): void {
  void db.put(DIRECTORY_KEY, encodeShardDirectory(shards))
  void db.put(FORMAT_KEY, Uint8Array.of(STORE_FORMAT))
}

function upgradeFromFormat1(db: RootDatabase<Uint8Array, StoreKey>, file: string): void {
  const markers = new Map<string, ShardMarker>()
  for (const key of db.getKeys(markerRange())) markers.set(key[1], EMPTY_MARKER)
  // Keys first: rewriting values while a cursor walks them is not something to rely on.
  for (const key of [...db.getKeys({ start: ['r', '', 0], end: ['s'] })]) {
    const [, shard, seq] = key as [string, string, number]
    let record
    try {
      record = decodeRecord(db.get(key)!, { legacy: true })
    } catch (e) {
      throw new CorruptRecordError(`${file}: shard ${JSON.stringify(shard)} record ${seq} cannot be read while upgrading to checksummed records: ${(e as Error).message}`)
    }
    void db.put(key, encodeRecord(record))
    markers.set(shard, afterAppend(markers.get(shard) ?? EMPTY_MARKER, seq))
  }
  for (const [shard, marker] of markers) void db.put(['s', shard], encodeMarker(marker))
  for (const key of [...db.getKeys({ start: ['m', ''], end: ['n'] })]) void db.put(key, sealValue(Uint8Array.from(db.get(key)!)))
  writeDirectory(db, markers.keys())
}
