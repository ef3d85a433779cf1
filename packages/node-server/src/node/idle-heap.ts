/**
 * Gives back the heap a burst of work left behind, once the node goes idle
 * (docs/decisions/0042-idle-heap-return.md).
 *
 * A bulk load, a catch-up or a run of queries leaves V8's heap grown to what the burst
 * needed, mostly garbage; an idle node allocates little, so V8's own memory reducer takes
 * 20 s or more to collect it and keeps part of it (measured: a node holding 100,000 rows,
 * 323 MB resident after a load and queries, 232 MB 20 s later, 182 MB after forced major
 * collections). Every `everyMs` this looks at the share of that interval the event loop was
 * busy; when it was idle (below `idleBusy`, 2% by default) and the heap has grown by `minGrowthBytes` or
 * more since the last return, it asks `HeapReturn` (heap-return.ts) for its collections:
 * incremental, a second apart, until they stop shrinking the heap (measured on the node
 * above: 368 MB resident after the queries, 262 MB six seconds later).
 *
 * What those leave is mostly V8's young generation (~34 MB of semi-spaces, grown by the
 * burst), which only a collection that reduces memory shrinks. One was tried as the last
 * step (an in-process inspector session's `HeapProfiler.collectGarbage`): 26 MB less, but
 * it runs in one step, 95-200 ms on that node, and a client arriving then waits; V8's own
 * memory reducer does it incrementally after 20 s or so of idleness, so it is left to V8.
 *
 * A return that the next burst of work follows soon is worse than none: the heap V8 is
 * left with sets lower limits, and the burst grows it again through more collections of
 * its own. Measured on a writer taking 30,000 rows in 1,000-row INSERTs every 4 s (3 s
 * pauses): 0.83-1.02 CPU s per burst with a return in each pause (and 0.4-0.6 s more for
 * the return's collections) against 0.63-0.67 with none. So the watch learns the node's
 * pauses: work within `RECENT_MS` after a return ends doubles the idle intervals in a row
 * it waits for before the next one (up to `MAX_QUIET_CHECKS`); a return followed by a
 * pause longer than that halves them again. A node that loads in bursts keeps its heap
 * through the pauses and returns it when the load ends. And growth is not always garbage:
 * rows a burst stored stay, and a return then gives back nothing (measured: 139 -> 147 MB
 * after a burst of 30,000 rows, at 0.6 CPU s for its collections). A return that gave back
 * less than half of `minGrowthBytes` makes the next wait for the longest pause.
 *
 * Invariants:
 * - Nothing is collected while the loop is busy: a node serving clients or replicating
 *   pays nothing but one sample per interval.
 * - One return at a time, and none after `stop`; a return that ends sets the baseline the
 *   next growth is counted from, so a heap that stays large is not collected again and again.
 */
import { performance } from 'node:perf_hooks'
import { loopWindow } from './heap-return.js'

export interface IdleHeapOptions {
  /** Interval of the checks, ms. */
  everyMs: number
  /** Runs the collections; resolves when they ended (HeapReturn.request). */
  request: () => Promise<void>
  /** Share of an interval the loop may be busy and still count as idle; default 0.02. */
  idleBusy?: number
  /** Growth of the heap since the last return that is worth one; default 32 MiB. */
  minGrowthBytes?: number
  /** Bytes of the heap now (process.memoryUsage().heapTotal); injectable for tests. */
  heapBytes?: () => number
  /** Share of the time since the previous call the loop was busy; injectable for tests. */
  busyShare?: () => number
  /** Milliseconds of a monotonic clock; injectable for tests. */
  now?: () => number
}

const DEFAULT_IDLE_BUSY = 0.02
const DEFAULT_MIN_GROWTH = 32 * 1024 * 1024
/** Work this soon after a return ended means the return came in a pause of a busy node. */
export const RECENT_MS = 30_000
/** Most idle intervals in a row a return waits for (32 s at the default 2 s). */
export const MAX_QUIET_CHECKS = 16

export class IdleHeapWatch {
  private readonly options: IdleHeapOptions
  private readonly heapBytes: () => number
  private readonly busyShare: () => number
  private readonly now: () => number
  private baseline: number
  private returning = false
  private stopped = false
  private returns = 0
  private timer: ReturnType<typeof setInterval> | null = null
  /** Idle intervals in a row so far, and how many a return waits for now. */
  private quiet = 0
  private quietNeeded = 1
  /** When the last return ended, until the work after it (or a long pause) has judged it. */
  private lastEnded: number | null = null

  constructor(options: IdleHeapOptions) {
    this.options = options
    this.heapBytes = options.heapBytes ?? (() => process.memoryUsage().heapTotal)
    this.busyShare = options.busyShare ?? loopBusyShare()
    this.now = options.now ?? (() => performance.now())
    this.baseline = this.heapBytes()
  }

  /** Returns started so far (for tests and metrics). */
  get started(): number {
    return this.returns
  }

  /** Idle intervals in a row the next return waits for (for tests). */
  get quietChecks(): number {
    return this.quietNeeded
  }

  start(): void {
    if (this.timer !== null || this.stopped) return
    this.timer = setInterval(() => this.check(), this.options.everyMs)
    this.timer.unref()
  }

  /** One check: a return when the last interval was idle and the heap grew enough. */
  check(): void {
    const busy = this.busyShare()
    if (this.returning || this.stopped) return
    const since = this.lastEnded === null ? null : this.now() - this.lastEnded
    if (busy >= (this.options.idleBusy ?? DEFAULT_IDLE_BUSY)) {
      this.quiet = 0
      // Work soon after a return: it came in a pause; wait for longer ones from now on.
      if (since !== null && since < RECENT_MS) this.quietNeeded = Math.min(MAX_QUIET_CHECKS, this.quietNeeded * 2)
      this.lastEnded = null
      return
    }
    this.quiet++
    // A return followed by a long pause was worth it: wait for shorter ones again.
    if (since !== null && since >= RECENT_MS) {
      this.quietNeeded = Math.max(1, this.quietNeeded / 2)
      this.lastEnded = null
    }
    const heap = this.heapBytes()
    // A heap that shrank on its own lowers the baseline with it.
    if (heap < this.baseline) this.baseline = heap
    if (this.quiet < this.quietNeeded || heap - this.baseline < (this.options.minGrowthBytes ?? DEFAULT_MIN_GROWTH)) return
    this.returning = true
    this.returns++
    // The next return's wait counts from this one.
    this.quiet = 0
    // Best effort: a collection that fails (it never has) leaves the heap as it was.
    void this.options
      .request()
      .catch(() => {})
      .finally(() => {
        this.returning = false
        this.baseline = this.heapBytes()
        // Little given back: the growth was live data (rows), not garbage. Collections
        // cannot shrink it, so the next try waits for the longest pause.
        if (heap - this.baseline < (this.options.minGrowthBytes ?? DEFAULT_MIN_GROWTH) / 2) {
          this.quietNeeded = MAX_QUIET_CHECKS
          this.lastEnded = null
        } else this.lastEnded = this.now()
      })
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}

/** The event loop's busy share since the previous call: heap-return.ts's window, started again at each read. */
function loopBusyShare(): () => number {
  const window = loopWindow()
  return () => {
    const share = window.share()
    window.start()
    return share
  }
}
