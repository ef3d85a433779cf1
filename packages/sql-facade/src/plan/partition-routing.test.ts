import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database | null = null
afterEach(async () => {
  await db?.close()
  db = null
})

async function open(setup: string[]): Promise<Database> {
  db = await openDatabase({ nodeId: 'n1' })
  for (const s of setup) await db.query(s)
  return db
}

async function sqlState(d: Database, sql: string): Promise<string> {
  try {
    await d.query(sql)
    return 'ok'
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

describe('partition routing', () => {
  it('routes multi-column range keys on every column, as PostgreSQL compares bound rows', async () => {
    const d = await open([
      'CREATE TABLE mc (a int, b int) PARTITION BY RANGE (a, b)',
      'CREATE TABLE mc_p1 PARTITION OF mc FOR VALUES FROM (1, 0) TO (1, 10)',
      'CREATE TABLE mc_p2 PARTITION OF mc FOR VALUES FROM (1, 10) TO (2, MINVALUE)',
    ])
    await d.query('INSERT INTO mc VALUES (1, 5), (1, 15), (1, 1000)')
    expect((await d.query('SELECT a, b FROM mc_p1 ORDER BY b')).rows).toEqual([{ a: 1, b: 5 }])
    expect((await d.query('SELECT a, b FROM mc_p2 ORDER BY b')).rows).toEqual([{ a: 1, b: 15 }, { a: 1, b: 1000 }])
    // (1, -1) is below every bound: the first column alone would have taken it.
    expect(await sqlState(d, 'INSERT INTO mc VALUES (1, -1)')).toBe('23514')
    expect(await sqlState(d, 'INSERT INTO mc VALUES (2, 0)')).toBe('23514')
  })

  it('routes rows through a partition that is itself partitioned', async () => {
    const d = await open([
      'CREATE TABLE ml (a int, b text) PARTITION BY RANGE (a)',
      'CREATE TABLE ml_1 PARTITION OF ml FOR VALUES FROM (0) TO (10) PARTITION BY LIST (b)',
      "CREATE TABLE ml_1_x PARTITION OF ml_1 FOR VALUES IN ('x')",
      'CREATE TABLE ml_1_def PARTITION OF ml_1 DEFAULT',
      'CREATE TABLE ml_2 PARTITION OF ml FOR VALUES FROM (10) TO (20) PARTITION BY LIST (b)',
      "CREATE TABLE ml_2_y PARTITION OF ml_2 FOR VALUES IN ('y')",
    ])
    await d.query("INSERT INTO ml VALUES (1, 'x'), (2, 'z'), (15, 'y')")
    await d.query("INSERT INTO ml_1 VALUES (3, 'x')")
    expect((await d.query('SELECT a FROM ml_1_x ORDER BY a')).rows).toEqual([{ a: 1 }, { a: 3 }])
    expect((await d.query('SELECT a FROM ml_1_def')).rows).toEqual([{ a: 2 }])
    expect((await d.query('SELECT count(*)::int AS n FROM ml_1')).rows).toEqual([{ n: 3 }])
    expect((await d.query('SELECT a FROM ml_2_y')).rows).toEqual([{ a: 15 }])
    // No sub-partition of ml_2 takes 'q': PostgreSQL names the sub-partitioned table.
    await expect(d.query("INSERT INTO ml VALUES (16, 'q')")).rejects.toThrow('no partition of relation "ml_2" found for row')
    await expect(d.query("INSERT INTO ml_1_x VALUES (4, 'y')")).rejects.toThrow('violates partition constraint')
  })

  it('routes rows by partition key expressions', async () => {
    const d = await open([
      'CREATE TABLE ex (a int, b int) PARTITION BY RANGE (a, (b + 0))',
      'CREATE TABLE ex_lo PARTITION OF ex FOR VALUES FROM (0, 0) TO (0, 100)',
      'CREATE TABLE lx (s text) PARTITION BY LIST (lower(s))',
      "CREATE TABLE lx_a PARTITION OF lx FOR VALUES IN ('a')",
    ])
    await d.query('INSERT INTO ex VALUES (0, 50)')
    expect((await d.query('SELECT b FROM ex_lo')).rows).toEqual([{ b: 50 }])
    expect(await sqlState(d, 'INSERT INTO ex VALUES (0, 150)')).toBe('23514')
    await d.query("INSERT INTO lx VALUES ('A'), ('a')")
    expect((await d.query('SELECT s FROM lx_a ORDER BY s')).rows).toEqual([{ s: 'A' }, { s: 'a' }])
    await expect(d.query("INSERT INTO lx VALUES ('B')")).rejects.toThrow('no partition of relation "lx" found for row')
    expect(await sqlState(d, 'CREATE TABLE bad (a int) PARTITION BY RANGE (nope)')).toBe('42703')
    expect(await sqlState(d, 'ALTER TABLE ex DROP COLUMN b')).toBe('42P16')
  })
})

describe('tableoid', () => {
  it('names the leaf partition each row is stored in', async () => {
    const d = await open([
      'CREATE TABLE tp (a int, b text) PARTITION BY RANGE (a)',
      'CREATE TABLE tp_1 PARTITION OF tp FOR VALUES FROM (0) TO (10) PARTITION BY LIST (b)',
      "CREATE TABLE tp_1_x PARTITION OF tp_1 FOR VALUES IN ('x')",
      'CREATE TABLE tp_1_def PARTITION OF tp_1 DEFAULT',
      'CREATE TABLE tp_2 PARTITION OF tp FOR VALUES FROM (10) TO (20)',
      'CREATE TABLE plain (a int)',
      "INSERT INTO tp VALUES (1, 'x'), (2, 'y'), (15, 'z')",
      'INSERT INTO plain VALUES (1)',
    ])
    expect((await d.query('SELECT tableoid::regclass AS t, a FROM tp ORDER BY a')).rows).toEqual([
      { t: 'tp_1_x', a: 1 }, { t: 'tp_1_def', a: 2 }, { t: 'tp_2', a: 15 },
    ])
    expect((await d.query('SELECT tableoid::regclass::text AS t FROM tp_1 ORDER BY a')).rows).toEqual([{ t: 'tp_1_x' }, { t: 'tp_1_def' }])
    expect((await d.query('SELECT tableoid::regclass::text AS t, * FROM plain')).rows).toEqual([{ t: 'plain', a: 1 }])
    expect((await d.query("INSERT INTO tp VALUES (3, 'x'), (16, 'q') RETURNING *, tableoid::regclass::text AS t")).rows).toEqual([
      { a: 3, b: 'x', t: 'tp_1_x' }, { a: 16, b: 'q', t: 'tp_2' },
    ])
    expect((await d.query("UPDATE tp SET b = 'y' WHERE a = 3 RETURNING tableoid::regclass::text AS t")).rows).toEqual([{ t: 'tp_1_def' }])
  })
})
