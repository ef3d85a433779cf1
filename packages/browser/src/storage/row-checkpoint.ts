/**
 * Row checkpoints: a browser replica stores its resolved rows while it is open, so a
 * reload starts from them instead of applying and resolving every Yjs record again.
 *
 * A node stores its row snapshot at a clean close (core's rows/row-snapshot.ts). A page
 * is seldom closed cleanly: a reload or a closed tab ends it without warning. So the
 * replica checkpoints (`Replica.checkpointRows`) once it has been quiet for a while, and
 * when the page is hidden (the last moment a closing tab reliably gets). Core clears the
 * checkpoint ahead of the next write, so a reload after later writes loads the records
 * as before: a checkpoint only ever stands for the log as it is.
 *
 * Invariants: at most one checkpoint runs at a time; none starts after `stop`; one comes
 * only after `quietMs` with no row change, so a page that keeps writing pays nothing.
 * The encoding runs on the main thread (tens of milliseconds for 10,000 rows).
 */
import type { ReplicaEvents, Scheduler } from '@concord/core'

/** What the checkpointer needs of a replica. */
export interface CheckpointTarget {
  checkpointRows(): Promise<boolean>
  readonly rowsCheckpointed: boolean
  on<K extends keyof ReplicaEvents>(event: K, fn: ReplicaEvents[K]): () => void
}

export interface RowCheckpointOptions {
  scheduler: Scheduler
  /** Milliseconds with no row change before a checkpoint; default 1000. */
  quietMs?: number
  /** Clock for the quiet time; default Date.now. */
  now?: () => number
}

const DEFAULT_QUIET_MS = 1000

export class RowCheckpoint {
  private readonly target: CheckpointTarget
  private readonly scheduler: Scheduler
  private readonly quietMs: number
  private readonly now: () => number
  private lastChange: number
  private running: Promise<boolean> | null = null
  private cancelTimer: (() => void) | null = null
  private readonly stopListening: () => void
  private stopped = false
  private checkpoints = 0

  constructor(target: CheckpointTarget, options: RowCheckpointOptions) {
    this.target = target
    this.scheduler = options.scheduler
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS
    this.now = options.now ?? Date.now
    this.lastChange = this.now()
    this.stopListening = target.on('change', () => {
      this.lastChange = this.now()
    })
    this.arm()
  }

  /** Checkpoints now unless one is held already (the page is being hidden). */
  checkpointNow(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false)
    if (this.target.rowsCheckpointed) return Promise.resolve(true)
    if (this.running) return this.running
    const run = this.target.checkpointRows().then(
      (stored) => {
        if (stored) this.checkpoints++
        return stored
      },
      () => false,
    )
    this.running = run.finally(() => {
      this.running = null
    })
    return this.running
  }

  /** Checkpoints stored so far (for tests and the demo's figures). */
  get stored(): number {
    return this.checkpoints
  }

  stop(): void {
    this.stopped = true
    this.cancelTimer?.()
    this.cancelTimer = null
    this.stopListening()
  }

  private arm(): void {
    if (this.stopped) return
    this.cancelTimer = this.scheduler.setTimeout(this.quietMs, () => {
      this.cancelTimer = null
      if (this.stopped) return
      if (!this.target.rowsCheckpointed && this.now() - this.lastChange >= this.quietMs) {
        void this.checkpointNow().finally(() => this.arm())
        return
      }
      this.arm()
    })
  }
}
