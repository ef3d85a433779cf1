/**
 * Gives the memory of shard documents put away back to the system (decision 37).
 *
 * V8 keeps the pages its heap grew into and shrinks the heap only at major collections,
 * each by part of the slack; an idle node runs none (nothing allocates), so documents put
 * away stayed resident as free heap: a node holding 1,000,000 rows kept ~900 MB after
 * freeing 400 MB of them. V8 shrinks the heap by part of its slack at each major
 * collection (measured, 1,000,000 rows put away: 636 MB, then 470, 295, 271, 253, 239,
 * 193 MB at six collections a second apart). After a hibernation check that put away
 * many entries, this runs up to 8 collections a second apart, until two in a row shrink
 * the heap by less than 2%: incremental ones (V8's `execution: 'async'`), so clients are
 * served between their steps.
 *
 * Node exposes the collector only under `--expose-gc`; the flag is set at run time and
 * the function taken from a fresh context, once. Where that fails nothing is collected.
 *
 * A request ends as soon as the node has work again: before each collection after the
 * first it reads how busy the event loop was over the second half of the wait (the first
 * half holds the end of the last collection's own sweeping: ~4% of a second after one of
 * a 250 MB heap, 0.1% in the second half), and stops when that was 2% or more. Without
 * this a return that began in a pause of a bulk load ran its collections through the next
 * burst: each run of 30,000 rows after a pause of 3 s cost the writer about twice the CPU
 * of the run before (1.28-1.39 s against 0.65-0.68).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'

type Collect = (options: { type: 'major'; execution: 'async' }) => Promise<void>

let collector: Collect | null | undefined

function collect(): Collect | null {
  if (collector === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc')
      const gc: unknown = vm.runInNewContext('gc')
      collector = typeof gc === 'function' ? (gc as Collect) : null
    } catch {
      collector = null
    }
  }
  return collector
}

/** Most collections per request. */
const ROUNDS = 8
/** Two collections in a row that shrink the heap by less than this share end the request. */
const LEAST_SHRINK = 0.02
/** The event loop busy this share of the second half of a wait or more ends the request: the node has work. */
const BUSY_SHARE = 0.02

/** Measures the event loop's busy share over a window: `start`, then `share` at its end. */
export interface LoopWindow {
  start(): void
  share(): number
}

/** The event loop's utilization (Node's) over the window (also the idle watch's, idle-heap.ts). */
export function loopWindow(): LoopWindow {
  let from: EventLoopUtilization = performance.eventLoopUtilization()
  return {
    start: () => {
      from = performance.eventLoopUtilization()
    },
    share: () => performance.eventLoopUtilization(performance.eventLoopUtilization(), from).utilization,
  }
}

export class HeapReturn {
  private running = false
  private stopped = false
  private collections = 0
  private readonly spacingMs: number
  private readonly loop: LoopWindow

  /** `loop` is injectable for tests. */
  constructor(spacingMs = 1000, loop: LoopWindow = loopWindow()) {
    this.spacingMs = spacingMs
    this.loop = loop
  }

  /** Major collections run so far (for tests). */
  get collected(): number {
    return this.collections
  }

  /** Starts returning memory unless a request is running; resolves when it has ended. */
  async request(): Promise<void> {
    const gc = collect()
    if (gc === null || this.running || this.stopped) return
    this.running = true
    try {
      let flat = 0
      for (let round = 0; round < ROUNDS && flat < 2 && !this.stopped; round++) {
        if (round > 0) {
          await this.wait(this.spacingMs / 2)
          this.loop.start()
          await this.wait(this.spacingMs / 2)
          if (this.stopped || this.loop.share() >= BUSY_SHARE) break
        }
        const before = process.memoryUsage().heapTotal
        await gc({ type: 'major', execution: 'async' })
        this.collections++
        flat = process.memoryUsage().heapTotal > before * (1 - LEAST_SHRINK) ? flat + 1 : 0
      }
    } finally {
      this.running = false
    }
  }

  stop(): void {
    this.stopped = true
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref())
  }
}
