/**
 * The shard directory of an IdbStorage database: key ['d', 'shards'], value core's sealed
 * shard directory (codec/shard-directory.ts, the node's): the id of every shard that has
 * a marker (idb-markers.ts). A marker counts its shard's records; only the directory
 * finds a shard deleted whole, its records together with its marker.
 *
 * Invariant: the directory lists exactly the shards that have a marker. A transaction
 * that may create a marker (an append to a shard without one, a compact) or removes one
 * (remove) reads the directory and rewrites it in the same IndexedDB transaction, which
 * commits whole; an append to a shard that has a marker does not touch it.
 * `checkDirectory` holds a database to it at open.
 */
import { compareShardDirectory, CorruptRecordError, decodeShardDirectory, directoryDamage, encodeShardDirectory } from '@concord/core'
import { CorruptIdbRecordError, keyText } from './idb-record.js'

export const DIRECTORY_KEY: IDBValidKey = ['d', 'shards']

/** The shards a stored directory lists; a missing or damaged one is a `CorruptIdbRecordError` naming `dbName`. */
export function openDirectory(dbName: string, value: unknown): Set<string> {
  const where = `${dbName} is damaged: its shard directory ${keyText(DIRECTORY_KEY)}`
  if (value === undefined) throw new CorruptIdbRecordError(`${where} is missing`)
  if (!(value instanceof Uint8Array)) throw new CorruptIdbRecordError(`${where}: not bytes`)
  try {
    return decodeShardDirectory(value)
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new CorruptIdbRecordError(`${where}: ${e.message}`)
    throw e
  }
}

/** Checks the stored directory against the shards that have a marker (`marked`, already checked against their records). */
export function checkDirectory(dbName: string, value: unknown, marked: Iterable<string>): void {
  const damage = directoryDamage(compareShardDirectory(openDirectory(dbName, value), marked))
  if (damage !== null) throw new CorruptIdbRecordError(`${dbName} is damaged: shard ${JSON.stringify(damage.shard)}: ${damage.what}`)
}

/**
 * Inside a read-write transaction: reads the directory and, once read, lists the shards of
 * `listed` and drops those of `dropped`, rewriting it only when that changes it. The two
 * arrays are read when the directory arrives, not now: requests made before this one on
 * the store complete first, so their callbacks may still add to them. A damaged
 * directory is handed to `refuse` (which aborts the transaction).
 */
export function relist(s: IDBObjectStore, dbName: string, listed: readonly string[], dropped: readonly string[], refuse: (err: Error) => void): void {
  const stored = s.get(DIRECTORY_KEY)
  stored.onsuccess = () => {
    try {
      const shards = openDirectory(dbName, stored.result)
      const size = shards.size
      const had = dropped.filter((shard) => shards.delete(shard)).length
      for (const shard of listed) shards.add(shard)
      if (had > 0 || shards.size !== size) s.put(encodeShardDirectory(shards), DIRECTORY_KEY)
    } catch (err) {
      refuse(err as Error)
    }
  }
}

/** The shard ids of marker keys (['k', shard]); a key that names none is left to checkMarkers. */
export function markedShards(markerKeys: readonly IDBValidKey[]): string[] {
  return markerKeys.flatMap((key) => (Array.isArray(key) && key.length === 2 && typeof key[1] === 'string' ? [key[1]] : []))
}
