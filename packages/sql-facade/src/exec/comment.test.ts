import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let db: Database | null = null
afterEach(async () => {
  await db?.close()
  db = null
})

const rows = async (sql: string): Promise<unknown[][]> => (await db!.query(sql)).rowArrays

describe('COMMENT', () => {
  it('keeps comments on tables and columns: obj_description, col_description and pg_description show them (it answered COMMENT and kept nothing)', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE ct (id int PRIMARY KEY, amount numeric, note text)')
    expect((await db.query("COMMENT ON TABLE ct IS 'orders of the day'")).notices).toEqual([])
    await db.query("COMMENT ON COLUMN ct.amount IS 'in cents'")
    await db.query("COMMENT ON COLUMN public.ct.note IS 'free text'")
    expect(await rows("SELECT obj_description('ct'::regclass, 'pg_class'), obj_description('ct'::regclass), obj_description('ct'::regclass, 'pg_type')")).toEqual([['orders of the day', 'orders of the day', null]])
    expect(await rows("SELECT col_description('ct'::regclass, 1), col_description('ct'::regclass, 2), col_description('ct'::regclass, 3), col_description('ct'::regclass, 9)")).toEqual([[null, 'in cents', 'free text', null]])
    expect(await rows("SELECT objoid = 'ct'::regclass, objsubid, description FROM pg_description ORDER BY objsubid")).toEqual([[true, 0, 'orders of the day'], [true, 2, 'in cents'], [true, 3, 'free text']])
    // What psql's \d+ asks, through the attributes.
    expect(await rows("SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a WHERE a.attrelid = 'ct'::regclass AND a.attnum > 0 ORDER BY a.attnum")).toEqual([['id', null], ['amount', 'in cents'], ['note', 'free text']])
  })

  it('replaces, removes (IS NULL, IS \'\'), follows a rename, survives other ALTERs and goes with DROP', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE cr (a int, b int)')
    await db.query("COMMENT ON TABLE cr IS 'first'")
    await db.query("COMMENT ON TABLE cr IS 'second'")
    await db.query("COMMENT ON COLUMN cr.b IS 'bee'")
    await db.query('ALTER TABLE cr ADD COLUMN c int')
    await db.query('ALTER TABLE cr ALTER COLUMN b SET DEFAULT 7')
    await db.query('ALTER TABLE cr RENAME TO cr2')
    await db.query('ALTER TABLE cr2 RENAME COLUMN b TO bb')
    expect(await rows("SELECT obj_description('cr2'::regclass), col_description('cr2'::regclass, 2)")).toEqual([['second', 'bee']])
    // LIKE .. INCLUDING COMMENTS copies the columns' comments (not the table's), as PostgreSQL does.
    await db.query('CREATE TABLE cl1 (LIKE cr2 INCLUDING COMMENTS)')
    await db.query('CREATE TABLE cl2 (LIKE cr2)')
    expect(await rows("SELECT obj_description('cl1'::regclass), col_description('cl1'::regclass, 2), col_description('cl2'::regclass, 2)")).toEqual([[null, 'bee', null]])
    await db.query('COMMENT ON TABLE cr2 IS NULL')
    await db.query("COMMENT ON COLUMN cr2.bb IS ''")
    expect(await rows("SELECT obj_description('cr2'::regclass), col_description('cr2'::regclass, 2)")).toEqual([[null, null]])
    await db.query("COMMENT ON TABLE cr2 IS 'again'")
    await db.query('DROP TABLE cr2')
    await db.query('CREATE TABLE cr2 (a int)')
    expect(await rows("SELECT obj_description('cr2'::regclass)")).toEqual([[null]])
    expect(await rows("SELECT count(*)::int FROM pg_description WHERE objoid = 'cr2'::regclass")).toEqual([[0]])
    expect(await rows('SELECT description FROM pg_description')).toEqual([['bee']])
  })

  it('checks the table and column exist; on other objects it says the comment is not stored', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE co (a int)')
    await db.query('CREATE INDEX co_a ON co (a)')
    await expect(db.query("COMMENT ON TABLE no_such IS 'x'")).rejects.toMatchObject({ code: '42P01' })
    await expect(db.query("COMMENT ON COLUMN co.b IS 'x'")).rejects.toMatchObject({ code: '42703' })
    const r = await db.query("COMMENT ON INDEX co_a IS 'by a'")
    expect(r.command).toBe('COMMENT')
    expect(r.notices).toEqual([expect.stringMatching(/COMMENT ON index is not stored/)])
  })

  it('reaches another node with the catalog', async () => {
    const cluster = await SimCluster.create({ seed: 11, nodes: [{ id: 'a' }, { id: 'b' }] })
    try {
      await cluster.node('a').query('CREATE TABLE cc (a int)')
      await cluster.node('a').query("COMMENT ON COLUMN cc.a IS 'shared'")
      await cluster.settle()
      expect((await cluster.node('b').query("SELECT col_description('cc'::regclass, 1) AS d")).rows).toEqual([{ d: 'shared' }])
    } finally {
      await cluster.close()
    }
  })
})
