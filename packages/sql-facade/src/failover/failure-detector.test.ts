import { describe, expect, it } from 'vitest'
import { FailureDetector, PHI_THRESHOLD } from './failure-detector.js'

describe('FailureDetector', () => {
  it('heartbeat: suspects a peer silent for the timeout, and not a moment before', () => {
    const d = new FailureDetector('heartbeat', 3_000)
    d.heard('p', 1_000)
    expect(d.suspects('p', 3_999, 0)).toBe(false)
    expect(d.suspects('p', 4_000, 0)).toBe(true)
    d.heard('p', 4_500)
    expect(d.suspects('p', 5_000, 0)).toBe(false)
  })

  it('a peer never heard from is silent since watching began', () => {
    const d = new FailureDetector('heartbeat', 3_000)
    expect(d.suspects('q', 2_000, 0)).toBe(false)
    expect(d.suspects('q', 3_000, 0)).toBe(true)
    expect(d.suspects('q', 3_000, 1_000)).toBe(false)
  })

  it('phi_accrual: phi grows with silence; a regular peer is suspected long before a 30 s timeout', () => {
    const d = new FailureDetector('phi_accrual', 30_000)
    for (let t = 0; t <= 20_000; t += 1_000) d.heard('p', t)
    expect(d.phi('p', 20_500)).toBeLessThan(1)
    expect(d.phi('p', 22_000)).toBeGreaterThan(d.phi('p', 21_200))
    expect(d.suspects('p', 21_200, 0)).toBe(false)
    expect(d.suspects('p', 24_000, 0)).toBe(true)
    expect(d.phi('p', 24_000)).toBeGreaterThanOrEqual(PHI_THRESHOLD)
    // The same silence under 'heartbeat' waits for the timeout.
    d.method = 'heartbeat'
    expect(d.suspects('p', 24_000, 0)).toBe(false)
  })

  it('phi_accrual: an irregular peer gets more slack than a regular one', () => {
    const regular = new FailureDetector('phi_accrual', 60_000)
    const irregular = new FailureDetector('phi_accrual', 60_000)
    let t = 0
    for (let i = 0; i < 40; i++) {
      regular.heard('p', i * 1_000)
      t += i % 2 === 0 ? 200 : 1_800
      irregular.heard('p', t)
    }
    const silence = 2_500
    expect(irregular.phi('p', t + silence)).toBeLessThan(regular.phi('p', 39_000 + silence))
  })
})
