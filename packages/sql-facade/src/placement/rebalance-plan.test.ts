/**
 * The rebalance planner: evens bytes over the nodes each shard may go to, keeps each
 * shard's number of holders and its regions, and moves nothing when already even.
 */
import { describe, expect, it } from 'vitest'
import { moves, planRebalance, type ShardLoad } from './rebalance-plan.js'

function shard(partition: number, bytes: number, holders: string[], allowed: string[]): ShardLoad {
  return { id: `s${partition}`, partition, name: `t_${partition}`, rows: bytes / 10, bytes, holders, allowed }
}

function loads(plan: ReturnType<typeof planRebalance>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of plan) for (const n of s.to) out[n] = (out[n] ?? 0) + s.bytes
  return out
}

describe('planRebalance', () => {
  it('moves shards off the most loaded node until no move lowers it: here two moves, the heaviest node at 600 of 1300', () => {
    const all = ['a', 'b', 'c']
    const plan = planRebalance([shard(0, 600, ['a'], all), shard(1, 300, ['a'], all), shard(2, 300, ['a'], all), shard(3, 100, ['b'], all)])
    expect(Object.values(loads(plan)).sort((x, y) => x - y)).toEqual([300, 400, 600])
    expect(plan.filter(moves)).toHaveLength(2)
    // Deterministic: the same sizes give the same plan.
    expect(planRebalance([shard(0, 600, ['a'], all), shard(1, 300, ['a'], all), shard(2, 300, ['a'], all), shard(3, 100, ['b'], all)])).toEqual(plan)
  })

  it('moves nothing when the shards are already even', () => {
    const all = ['a', 'b']
    const plan = planRebalance([shard(0, 100, ['a'], all), shard(1, 100, ['b'], all)])
    expect(plan.filter(moves)).toEqual([])
  })

  it('keeps each shard among its allowed nodes and its number of holders, never two copies on one node', () => {
    const us = ['u1', 'u2', 'u3']
    const eu = ['e1', 'e2']
    const plan = planRebalance([
      shard(0, 500, ['u1', 'u2'], us), shard(1, 500, ['u1', 'u2'], us), shard(2, 500, ['e1'], eu), shard(3, 500, ['e1'], eu),
    ])
    for (const s of plan) {
      expect(s.to).toHaveLength(s.holders.length)
      expect(new Set(s.to).size).toBe(s.to.length)
      for (const n of s.to) expect(s.allowed).toContain(n)
    }
    const l = loads(plan)
    expect([l['e1'], l['e2']]).toEqual([500, 500])
    expect(Math.max(l['u1']!, l['u2']!, l['u3']!) - Math.min(l['u1']!, l['u2']!, l['u3']!)).toBeLessThanOrEqual(500)
  })
})
