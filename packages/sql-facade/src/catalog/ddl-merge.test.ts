import { describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

async function columns(db: Database, table: string): Promise<string[]> {
  const r = await db.query(`SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '${table}' ORDER BY ordinal_position`)
  return r.rows.map((c) => `${c.column_name} ${c.data_type}${c.is_nullable === 'NO' ? ' not null' : ''}`)
}

const INVENTORY = `CREATE TABLE inventory (id INT PRIMARY KEY, sku TEXT NOT NULL,
  qty INT NOT NULL DEFAULT 100 CHECK (qty >= 0), location TEXT NOT NULL DEFAULT 'dock')`
const OFFLINE_INVENTORY = 'CREATE TABLE IF NOT EXISTS inventory (id INT PRIMARY KEY, note TEXT, qty INT DEFAULT 0, sku TEXT)'

/** What both nodes must show after the offline CREATE merged: the cluster's definition, plus the offline-only column at the end. */
async function expectClusterDefinition(db: Database, nextId: number): Promise<void> {
  expect(await columns(db, 'inventory')).toEqual(['id integer not null', 'sku text not null', 'qty integer not null', 'location text not null', 'note text'])
  const r = await db.query(`INSERT INTO inventory (id, sku) VALUES (${nextId}, 'new') RETURNING qty, location`)
  expect(r.rows).toEqual([{ qty: 100, location: 'dock' }])
  expect(await sqlState(db, `INSERT INTO inventory (id, sku, qty) VALUES (${nextId + 1}, 'neg', -1)`)).toBe('23514')
  expect(await sqlState(db, `INSERT INTO inventory (id, sku, location) VALUES (${nextId + 1}, 'nowhere', NULL)`)).toBe('23502')
  expect(await sqlState(db, `INSERT INTO inventory (id) VALUES (${nextId + 1})`)).toBe('23502')
}

describe('DDL merge: an offline CREATE never rewrites the cluster\'s table', () => {
  it('a later concurrent CREATE TABLE IF NOT EXISTS keeps the earlier definition; its rows read under it and its extra column comes last', async () => {
    const cluster = await SimCluster.create({ seed: 41, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    cluster.partition(['a'], ['b'])
    await a.query(INVENTORY)
    await a.query("INSERT INTO inventory (id, sku) VALUES (1, 'a-1')")
    await cluster.advance(1000)
    await b.query(OFFLINE_INVENTORY)
    await b.query("INSERT INTO inventory (id, sku, note) VALUES (2, 'b-2', 'offline')")
    await b.query("INSERT INTO inventory (id, sku, qty) VALUES (3, 'b-3', NULL)")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      // b's rows lacked location (NOT NULL DEFAULT 'dock') and held a NULL qty: they read the winning defaults.
      expect((await db.query('SELECT * FROM inventory ORDER BY id')).rows).toEqual([
        { id: 1, sku: 'a-1', qty: 100, location: 'dock', note: null },
        { id: 2, sku: 'b-2', qty: 0, location: 'dock', note: 'offline' },
        { id: 3, sku: 'b-3', qty: 100, location: 'dock', note: null },
      ])
      expect((await db.query("SELECT id FROM inventory WHERE location = 'dock' AND qty >= 0 ORDER BY id")).rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }])
    }
    await expectClusterDefinition(a, 10)
    await expectClusterDefinition(b, 20)
    await cluster.settle()
    expect((await a.query('SELECT count(*) AS n FROM inventory')).rows).toEqual([{ n: '5' }])
    await cluster.close()
  })

  it('the earliest CREATE wins whatever order the nodes meet in', async () => {
    const cluster = await SimCluster.create({ seed: 42, nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] })
    const [a, b, c] = ['a', 'b', 'c'].map((id) => cluster.node(id))
    cluster.partition(['a'], ['b'], ['c'])
    await a.query(INVENTORY)
    await cluster.advance(500)
    await c.query(OFFLINE_INVENTORY)
    await c.query("INSERT INTO inventory (id, sku) VALUES (7, 'c-7')")
    // c meets b first: b holds only c's definition for a while.
    cluster.partition(['a'], ['b', 'c'])
    await cluster.settle()
    expect(await columns(b, 'inventory')).toEqual(['id integer not null', 'note text', 'qty integer', 'sku text'])
    cluster.heal()
    await cluster.settle()
    for (const db of [a!, b!, c!]) {
      expect(await columns(db, 'inventory')).toEqual(['id integer not null', 'sku text not null', 'qty integer not null', 'location text not null', 'note text'])
      expect((await db.query('SELECT * FROM inventory')).rows).toEqual([{ id: 7, sku: 'c-7', qty: 0, location: 'dock', note: null }])
    }
    await cluster.close()
  })
})

describe('DDL merge: concurrent CREATEs with different primary keys', () => {
  for (const [first, second] of [
    ['CREATE TABLE t (id INT PRIMARY KEY, v TEXT)', 'CREATE TABLE t (k TEXT, n INT, v TEXT, PRIMARY KEY (k, n))'],
    ['CREATE TABLE t (k TEXT, n INT, v TEXT, PRIMARY KEY (k, n))', 'CREATE TABLE t (id INT PRIMARY KEY, v TEXT)'],
  ] as const) {
    it(`the earlier key wins and every node shows the same rows (${first.includes('(k, n)') ? 'composite' : 'single'} key first)`, async () => {
      const cluster = await SimCluster.create({ seed: 48, nodes: [{ id: 'a' }, { id: 'b' }] })
      const a = cluster.node('a')
      const b = cluster.node('b')
      cluster.partition(['a'], ['b'])
      await a.query(first)
      await a.query(first.includes('(k, n)') ? "INSERT INTO t (k, n, v) VALUES ('x', 1, 'from a')" : "INSERT INTO t (id, v) VALUES (1, 'from a')")
      await cluster.advance(100)
      await b.query(second)
      await b.query(second.includes('(k, n)') ? "INSERT INTO t (k, n, v) VALUES ('y', 2, 'from b')" : "INSERT INTO t (id, v) VALUES (2, 'from b')")
      cluster.heal()
      await cluster.settle()
      const rowsOn = async (db: Database) => JSON.stringify((await db.query('SELECT * FROM t ORDER BY v')).rows)
      expect(await rowsOn(a)).toEqual(await rowsOn(b))
      expect((await a.query("SELECT v FROM t WHERE v = 'from a'")).rows).toEqual([{ v: 'from a' }])
      await cluster.close()
    })
  }
})

