import { describe, expect, it } from 'vitest'
import { JoinTokens } from './join-tokens.js'

describe('join tokens', () => {
  it('never begin with "-", which a command line reads as an option (1 token in 64 did)', () => {
    const tokens = new JoinTokens()
    const issued = Array.from({ length: 2000 }, () => tokens.issue())
    expect(issued.filter((t) => t.startsWith('-'))).toEqual([])
    expect(issued.every((t) => /^[A-Za-z0-9_-]{43}$/.test(t))).toBe(true)
  })

  it('are redeemed once each', () => {
    const tokens = new JoinTokens()
    const t = tokens.issue()
    expect(tokens.redeem(t)).toBe(true)
    expect(tokens.redeem(t)).toBe(false)
    expect(tokens.redeem('-'.repeat(43))).toBe(false)
  })
})
