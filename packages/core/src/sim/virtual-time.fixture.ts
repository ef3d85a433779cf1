/**
 * Virtual time for tests of one or two replicas outside the `Simulation`: a clock and a
 * `Scheduler` that move only when the test calls `advance`, so a test of timers (rounds,
 * pacing, retry intervals) asserts what happens in so many virtual milliseconds and not
 * what fits in a wall-clock window on a busy machine.
 *
 * Invariant: timers run in due order (ties in the order they were set), each at its due
 * time, with pending promise callbacks settled between two timers.
 */
import type { Scheduler } from '../api.js'

interface Timer {
  due: number
  seq: number
  fn: () => void
}

export class VirtualTime {
  private current = 1_700_000_000_000
  private seq = 0
  private timers: Timer[] = []

  /** The injected clock (`ReplicaOptions.clock`). */
  readonly clock = (): number => this.current

  /** The injected scheduler (`ReplicaOptions.scheduler`). */
  readonly scheduler: Scheduler = {
    setTimeout: (ms, fn) => {
      const t: Timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn }
      this.timers.push(t)
      return () => {
        this.timers = this.timers.filter((x) => x !== t)
      }
    },
  }

  /** Runs `fn` every `ms` virtual milliseconds until the returned function is called. */
  every(ms: number, fn: () => void): () => void {
    let cancel = () => {}
    const tick = () => {
      fn()
      cancel = this.scheduler.setTimeout(ms, tick)
    }
    cancel = this.scheduler.setTimeout(ms, tick)
    return () => cancel()
  }

  /** Timers set and not yet run. */
  get pending(): number {
    return this.timers.length
  }

  /**
   * Runs the one timer due first (time moves to it), then lets pending promise callbacks
   * run: a test looks at what a chain of turns (a sliced commit, say) left between two of
   * them. False when no timer is set.
   */
  async runNext(): Promise<boolean> {
    let next: Timer | undefined
    for (const t of this.timers) if (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq)) next = t
    if (next === undefined) return false
    this.timers = this.timers.filter((x) => x !== next)
    this.current = Math.max(this.current, next.due)
    next.fn()
    await settle()
    return true
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms
    await settle()
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers) if (t.due <= end && (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t
      if (next === undefined) break
      this.timers = this.timers.filter((x) => x !== next)
      this.current = Math.max(this.current, next.due)
      next.fn()
      await settle()
    }
    this.current = end
  }
}

/** Lets pending promise callbacks (storage completions, awaited sends) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
