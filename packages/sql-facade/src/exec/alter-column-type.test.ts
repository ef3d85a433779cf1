import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('ALTER TABLE .. ALTER COLUMN .. TYPE', () => {
  it('rewrites every row with an assignment cast, or with the USING expression', async () => {
    db = await openDatabase({ nodeId: 'act1' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(5,2) CHECK (n < 100))')
    await db.query("INSERT INTO t VALUES (1, '10', 1.5), (2, '20', 2.25)")
    await db.query('CREATE INDEX t_v ON t (v)')
    await db.query('ALTER TABLE t ALTER COLUMN v TYPE int USING v::int')
    expect((await db.query('SELECT id FROM t WHERE v = 20')).rowArrays).toEqual([[2]])
    expect((await db.query('SELECT id FROM t WHERE v > 15')).rowArrays).toEqual([[2]])
    expect((await db.query('SELECT v + 1 FROM t ORDER BY id')).rowArrays).toEqual([[11], [21]])
    await db.query('ALTER TABLE t ALTER n TYPE numeric(3,0)')
    expect((await db.query('SELECT n FROM t ORDER BY id')).rowArrays).toEqual([['2'], ['2']])
    await db.query('ALTER TABLE t ALTER v SET DATA TYPE int USING v * 10')
    expect((await db.query('SELECT v FROM t ORDER BY id')).rowArrays).toEqual([[100], [200]])
    const cols = await db.query("SELECT data_type FROM information_schema.columns WHERE table_name = 't' AND column_name = 'v'")
    expect(cols.rowArrays).toEqual([['integer']])
  })

  it('changes the type of a primary key column, keeping point lookups working', async () => {
    db = await openDatabase({ nodeId: 'act2' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text)')
    await db.query("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    await db.query('ALTER TABLE t ALTER id TYPE bigint')
    expect((await db.query('SELECT pg_typeof(id)::text, v FROM t WHERE id = 2')).rowArrays).toEqual([['bigint', 'b']])
    await db.query("INSERT INTO t VALUES (3000000000, 'c')")
    await expect(db.query("INSERT INTO t VALUES (2, 'again')")).rejects.toMatchObject({ code: '23505' })
  })

  it('fails as PostgreSQL does: no automatic cast (42804), a value out of range (22003), a view reading the column (0A000)', async () => {
    db = await openDatabase({ nodeId: 'act3' })
    await db.query('CREATE TABLE t (a int, b bool)')
    await db.query('INSERT INTO t VALUES (40000, true)')
    await expect(db.query('ALTER TABLE t ALTER a TYPE boolean')).rejects.toMatchObject({ code: '42804', message: 'column "a" cannot be cast automatically to type boolean' })
    await expect(db.query('ALTER TABLE t ALTER a TYPE smallint')).rejects.toMatchObject({ code: '22003' })
    expect((await db.query('SELECT a FROM t')).rowArrays).toEqual([[40000]])
    await db.query("ALTER TABLE t ALTER b TYPE text USING CASE WHEN b THEN 'yes' ELSE 'no' END")
    expect((await db.query('SELECT b FROM t')).rowArrays).toEqual([['yes']])
    await db.query('CREATE VIEW v AS SELECT a FROM t')
    await expect(db.query('ALTER TABLE t ALTER a TYPE bigint')).rejects.toMatchObject({ code: '0A000', message: 'cannot alter type of a column used by a view or rule' })
  })

  it('keeps foreign keys whose sides stay comparable (integers of any width), refusing others with 42804', async () => {
    db = await openDatabase({ nodeId: 'act5' })
    await db.query('CREATE TABLE pk (id int PRIMARY KEY)')
    await db.query('CREATE TABLE fk (r int REFERENCES pk)')
    await db.query('INSERT INTO pk VALUES (1); INSERT INTO fk VALUES (1)')
    await db.query('ALTER TABLE pk ALTER id TYPE bigint')
    await db.query('ALTER TABLE fk ALTER r TYPE bigint')
    await expect(db.query('INSERT INTO fk VALUES (2)')).rejects.toMatchObject({ code: '23503' })
    await expect(db.query('ALTER TABLE fk ALTER r TYPE text')).rejects.toMatchObject({ code: '42804', message: 'foreign key constraint "fk_r_fkey" cannot be implemented' })
    expect((await db.query('SELECT r FROM fk')).rowArrays).toEqual([['1']])
  })

  it('re-checks constraints on the converted values and changes inheritance children too', async () => {
    db = await openDatabase({ nodeId: 'act4' })
    await db.query('CREATE TABLE p (a text NOT NULL)')
    await db.query('CREATE TABLE c (x int) INHERITS (p)')
    await db.query("INSERT INTO p VALUES ('12'); INSERT INTO c VALUES ('34', 1)")
    await db.query('ALTER TABLE p ALTER a TYPE int USING a::int')
    expect((await db.query('SELECT a + 1 FROM p ORDER BY 1')).rowArrays).toEqual([[13], [35]])
    expect((await db.query('SELECT pg_typeof(a)::text FROM c')).rowArrays).toEqual([['integer']])
    await expect(db.query('ALTER TABLE c ALTER a TYPE bigint')).rejects.toMatchObject({ code: '42P16', message: 'cannot alter inherited column "a"' })
    await db.query('CREATE TABLE q (v text CHECK (v <> \'10\'))')
    await db.query("INSERT INTO q VALUES ('010')")
    await expect(db.query('ALTER TABLE q ALTER v TYPE int USING v::int')).rejects.toMatchObject({ code: '23514' })
  })
})
