import { describe, expect, it } from 'vitest'
import { encodeEntry, parseEntry } from './writer-entry.js'

describe('writer entries', () => {
  it('round-trip with ages and dependencies', () => {
    const e = {
      cl: 3,
      hlc: 1000,
      cols: new Map([
        ['a', { value: 'x', hlc: 1000, deps: null }],
        ['b', { value: 5n, hlc: 990, deps: [['n2', 980] as const] }],
      ]),
    }
    const back = parseEntry(encodeEntry(e))
    expect(back).toEqual(e)
  })

  it('reject malformed entries instead of trusting them', () => {
    const bad: unknown[] = [
      null,
      'x',
      [1],
      [-1, 5],
      [1, 5, 'a'],
      [1, 5, 7, 'v', 0, null],
      [1, 5, 'a', 'v', 9, null],
      [1, 5, 'a', { o: 1 }, 0, null],
      [1, 5, 'a', 'v', 0, ['w']],
      [1, 5, 'a', 'v', 0, [3, 4]],
      [1.5, 5],
    ]
    for (const b of bad) expect(parseEntry(b)).toBe(null)
  })
})
