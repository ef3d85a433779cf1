import { describe, expect, it } from 'vitest'
import { decodeRowKey, encodeRowKey, entryKey, splitEntryKey } from './row-key.js'

describe('row keys', () => {
  it('round-trip every key type, single and composite', () => {
    const cases = [[1], [-2.5], [12345678901234567890n], ['abc'], [true], [false], [new Uint8Array([1, 255])], ['a\u0001b\u0002c', 7, 'x']]
    for (const k of cases) expect(decodeRowKey(encodeRowKey(k), k.length)).toEqual(k)
  })

  it('keeps keys of different types or splits distinct', () => {
    expect(encodeRowKey([1])).not.toBe(encodeRowKey(['1']))
    expect(encodeRowKey(['a\u0001b', 'c'])).not.toBe(encodeRowKey(['a', 'b\u0001c']))
    expect(encodeRowKey([1n])).not.toBe(encodeRowKey([1]))
  })

  it('rejects a null key component with 23502', () => {
    expect(() => encodeRowKey([null])).toThrow(expect.objectContaining({ condition: 'notNullViolation' }))
  })

  it('splits writer entry keys even when the row key contains NUL', () => {
    const rk = encodeRowKey(['x\u0000y'])
    expect(splitEntryKey(entryKey(rk, 'node-1'))).toEqual([rk, 'node-1'])
    expect(splitEntryKey('no-separator')).toBe(null)
  })

  it('rejects corrupt keys', () => {
    expect(() => decodeRowKey('q123', 1)).toThrow()
    expect(() => decodeRowKey('n1', 2)).toThrow()
    expect(() => decodeRowKey('nabc', 1)).toThrow()
  })
})
