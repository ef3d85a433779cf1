import { describe, expect, it } from 'vitest'
import type { Transport } from '../api.js'
import { Replica } from '../replica.js'

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
    const r = await Replica.open({ nodeId: 'r', transport: t, antiEntropyIntervalMs: 20 })
    // asked once at start; the first round's ask throws
    const deadline = Date.now() + 2000
    while (t.asked < 4 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10))
    expect(t.asked).toBeGreaterThanOrEqual(4)
    expect(r.replicator.stats.roundsFailed).toBe(1)
    expect(String(r.replicator.lastRoundError)).toContain('boom')
    await r.close()
  })
})
