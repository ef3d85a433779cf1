/**
 * LMDB storage whose next write fails after it wrote: the write runs in a transaction of
 * its own, puts what it puts, and is rolled back, as a commit that failed. Its rejection
 * comes `delayMs` later (0: at once), as a slow commit's would.
 */
import { afterNextPoll } from './after-next-poll.js'
import { LmdbStorage } from './lmdb-storage.js'

export class FailingOnceLmdbStorage extends LmdbStorage {
  failNext = false
  delayMs = 0

  protected override transaction(fn: () => void, batch = false): Promise<unknown> {
    if (!this.failNext) return super.transaction(fn, batch)
    this.failNext = false
    const db = (this as unknown as { db: { transactionSync(fn: () => void): void } }).db
    const err = Object.assign(new Error('EIO: the commit failed'), { code: 'EIO' })
    try {
      db.transactionSync(() => {
        fn()
        throw err
      })
    } catch {
      // Rolled back, as LMDB does with a commit that failed.
    }
    return new Promise((_, reject) => setTimeout(() => reject(err), this.delayMs))
  }
}

/** Returns once a write called before it was issued to LMDB (`LmdbStorage` issues it `afterNextPoll`). */
export function untilIssued(): Promise<void> {
  return new Promise((resolve) => afterNextPoll(resolve))
}
