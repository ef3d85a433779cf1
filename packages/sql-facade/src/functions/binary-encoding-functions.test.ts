/** encode / decode (they were 42883). Answers checked on PostgreSQL 15. */
import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

describe('encode and decode', () => {
  it('encode bytea as hex, base64 (lines of 76) and escape', async () => {
    expect(await db.rows("SELECT encode('abc'::bytea, 'base64'), encode('abc'::bytea, 'hex'), encode(E'a\\\\000b\\\\\\\\c\\\\377'::bytea, 'escape'), encode('\\x00ff10'::bytea, 'HEX')"))
      .toEqual([['YWJj', '616263', 'a\\000b\\\\c\\377', '00ff10']])
    const [[b64]] = await db.rows("SELECT encode(decode(repeat('ab', 100), 'hex'), 'base64')")
    expect(String(b64).split('\n').map((l) => l.length)).toEqual([76, 60])
  })

  it('decode text, skipping whitespace, and round-trip', async () => {
    expect(await db.rows("SELECT encode(decode('YWJj', 'base64'), 'hex'), encode(decode('61 62 63', 'hex'), 'hex'), encode(decode('a\\000b\\\\c', 'escape'), 'hex'), encode(decode(E'YW Jj\\n', 'base64'), 'hex'), encode(decode('YQ==', 'base64'), 'escape')"))
      .toEqual([['616263', '616263', '6100625c63', '616263', 'a']])
    expect(await db.rows("SELECT encode(decode('hé', 'escape'), 'hex'), length(decode('', 'base64'))")).toEqual([['68c3a9', 0]])
  })

  it('length, octet_length and bit_length of a bytea count its bytes', async () => {
    expect(await db.rows("SELECT length('\\x0102'::bytea), octet_length('\\x0102'::bytea), bit_length('\\x0102'::bytea), length('abc'), octet_length('hé')")).toEqual([[2, 2, 16, 3, 3]])
  })

  it('refuse bad input with 22023 (22P02 for a bad escape)', async () => {
    for (const sql of ["SELECT decode('abc', 'hex')", "SELECT decode('zz', 'hex')", "SELECT decode('YWJ', 'base64')", "SELECT decode('YW!j', 'base64')", "SELECT decode('Y===', 'base64')", "SELECT encode('abc'::bytea, 'nope')"]) {
      expect(await db.code(sql), sql).toBe('22023')
    }
    expect(await db.code("SELECT decode('a\\9', 'escape')")).toBe('22P02')
  })
})
