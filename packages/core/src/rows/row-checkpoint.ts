/**
 * Row checkpoints: a replica stores its resolved rows while it runs (`Replica.checkpointRows`,
 * the row snapshot of rows/row-snapshot.ts), so a start after a crash, a reload or a kill
 * serves them at once and applies only the records written after them
 * (docs/decisions/0033-row-checkpoints.md). A clean close stores one too; a node or a page
 * is not always closed cleanly.
 *
 * A checkpoint is taken once the replica has been quiet for `quietMs` (no row change),
 * and on demand (`checkpointNow`: a page being hidden). Writes after it leave it usable:
 * a start applies the records after its position on top of it.
 *
 * Invariants: at most one checkpoint runs at a time; none starts after `stop`; one comes
 * only after `quietMs` with no row change, so a replica that keeps writing pays nothing;
 * none while the stored one still describes the replica (`rowsCheckpointed`). The encoding
 * runs on the caller's thread and costs about a second per million rows, so the quiet rule
 * bounds its share of time too: the next comes no sooner than `costFactor` times the last
 * one's duration after it (default 20: at most about 5% of the time).
 */
import type { ReplicaEvents, Scheduler } from '../api.js'

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
  /** The next checkpoint waits this many times the last one's duration; default 20. */
  costFactor?: number
  /** Clock for the quiet time; default Date.now. */
  now?: () => number
  /** Sees each checkpoint stored, with the milliseconds it took. */
  onStored?: (ms: number) => void
}

const DEFAULT_QUIET_MS = 1000
const DEFAULT_COST_FACTOR = 20

export class RowCheckpoint {
  private readonly target: CheckpointTarget
  private readonly scheduler: Scheduler
  private readonly quietMs: number
  private readonly costFactor: number
  private readonly now: () => number
  private readonly onStored: ((ms: number) => void) | undefined
  private lastChange: number
  /** No quiet checkpoint before this time (the cost bound). */
  private notBefore = 0
  private running: Promise<boolean> | null = null
  private cancelTimer: (() => void) | null = null
  private readonly stopListening: () => void
  private stopped = false
  private checkpoints = 0

  constructor(target: CheckpointTarget, options: RowCheckpointOptions) {
    this.target = target
    this.scheduler = options.scheduler
    this.quietMs = options.quietMs ?? DEFAULT_QUIET_MS
    this.costFactor = options.costFactor ?? DEFAULT_COST_FACTOR
    this.now = options.now ?? Date.now
    this.onStored = options.onStored
    this.lastChange = this.now()
    this.stopListening = target.on('change', () => {
      this.lastChange = this.now()
    })
    this.arm()
  }

  /** Checkpoints now unless the stored one still describes the replica. */
  checkpointNow(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false)
    if (this.target.rowsCheckpointed) return Promise.resolve(true)
    if (this.running) return this.running
    const started = this.now()
    const run = this.target.checkpointRows().then(
      (stored) => {
        const ms = this.now() - started
        this.notBefore = this.now() + ms * this.costFactor
        if (stored) {
          this.checkpoints++
          this.onStored?.(ms)
        }
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
      const now = this.now()
      if (!this.target.rowsCheckpointed && now - this.lastChange >= this.quietMs && now >= this.notBefore) {
        void this.checkpointNow().finally(() => this.arm())
        return
      }
      this.arm()
    })
  }
}
