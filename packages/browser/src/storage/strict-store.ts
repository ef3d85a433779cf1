/**
 * An idb-keyval `UseStore` whose read-write transactions ask for strict durability.
 *
 * idb-keyval's own `createStore` opens transactions with the browser's default
 * durability, which Chromium treats as "relaxed": `complete` may fire before the data
 * reaches the disk, so a crash right after an acknowledged write could lose it. The core
 * `Storage` contract needs the write on disk before `append` resolves, so this store
 * passes `{ durability: 'strict' }` (ignored where unsupported, e.g. fake-indexeddb).
 *
 * Everything else follows idb-keyval: one database with one object store, opened lazily
 * and reopened if the browser closes the connection.
 */
import { promisifyRequest, type UseStore } from 'idb-keyval'

export interface StrictStore {
  readonly use: UseStore
  /** Closes the connection; the next use reopens it. */
  close(): void
}

export function createStrictStore(dbName: string, storeName: string, factory: IDBFactory = indexedDB): StrictStore {
  let dbp: Promise<IDBDatabase> | undefined
  const getDB = (): Promise<IDBDatabase> => {
    if (dbp) return dbp
    const request = factory.open(dbName)
    request.onupgradeneeded = () => request.result.createObjectStore(storeName)
    const opened = promisifyRequest(request)
    dbp = opened
    opened.then(
      (db) => {
        db.onclose = () => {
          if (dbp === opened) dbp = undefined
        }
      },
      () => {
        if (dbp === opened) dbp = undefined
      },
    )
    return opened
  }
  const use: UseStore = (txMode, callback) =>
    getDB().then((db) => {
      const tx = txMode === 'readwrite' ? db.transaction(storeName, txMode, { durability: 'strict' }) : db.transaction(storeName, txMode)
      return callback(tx.objectStore(storeName))
    })
  return {
    use,
    close() {
      const p = dbp
      dbp = undefined
      void p?.then((db) => db.close(), () => undefined)
    },
  }
}
