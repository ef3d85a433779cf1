import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows } = useOneNodeDb()

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
