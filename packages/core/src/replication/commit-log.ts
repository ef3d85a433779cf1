/**
 * The recent local commits a replica remembers for lag measurement (positions.ts): each
 * commit's end LSN and wall time, oldest first, at most `limit` of them, in two ring
 * buffers. Noting a commit costs the same however full the log is (an array spliced at
 * its head per commit once full cost a copy of the whole log per commit, a few percent of
 * a pgbench write transaction's CPU).
 *
 * Invariants: LSNs are noted in increasing order; `timeOf` answers from the commits still
 * held, and null for an LSN older than the oldest held once any was dropped.
 */
export class CommitLog {
  private lsns: Float64Array
  private times: Float64Array
  /** Index of the oldest commit held. */
  private head = 0
  private size = 0
  private dropped = false

  constructor(limit: number) {
    this.lsns = new Float64Array(limit)
    this.times = new Float64Array(limit)
  }

  /** Keeps at most `limit` commits from now on (the newest, when it shrinks). */
  setLimit(limit: number): void {
    if (limit === this.lsns.length) return
    const keep = Math.min(this.size, limit)
    const lsns = new Float64Array(limit)
    const times = new Float64Array(limit)
    for (let i = 0; i < keep; i++) {
      const from = this.index(this.size - keep + i)
      lsns[i] = this.lsns[from]!
      times[i] = this.times[from]!
    }
    if (keep < this.size) this.dropped = true
    this.lsns = lsns
    this.times = times
    this.head = 0
    this.size = keep
  }

  /** Records a commit ending at `lsn` at wall time `at`; the oldest goes once `limit` are held. */
  note(lsn: number, at: number): void {
    const cap = this.lsns.length
    if (this.size === cap) {
      this.lsns[this.head] = lsn
      this.times[this.head] = at
      this.head = (this.head + 1) % cap
      this.dropped = true
      return
    }
    const i = this.index(this.size)
    this.lsns[i] = lsn
    this.times[i] = at
    this.size++
  }

  /** Wall time of the commit whose range ends at or after `lsn`; null if forgotten or unknown. */
  timeOf(lsn: number): number | null {
    let lo = 0
    let hi = this.size
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.lsns[this.index(mid)]! >= lsn) hi = mid
      else lo = mid + 1
    }
    if (lo >= this.size) return null
    // The oldest commit held may stand for older ones that were dropped.
    if (lo === 0 && this.dropped && this.lsns[this.head] !== lsn) return null
    return this.times[this.index(lo)]!
  }

  /** Position of the `n`th oldest commit held in the buffers. */
  private index(n: number): number {
    const i = this.head + n
    return i >= this.lsns.length ? i - this.lsns.length : i
  }
}
