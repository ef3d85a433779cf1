import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

// Answers checked on PostgreSQL 15.
describe('CREATE INDEX on expressions', () => {
  it('names, lists and prints expression keys as PostgreSQL does', async () => {
    await db.rows('CREATE TABLE fh (f1 text, f2 text, n int)')
    await db.rows('CREATE INDEX ON fh ((f1 || f2))')
    await db.rows('CREATE INDEX ON fh (upper(f1))')
    await db.rows('CREATE INDEX ON fh (lower(f1), n, (n + 1))')
    await db.rows('CREATE INDEX ON fh ((n))')
    await db.rows('CREATE INDEX ON fh ((f1 || f2))')
    expect(await db.rows(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'fh' ORDER BY 1`)).toEqual([
      ['fh_expr_idx', 'CREATE INDEX fh_expr_idx ON public.fh USING btree (((f1 || f2)))'],
      ['fh_expr_idx1', 'CREATE INDEX fh_expr_idx1 ON public.fh USING btree (((f1 || f2)))'],
      ['fh_lower_n_expr_idx', 'CREATE INDEX fh_lower_n_expr_idx ON public.fh USING btree (lower(f1), n, ((n + 1)))'],
      ['fh_n_idx', 'CREATE INDEX fh_n_idx ON public.fh USING btree (n)'],
      ['fh_upper_idx', 'CREATE INDEX fh_upper_idx ON public.fh USING btree (upper(f1))'],
      
    ])
    // Queries answer the same with the index (it is never used to look rows up).
    await db.rows(`INSERT INTO fh VALUES ('a', 'b', 1), ('c', 'd', 2)`)
    expect(await db.rows(`SELECT n FROM fh WHERE f1 || f2 = 'cd'`)).toEqual([[2]])
  })

  it('follows RENAME COLUMN, goes with DROP COLUMN and DROP INDEX', async () => {
    await db.rows('CREATE TABLE fr (f1 text, f2 text, n int)')
    await db.rows('CREATE INDEX fr_e ON fr (lower(f1), n, (n + 1))')
    await db.rows('CREATE INDEX fr_f ON fr ((f1 || f2))')
    await db.rows('ALTER TABLE fr RENAME COLUMN n TO m')
    expect(await db.rows(`SELECT pg_get_indexdef('fr_e'::regclass)`)).toEqual([['CREATE INDEX fr_e ON public.fr USING btree (lower(f1), m, ((m + 1)))']])
    await db.rows('ALTER TABLE fr DROP COLUMN f2')
    expect(await db.rows(`SELECT indexname FROM pg_indexes WHERE tablename = 'fr' ORDER BY 1`)).toEqual([['fr_e']])
    await db.rows('DROP INDEX fr_e')
    expect(await db.rows(`SELECT indexname FROM pg_indexes WHERE tablename = 'fr'`)).toEqual([])
  })

  it('ALTER INDEX .. ALTER COLUMN n SET STATISTICS on an expression key only', async () => {
    await db.rows('CREATE TABLE fs (a int, b int, d float8, e real)')
    await db.rows('CREATE INDEX fs_idx ON fs (a, (d + e), b)')
    expect(await db.code('ALTER INDEX fs_idx ALTER COLUMN 1 SET STATISTICS 1000')).toBe('0A000')
    expect(await db.code('ALTER INDEX fs_idx ALTER COLUMN 2 SET STATISTICS 1000')).toBeUndefined()
    expect(await db.code('ALTER INDEX fs_idx ALTER COLUMN 3 SET STATISTICS 1000')).toBe('0A000')
    expect(await db.code('ALTER INDEX fs_idx ALTER COLUMN 4 SET STATISTICS 1000')).toBe('42703')
    expect(await db.code('ALTER INDEX fs_idx ALTER COLUMN 2 SET STATISTICS -1')).toBeUndefined()
  })

  it('refuses what PostgreSQL refuses, and UNIQUE on an expression (0A000)', async () => {
    await db.rows('CREATE TABLE fb (f1 text, n int)')
    expect(await db.code('CREATE INDEX fb_x ON fb (random())')).toBe('42P17')
    expect(await db.code('CREATE INDEX fb_x ON fb (nosuch(f1))')).toBe('42883')
    expect(await db.code('CREATE INDEX fb_x ON fb ((nocol + 1))')).toBe('42703')
    expect(await db.code('CREATE INDEX ON fb ((f1 || n), (row(f1, n)))')).toBe('42P16')
    expect(await db.code('CREATE UNIQUE INDEX fb_u ON fb (lower(f1))')).toBe('0A000')
    expect(await db.code(`CREATE INDEX ON fb ((ctid >= '(1000,0)'))`)).toBe('0A000')
    expect(await db.code(`CREATE INDEX ON fb (n) WHERE ctid >= '(1000,0)'`)).toBe('0A000')
    expect(await db.code('CREATE INDEX ON fb (ctid)')).toBe('0A000')
    expect(await db.rows(`SELECT count(*)::int FROM pg_indexes WHERE tablename = 'fb'`)).toEqual([[0]])
  })
})
