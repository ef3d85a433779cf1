import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

async function one(sql: string): Promise<unknown> {
  return (await db.query(sql)).rowArrays[0]![0]
}

describe('regular-expression functions', () => {
  it.each([
    [`regexp_count('123123123123123', '(12)3')`, 5],
    [`regexp_count('123123123123', '123', 3)`, 3],
    [`regexp_count('ABCABCABCABC', 'Abc', 1, 'i')`, 4],
    [`regexp_like('Steven', '^Ste(v|ph)en$')`, true],
    [`regexp_instr('abcabcabc', 'a.c', 1, 3)`, 7],
    [`regexp_instr('1234567890', '(123)(4(56)(78))', 1, 1, 1, 'i', 3)`, 7],
    [`regexp_instr('foo', 'foo(bar)?', 1, 1, 0, '', 1)`, 0],
    [`regexp_substr('1234567890', '(123)(4(56)(78))', 1, 1, 'i', 2)`, '45678'],
    [`regexp_substr('abcabcabc', 'a.c', 1, 4)`, null],
    [`regexp_replace('A PostgreSQL function', 'a|e|i|o|u', 'X', 1, 2, 'i')`, 'A PXstgreSQL function'],
    [`regexp_replace('A PostgreSQL function', 'A|e|i|o|u', 'X', 7, 0, 'i')`, 'A PostgrXSQL fXnctXXn'],
    [`regexp_replace('foobarrbazz', E'(.)\\\\1', E'X\\\\&Y', 'g')`, 'fXooYbaXrrYbaXzzY'],
    [`regexp_split_to_array('the quick  brown', E'\\\\s+')`, '{the,quick,brown}'],
    [`regexp_split_to_array('abc', '')`, '{a,b,c}'],
  ])('%s is %s', async (call, out) => {
    expect(await one(`SELECT ${call}`)).toBe(out)
  })

  it('regexp_matches yields the captures of the first match, or of every match with g', async () => {
    expect((await db.query(`SELECT regexp_matches('foobarbequebazilbarfbonk', '(b[^b]+)(b[^b]+)', 'g')`)).rowArrays).toEqual([['{bar,beque}'], ['{bazil,barf}']])
    expect((await db.query(`SELECT regexp_matches('foobarbequebaz', 'bar(x)?beque')`)).rowArrays).toEqual([['{NULL}']])
    expect((await db.query(`SELECT * FROM regexp_split_to_table('a1b22c', '[0-9]+') AS t`)).rowArrays).toEqual([['a'], ['b'], ['c']])
  })

  it.each([
    [`regexp_count('abc', 'b', 0)`],
    [`regexp_instr('abcabcabc', 'a.c', 1, 0)`],
    [`regexp_instr('abcabcabc', 'a.c', 1, 1, 2)`],
    [`regexp_substr('abcabcabc', 'a.c', 1, 1, 'g')`],
    [`regexp_replace('abc', 'b', 'x', 1, -1, 'i')`],
  ])('%s is refused with 22023', async (call) => {
    expect(await sqlState(db, `SELECT ${call}`)).toBe('22023')
  })
})
