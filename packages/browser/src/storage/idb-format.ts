/**
 * The format of an IdbStorage database as a whole, and the one-time upgrade of a database
 * written before values carried checksums, shards had markers or the database had a shard
 * directory (keys and values: idb-record.ts, markers: idb-markers.ts, the directory:
 * idb-directory.ts).
 *
 * Format 4 (checksummed records and metadata, a marker per shard, the shard directory) is
 * what this version writes. Format 3 (markers, no directory), format 2 (checksums, no
 * markers; written by unreleased versions only) and format 1 (format-1 record objects,
 * bare metadata, no format key) are read once, at the first open by this version, and
 * rewritten in place in one read-write transaction: format-1 records re-encoded with
 * their checksum and metadata sealed, every shard of format 1 or 2 given the marker its
 * record keys call for, the directory listing every shard that then has a marker, then
 * the format key written; a fresh database gets its format key and an empty directory
 * the same way. What the old format held is trusted as it is at that moment (it has
 * nothing to count against); from then on a format-1 record, a bare metadata value, a
 * shard that disagrees with its marker or a marker the directory disagrees with is damage.
 *
 * Why a new number each time rather than "format 2 without any marker gets them at open"
 * (or format 3 without a directory): a database that lost every marker key, or its
 * directory together with a whole shard, would then be re-counted and trusted, together
 * with what it lost at the same time; and a version that knows only format 3 would create
 * and remove shards without the directory, so it must refuse format 4 (it does). With
 * format 4, a missing marker or directory is damage.
 *
 * A database that says another format, or whose format key is missing while it holds a
 * format-2 record or a shard directory, is refused: nothing is rewritten on a guess.
 */
import { promisifyRequest } from 'idb-keyval'
import { type StrictStore } from './strict-store.js'
import { encodeMarker, encodeShardDirectory } from '@concord/core'
import { allMetaRange, allRecordsRange, CorruptIdbRecordError, decodeLegacyIdbRecord, encodeIdbRecord, keyText, sealMeta } from './idb-record.js'
import { allMarkersRange, markerKey, markersOf } from './idb-markers.js'
import { DIRECTORY_KEY, markedShards } from './idb-directory.js'

export const IDB_FORMAT = 4
/** Markers, no shard directory; upgraded by adding the directory. */
const UNLISTED_FORMAT = 3
/** Checksums, no shard markers (unreleased versions only); upgraded by adding the markers and the directory. */
const UNMARKED_FORMAT = 2
const FORMAT_KEY: IDBValidKey = ['f', 'format']

/** What recovery an error about `dbName` suggests (the page's side of docs/security.md). */
export function damagedAdvice(name: string): string {
  return (
    `Concord does not serve damaged data: delete the local replica (deleteIdbStorage(${JSON.stringify(name)})) and open it again ` +
    `to copy the data back from the node; writes not yet synced to a node are lost with it`
  )
}

/** Checks the database's format and upgrades a format-1 database; `name` is the replica name. */
export async function openIdbFormat(store: StrictStore, dbName: string, name: string): Promise<void> {
  const format = await store.use('readonly', (s) => promisifyRequest(s.get(FORMAT_KEY)))
  if (format === IDB_FORMAT) return
  if (!upgradable(format)) throw unknownFormat(dbName, name, format)
  await store.use('readwrite', (s) => upgrade(s, dbName, name))
}

/** No format key (format 1, or a fresh database), or a format this version upgrades. */
function upgradable(format: unknown): boolean {
  return format === undefined || format === UNMARKED_FORMAT || format === UNLISTED_FORMAT
}

function unknownFormat(dbName: string, name: string, format: unknown): CorruptIdbRecordError {
  const text = typeof format === 'number' ? String(format) : `(${typeof format})`
  return new CorruptIdbRecordError(`${dbName}: unknown IndexedDB format ${text} (this version reads ${IDB_FORMAT}): open it with the version that wrote it, or ${damagedAdvice(name)}`)
}

