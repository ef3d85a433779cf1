import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff.js'

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with at most 25 % jitter', () => {
    const top = { random: () => 1 }
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, { initialMs: 100, ...top }))).toEqual([100, 200, 400, 800])
    expect(backoffDelay(50, { initialMs: 100, maxMs: 1000, ...top })).toBe(1000)
    expect(backoffDelay(0, { initialMs: 100, random: () => 0 })).toBe(75)
  })
})
