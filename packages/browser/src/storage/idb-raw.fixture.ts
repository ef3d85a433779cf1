/**
 * Reading and damaging a replica's IndexedDB database behind IdbStorage's back, through a
 * second connection, as the storage integrity tests do (idb-integrity, idb-markers,
 * idb-directory).
 */
import { promisifyRequest } from 'idb-keyval'
import type { StoredRecord } from '@concord/core'
import { createStrictStore } from './strict-store.js'

/** Runs `fill` on the records store of replica database `name` in one transaction of `mode`. */
export async function raw<T>(name: string, mode: IDBTransactionMode, fill: (s: IDBObjectStore) => Promise<T>): Promise<T> {
  const store = createStrictStore(`concord:${name}`, 'records')
  try {
    return await store.use(mode, fill)
  } finally {
    store.close()
  }
}

/** Writes to the records store of `name` directly (puts and deletes of `fill`), committed. */
export const rawWrite = (name: string, fill: (s: IDBObjectStore) => void): Promise<void> =>
  raw(name, 'readwrite', (s) => {
    fill(s)
    return promisifyRequest(s.transaction)
  })

/** The value stored under `key` in `name`'s records store. */
export const stored = (name: string, key: IDBValidKey): Promise<unknown> => raw(name, 'readonly', (s) => promisifyRequest(s.get(key)))

/** A record of generation 0 holding `bytes`. */
export const rec = (kind: StoredRecord['kind'], ...bytes: number[]): StoredRecord => ({ generation: 0, kind, data: new Uint8Array(bytes) })
