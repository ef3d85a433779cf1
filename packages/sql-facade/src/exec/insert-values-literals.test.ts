import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

// The literals of VALUES rows are converted without compiling each (exec/dml.ts), one
// conversion per column and literal type: each column here takes literals of several
// types across rows, so a conversion kept for the wrong type shows. Expected answers are
// PostgreSQL 15's for the same statements.
describe('INSERT .. VALUES literals', () => {
  it('converts literals of several types in one column as PostgreSQL does', async () => {
    await db.rows('CREATE TABLE lit (i int, n numeric(6,2), v varchar(3), b bool, t text, big bigint, f float8)')
    await db.rows(`INSERT INTO lit VALUES
      (1, 1, 'ab', 't', 'x', 1, 1),
      ('2', '2.345', 'cd', true, 'y', '2', 2.5),
      (3.6, 3.999, 'e', 'false', 42, 9999999999, '1.5'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (-7, -0.005, '', 'on', '', -1, -2)`)
    const text = await db.rows('SELECT i::text, n::text, v, b::text, t, big::text, f::text FROM lit ORDER BY i NULLS LAST')
    expect(text).toEqual([
      ['-7', '-0.01', '', 'true', '', '-1', '-2'],
      ['1', '1.00', 'ab', 'true', 'x', '1', '1'],
      ['2', '2.35', 'cd', 'true', 'y', '2', '2.5'],
      ['4', '4.00', 'e', 'false', '42', '9999999999', '1.5'],
      [null, null, null, null, null, null, null],
    ])
  })

  it.each([
    ["INSERT INTO bad (i) VALUES (1), ('x')", '22P02'],
    ["INSERT INTO bad (v) VALUES ('ab'), ('abcd')", '22001'],
    ['INSERT INTO bad (i) VALUES (1), (9999999999)', '22003'],
    ['INSERT INTO bad (b) VALUES (true), (1)', '42804'],
    ["INSERT INTO bad (i) VALUES ('1'), (2), (2.5), ('3.5')", '22P02'],
  ])('fails a bad literal in a later row as PostgreSQL does, inserting nothing: %s', async (sql, code) => {
    await db.rows('CREATE TABLE IF NOT EXISTS bad (i int, v varchar(3), b bool)')
    expect(await db.code(sql)).toBe(code)
    expect(await db.rows('SELECT count(*)::int FROM bad')).toEqual([[0]])
  })
})
