/**
 * The format of an IdbStorage database as a whole, and the one-time upgrade of a database
 * written before values carried checksums (keys and values: idb-record.ts).
 *
 * Format 1 (format-1 record objects, bare metadata, no format key) is read once, at the
 * first open by a version that knows format 2, and rewritten in place in one read-write
 * transaction: every record re-encoded with its checksum, every metadata value sealed,
 * then the format key written; a fresh database gets its format key the same way. What
 * format 1 held is trusted as it is at that moment (it has nothing to verify against);
 * from then on a format-1 record or a bare metadata value is damage.
 *
 * A database that says another format, or whose format key is missing while it holds a
 * format-2 record, is refused: nothing is rewritten on a guess.
 */
import { promisifyRequest } from 'idb-keyval'
import { type StrictStore } from './strict-store.js'
import { allMetaRange, allRecordsRange, CorruptIdbRecordError, decodeLegacyIdbRecord, encodeIdbRecord, keyText, sealMeta } from './idb-record.js'

export const IDB_FORMAT = 2
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
  if (format !== undefined) throw unknownFormat(dbName, name, format)
  await store.use('readwrite', (s) => upgradeFromFormat1(s, dbName, name))
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
function upgradeFromFormat1(s: IDBObjectStore, dbName: string, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const tx = s.transaction
    let refused: Error | undefined
    const refuse = (err: Error): void => {
      refused = err
      tx.abort()
    }
    const format = s.get(FORMAT_KEY)
    const recordKeys = s.getAllKeys(allRecordsRange())
    const records = s.getAll(allRecordsRange())
    const metaKeys = s.getAllKeys(allMetaRange())
    const metas = s.getAll(allMetaRange())
    // Requests on one store succeed in the order they were made: `metas` is the last.
    metas.onsuccess = () => {
      // Another connection may have upgraded meanwhile (IdbStorage used without openReplica's lock).
      if (format.result === IDB_FORMAT) return
      if (format.result !== undefined) return refuse(unknownFormat(dbName, name, format.result))
      const rewritten: Array<[IDBValidKey, Uint8Array]> = []
      for (let i = 0; i < recordKeys.result.length; i++) {
        const key = recordKeys.result[i]!
        const value: unknown = records.result[i]
        const where = `${dbName} is damaged: record ${keyText(key)}`
        if (value instanceof Uint8Array) {
          return refuse(new CorruptIdbRecordError(`${where}: the format key is missing but the record is checksummed (format ${IDB_FORMAT}): refusing to guess. ${damagedAdvice(name)}`))
        }
        try {
          rewritten.push([key, encodeIdbRecord(decodeLegacyIdbRecord(value, where))])
        } catch (err) {
          return refuse(new CorruptIdbRecordError(`${(err as Error).message} (while upgrading to checksummed records). ${damagedAdvice(name)}`))
        }
      }
      for (let i = 0; i < metaKeys.result.length; i++) {
        const value: unknown = metas.result[i]
        if (!(value instanceof Uint8Array)) {
          return refuse(new CorruptIdbRecordError(`${dbName} is damaged: metadata ${keyText(metaKeys.result[i]!)} is not bytes (while upgrading to checksummed values). ${damagedAdvice(name)}`))
        }
        rewritten.push([metaKeys.result[i]!, sealMeta(value)])
      }
      for (const [key, value] of rewritten) s.put(value, key)
      s.put(IDB_FORMAT, FORMAT_KEY)
    }
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(refused ?? tx.error ?? new Error(`${dbName}: the upgrade to checksummed records was aborted`))
  })
}
