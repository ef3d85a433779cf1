import { describe, expect, it } from 'vitest'
import type { Fragments } from './fragments.js'
import type { Message } from './messages.js'
import { Positions } from './positions.js'
import type { ReplicationContext } from './replication-context.js'
import { newReplicatorStats } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** Positions over a host whose storage is synchronous: acknowledgements leave at once. */
function positions(): { p: Positions<ReplicatedShard>; acks: number[] } {
  const acks: number[] = []
  const ctx = {
    host: { now: () => 0, lsn: 10_000, whenDurable: (run: () => void) => run() },
    stats: newReplicatorStats(),
    linked: new Set(['a']),
  } as unknown as ReplicationContext<ReplicatedShard>
  const fragments = { send: (_peer: string, msg: Message) => acks.push((msg as { lsn: number }).lsn) } as unknown as Fragments<ReplicatedShard>
  return { p: new Positions(ctx, fragments), acks }
}

describe('positions', () => {
  it('follows gossip ranges in order, and ranges that came early once the gap fills', () => {
    const { p, acks } = positions()
    p.received('a', 0, 100)
    p.received('a', 200, 300)
    expect(p.receivedFrom('a')).toBe(100)
    p.received('a', 100, 200)
    expect(p.receivedFrom('a')).toBe(300)
    expect(acks).toEqual([100, 300])
  })

  it('an anti-entropy acknowledgement follows on through the ranges that came early (it stopped at the digest LSN)', () => {
    // Seen in auto-failover (seed 11): a repair started from a digest at LSN 240 completed
    // after gossip had brought 240..1525; the standby stayed at 240 and lost the election.
    const { p, acks } = positions()
    p.received('a', 240, 337)
    p.received('a', 337, 435)
    p.received('a', 1068, 1147)
    p.received('a', 435, 1068)
    expect(p.receivedFrom('a')).toBe(0)
    p.acknowledge('a', 240)
    expect(p.receivedFrom('a')).toBe(1147)
    expect(acks).toEqual([1147])
    p.received('a', 1147, 1200)
    expect(p.receivedFrom('a')).toBe(1200)
  })

  it('a range that started before the acknowledged point and ends past it counts to its end; ranges behind it are dropped', () => {
    const { p } = positions()
    p.received('a', 50, 80)
    p.received('a', 120, 180)
    p.received('a', 300, 400)
    p.acknowledge('a', 150)
    expect(p.receivedFrom('a')).toBe(180)
    // The gap before 300 stays a gap.
    p.received('a', 180, 250)
    expect(p.receivedFrom('a')).toBe(250)
    p.received('a', 250, 300)
    expect(p.receivedFrom('a')).toBe(400)
  })
})