/**
 * Reads everything in one read-write transaction and rewrites it there: requests are
 * chained from success callbacks, never across an `await`, so the transaction stays
 * active; it commits when the last put is done, or aborts on the first refusal.
 */
function upgrade(s: IDBObjectStore, dbName: string, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const tx = s.transaction
    let refused: Error | undefined
    const refuse = (err: Error): void => {
      refused = err
      tx.abort()
    }
    const format = s.get(FORMAT_KEY)
    const directory = s.get(DIRECTORY_KEY)
    const markerKeys = s.getAllKeys(allMarkersRange())
    const recordKeys = s.getAllKeys(allRecordsRange())
    const records = s.getAll(allRecordsRange())
    const metaKeys = s.getAllKeys(allMetaRange())
    const metas = s.getAll(allMetaRange())
    // Requests on one store succeed in the order they were made: `metas` is the last.
    metas.onsuccess = () => {
      // Another connection may have upgraded meanwhile (IdbStorage used without openReplica's lock).
      if (format.result === IDB_FORMAT) return
      if (!upgradable(format.result)) return refuse(unknownFormat(dbName, name, format.result))
      // Format 3: the markers stay as they are (checked against their records at open); only the directory is new.
      if (format.result === UNLISTED_FORMAT) return finish(null, markedShards(markerKeys.result))
      const markers = markersOf(recordKeys.result)
      const rewritten: Array<[IDBValidKey, Uint8Array]> = []
      for (const [shard, marker] of markers) rewritten.push([markerKey(shard), encodeMarker(marker)])
      // Format 2: checksummed values stay as they are (verified at load); the markers and the directory are new.
      if (format.result === UNMARKED_FORMAT) return finish(rewritten, markers.keys())
      for (let i = 0; i < recordKeys.result.length; i++) {
        const key = recordKeys.result[i]!
        const value: unknown = records.result[i]
        const where = `${dbName} is damaged: record ${keyText(key)}`
        if (value instanceof Uint8Array) {
          return refuse(new CorruptIdbRecordError(`${where}: the format key is missing but the record is checksummed (format ${UNMARKED_FORMAT} or later): refusing to guess. ${damagedAdvice(name)}`))
        }
        try {
          rewritten.push([key, encodeIdbRecord(decodeLegacyIdbRecord(value, where))])
        } catch (err) {
          return refuse(new CorruptIdbRecordError(`${(err as Error).message} (while upgrading to checksummed records). ${damagedAdvice(name)}`))
        }
      }
      if (directory.result !== undefined) {
        return refuse(new CorruptIdbRecordError(`${dbName} is damaged: the format key is missing but the database has a shard directory (format ${IDB_FORMAT}): refusing to guess. ${damagedAdvice(name)}`))
      }
      for (let i = 0; i < metaKeys.result.length; i++) {
        const value: unknown = metas.result[i]
        if (!(value instanceof Uint8Array)) {
          return refuse(new CorruptIdbRecordError(`${dbName} is damaged: metadata ${keyText(metaKeys.result[i]!)} is not bytes (while upgrading to checksummed values). ${damagedAdvice(name)}`))
        }
        rewritten.push([metaKeys.result[i]!, sealMeta(value)])
      }
      finish(rewritten, markers.keys())
    }
    /** `rewritten` (all markers among them; null: keep the markers), the directory listing `shards`, the format. */
    const finish = (rewritten: Array<[IDBValidKey, Uint8Array]> | null, shards: Iterable<string>): void => {
      if (rewritten !== null) {
        s.delete(allMarkersRange())
        for (const [key, value] of rewritten) s.put(value, key)
      }
      s.put(encodeShardDirectory(shards), DIRECTORY_KEY)
      s.put(IDB_FORMAT, FORMAT_KEY)
    }
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(refused ?? tx.error ?? new Error(`${dbName}: the upgrade to checksummed records was aborted`))
  })
}
