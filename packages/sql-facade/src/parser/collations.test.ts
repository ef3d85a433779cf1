import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

describe('collations and partition key operator classes', () => {
  let db: Database | null = null
  afterEach(async () => {
    await db?.close()
    db = null
  })

  it('a collation other than code point order is 0A000 wherever it is named (it was accepted and ignored)', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query("CREATE TABLE names (id int PRIMARY KEY, name text); INSERT INTO names VALUES (1, 'a'), (2, 'B'), (3, 'é'), (4, 'e')")
    for (const sql of [
      'SELECT name FROM names ORDER BY name COLLATE "en_US"',
      'SELECT name COLLATE "de-x-icu" FROM names',
      'SELECT * FROM names WHERE name = \'a\' COLLATE "und-x-icu"',
      'CREATE TABLE t1 (a text COLLATE "de_DE")',
      'ALTER TABLE names ADD COLUMN other text COLLATE "fr_FR"',
      'CREATE INDEX names_i ON names (name COLLATE "en_US")',
      'CREATE VIEW v AS SELECT name FROM names ORDER BY name COLLATE "en_US"',
      'CREATE TABLE p (a text) PARTITION BY RANGE (a COLLATE "en_US")',
      'SELECT name FROM names ORDER BY name COLLATE public."C"',
    ]) {
      expect(await sqlState(db, sql), sql).toBe('0A000')
    }
    // Code point order under any of its names, and the database's default, which is the same.
    const sorted = ['B', 'a', 'e', 'é']
    for (const c of ['"C"', '"POSIX"', 'ucs_basic', '"C.utf8"', 'pg_catalog."default"', '"default"']) {
      expect((await db.query(`SELECT name FROM names ORDER BY name COLLATE ${c}`)).rows.map((r) => r['name']), c).toEqual(sorted)
    }
    await db.query('CREATE TABLE t2 (a text COLLATE "C", b text COLLATE pg_catalog."default")')
    await db.query('CREATE INDEX t2_a ON t2 (a COLLATE "C")')
  })

  it('a partition key names only its type\'s default operator class (another one would route rows otherwise)', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    expect(await sqlState(db, 'CREATE TABLE h (a int, b int) PARTITION BY HASH (a part_test_int4_ops, b)')).toBe('0A000')
    expect(await sqlState(db, 'CREATE TABLE r (a text) PARTITION BY RANGE (a text_pattern_ops)')).toBe('0A000')
    expect(await sqlState(db, 'CREATE TABLE r (a text) PARTITION BY RANGE (lower(a) text_pattern_ops)')).toBe('0A000')
    await db.query('CREATE TABLE h (a int, b int) PARTITION BY HASH (a int4_ops, b pg_catalog.int4_ops)')
    await db.query('CREATE TABLE h1 PARTITION OF h FOR VALUES WITH (MODULUS 1, REMAINDER 0)')
    await db.query('INSERT INTO h VALUES (1, 2)')
    expect((await db.query('SELECT a, b FROM h')).rows).toEqual([{ a: 1, b: 2 }])
    await db.query('CREATE TABLE r (a text) PARTITION BY RANGE (a text_ops)')
  })
})
