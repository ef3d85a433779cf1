import { describe, expect, it } from 'vitest'
import { addCounter, subtractCounter } from './counter.js'

describe('counter arithmetic', () => {
  it('adds numbers as numbers and switches to bigint as soon as one side is one', () => {
    expect(addCounter(2, 3)).toBe(5)
    expect(addCounter(2n, 3)).toBe(5n)
    expect(subtractCounter(10, 2n)).toBe(8n)
    expect(addCounter(2n ** 62n, 2n ** 62n)).toBe(2n ** 63n)
  })

  it('treats null and non-numbers as zero, and truncates fractions mixed with bigints', () => {
    expect(addCounter(null, 4)).toBe(4)
    expect(addCounter('x', 4)).toBe(4)
    expect(addCounter(1.9, 1n)).toBe(2n)
    expect(subtractCounter(null, null)).toBe(0)
  })
})
