import { describe, expect, it } from 'vitest'
import type { Transport } from '../api.js'
import { Replica } from '../replica.js'
import { VirtualTime } from '../sim/virtual-time.fixture.js'

/** A transport alone on its network whose peer list fails the first time it is asked. */
class FlakyTransport implements Transport {
  asked = 0
  start(): void {}
  send(): void {}
  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    this.asked++
    if (this.asked === 2) throw new Error('boom')
    return []
  }
  stop(): void {}
}

describe('anti-entropy rounds', () => {
  it('go on after one throws, and count it', async () => {
    const t = new FlakyTransport()
    const time = new VirtualTime()
    const r = await Replica.open({ nodeId: 'r', transport: t, antiEntropyIntervalMs: 20, clock: time.clock, scheduler: time.scheduler })
    // asked once at start; the first round's ask throws, the next two do not
    await time.advance(70)
    expect(t.asked).toBe(4)
    expect(r.replicator.stats.roundsFailed).toBe(1)
    expect(String(r.replicator.lastRoundError)).toContain('boom')
    await r.close()
  })
})
