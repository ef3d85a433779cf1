import 'fake-indexeddb/auto'
import { describeStorageContract } from '../../../core/src/storage/storage-contract.fixture.js'
import { deleteIdbStorage, IdbStorage } from './idb-storage.js'

/**
 * IndexedDB (fake-indexeddb, as the other tests here) on an origin that can run out of
 * quota. fake-indexeddb has no quota, so a transaction failing for lack of one is stood
 * in at the storage's write seam, the way a browser fails it: with a DOMException named
 * QuotaExceededError. What IdbStorage makes of it is its own code.
 */
class QuotaIdbStorage extends IdbStorage {
  full = false
  protected override write(fill: (store: IDBObjectStore) => void): Promise<void> {
    if (!this.full) return super.write(fill)
    return super.write(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    })
  }
}

let n = 0
describeStorageContract(
  'IdbStorage',
  async () => {
    const name = `contract-${process.pid}-${n++}`
    let current = new QuotaIdbStorage({ name })
    return {
      storage: current,
      reopen: async () => {
        current.close()
        current = new QuotaIdbStorage({ name })
        return current
      },
      fill: (full) => {
        current.full = full
      },
      cleanup: async () => {
        current.close()
        await deleteIdbStorage(name)
      },
    }
  },
  { reopen: true, fill: true },
)
