import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows, code } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's.
describe('string functions agree with PostgreSQL on their edge cases', () => {
  it('split_part with an empty delimiter has the whole text as its one field', async () => {
    expect(await rows(`SELECT split_part('joeuser@mydatabase','',1), split_part('joeuser@mydatabase','',2), split_part('joeuser@mydatabase','',-1)`))
      .toEqual([['joeuser@mydatabase', '', 'joeuser@mydatabase']])
  })

  it('substring(text FROM pattern) is the first group, NULL when that group matched nothing', async () => {
    expect(await rows(`SELECT SUBSTRING('foo' FROM 'foo(bar)?') IS NULL, substring('foobar' from 'o(b)'), substring('foobar' from 'o.b')`))
      .toEqual([[true, 'b', 'oob']])
  })

  it('character(n) loses its padding when it becomes text, in casts and in ||', async () => {
    expect(await rows(`SELECT CAST('a  '::char(4) AS text) || '|', CAST('ab'::char(4) AS varchar) || '|', 'ab'::char(4),
      char(20) 'characters' || ' and text', text 'text' || char(20) ' and characters'`))
      .toEqual([['a|', 'ab|', 'ab  ', 'characters and text', 'text and characters']])
  })

  it('concat_ws skips NULLs and prints each other argument by its own type', async () => {
    expect(await rows(`SELECT concat_ws(',', 1, NULL, '2001-02-03'::date, 3.5), concat('a', NULL, 2)`)).toEqual([['1,2001-02-03,3.5', 'a2']])
  })
})

