import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function withSource(nodeId: string): Promise<Database> {
  const d = await openDatabase({ nodeId })
  await d.query(`CREATE TABLE src (
    id int PRIMARY KEY,
    name text NOT NULL DEFAULT 'anon',
    score numeric(6,2) CHECK (score >= 0),
    code text UNIQUE,
    twice int GENERATED ALWAYS AS (id * 2) STORED
  )`)
  await d.query('CREATE INDEX src_name_idx ON src (name)')
  return d
}

const columns = async (d: Database, table: string) =>
  (await d.query(`SELECT column_name, data_type, is_nullable, column_default IS NOT NULL AS has_default
    FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`)).rowArrays

describe('CREATE TABLE .. LIKE', () => {
  it('copies column names, types and NOT NULL only, by default, placing extra columns where written', async () => {
    db = await withSource('like1')
    expect((await db.query('CREATE TABLE t (before int, LIKE src, after text)')).commandTag).toBe('CREATE TABLE')
    expect(await columns(db, 't')).toEqual([
      ['before', 'integer', 'YES', false],
      ['id', 'integer', 'NO', false],
      ['name', 'text', 'NO', false],
      ['score', 'numeric', 'YES', false],
      ['code', 'text', 'YES', false],
      ['twice', 'integer', 'YES', false],
      ['after', 'text', 'YES', false],
    ])
    await expect(db.query('INSERT INTO t (id) VALUES (1)')).rejects.toMatchObject({ code: '23502' })
    // No CHECK, no unique, no primary key, and the generated column is a plain one.
    await db.query(`INSERT INTO t (id, name, score, code, twice) VALUES (1, 'a', -5, 'x', 7), (1, 'b', 1, 'x', 8)`)
    expect((await db.query('SELECT id, name, score, twice FROM t ORDER BY name')).rowArrays).toEqual([[1, 'a', '-5.00', 7], [1, 'b', '1.00', 8]])
  })

  it('INCLUDING DEFAULTS, CONSTRAINTS, GENERATED and INDEXES copy what each names', async () => {
    db = await withSource('like2')
    await db.query('CREATE TABLE d (LIKE src INCLUDING DEFAULTS)')
    await db.query('INSERT INTO d (id) VALUES (1)')
    expect((await db.query('SELECT name FROM d')).rowArrays).toEqual([['anon']])

    await db.query('CREATE TABLE c (LIKE src INCLUDING CONSTRAINTS)')
    await expect(db.query(`INSERT INTO c (id, name, score) VALUES (1, 'a', -1)`)).rejects.toMatchObject({ code: '23514', message: expect.stringContaining('src_score_check') })

    await db.query('CREATE TABLE g (LIKE src INCLUDING GENERATED)')
    await db.query(`INSERT INTO g (id, name) VALUES (21, 'a')`)
    expect((await db.query('SELECT twice FROM g')).rowArrays).toEqual([[42]])

    await db.query('CREATE TABLE i (LIKE src INCLUDING INDEXES)')
    await db.query(`INSERT INTO i (id, name, code) VALUES (1, 'a', 'x')`)
    await expect(db.query(`INSERT INTO i (id, name, code) VALUES (1, 'b', 'y')`)).rejects.toMatchObject({ code: '23505' })
    await expect(db.query(`INSERT INTO i (id, name, code) VALUES (2, 'b', 'x')`)).rejects.toMatchObject({ code: '23505' })
    expect((await db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'i' ORDER BY indexname`)).rowArrays.map((r) => r[0]))
      .toEqual(expect.arrayContaining(['i_code_key', 'i_name_idx']))
  })

  it('INCLUDING ALL EXCLUDING .. takes everything but what is excluded, and the copy does not follow later changes', async () => {
    db = await withSource('like3')
    await db.query('CREATE TABLE a (LIKE src INCLUDING ALL EXCLUDING INDEXES, extra bool)')
    await db.query(`INSERT INTO a (id) VALUES (2), (2)`)
    expect((await db.query('SELECT id, name, twice, extra FROM a')).rowArrays).toEqual([[2, 'anon', 4, null], [2, 'anon', 4, null]])
    await expect(db.query(`INSERT INTO a (id, score) VALUES (3, -1)`)).rejects.toMatchObject({ code: '23514' })
    await db.query('ALTER TABLE src ADD COLUMN later int')
    expect((await columns(db, 'a')).map((r) => r[0])).toEqual(['id', 'name', 'score', 'code', 'twice', 'extra'])
  })

  it('refuses a missing source, a repeated column and a second primary key as PostgreSQL does', async () => {
    db = await withSource('like4')
    await expect(db.query('CREATE TABLE x (LIKE nope)')).rejects.toMatchObject({ code: '42P01' })
    await expect(db.query('CREATE TABLE x (name int, LIKE src)')).rejects.toMatchObject({ code: '42701' })
    await expect(db.query('CREATE TABLE x (k int PRIMARY KEY, LIKE src INCLUDING INDEXES)')).rejects.toMatchObject({ code: '42P16' })
    expect((await db.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'x'`)).rows).toEqual([{ n: 0 }])
  })

  it('copies the columns of a view, and SERIAL ids keep being drawn with INCLUDING DEFAULTS', async () => {
    db = await openDatabase({ nodeId: 'like5' })
    await db.query('CREATE TABLE s (id serial PRIMARY KEY, v text)')
    await db.query('CREATE VIEW sv AS SELECT id, v, length(v) AS len FROM s')
    await db.query('CREATE TABLE fromview (LIKE sv)')
    expect(await columns(db, 'fromview')).toEqual([['id', 'integer', 'YES', false], ['v', 'text', 'YES', false], ['len', 'integer', 'YES', false]])
    await db.query('CREATE TABLE s2 (LIKE s INCLUDING DEFAULTS)')
    await db.query(`INSERT INTO s2 (v) VALUES ('a'), ('b')`)
    expect((await db.query('SELECT count(DISTINCT id)::int AS n, bool_and(id IS NOT NULL) AS ok FROM s2')).rows).toEqual([{ n: 2, ok: true }])
    await db.query('CREATE TABLE s3 (LIKE s)')
    await expect(db.query(`INSERT INTO s3 (v) VALUES ('a')`)).rejects.toMatchObject({ code: '23502' })
  })
})
