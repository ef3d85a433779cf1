import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const { rows } = useOneNodeDb()

// Every expected answer below is PostgreSQL 15's (run side by side with it).
describe('character(n) as PostgreSQL compares and matches it', () => {
  it('compares with character(m), varchar and literals without trailing blanks, with text as text (char(5) = char(2) was false)', async () => {
    expect(await rows(`SELECT 'ab'::char(5) = 'ab'::char(2), 'ab'::char(3) = 'ab '::varchar, 'ab'::char(3) = 'ab ', 'ab'::char(3) = 'ab '::text,
      'ab '::text = 'ab'::char(3), 'ab'::char(5) < 'ab'::char(2), 'ab'::char(3) < 'ab '::text`)).toEqual([[true, true, true, false, false, false, true]])
    await rows(`CREATE TABLE bp (id int PRIMARY KEY, c char(5), v varchar(5)); INSERT INTO bp VALUES (1, 'ab', 'ab'), (2, 'ab  ', 'ab  '), (3, 'abc', 'abc')`)
    expect(await rows(`SELECT id FROM bp WHERE c = 'ab'::char(3) ORDER BY id`)).toEqual([[1], [2]])
    expect(await rows(`SELECT id FROM bp WHERE c = v ORDER BY id`)).toEqual([[1], [2], [3]])
    expect(await rows(`SELECT a.id, b.id FROM bp a JOIN bp b ON a.c = b.c::char(3) ORDER BY 1, 2`)).toEqual([[1, 1], [1, 2], [2, 1], [2, 2], [3, 3]])
  })

  it('LIKE and regular expressions see the blanks; bpchar alone has no length (\'ab\'::bpchar was \'a\')', async () => {
    expect(await rows(`SELECT 'ab'::char(3) LIKE 'ab', 'ab'::char(3) LIKE 'ab ', 'ab'::char(3) LIKE 'ab%', 'ab'::char(3) ~ 'b$', 'ab'::char(3) ~ 'b $'`))
      .toEqual([[false, true, true, false, true]])
    expect(await rows(`SELECT 'ab'::bpchar, 'abc'::character, format_type('bpchar'::regtype, -1), 'hello  '::bpchar || '|'`)).toEqual([['ab', 'a', 'bpchar', 'hello|']])
  })
})
