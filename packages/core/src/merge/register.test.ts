import { describe, expect, it } from 'vitest'
import { Replica } from '../replica.js'
import type { ConflictRecord, TableSpec } from '../types.js'
import { resolve } from './policy.js'
import { concurrentValues, registerConflict, type RegisterEntry } from './register.js'

const entry = (hlc: number, value: string | null, deps: Array<[string, number]> | null = null, dflt = false): RegisterEntry => ({
  hlc,
  cols: new Map([['v', dflt ? { value, hlc, deps, dflt } : { value, hlc, deps }]]),
})

describe('multi-value register', () => {
  it('keeps the values nobody has superseded', () => {
    const set = concurrentValues(
      [
        ['a', entry(1, 'old')],
        ['b', entry(2, 'saw a', [['a', 1]])],
        ['c', entry(3, 'concurrent')],
      ],
      'v',
    )
    expect(set.map((c) => c.value).sort()).toEqual(['concurrent', 'saw a'])
  })

  it('reports the value the policy chose as the winner, whatever order the set came in', () => {
    const entries: Array<[string, RegisterEntry]> = [
      ['b', entry(20, 'B')],
      ['a', entry(10, 'A')],
      ['c', entry(15, null, null, true)],
    ]
    const candidates = concurrentValues(entries, 'v')
    const value = resolve('last_write_wins', candidates, () => undefined)
    expect(value).toBe('B')
    const decided = registerConflict(entries, 'v', candidates, 'last_write_wins', value)
    expect(decided?.winner).toEqual({ writer: 'b', value: 'B', hlc: 20 })
    expect(decided?.losers).toEqual([{ writer: 'a', value: 'A', hlc: 10 }])
  })
})

describe('conflicts a replica reports', () => {
  const t: TableSpec = { name: 't', columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }], primaryKey: ['id'], policy: 'last_write_wins' }

  it('name the value readers see as the winner, also when a default was among the concurrent values', async () => {
    const open = (nodeId: string, at: number) => Replica.open({ nodeId, clock: () => at, antiEntropyIntervalMs: 0, compaction: { enabled: false } })
    const a = await open('a', 1_000_000)
    const b = await open('b', 2_000_000)
    const c = await open('c', 1_500_000)
    const x = await open('x', 3_000_000)
    a.transact((tx) => tx.createTable(t))
    for (const r of [b, c, x]) r.applyRemote(r.catalogShard, a.catalogShard.encodeState())
    // Concurrent inserts of one key: a and b name v, c leaves it to its default.
    a.transact((tx) => tx.insert('t', { id: 1, v: 'A' }))
    b.transact((tx) => tx.insert('t', { id: 1, v: 'B' }))
    c.transact((tx) => tx.insert('t', { id: 1, v: null }, ['v']))
    const conflicts: ConflictRecord[] = []
    x.on('conflict', (cs) => conflicts.push(...cs))
    const shardOf = (r: Replica) => [...r.shards.values()].find((s) => s.id.endsWith(':t'))!
    // x learns of b's write first, then a's and c's.
    for (const from of [b, a, c]) x.applyRemote(x.shardFor(shardOf(from).id)!, shardOf(from).encodeState())
    expect(x.get('t', [1])?.v).toBe('B')
    const last = conflicts.filter((k) => k.column === 'v').at(-1)!
    expect(last.kind).toBe('insert_insert')
    expect(last.winner?.writer).toBe('b')
    expect(last.winner?.value).toBe('B')
    expect(last.losers.map((l) => l.writer)).toEqual(['a'])
    for (const r of [a, b, c, x]) await r.close()
  })
})
