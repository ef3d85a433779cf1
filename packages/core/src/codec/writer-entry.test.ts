import { describe, expect, it } from 'vitest'
import { base36, encodeEntry, entryBorn, entryCl, entryHlc, parseEntry } from './writer-entry.js'

describe('writer entries', () => {
  it('round-trip every value type with ages and dependencies', () => {
    const e = {
      cl: 3,
      hlc: 1_812_345_678_901_234,
      cols: new Map([
        ['a', { value: 'x\u001e\u001f:y', hlc: 1_812_345_678_901_234, deps: null }],
        ['b', { value: -5n, hlc: 1_812_345_678_901_200, deps: [['n2', 980] as const, ['n3', 12] as const] }],
        ['c', { value: null, hlc: 1_812_345_678_901_234, deps: null }],
        ['d', { value: 1.25, hlc: 1_812_345_678_901_234, deps: null }],
        ['e', { value: true, hlc: 1_812_345_678_901_234, deps: null }],
        ['f', { value: new Uint8Array([0, 15, 255]), hlc: 1_812_345_678_901_234, deps: null }],
        ['g', { value: '', hlc: 1_812_345_678_901_234, deps: null }],
        // defaults (a column the INSERT did not name), of every tag
        ['h', { value: 'dock', hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
        ['i', { value: null, hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
        ['j', { value: 100, hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
        ['k', { value: false, hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
        ['l', { value: 7n, hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
        ['m', { value: new Uint8Array([1]), hlc: 1_812_345_678_901_234, deps: null, dflt: true }],
      ]),
    }
    const raw = encodeEntry(e)
    expect(parseEntry(raw)).toEqual(e)
    expect(entryCl(raw)).toBe(3)
    expect(entryHlc(raw)).toBe(e.hlc)
    const updated = encodeEntry({ ...e, born: e.hlc - 500 })
    expect(parseEntry(updated)).toEqual({ ...e, born: e.hlc - 500 })
    expect(entryHlc(updated)).toBe(e.hlc)
    expect(entryBorn(updated)).toBe(e.hlc - 500)
    expect(entryBorn(raw)).toBe(e.hlc)
    // a born age of 0 is left out: an entry never updated costs nothing extra
    expect(encodeEntry({ ...e, born: e.hlc })).toBe(raw)
    const tomb = encodeEntry({ cl: 2, hlc: 77, cols: new Map() })
    expect(parseEntry(tomb)).toEqual({ cl: 2, hlc: 77, cols: new Map() })
  })

  it('reject malformed entries instead of trusting them', () => {
    const good = encodeEntry({ cl: 1, hlc: 100, cols: new Map([['a', { value: 'hello', hlc: 90, deps: [['w', 5] as const] }]]) })
    const bad: unknown[] = [null, 7, ['1', 2], '', '2' + good.slice(1), '1', '1,', '1z!,5', '11,' , '11,5,', '11,5,6', '11,5,z!', good + 'x', good.slice(0, -1), good.replace('hello', 'hell')]
    for (const b of bad) expect(parseEntry(b)).toBe(null)
    // every truncation is rejected or parses to a prefix that is itself well formed
    for (let i = 1; i < good.length; i++) {
      const p = parseEntry(good.slice(0, i))
      if (p !== null) expect(p.cols.size).toBe(0)
    }
    expect(entryCl('garbage')).toBe(-1)
  })

  it('writes base-36 digits as toString(36) does, past the small integers too', () => {
    const edges = [0, 1, 35, 36, 60_466_175, 60_466_176, 60_466_177, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 36 ** 10 - 1, 36 ** 10, 1_812_345_678_901_234, Number.MAX_SAFE_INTEGER]
    for (const n of edges) expect(base36(n)).toBe(n.toString(36))
    // Numbers of every length (a fixed sequence: the same on every run).
    let x = 0x9e3779b9
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0
      const n = Math.floor((x / 2 ** 32) * Number.MAX_SAFE_INTEGER / 10 ** (i % 16))
      expect(base36(n)).toBe(n.toString(36))
    }
    // What an entry holds reads back: a timestamp past 36^10 and an age of 36^5 exactly.
    const e = { cl: 1, hlc: 36 ** 10 + 5, cols: new Map([['a', { value: 1, hlc: 36 ** 10 + 5 - 60_466_176, deps: null }]]) }
    expect(entryHlc(encodeEntry(e))).toBe(36 ** 10 + 5)
    expect(parseEntry(encodeEntry(e))?.cols.get('a')?.hlc).toBe(36 ** 10 + 5 - 60_466_176)
  })
})
