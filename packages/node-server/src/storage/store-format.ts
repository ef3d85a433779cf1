/**
 * The format of an LMDB data directory as a whole, and the one-time upgrade of a directory
 * written before values carried checksums.
 *
 * Keys (ordered-binary arrays):
 *   ['f', 'format'] -> [format u8]: 2 since checksums; absent in directories of format 1
 *   ['r', shard, seq] -> record (core's codec/checked-record.ts)
 *   ['s', shard]      -> shard marker (core's codec/shard-marker.ts): the shard exists, and which records it holds
 *   ['m', key]        -> replica metadata, sealed (core's codec/checked-record.ts)
 *   ['j', table, seq] -> the table change journal (lmdb-change-journal.ts), sealed; not
 *                        part of the format check (a directory without it has none yet)
 *
 * Format 1 (no checksums: version-1 records, empty markers, bare metadata) is read once,
 * at the first open by a version that knows format 2, and rewritten in place in one write
 * transaction: every record re-encoded with its checksum, every shard given a marker that
 * counts its records, every metadata value sealed, then the format key written. What
 * format 1 held is trusted as it is (it has nothing to verify against); from then on, a
 * version-1 record or an empty marker is damage.
 *
 * A directory that says another format, or whose format key is missing while it holds
 * format-2 markers, is refused: nothing is rewritten on a guess.
 */
import type { RootDatabase } from 'lmdb'
import { afterAppend, CorruptRecordError, decodeRecord, EMPTY_MARKER, encodeMarker, encodeRecord, sealValue, type ShardMarker } from '@concord/core'

export type StoreKey = [string, string] | [string, string, number]

export const STORE_FORMAT = 2
const FORMAT_KEY: StoreKey = ['f', 'format']

/** Checks the directory's format and upgrades a format-1 directory; `file` names it in errors. */
export function openStoreFormat(db: RootDatabase<Uint8Array, StoreKey>, file: string): void {
  const format = db.get(FORMAT_KEY)
  if (format !== undefined) {
    if (format.length !== 1 || format[0] !== STORE_FORMAT) {
      throw new CorruptRecordError(`${file}: unknown data directory format ${Buffer.from(format).toString('hex')} (this version reads ${STORE_FORMAT})`)
    }
    return
  }
  for (const { key, value } of db.getRange({ start: ['s', ''], end: ['t'] })) {
    if (value.length !== 0) {
      throw new CorruptRecordError(`${file}: the format key is missing but shard ${JSON.stringify(key[1])} has a format-${STORE_FORMAT} marker: refusing to guess`)
    }
  }
  db.transactionSync(() => upgradeFromFormat1(db, file))
}

function upgradeFromFormat1(db: RootDatabase<Uint8Array, StoreKey>, file: string): void {
  const markers = new Map<string, ShardMarker>()
  for (const key of db.getKeys({ start: ['s', ''], end: ['t'] })) markers.set(key[1], EMPTY_MARKER)
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
  void db.put(FORMAT_KEY, Uint8Array.of(STORE_FORMAT))
}
