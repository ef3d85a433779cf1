import { describe, expect, it } from 'vitest'
import { durationMillis, memoryBytes } from './parameters.js'

describe('durationMillis and memoryBytes (remembered per text)', () => {
  it('answer each text by its own value, asked again, after many other texts, and for each bare unit', () => {
    expect(durationMillis('250')).toBe(250)
    expect(durationMillis('1.5s')).toBe(1500)
    expect(durationMillis('250')).toBe(250)
    expect(durationMillis('2min')).toBe(120_000)
    expect(durationMillis('soon')).toBe(0)
    // More texts than the memo holds: every answer stays the parsed one.
    for (let i = 0; i < 200; i++) expect(durationMillis(`${i}ms`)).toBe(i)
    expect(durationMillis('1.5s')).toBe(1500)
    // The same text in different bare units is two values.
    expect(memoryBytes('64', 'kB')).toBe(64 * 1024)
    expect(memoryBytes('64', 'MB')).toBe(64 * 1024 ** 2)
    expect(memoryBytes('64', 'kB')).toBe(64 * 1024)
    expect(memoryBytes('1GB')).toBe(1024 ** 3)
    expect(memoryBytes('lots')).toBe(0)
    for (let i = 0; i < 200; i++) expect(memoryBytes(`${i}kB`, 'MB')).toBe(i * 1024)
  })
})
