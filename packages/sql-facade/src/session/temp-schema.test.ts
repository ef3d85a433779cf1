import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('temporary tables', () => {
  it('shadow a permanent table of the same name in their session only', async () => {
    db = await openDatabase({ nodeId: 't1' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'permanent')`)
    const s = db.session()
    await s.query('CREATE TEMP TABLE items (id int, note text)')
    await s.query(`INSERT INTO items VALUES (7, 'temporary'), (8, 'too')`)
    expect((await s.query('SELECT id, note FROM items ORDER BY id')).rowArrays).toEqual([[7, 'temporary'], [8, 'too']])
    // Another session (and the default one) sees the permanent table only.
    expect((await db.query('SELECT id, name FROM items')).rowArrays).toEqual([[1, 'permanent']])
    expect(await sqlState(db.session(), 'SELECT * FROM pg_temp.items')).toBe('42P01')
    // Dropping the temporary table uncovers the permanent one again.
    await s.query('DROP TABLE items')
    expect((await s.query('SELECT id, name FROM items')).rowArrays).toEqual([[1, 'permanent']])
  })

  it('take part in joins, UPDATE, DELETE, indexes, CREATE TABLE AS and transactions with permanent tables', async () => {
    db = await openDatabase({ nodeId: 't2' })
    await db.query('CREATE TABLE prices (id int PRIMARY KEY, price int)')
    await db.query('INSERT INTO prices VALUES (1, 10), (2, 20), (3, 30)')
    const s = db.session()
    await s.query('CREATE TEMP TABLE picks AS SELECT id FROM prices WHERE price >= 20')
    await s.query('CREATE INDEX picks_id ON picks (id)')
    expect((await s.query('SELECT sum(p.price)::int AS total FROM picks k JOIN prices p USING (id)')).rows).toEqual([{ total: 50 }])
    await s.query('BEGIN')
    await s.query('DELETE FROM picks WHERE id = 2')
    await s.query('UPDATE prices SET price = price + 1 WHERE id IN (SELECT id FROM picks)')
    await s.query('ROLLBACK')
    expect((await s.query('SELECT id FROM picks WHERE id = 2')).rowArrays).toEqual([[2]])
    expect((await s.query('SELECT price FROM prices WHERE id = 3')).rowArrays).toEqual([[30]])
    await s.query('BEGIN')
    await s.query('DELETE FROM picks WHERE id = 2')
    await s.query('SAVEPOINT a')
    await s.query('DELETE FROM picks')
    await s.query('ROLLBACK TO SAVEPOINT a')
    await s.query('COMMIT')
    expect((await s.query('SELECT id FROM picks')).rowArrays).toEqual([[3]])
  })

  it('are not replicated: other nodes see neither the table nor its rows', async () => {
    const cluster = await SimCluster.create({ seed: 5, nodes: [{ id: 'a', region: 'r1' }, { id: 'b', region: 'r2' }] })
    try {
      const s = cluster.node('a').session()
      await s.query('CREATE TEMP TABLE scratch (x int)')
      await s.query('INSERT INTO scratch VALUES (1)')
      await cluster.node('a').query('CREATE TABLE shared (x int)')
      await cluster.settle()
      expect(await sqlState(cluster.node('b'), 'SELECT * FROM scratch')).toBe('42P01')
      expect(await sqlState(cluster.node('a'), 'SELECT * FROM scratch')).toBe('42P01')
      expect((await cluster.node('b').query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'shared'`)).rows).toEqual([{ n: 1 }])
      expect((await s.query('SELECT x FROM scratch')).rowArrays).toEqual([[1]])
      // The session's own tables may share a name with another session's.
      const t = cluster.node('a').session()
      await t.query('CREATE TEMP TABLE scratch (y text)')
      expect(await sqlState(t, 'CREATE TEMP TABLE scratch (z int)')).toBe('42P07')
    } finally {
      await cluster.close()
    }
  })

  it('end with their session (close, DISCARD TEMP) and refuse ON COMMIT DROP', async () => {
    db = await openDatabase({ nodeId: 't4' })
    const s = db.session()
    await s.query('CREATE TEMP TABLE gone (x int)')
    await s.query('DISCARD TEMP')
    expect(await sqlState(s, 'SELECT * FROM gone')).toBe('42P01')
    await s.query('CREATE TEMPORARY TABLE gone (x int)')
    await s.close()
    const again = db.session()
    expect(await sqlState(again, 'SELECT * FROM gone')).toBe('42P01')
    expect(await sqlState(again, 'CREATE TEMP TABLE t (x int) ON COMMIT DROP')).toBe('0A000')
    expect(await sqlState(again, 'CREATE TEMP TABLE public.t (x int)')).toBe('42P16')
  })

  it('a temporary view, or a view over a temporary table, stays in the session', async () => {
    db = await openDatabase({ nodeId: 't5' })
    const s = db.session()
    await s.query('CREATE TEMP TABLE nums AS SELECT * FROM generate_series(1, 4) AS g(n)')
    const r = await s.query('CREATE VIEW evens AS SELECT n FROM nums WHERE n % 2 = 0')
    expect(r.notices).toEqual(['view "evens" will be a temporary view'])
    await s.query('CREATE TEMP VIEW odds AS SELECT 1 AS n')
    expect((await s.query('SELECT n FROM evens ORDER BY n')).rowArrays).toEqual([[2], [4]])
    expect(await sqlState(db, 'SELECT * FROM evens')).toBe('42P01')
    expect(await sqlState(db, 'SELECT * FROM odds')).toBe('42P01')
  })

  it('a transaction block begun before the first temporary table spans it', async () => {
    db = await openDatabase({ nodeId: 't6' })
    await db.query('CREATE TABLE k (x int)')
    const s = db.session()
    await s.query('BEGIN')
    await s.query('INSERT INTO k VALUES (1)')
    await s.query('CREATE TEMP TABLE tk (x int)')
    await s.query('INSERT INTO tk SELECT x FROM k')
    await s.query('ROLLBACK')
    expect(await sqlState(s, 'SELECT * FROM tk')).toBe('42P01')
    expect((await s.query('SELECT count(*)::int AS n FROM k')).rows).toEqual([{ n: 0 }])
  })
})
