/**
 * Gives the memory of shard documents put away back to the system (decision 37).
 *
 * V8 keeps the pages its heap grew into and shrinks the heap only at major collections,
 * each by part of the slack; an idle node runs none (nothing allocates), so documents put
 * away stayed resident as free heap: a node holding 1,000,000 rows kept ~900 MB after
 * freeing 400 MB of them. After a hibernation check that put away many entries, this runs
 * a few major collections, a second apart, while each still shrinks the heap: incremental
 * ones (V8's `execution: 'async'`), so clients are served between their steps.
 *
 * Node exposes the collector only under `--expose-gc`; the flag is set at run time and
 * the function taken from a fresh context, once. Where that fails nothing is collected.
 */
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
const ROUNDS = 3
/** A collection that shrinks the heap by less than this share ends the request. */
const LEAST_SHRINK = 0.05

export class HeapReturn {
  private running = false
  private stopped = false
  private collections = 0
  private readonly spacingMs: number

  constructor(spacingMs = 1000) {
    this.spacingMs = spacingMs
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
      for (let round = 0; round < ROUNDS && !this.stopped; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, this.spacingMs).unref())
        const before = process.memoryUsage().heapTotal
        await gc({ type: 'major', execution: 'async' })
        this.collections++
        if (process.memoryUsage().heapTotal > before * (1 - LEAST_SHRINK)) break
      }
    } finally {
      this.running = false
    }
  }

  stop(): void {
    this.stopped = true
  }
}
