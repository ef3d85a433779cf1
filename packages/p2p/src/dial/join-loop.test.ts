import { describe, expect, it } from 'vitest'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Scheduler } from '@concord/core'
import { JoinLoop, peerIdOf, type JoinDialer, type JoinLoopHooks } from './join-loop.js'

const PEER = '12D3KooWJ7SWuAZSxcVhSPquXYduxxAYr3ULBnEzdUGDrWnEqKTA'
const ADDR = `/ip4/127.0.0.1/tcp/4001/ws/p2p/${PEER}`

/** Timers that fire only when the test says so. */
class ManualScheduler implements Scheduler {
  readonly pending: Array<{ ms: number; fn: () => void; cancelled: boolean }> = []
  setTimeout(ms: number, fn: () => void): () => void {
    const timer = { ms, fn, cancelled: false }
    this.pending.push(timer)
    return () => (timer.cancelled = true)
  }
  live(): number[] {
    return this.pending.filter((t) => !t.cancelled).map((t) => t.ms)
  }
  fireAll(): void {
    for (const t of this.pending.splice(0)) if (!t.cancelled) t.fn()
  }
}

/** Answers each dial with the next scripted outcome: a peer id (connected) or an error. */
class ScriptedDialer implements JoinDialer {
  readonly dialed: string[] = []
  private readonly outcomes: Array<string | Error>

  constructor(outcomes: Array<string | Error>) {
    this.outcomes = outcomes
  }
  async dial(addr: Multiaddr): Promise<{ remotePeer: { toString(): string }; status: string }> {
    this.dialed.push(addr.toString())
    const next = this.outcomes.shift() ?? new Error('no more outcomes')
    if (next instanceof Error) throw next
    return { remotePeer: { toString: () => next }, status: 'open' }
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0))

function loop(hooks: Partial<JoinLoopHooks> = {}): { joins: JoinLoop; timers: ManualScheduler; failures: string[] } {
  const timers = new ManualScheduler()
  const failures: string[] = []
  const joins = new JoinLoop(
    { dialTimeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400, random: () => 1 }, scheduler: timers },
    { failed: (t, err) => failures.push(`${t.text}: ${(err as Error).message}`), ...hooks },
  )
  return { joins, timers, failures }
}

describe('join loop', () => {
  it('dials targets once attached and redials failures with doubling delays up to the cap', async () => {
    const { joins, timers, failures } = loop()
    const dialer = new ScriptedDialer([new Error('refused'), new Error('refused'), new Error('refused'), new Error('refused'), PEER])
    joins.add(ADDR)
    expect(dialer.dialed).toEqual([])
    joins.attach(dialer)
    const delays: number[] = []
    for (let i = 0; i < 4; i++) {
      await settle()
      delays.push(...timers.live())
      timers.fireAll()
    }
    await settle()
    expect(delays).toEqual([100, 200, 400, 400])
    expect(failures).toHaveLength(4)
    expect(joins.targets[0]).toMatchObject({ state: 'idle', attempt: 0, peerId: PEER })
    expect(timers.live()).toEqual([])
  })

  it('redials an idle target when the connection to its peer is lost, learning the peer id from the connection', async () => {
    const { joins, timers } = loop()
    const dialer = new ScriptedDialer([PEER, PEER])
    const target = joins.add('/ip4/127.0.0.1/tcp/4001')
    expect(target.peerId).toBeUndefined()
    joins.attach(dialer)
    await settle()
    expect(target.peerId).toBe(PEER)
    joins.disconnected('someone-else')
    expect(timers.live()).toEqual([])
    joins.disconnected(PEER)
    expect(target.state).toBe('waiting')
    timers.fireAll()
    await settle()
    expect(dialer.dialed).toHaveLength(2)
  })

  it('does not dial while offline or once its peer is up; pause forgets attempts; stop cancels timers', async () => {
    let online = false
    let up = false
    const { joins, timers } = loop({ online: () => online, satisfied: () => up })
    const dialer = new ScriptedDialer([new Error('refused'), new Error('refused')])
    joins.add(ADDR)
    joins.attach(dialer)
    await settle()
    expect(dialer.dialed).toEqual([])

    online = true
    joins.dialAll()
    await settle()
    expect(joins.targets[0]).toMatchObject({ state: 'waiting', attempt: 1 })
    joins.pause()
    expect(joins.targets[0]).toMatchObject({ state: 'idle', attempt: 0 })
    expect(timers.live()).toEqual([])

    up = true
    joins.dialAll()
    await settle()
    expect(dialer.dialed).toHaveLength(1)

    up = false
    joins.dialAll()
    await settle()
    expect(timers.live()).toHaveLength(1)
    joins.stop()
    expect(timers.live()).toEqual([])
    joins.dialAll()
    await settle()
    expect(dialer.dialed).toHaveLength(2)
  })

  it('reads the peer id of an address', () => {
    expect(peerIdOf(ADDR)).toBe(PEER)
    expect(peerIdOf('/ip4/127.0.0.1/tcp/4001/ws')).toBeUndefined()
  })
})
