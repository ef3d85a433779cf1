import { describe, expect, it } from 'vitest'
import { foldCase } from './regex-case-fold.js'

const PATTERNS = [
  'abc', 'ABC', '^a.c$', '(a+)+$', '[a-c]+', '[^a-c]', '[A-Z0-9_]+', '[\\w-]', '\\bfoo\\b', 'x{2,3}y',
  'a{x', '(?:ab|CD)+', '(?<word>hello) world', '(?=A)a', '(?<!b)c', '[\\u0041-\\u0043]', '\\x41\\u0062',
  'straße', 'ΣΑΣ', 'ǅ', '[À-ÿ]+', 'ſ', 'K', '[k-l]', '\\d+[a-f]', '[\\]a]', '[a\\-z]', '[-a]', '[a-]',
  '.', '\\.', 'İ', 'ı', '[\\b]', 'a|B|c', '[\\x61-\\x7a]+',
]
const TEXTS = [
  'abc', 'ABC', 'aBc', 'xyz', 'aaaa!', 'X', 'xxY', 'hello world', 'HELLO WORLD', 'Aa', 'bc', 'C',
  'STRASSE', 'straße', 'STRAßE', 'σας', 'ΣΑς', 'ǆ', 'Ǆ', 'ǅ', 'àÿ', 'ÀŸ', 's', 'S', 'k', 'K', 'K', 'L',
  '12AF', ']', '-', 'z', 'i', 'I', 'İ', 'ı', '\b', 'foo', 'FOO bar', '{X', 'a{x', 'A{X', 'ab', 'AbCd',
]

describe('case-insensitive patterns without the i flag', () => {
  it('the folded pattern answers what the i flag answers, match for match', () => {
    for (const p of PATTERNS) {
      const folded = foldCase(p)
      expect(folded, p).not.toBeNull()
      const withI = new RegExp(p, 'gi')
      const without = new RegExp(folded!, 'g')
      for (const t of TEXTS) {
        expect([...t.matchAll(without)].map((m) => [m.index, m[0], ...m.slice(1)]), `${p} on ${t}`)
          .toEqual([...t.matchAll(withI)].map((m) => [m.index, m[0], ...m.slice(1)]))
      }
    }
  })

  it('a backreference or a pattern it cannot read keeps the i flag', () => {
    expect(foldCase('(a)\\1')).toBeNull()
    expect(foldCase('(?<x>a)\\k<x>')).toBeNull()
    expect(foldCase('\\cA')).toBeNull()
    expect(foldCase('[z-a]')).toBeNull()
  })
})
