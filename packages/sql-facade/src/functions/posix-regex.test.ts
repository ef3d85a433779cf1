import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's (run side by side with it); the ones marked
// "before" were other answers given without an error, or errors where PostgreSQL answers.
describe('PostgreSQL regular expressions read as PostgreSQL reads them', () => {
  it('POSIX classes in brackets, a ] first in brackets, and . across a newline (before: false, false, false)', async () => {
    const [r] = await rows(`SELECT '5' ~ '^[[:digit:]]$', 'ab' ~ '^[[:alpha:]]+$', 'a b' ~ '[[:space:]]', 'A1!' ~ '[[:punct:]]',
      'x' ~ '[[:upper:]]', 'x' ~* '[[:upper:]]', 'a]' ~ '^[]a]+$', 'x' ~ '^[^]a]$', ']' ~ '^[^]a]$', E'a\\nb' ~ 'a.b', 'é' ~ '[[:alpha:]]',
      'a' ~ '[[.a.]]', 'a' ~ '[[=a=]]', '7f' ~ '^[[:xdigit:]]+$'`)
    expect(r).toEqual([true, true, true, true, false, true, true, true, false, true, false, true, true, true])
    expect(await code("SELECT 'x' ~ '[[:foo:]]'")).toBe('2201B')
    expect(await code("SELECT 'x' ~ '[abc'")).toBe('2201B')
  })

  it('the ARE escapes \\m \\M \\y \\Y \\A \\Z and the ***= director (before: matched the letters)', async () => {
    const [r] = await rows(`SELECT 'foo bar' ~ '\\mbar', 'foobar' ~ '\\mbar', 'foo bar' ~ 'foo\\M', 'foobar' ~ 'foo\\M', 'a foo' ~ '\\yfoo\\y',
      'afoo' ~ '\\Yfoo', 'foo' ~ '\\Afoo', 'xfoo' ~ '\\Afoo', 'bar' ~ 'bar\\Z', 'a.b' ~ '***=a.b', 'axb' ~ '***=a.b', 'm' ~ '\\m'`)
    expect(r).toEqual([true, false, true, false, true, true, true, false, true, true, false, true])
  })

  it('regexp_replace, substring and regexp_match read POSIX classes too; regexp_match was missing (42883)', async () => {
    expect(await rows(`SELECT regexp_replace('foo 123 bar', '[[:digit:]]+', '#'), substring('abc123' from '[[:digit:]]+'),
      regexp_match('abc123', '([[:alpha:]]+)([[:digit:]]+)'), regexp_match('abc', 'b'), regexp_match('abc', 'B', 'i'), regexp_match('abc', 'x')`))
      .toEqual([['foo # bar', '123', '{abc,123}', '{b}', '{b}', null]])
    expect(await code("SELECT regexp_match('abc', 'b', 'g')")).toBe('22023')
  })

  it('SIMILAR TO, NOT SIMILAR TO, ESCAPE, similar_to_escape and substring(.. SIMILAR ..) (0A000 before)', async () => {
    const got = await rows(`SELECT x similar to 'a%', x similar to '%(b|c)%', x not similar to '_b_', x similar to '[a-c]*', x similar to '%#%%' escape '#',
      x similar to 'a.c', x similar to '(ab)+', x similar to '%[[:digit:]]%', x similar to '[]a]%'
      FROM (VALUES (1, 'abc'), (2, 'a.c'), (3, 'x%y'), (4, 'abab'), (5, ']5'), (6, NULL)) v(i, x) ORDER BY i`)
    expect(got).toEqual([
      [true, true, false, true, false, false, false, false, true],
      [true, true, true, false, false, true, false, false, true],
      [false, false, true, false, true, false, false, false, false],
      [true, true, true, true, false, false, true, false, true],
      [false, false, true, false, false, false, false, true, true],
      [null, null, null, null, null, null, null, null, null],
    ])
    expect(await rows(`SELECT similar_to_escape('a(b|c)%'), similar_to_escape('x.y^z$'), similar_to_escape('[^]%]'), similar_to_escape('[a[b]%]%'),
      similar_to_escape('a#%b', '#'), similar_to_escape('a%', ''), similar_to_escape('%#"o_b#"%', '#'), similar_to_escape('[#%]', '#')`))
      .toEqual([['^(?:a(?:b|c).*)$', '^(?:x\\.y\\^z\\$)$', '^(?:[^]%])$', '^(?:[a[b]%].*)$', '^(?:a\\%b)$', '^(?:a.*)$', '^(?:.*){1,1}?(o.b){1,1}(?:.*)$', '^(?:[\\%])$']])
    expect(await rows(`SELECT substring('foobar' similar '%#"o_b#"%' escape '#'), substring('foobar' similar 'f%' escape '#'),
      substring('foobar' similar 'x%' escape '#'), substr('hello', '2', '3'), 'a' similar to 'a' escape null`)).toEqual([['oob', 'foobar', null, 'ell', null]])
    expect(await code("SELECT 'a' similar to 'a' escape 'xy'")).toBe('22025')
    expect(await code(`SELECT similar_to_escape('a#"b#"c#"d', '#')`)).toBe('2200C')
  })
})
