import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'

describe('housekeeping rounds', () => {
  it('run on their own timer, go on after one throws, and count it', async () => {
    const r = await Replica.open({ nodeId: 'r', antiEntropyIntervalMs: 0, housekeepingIntervalMs: 20 })
    const hk = r.housekeeper
    let calls = 0
    const real = hk.compactionRound.bind(hk)
    hk.compactionRound = () => {
      calls++
      if (calls === 1) throw new Error('boom')
      real()
    }
    const deadline = Date.now() + 2000
    while (calls < 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10))
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(hk.roundsFailed).toBe(1)
    expect(String(hk.lastRoundError)).toContain('boom')
    expect(r.replicator.stats.roundsFailed).toBe(0)
    await r.close()
  })
})
