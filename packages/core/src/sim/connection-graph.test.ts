import { describe, expect, it } from 'vitest'
import { ConnectionGraph, DEFAULT_LINK_LIMITS } from './connection-graph.js'
import { SeededRandom } from './seeded-random.js'

const REGIONS = ['us-west', 'eu-central', 'ap-southeast']

function build(n: number, region: (i: number) => string | undefined, limits = DEFAULT_LINK_LIMITS): { g: ConnectionGraph; ids: string[] } {
  const g = new ConnectionGraph(new SeededRandom(7), limits)
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    ids.push(`n${i}`)
    g.add(`n${i}`, region(i))
  }
  return { g, ids }
}

function connected(g: ConnectionGraph, ids: string[]): boolean {
  const seen = new Set([ids[0]!])
  const todo = [ids[0]!]
  while (todo.length > 0) for (const o of g.neighbours(todo.pop()!)) if (!seen.has(o)) seen.add(o) && todo.push(o)
  return seen.size === ids.length
}

describe('connection graph', () => {
  it('links every node of a region to every other one of it (45 nodes, three regions), within the bounds', () => {
    // Failed with random dialing: the builder of a us-west shard was linked to about half
    // of the region's other holders, so their reports never reached it.
    const { g, ids } = build(45, (i) => REGIONS[i % 3])
    for (const a of ids) {
      const mine = g.neighbours(a)
      expect(mine.size).toBeLessThanOrEqual(DEFAULT_LINK_LIMITS.max)
      expect(mine.has(a)).toBe(false)
      for (const b of mine) expect(g.neighbours(b).has(a)).toBe(true)
      for (let j = 0; j < ids.length; j++) if (REGIONS[j % 3] === REGIONS[ids.indexOf(a) % 3] && ids[j] !== a) expect(mine.has(ids[j]!), `${a} - ${ids[j]}`).toBe(true)
      // Other regions are reached too.
      expect([...mine].some((b) => REGIONS[ids.indexOf(b) % 3] !== REGIONS[ids.indexOf(a) % 3])).toBe(true)
    }
    expect(connected(g, ids)).toBe(true)
  })

  it('a region larger than the bound: no node holds more than max links, and the graph stays connected', () => {
    const limits = { target: 4, max: 8 }
    const { g, ids } = build(60, (i) => (i < 50 ? 'big' : 'small'), limits)
    for (const a of ids) {
      expect(g.neighbours(a).size).toBeLessThanOrEqual(limits.max)
      expect(g.neighbours(a).size).toBeGreaterThanOrEqual(1)
    }
    expect(connected(g, ids)).toBe(true)
  })

  it('without regions, each node dials `target` random nodes with room', () => {
    const { g, ids } = build(100, () => undefined)
    for (const a of ids) expect(g.neighbours(a).size).toBeLessThanOrEqual(DEFAULT_LINK_LIMITS.max)
    // The last node dialed exactly `target` (every earlier node had room or enough did).
    expect(g.neighbours('n99').size).toBe(DEFAULT_LINK_LIMITS.target)
    expect(connected(g, ids)).toBe(true)
  })
})
