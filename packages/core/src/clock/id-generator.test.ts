import { describe, expect, it } from 'vitest'
import { ID_EPOCH_MS, IdGenerator, nodeNumberOf } from './id-generator.js'

describe('IdGenerator', () => {
  it('gives strictly increasing positive 64-bit ids on one node', () => {
    let wall = ID_EPOCH_MS + 10
    const g = new IdGenerator(() => wall, 7)
    const ids: bigint[] = []
    for (let i = 0; i < 3000; i++) {
      if (i % 1000 === 0) wall++
      ids.push(g.next())
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true)
    expect(ids.every((id) => id > 0n && id < 2n ** 63n)).toBe(true)
  })

  it('never collides between nodes with different node numbers at the same instant', () => {
    const wall = () => ID_EPOCH_MS + 5
    const a = new IdGenerator(wall, 1)
    const b = new IdGenerator(wall, 2)
    const seen = new Set<bigint>()
    for (let i = 0; i < 5000; i++) {
      seen.add(a.next())
      seen.add(b.next())
    }
    expect(seen.size).toBe(10000)
  })

  it('derives node numbers deterministically and in range', () => {
    expect(nodeNumberOf('node-a')).toBe(nodeNumberOf('node-a'))
    expect(nodeNumberOf('node-a')).toBeGreaterThanOrEqual(0)
    expect(nodeNumberOf('node-a')).toBeLessThan(4096)
    expect(() => new IdGenerator(Date.now, 5000)).toThrow(RangeError)
  })
})