describe('string functions count and cut characters without an array of them (issue 15)', () => {
  it('count and cut a text of 60,000,000 characters without an array of them, and build none past 64 Mi (54000)', async () => {
    // length() spread a text into an array of its characters: past 2^27 of them the engine aborted the process.
    expect(await rows(`WITH t AS MATERIALIZED (SELECT repeat('ab', 30000000) AS s)
      SELECT length(s), char_length(s), substr(s, 5, 3), right(s, 3), left(s, -59999998), length(btrim(s, 'a')),
        length(s::varchar(5)), length(lpad(s, 3)) FROM t`))
      .toEqual([[60_000_000, 60_000_000, 'aba', 'bab', 'ab', 59_999_999, 5, 3]])
    // No text past 67,108,864 characters is built: repeat, ||, functions' results, string_agg.
    for (const sql of [`SELECT length(repeat('ab', 70000000))`, `SELECT length(repeat('a', 40000000) || repeat('b', 40000000))`,
      `SELECT length(concat(repeat('a', 40000000), repeat('b', 40000000)))`, `SELECT length(string_agg(repeat('x', 10000000), '')) FROM generate_series(1, 7)`]) {
      expect(await code(sql)).toBe('54000')
    }
  })

  it('split a text into more characters or elements than an array holds: 54000, not a dead process', async () => {
    expect(await code(`SELECT length(reverse(repeat('ab', 10000000)))`)).toBe('54000')
    expect(await code(`SELECT cardinality(string_to_array(repeat('a,', 20000000), ','))`)).toBe('54000')
    expect(await rows(`SELECT length(replace(repeat('ab', 20000000), 'a', 'xy'))`)).toEqual([[60_000_000]])
    // split_part finds its field without an array of every field (30,000,000 of them here).
    expect(await rows(`WITH t AS MATERIALIZED (SELECT repeat('a,', 30000000) AS s) SELECT split_part(s, ',', 3), split_part(s, ',', -1), split_part(s, ',', -2) FROM t`)).toEqual([['a', '', 'a']])
    expect(await rows(`SELECT split_part('a,b,c', ',', -1), split_part('a,b,c', ',', -3), split_part('a,b,c', ',', -4), split_part('aaaa', 'aa', 2), split_part('aaaaa', 'aa', -1), split_part('x', ',', 2)`))
      .toEqual([['c', 'a', '', '', 'a', '']])
  })

  it('read an array literal or a json text too large for the engine\'s arrays: 54000 (an int[] literal of 140 million elements ended the process)', async () => {
    expect(await code(`SELECT cardinality(('{' || repeat('1,', 17000000) || '1}')::int[])`)).toBe('54000')
    expect(await code(`SELECT jsonb_array_length(('[' || repeat('1,', 70000000) || '1]')::jsonb)`)).toBe('54000')
    expect(await rows(`SELECT cardinality(('{' || repeat('1,', 999) || '1}')::int[]), jsonb_array_length(('[' || repeat('1,', 999) || '1]')::jsonb)`)).toEqual([[1000, 1000]])
  })

  it('replace and regexp_replace build their result a piece at a time, with PostgreSQL\'s replacement grammar (\\0 is not a group)', async () => {
    // Before, regexp_replace's \0 was the whole match (PostgreSQL copies it as written), and
    // both functions went through the engine's own global replace, which keeps every match
    // until the end: 50 million of them with a group ended the process.
    expect(await rows(`SELECT regexp_replace('abc', 'b', '<\\0>'), regexp_replace('abcabc', '(b)(c)', '\\2\\1\\&', 'g'), regexp_replace('aab', 'a*', '-', 'g'),
      regexp_replace('abcabc', 'b', 'X', 1, 2), regexp_replace('abcabc', 'b', '<\\0\\&>', 1, 0), replace('aaa', 'aa', 'b'), regexp_replace('a$b', '\\$', '$1')`))
      .toEqual([['a<\\0>c', 'acbbcacbbc', '--b-', 'abcaXc', 'a<\\0b>ca<\\0b>c', 'ba', 'a$1b']])
    expect(await rows(`SELECT length(regexp_replace(repeat('ab', 3000000), '(a)', '\\1\\1', 'g')), length(replace(repeat('ab', 3000000), 'a', 'xyz'))`))
      .toEqual([[9_000_000, 12_000_000]])
  })

  it('escape long texts by scanning (quote_literal, quote_ident, format %L, array output), and bound what still uses the engine\'s global replace', async () => {
    // Each of these, on a text of 150 million quotes or words, ended the process.
    expect(await rows(`SELECT length(quote_literal(repeat('''', 3000000))), length(quote_ident(repeat('"', 3000000))), length(format('%L', repeat('''', 3000000))),
      length(array[repeat('"', 3000000)]::text), quote_literal('a''b\\c'), quote_ident('A"b'), array['x"y', 'z']::text`))
      .toEqual([[6_000_002, 6_000_002, 6_000_002, 6_000_004, "E'a''b\\\\c'", '"A""b"', '{"x\\"y",z}']])
    expect(await code(`SELECT length(initcap(repeat('a ', 33554000) || repeat(' ', 1000)))`)).toBe('54000')
    expect(await code(`SELECT to_char(now(), repeat('HH', 1000000))`)).toBe('54000')
    expect(await rows(`SELECT initcap('hello wORLD'), to_char('2024-01-02 03:04:05'::timestamp, 'YYYY-MM-DD HH24')`)).toEqual([['Hello World', '2024-01-02 03']])
  })

  it('give PostgreSQL\'s answers on characters outside the BMP (two UTF-16 units each)', async () => {
    expect(await rows(`SELECT length('a😀b'), substr('a😀bc', 2, 2), substr('a😀bc', 3), left('😀x', 1), right('x😀', 1), left('a😀b', -1),
      lpad('😀', 3, 'ab'), rpad('😀xy', 2), 'a😀bc'::varchar(2), overlay('a😀bc' placing 'Z' from 2 for 1), translate('a😀b', '😀', 'Y'),
      btrim('😀a😀', '😀'), reverse('a😀b')`))
      .toEqual([[3, '😀b', 'bc', '😀', '😀', 'a😀', 'ab😀', '😀x', 'a😀', 'aZbc', 'aYb', 'a', 'b😀a']])
  })
})
