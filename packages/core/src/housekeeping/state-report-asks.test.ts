import { describe, expect, it } from 'vitest'
import { ASKS_PER_ROUND, ASKS_PER_SHARD, StateReportAsks } from './state-report-asks.js'

const holders = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`)

describe('the builder asks holders for state reports', () => {
  it('asks at most ASKS_PER_SHARD holders of one shard per round, each once until its answer may have been lost', () => {
    const asks = new StateReportAsks()
    const sent: string[] = []
    const wanted = [{ shard: 's', holders: holders(40) }]
    asks.round(wanted, 1000, 900, (p) => (sent.push(p), true))
    expect(sent.length).toBe(ASKS_PER_SHARD)
    asks.round(wanted, 1300, 900, (p) => (sent.push(p), true))
    asks.round(wanted, 1600, 900, (p) => (sent.push(p), true))
    // 40 holders, 16 a round: the third round reaches the last 8 and asks nobody twice.
    expect(sent.length).toBe(40)
    expect(new Set(sent).size).toBe(40)
    // Past againAfterMs, the least recently asked come first.
    sent.length = 0
    asks.round(wanted, 1900, 900, (p) => (sent.push(p), true))
    expect(sent).toEqual(holders(40).slice(0, ASKS_PER_SHARD))
  })

  it('skips holders that are not connected without spending the budget, and bounds a round over all shards', () => {
    const asks = new StateReportAsks()
    const sent: string[] = []
    const wanted = ['a', 'b', 'c', 'd'].map((s) => ({ shard: s, holders: holders(20, s) }))
    asks.round(wanted, 0, 900, (p) => {
      if (p.endsWith('0')) return false
      sent.push(p)
      return true
    })
    expect(sent.length).toBe(ASKS_PER_ROUND)
    expect(sent.some((p) => p.endsWith('0'))).toBe(false)
  })

  it('serves shards in turn across rounds, so none waits behind the others', () => {
    const asks = new StateReportAsks()
    const shardsAsked = new Set<string>()
    const wanted = ['a', 'b', 'c', 'd'].map((s) => ({ shard: s, holders: holders(100, s) }))
    for (let round = 0; round < 4; round++) asks.round(wanted, round * 300, 900, (_p, shard) => (shardsAsked.add(shard), true))
    expect([...shardsAsked].sort()).toEqual(['a', 'b', 'c', 'd'])
  })

  it('forgets a shard whose deletes no longer wait for anyone', () => {
    const asks = new StateReportAsks()
    const sent: string[] = []
    asks.round([{ shard: 's', holders: ['x'] }], 0, 900, (p) => (sent.push(p), true))
    asks.round([], 100, 900, () => true)
    // Forgotten: a new pending delete asks x again at once.
    asks.round([{ shard: 's', holders: ['x'] }], 200, 900, (p) => (sent.push(p), true))
    expect(sent).toEqual(['x', 'x'])
  })
})
