import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'

describe('housekeeping rounds', () => {
  it('run on their own timer, go on after one throws, and count it', async () => {
    const time = new VirtualTime()
    const r = await Replica.open({ nodeId: 'r', antiEntropyIntervalMs: 0, housekeepingIntervalMs: 20, clock: time.clock, scheduler: time.scheduler })
    const hk = r.housekeeper
    let calls = 0
    const real = hk.compactionRound.bind(hk)
    hk.compactionRound = () => {
      calls++
      if (calls === 1) throw new Error('boom')
      real()
    }
    await time.advance(70)
    expect(calls).toBe(3)
    expect(hk.roundsFailed).toBe(1)
    expect(String(hk.lastRoundError)).toContain('boom')
    expect(r.replicator.stats.roundsFailed).toBe(0)
    await r.close()
  })
})
