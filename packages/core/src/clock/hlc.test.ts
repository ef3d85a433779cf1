import { describe, expect, it } from 'vitest'
import { HybridClock, LOGICAL_RANGE, compareStamp, hlcMillis } from './hlc.js'

describe('HybridClock', () => {
  it('is strictly increasing while the wall clock stands still', () => {
    const c = new HybridClock(() => 1000)
    const a = c.now()
    const b = c.now()
    const d = c.now()
    expect(a).toBeLessThan(b)
    expect(b).toBeLessThan(d)
    expect(hlcMillis(d)).toBe(1000)
  })

  it('follows the wall clock when it moves forward', () => {
    let wall = 1000
    const c = new HybridClock(() => wall)
    c.now()
    wall = 2000
    expect(c.now()).toBe(2000 * LOGICAL_RANGE)
  })

  it('never goes backwards when the wall clock does', () => {
    let wall = 5000
    const c = new HybridClock(() => wall)
    const a = c.now()
    wall = 1000
    expect(c.now()).toBeGreaterThan(a)
  })

  it('issues a later timestamp than any it has observed', () => {
    const c = new HybridClock(() => 1000)
    const remote = 1500 * LOGICAL_RANGE + 7
    expect(c.observe(remote)).toBe(true)
    expect(c.now()).toBeGreaterThan(remote)
  })

  it('refuses timestamps too far ahead of its wall clock', () => {
    const c = new HybridClock(() => 1000, 60_000)
    expect(c.observe((1000 + 120_000) * LOGICAL_RANGE)).toBe(false)
    expect(hlcMillis(c.now())).toBe(1000)
    expect(c.observe(-5)).toBe(false)
    expect(c.observe(1.5)).toBe(false)
  })

  it('carries the logical counter into the milliseconds after 1024 events', () => {
    const c = new HybridClock(() => 1000)
    let last = 0
    for (let i = 0; i < LOGICAL_RANGE + 10; i++) last = c.now()
    expect(hlcMillis(last)).toBe(1001)
  })

  it('orders stamps by time, then node id', () => {
    expect(compareStamp(1, 'b', 2, 'a')).toBe(-1)
    expect(compareStamp(2, 'a', 2, 'b')).toBe(-1)
    expect(compareStamp(2, 'b', 2, 'a')).toBe(1)
    expect(compareStamp(2, 'a', 2, 'a')).toBe(0)
  })
})
