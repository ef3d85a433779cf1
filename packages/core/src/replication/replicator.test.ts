import { describe, expect, it } from 'vitest'
import type { Transport } from '../api.js'
import { Replica } from '../replica.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'

/** A transport alone on its network whose peer list fails once, when told to. */
class FlakyTransport implements Transport {
  asked = 0
  failNext = false
  start(): void {}
  send(): void {}
  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    this.asked++
    if (this.failNext) {
      this.failNext = false
      throw new Error('boom')
    }
    return []
  }
  stop(): void {}
}

describe('anti-entropy rounds', () => {
  it('go on after one throws, and count it', async () => {
    const t = new FlakyTransport()
    const time = new VirtualTime()
    const r = await Replica.open({ nodeId: 'r', transport: t, antiEntropyIntervalMs: 20, clock: time.clock, scheduler: time.scheduler })
    const before = t.asked
    // the first round's ask throws, the next two do not
    t.failNext = true
    await time.advance(70)
    expect(t.asked - before).toBe(3)
    expect(r.replicator.stats.roundsFailed).toBe(1)
    expect(String(r.replicator.lastRoundError)).toContain('boom')
    await r.close()
  })
})
