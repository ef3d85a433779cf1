import { beforeAll, describe, expect, it } from 'vitest'
import { loadParser, parseScript } from './parse.js'
import { truncateIdentifier, utf8Length } from './identifier-truncation.js'

beforeAll(async () => {
  await loadParser()
})

const noticesOf = (sql: string): string[] => parseScript(sql).flatMap((s) => (s.kind === 'pg' ? s.notices ?? [] : []).map((n) => `${n.code} ${n.message}`))

describe('identifier truncation notices (PostgreSQL 15 words them so)', () => {
  it('an unquoted identifier past 63 bytes is lower-cased and cut, with 42622', () => {
    const long = 'A'.repeat(70)
    expect(noticesOf(`SELECT 1 AS ${long}`)).toEqual([`42622 identifier "${'a'.repeat(70)}" will be truncated to "${'a'.repeat(63)}"`])
    // The tree holds the truncated name, as PostgreSQL's scanner gives it.
    expect(JSON.stringify(parseScript(`SELECT 1 AS ${long}`)[0])).toContain(`"${'a'.repeat(63)}"`)
  })

  it('a quoted identifier keeps its case, "" is one quote, and a cut never splits a character', () => {
    expect(noticesOf(`SELECT 1 AS "${'é'.repeat(40)}"`)).toEqual([`42622 identifier "${'é'.repeat(40)}" will be truncated to "${'é'.repeat(31)}"`])
    expect(noticesOf(`SELECT 1 AS "${'Q'.repeat(62)}""x"`)).toEqual([`42622 identifier "${'Q'.repeat(62)}"x" will be truncated to "${'Q'.repeat(62)}""`])
    expect(truncateIdentifier('€'.repeat(30))).toBe('€'.repeat(21))
    expect(utf8Length('a😀é')).toBe(7)
  })

  it('one notice per long identifier, in order, and none for 63 bytes, strings, comments or short names', () => {
    const x64 = 'x'.repeat(64)
    expect(noticesOf(`SELECT * FROM ${x64}, ${x64}y`)).toHaveLength(2)
    expect(noticesOf(`SELECT 1 AS ${'b'.repeat(63)}, '${x64}' AS s -- ${x64}\n /* ${x64} */`)).toEqual([])
    expect(noticesOf(`SELECT $$${x64}$$, E'${x64}'`)).toEqual([])
    expect(noticesOf('SELECT 1; SELECT 2')).toEqual([])
  })

  it('a cached script keeps its notices (each run of the text raises them again)', () => {
    const sql = `SELECT 2 AS ${'c'.repeat(64)}`
    expect(noticesOf(sql)).toHaveLength(1)
    expect(noticesOf(sql)).toHaveLength(1)
  })
})
