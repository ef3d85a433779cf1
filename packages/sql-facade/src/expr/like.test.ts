import { describe, expect, it } from 'vitest'
import { likeMatches } from './like.js'
import { openDatabase } from '../database.js'

describe('LIKE matching', () => {
  it('matches %, _ and escapes as PostgreSQL does', () => {
    const cases: Array<[string, string, boolean]> = [
      ['abc', 'abc', true], ['abc', 'a%', true], ['abc', '%c', true], ['abc', '%b%', true], ['abc', 'a_c', true],
      ['abc', '_', false], ['abc', '___', true], ['abc', '____', false], ['', '%', true], ['', '_', false], ['', '', true],
      ['abcabc', '%abc', true], ['abcab', 'a%b%b', true], ['aXbXc', 'a%b%c', true], ['ab', 'a%b%c', false],
      ['a%b', 'a\\%b', true], ['axb', 'a\\%b', false], ['a_b', 'a\\_b', true], ['a\\b', 'a\\\\b', true],
      ['line\nbreak', 'line%break', true], ['x', '%%%', true], ['aaa', '%a%a%a%', true], ['aa', '%a%a%a%', false],
      // `_` is one code point, also outside the BMP.
      ['😀', '_', true], ['a😀b', 'a_b', true], ['😀😀', '%😀', true], ['😀x', '😀_', true],
    ]
    for (const [text, pattern, want] of cases) expect([text, pattern, likeMatches(text, pattern, false)]).toEqual([text, pattern, want])
  })

  it('ILIKE folds case, also beyond ASCII', () => {
    expect(likeMatches('ABC', 'a%c', true)).toBe(true)
    expect(likeMatches('Straße', 'STRA_E', true)).toBe(true)
    expect(likeMatches('ÉCOLE', 'é%', true)).toBe(true)
    expect(likeMatches('abc', 'A_D', true)).toBe(false)
    expect(likeMatches('ABC', 'a%c', false)).toBe(false)
  })

  it('a pattern ending in its escape is 22025 only when matching reaches it', () => {
    expect(() => likeMatches('abc', 'ab\\', false)).toThrow(expect.objectContaining({ code: '22025' }))
    expect(likeMatches('ab', 'ab\\', false)).toBe(false)
    expect(likeMatches('xy', 'ab\\', false)).toBe(false)
  })

  it('answers a pattern that made the backtracking regular expression exponential at once', () => {
    // `%a` 30 times then `b` on 10,000 a's: a backtracking engine tries ~10^4^30 ways.
    const pattern = '%a'.repeat(30) + '%b'
    const text = 'a'.repeat(10_000)
    expect(likeMatches(text, pattern, false)).toBe(false)
    expect(likeMatches(text, pattern, true)).toBe(false)
    expect(likeMatches(text + 'b', pattern, false)).toBe(true)
    expect(likeMatches('_'.repeat(10_000), '%_'.repeat(30) + '%b', false)).toBe(false)
  })

  it('answers a hostile LIKE and ILIKE through SQL at once', async () => {
    const db = await openDatabase({ nodeId: 'like' })
    try {
      const pattern = '%a'.repeat(30) + '%b'
      const r = await db.query(`SELECT repeat('a', 10000) LIKE '${pattern}' AS l, repeat('A', 10000) ILIKE '${pattern}' AS i, repeat('a', 10000) || 'b' LIKE '${pattern}' AS m`)
      expect(r.rows).toEqual([{ l: false, i: false, m: true }])
    } finally {
      await db.close()
    }
  })
})
