import { describe, expect, it } from 'vitest'
import { HeapReturn } from './heap-return.js'

describe('HeapReturn', () => {
  it('collects a heap that grew and was freed, shrinking what it holds; one request at a time, none after stop', async () => {
    // A heap grown by ~200 MB of objects, then freed: nothing else collects it while idle.
    let garbage: Array<{ a: number; b: string }> | null = []
    for (let i = 0; i < 2_000_000; i++) garbage.push({ a: i, b: `row ${i}` })
    const grown = process.memoryUsage().heapTotal
    garbage = null
    // An idle loop between collections (a loaded test machine's own work must not end the request: the next test covers that).
    const heap = new HeapReturn(10, { start: () => {}, share: () => 0 })
    const first = heap.request()
    // A second request while one runs does nothing more.
    await heap.request()
    await first
    expect(heap.collected).toBeGreaterThanOrEqual(1)
    expect(heap.collected).toBeLessThanOrEqual(8)
    expect(process.memoryUsage().heapTotal).toBeLessThan(grown * 0.8)
    heap.stop()
    const before = heap.collected
    await heap.request()
    expect(heap.collected).toBe(before)
  }, 60_000)

  it('ends a request when the event loop has work again between collections', async () => {
    // Idle between rounds: a heap with nothing to give back still gets two collections (two that shrink nothing end it).
    let busy = 0
    let windows = 0
    const loop = { start: () => { windows++ }, share: () => busy }
    const idle = new HeapReturn(10, loop)
    await idle.request()
    expect(idle.collected).toBeGreaterThanOrEqual(2)
    expect(windows).toBe(idle.collected - 1)
    // Busy over the wait after the first: that one only.
    busy = 0.5
    const working = new HeapReturn(10, loop)
    await working.request()
    expect(working.collected).toBe(1)
  }, 60_000)
})
