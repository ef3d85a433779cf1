import { describe, expect, it } from 'vitest'
import type { Row } from '../types.js'
import { rowHash, sameRow } from './row-hash.js'

/** The hash as first defined (FNV-1a over the tagged strings, each ended by 0xff): replicas of any version compare sums of it. */
function definedHash(key: string, row: Row): number {
  let h = 0x811c9dc5
  const str = (s: string): void => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
    h = Math.imul(h ^ 0xff, 0x01000193)
  }
  str(key)
  for (const name in row) {
    str(name)
    const v = row[name]!
    if (v === null) str('\u0000n')
    else if (v instanceof Uint8Array) {
      h = Math.imul(h ^ 0x62, 0x01000193)
      for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v[i]!, 0x01000193)
    } else str(`${typeof v}:${String(v)}`)
  }
  return h >>> 0
}

const rows: Array<[string, Row]> = [
  ['k', {}],
  ['\u0001id\u00001', { id: 1, name: 'ada', price: '12.50', ok: true }],
  ['x', { a: null, b: -0, c: 1.5e300, d: 12345678901234567890n, e: false }],
  ['ключ', { s: 'naïve café 🚀', t: '', u: ':', v: 'number:1' }],
  ['b', { bytes: new Uint8Array([0, 1, 255, 128]), none: new Uint8Array(0) }],
]

describe('row hash', () => {
  it('is the value replicas of every version compute for the same row', () => {
    for (const [key, row] of rows) expect(rowHash(key, row)).toBe(definedHash(key, row))
  })

  // Integers are hashed digit by digit, without String(v): the same value as the definition's.
  it('hashes integers as their decimal text, at every length and sign', () => {
    const ints = [0, -0, 1, -1, 9, 10, -10, 99, 100, 2147483647, -2147483648, 1e15, 9007199254740991, -9007199254740991, 4294967296, 12345678901]
    for (let d = 1; d <= 16; d++) ints.push(Number('9'.repeat(d)), Number('1' + '0'.repeat(d - 1)), -Number('7'.repeat(d)))
    for (const v of ints.filter((x) => Number.isSafeInteger(x))) expect(rowHash('k', { a: v, b: 'x' })).toBe(definedHash('k', { a: v, b: 'x' }))
    // Past the safe integers, and fractions, through String as before.
    for (const v of [9007199254740992, 2 ** 60, 1e21, -1e21, 0.5, -2.25, NaN, Infinity, -Infinity]) expect(rowHash('k', { a: v })).toBe(definedHash('k', { a: v }))
  })

  it('tells apart values that print alike but differ in type, and rows under other keys', () => {
    expect(rowHash('k', { a: 1 })).not.toBe(rowHash('k', { a: '1' }))
    expect(rowHash('k', { a: 1 })).not.toBe(rowHash('k', { a: 1n }))
    expect(rowHash('k', { a: null })).not.toBe(rowHash('k', { a: '\u0000n' }))
    expect(rowHash('k', { a: 1 })).not.toBe(rowHash('j', { a: 1 }))
    expect(sameRow({ a: new Uint8Array([1]) }, { a: new Uint8Array([1]) })).toBe(true)
  })
})