describe('DDL merge: concurrent ALTERs', () => {
  async function twoNodes(seed: number, ddl: string): Promise<{ cluster: SimCluster; a: Database; b: Database }> {
    const cluster = await SimCluster.create({ seed, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query(ddl)
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    return { cluster, a, b: cluster.node('b') }
  }

  it('ADD COLUMN of different columns on two nodes adds both, in the order they were added', async () => {
    const { cluster, a, b } = await twoNodes(43, 'CREATE TABLE t (id INT PRIMARY KEY)')
    await a.query('ALTER TABLE t ADD COLUMN color TEXT')
    await cluster.advance(10)
    await b.query('ALTER TABLE t ADD COLUMN weight INT NOT NULL DEFAULT 1')
    await b.query('INSERT INTO t (id) VALUES (1)')
    await a.query("INSERT INTO t (id, color) VALUES (2, 'red')")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect(await columns(db, 't')).toEqual(['id integer not null', 'color text', 'weight integer not null'])
      expect((await db.query('SELECT * FROM t ORDER BY id')).rows).toEqual([{ id: 1, color: null, weight: 1 }, { id: 2, color: 'red', weight: 1 }])
    }
    await cluster.close()
  })

  it('ADD COLUMN of one name on two nodes keeps the earlier definition; values written under the other are converted or read NULL', async () => {
    const { cluster, a, b } = await twoNodes(44, 'CREATE TABLE t (id INT PRIMARY KEY)')
    await a.query('ALTER TABLE t ADD COLUMN size INT')
    await a.query('INSERT INTO t VALUES (1, 5)')
    await cluster.advance(10)
    await b.query('ALTER TABLE t ADD COLUMN size TEXT')
    await b.query("INSERT INTO t VALUES (2, '12'), (3, 'big')")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect(await columns(db, 't')).toEqual(['id integer not null', 'size integer'])
      expect((await db.query('SELECT id, size, size + 1 AS next FROM t ORDER BY id')).rows).toEqual([
        { id: 1, size: 5, next: 6 },
        { id: 2, size: 12, next: 13 },
        { id: 3, size: null, next: null },
      ])
    }
    await cluster.close()
  })

  it('SET DEFAULT against DROP DEFAULT: the later change wins; changes to different attributes both apply', async () => {
    const { cluster, a, b } = await twoNodes(45, 'CREATE TABLE t (id INT PRIMARY KEY, v INT DEFAULT 1, w INT)')
    await a.query('ALTER TABLE t ALTER COLUMN v SET DEFAULT 5')
    await a.query('ALTER TABLE t ALTER COLUMN w SET DEFAULT 7')
    await cluster.advance(10)
    await b.query('ALTER TABLE t ALTER COLUMN v DROP DEFAULT')
    await b.query('ALTER TABLE t ALTER COLUMN w SET NOT NULL')
    cluster.heal()
    await cluster.settle()
    for (const [i, db] of [a, b].entries()) {
      expect((await db.query(`INSERT INTO t (id) VALUES (${i + 1}) RETURNING v, w`)).rows).toEqual([{ v: null, w: 7 }])
      expect(await sqlState(db, `INSERT INTO t (id, w) VALUES (${i + 10}, NULL)`)).toBe('23502')
    }
    await cluster.close()
  })

  it('ADD CONSTRAINT on both nodes: both constraints hold', async () => {
    const { cluster, a, b } = await twoNodes(46, 'CREATE TABLE t (id INT PRIMARY KEY, v INT, k TEXT)')
    await a.query('ALTER TABLE t ADD CONSTRAINT v_positive CHECK (v > 0)')
    await b.query('ALTER TABLE t ADD CONSTRAINT v_small CHECK (v < 100)')
    await b.query('ALTER TABLE t ADD CONSTRAINT k_unique UNIQUE (k)')
    cluster.heal()
    await cluster.settle()
    for (const [i, db] of [a, b].entries()) {
      expect(await sqlState(db, `INSERT INTO t VALUES (${i * 10 + 1}, 0, 'x')`)).toBe('23514')
      expect(await sqlState(db, `INSERT INTO t VALUES (${i * 10 + 1}, 100, 'x')`)).toBe('23514')
      await db.query(`INSERT INTO t VALUES (${i * 10 + 1}, 50, 'k${i}')`)
      expect(await sqlState(db, `INSERT INTO t VALUES (${i * 10 + 2}, 50, 'k${i}')`)).toBe('23505')
    }
    await cluster.close()
  })

  it('SET NOT NULL while another node inserts NULLs: those rows read the constant default', async () => {
    const { cluster, a, b } = await twoNodes(47, "CREATE TABLE t (id INT PRIMARY KEY, status TEXT DEFAULT 'new')")
    await a.query('ALTER TABLE t ALTER COLUMN status SET NOT NULL')
    await b.query('INSERT INTO t VALUES (1, NULL)')
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) expect((await db.query("SELECT id, status FROM t WHERE status = 'new'")).rows).toEqual([{ id: 1, status: 'new' }])
    await cluster.close()
  })
})
