import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeStorageContract } from '../../../core/src/storage/storage-contract.fixture.js'
import { LmdbStorage } from './lmdb-storage.js'

/**
 * LMDB on a disk that can be made full. lmdb-js grows its map as needed, so a small map
 * never fills; a commit on a full medium is stood in at the storage's transaction seam,
 * shaped as lmdb-js reports one: a rejected commit whose `commitError` carries LMDB's
 * MDB_MAP_FULL (-30792). What LmdbStorage makes of it is its own code.
 */
class FillableLmdbStorage extends LmdbStorage {
  full = false
  protected override transaction(fn: () => void): Promise<unknown> {
    if (!this.full) return super.transaction(fn)
    const cause = Object.assign(new Error('MDB_MAP_FULL: Environment mapsize limit reached'), { code: -30792 })
    const commitError = Promise.reject(cause)
    return Promise.reject(Object.assign(new Error('Commit failed (see commitError for details)'), { commitError }))
  }
}

describeStorageContract(
  'LmdbStorage',
  async () => {
    const path = mkdtempSync(join(tmpdir(), 'concord-lmdb-contract-'))
    let current = new FillableLmdbStorage({ path })
    return {
      storage: current,
      reopen: async () => {
        await current.close()
        current = new FillableLmdbStorage({ path })
        return current
      },
      fill: (full) => {
        current.full = full
      },
      cleanup: async () => {
        await current.close()
        rmSync(path, { recursive: true, force: true })
      },
    }
  },
  { reopen: true, fill: true },
)
