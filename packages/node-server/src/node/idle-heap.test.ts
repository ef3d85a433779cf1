import { describe, expect, it } from 'vitest'
import { IdleHeapWatch, MAX_QUIET_CHECKS, RECENT_MS } from './idle-heap.js'

const MB = 1024 * 1024

/** A watch over a heap and a loop the test sets, whose returns the test ends. */
function watched(): { watch: IdleHeapWatch; state: { heap: number; busy: number }; ends: Array<() => void> } {
  const state = { heap: 100 * MB, busy: 0 }
  const ends: Array<() => void> = []
  const watch = new IdleHeapWatch({
    everyMs: 1000,
    request: () => new Promise<void>((resolve) => ends.push(() => {
      state.heap = 110 * MB
      resolve()
    })),
    heapBytes: () => state.heap,
    busyShare: () => state.busy,
  })
  return { watch, state, ends }
}

describe('IdleHeapWatch', () => {
  it('returns a grown heap once the loop goes idle, not while it is busy', () => {
    const { watch, state } = watched()
    state.heap = 300 * MB
    state.busy = 0.6
    watch.check()
    expect(watch.started).toBe(0)
    state.busy = 0.01
    watch.check()
    expect(watch.started).toBe(1)
  })

  it('does not return a heap that grew less than the threshold', () => {
    const { watch, state } = watched()
    state.heap = 120 * MB
    watch.check()
    expect(watch.started).toBe(0)
  })

  it('runs one return at a time and counts the next growth from where it ended', async () => {
    const { watch, state, ends } = watched()
    state.heap = 300 * MB
    watch.check()
    watch.check()
    expect(watch.started).toBe(1)
    ends[0]!()
    await Promise.resolve()
    await Promise.resolve()
    // It ended at 110 MB: 130 MB is not growth enough, 150 MB is.
    state.heap = 130 * MB
    watch.check()
    expect(watch.started).toBe(1)
    state.heap = 150 * MB
    watch.check()
    expect(watch.started).toBe(2)
  })

  it('survives a return that fails, and counts from where the heap is then', async () => {
    let heap = 100 * MB
    const watch = new IdleHeapWatch({ everyMs: 1000, request: () => Promise.reject(new Error('no collector')), heapBytes: () => heap, busyShare: () => 0 })
    heap = 300 * MB
    watch.check()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(watch.started).toBe(1)
    // Not running any more, and the heap it failed to shrink is the new baseline.
    watch.check()
    expect(watch.started).toBe(1)
    // It gave nothing back: the next return waits for the longest pause.
    expect(watch.quietChecks).toBe(MAX_QUIET_CHECKS)
    heap = 340 * MB
    for (let i = 0; i < MAX_QUIET_CHECKS - 2; i++) watch.check()
    expect(watch.started).toBe(1)
    watch.check()
    expect(watch.started).toBe(2)
  })

  it('waits for the longest pause after a return that gave back little: the growth was live data', async () => {
    const state = { heap: 100 * MB }
    // A collection that frees 10 MB of 64 MB grown: the rest is rows the node holds.
    const watch = new IdleHeapWatch({ everyMs: 1000, request: async () => void (state.heap -= 10 * MB), heapBytes: () => state.heap, busyShare: () => 0 })
    state.heap += 64 * MB
    watch.check()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(watch.started).toBe(1)
    expect(watch.quietChecks).toBe(MAX_QUIET_CHECKS)
  })

  it('follows a heap that shrank on its own, and does nothing after stop', () => {
    const { watch, state } = watched()
    state.heap = 60 * MB
    watch.check()
    state.heap = 95 * MB
    watch.check()
    expect(watch.started).toBe(1)
    const { watch: other, state: s2 } = watched()
    other.stop()
    s2.heap = 500 * MB
    other.check()
    expect(other.started).toBe(0)
  })

  it('reads the real event loop: a busy interval is not idle', async () => {
    let requested = 0
    let heap = 100 * MB
    // Idle below half busy here: a loaded test machine's collections must not make a wait look busy.
    const watch = new IdleHeapWatch({ everyMs: 1000, idleBusy: 0.5, request: async () => void requested++, heapBytes: () => heap })
    heap = 1000 * MB
    // The interval since construction: ~50 ms of it spent spinning.
    const until = performance.now() + 50
    while (performance.now() < until) { /* busy */ }
    watch.check()
    expect(requested).toBe(0)
    // An interval spent waiting. On a machine the suite keeps loaded, one wait of 200 ms
    // has read as half busy (the clean-clone CI of 2026-12-07, evening): a few are waited
    // for, and one of them is idle.
    for (let i = 0; i < 10 && requested === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      watch.check()
    }
    expect(requested).toBe(1)
    watch.stop()
  })

  it('waits for longer pauses after a return the next work followed soon, and for short ones again after a long pause', async () => {
    const state = { heap: 100 * MB, busy: 0, now: 0 }
    const watch = new IdleHeapWatch({
      everyMs: 2000,
      request: async () => void (state.heap = 100 * MB),
      heapBytes: () => state.heap,
      busyShare: () => state.busy,
      now: () => state.now,
    })
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 4; i++) await Promise.resolve()
    }
    /** One interval of work that grows the heap, then `pause` idle intervals (2 s each). */
    const burst = async (pause: number): Promise<void> => {
      state.busy = 0.9
      state.heap += 64 * MB
      state.now += 2000
      watch.check()
      state.busy = 0.001
      for (let i = 0; i < pause; i++) {
        state.now += 2000
        watch.check()
        await settle()
      }
    }
    // Bursts with one idle interval between them: the first pause gets a return, the work
    // right after it doubles the wait, and later one-interval pauses get none.
    await burst(1)
    expect(watch.started).toBe(1)
    await burst(1)
    expect(watch.quietChecks).toBe(2)
    await burst(1)
    await burst(1)
    expect(watch.started).toBe(1)
    // The load ends: two idle intervals get the return, and the pause going on past
    // RECENT_MS after it halves the wait again.
    await burst(2 + Math.ceil(RECENT_MS / 2000) + 1)
    expect(watch.started).toBe(2)
    expect(watch.quietChecks).toBe(1)
    // Never more than MAX_QUIET_CHECKS intervals, however often a return is followed by work.
    for (let i = 0; i < 12; i++) await burst(MAX_QUIET_CHECKS)
    expect(watch.quietChecks).toBeLessThanOrEqual(MAX_QUIET_CHECKS)
    expect(watch.started).toBeGreaterThan(2)
  })
})
