/**
 * A node whose region does not hold a table (`replication_regions`) never answers short
 * and never accepts a write that would go nowhere: with no holder reachable, every
 * statement that reads the table's rows fails (08001), every write that would be forwarded
 * to a holder fails too (08001, RETURNING or not), naming the table and its regions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import { SimCluster } from '../sim-cluster.js'

/** The error a statement fails with (null when it succeeds). */
async function failure(db: Database, sql: string): Promise<{ code: string; message: string } | null> {
  try {
    await db.query(sql)
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

describe('a table this node does not hold', () => {
  let cluster: SimCluster
  let a: Database
  let b: Database

  beforeAll(async () => {
    cluster = await SimCluster.create({ seed: 16, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'ap-southeast' }] })
    a = cluster.node('a')
    b = cluster.node('b')
    await a.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await a.query('CREATE INDEX t_v ON t (v)')
    await a.query("INSERT INTO t VALUES (1, 'x')")
    await a.query('CREATE TABLE u (id INT PRIMARY KEY, w TEXT)')
    await a.query("INSERT INTO u VALUES (1, 'here')")
    await a.query('CREATE VIEW tv AS SELECT id, v FROM t')
    await cluster.settle()
    // No holder is reachable from b: a read cannot be answered by asking one either.
    cluster.partition(['a'], ['b'])
  })
  afterAll(async () => {
    await cluster.close()
  })

  const reads = [
    'SELECT * FROM t',
    'SELECT count(*) FROM t',
    'SELECT v, count(*) FROM t GROUP BY v',
    'SELECT max(id) FROM t',
    "SELECT * FROM t WHERE v = 'x'",
    'SELECT * FROM t WHERE id = 1',
    'SELECT * FROM u JOIN t ON t.id = u.id',
    'SELECT * FROM u LEFT JOIN t ON t.id = u.id',
    'SELECT * FROM u WHERE id IN (SELECT id FROM t)',
    'SELECT * FROM u WHERE EXISTS (SELECT 1 FROM t WHERE t.id = u.id)',
    'SELECT id, (SELECT v FROM t WHERE t.id = u.id) FROM u',
    'WITH c AS (SELECT * FROM t) SELECT * FROM c',
    'SELECT * FROM tv',
    'INSERT INTO u SELECT id + 10, v FROM t',
    'UPDATE u SET w = t.v FROM t WHERE t.id = u.id',
    'DELETE FROM u USING t WHERE t.id = u.id',
  ]
  for (const sql of reads) {
    it(`fails a read with no holder reachable, never a short answer: ${sql}`, async () => {
      const f = await failure(b, sql)
      expect(f?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
      expect(f?.message).toContain('"t"')
      expect(f?.message).toContain('us-west')
    })
  }

  const forwarded = [
    "INSERT INTO t VALUES (2, 'y')",
    "INSERT INTO t VALUES (1, 'y') ON CONFLICT (id) DO UPDATE SET v = 'y'",
    "UPDATE t SET v = 'z'",
    'DELETE FROM t',
    'TRUNCATE t',
    'MERGE INTO t USING u ON t.id = u.id WHEN NOT MATCHED THEN INSERT VALUES (u.id, u.w)',
    "INSERT INTO t VALUES (3, 'y') RETURNING id",
    "UPDATE t SET v = 'z' WHERE id = 1 RETURNING *",
    'DELETE FROM t WHERE id = 1 RETURNING id',
  ]
  for (const sql of forwarded) {
    it(`fails a write it would forward when no holder is reachable: ${sql}`, async () => {
      const f = await failure(b, sql)
      expect(f?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
      expect(f?.message).toContain('"t"')
      expect(f?.message).toContain('us-west')
    })
  }

  it('refuses a write inside a transaction block (not forwarded)', async () => {
    const s = b.session()
    await s.query('BEGIN')
    let code: string | null = null
    try {
      await s.query("INSERT INTO t VALUES (4, 'y')")
    } catch (e) {
      code = (e as { code?: string }).code ?? 'no code'
    }
    await s.query('ROLLBACK')
    expect(code).toBe(SqlState.featureNotSupported)
  })

  it('refuses COPY into it before any data, and COPY out of it with no holder reachable', async () => {
    const f = await failure(b, 'COPY t TO STDOUT')
    expect(f?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    let code: string | null = null
    try {
      await b.query('COPY t FROM STDIN')
    } catch (e) {
      code = (e as { code?: string }).code ?? 'no code'
    }
    expect(code).toBe(SqlState.featureNotSupported)
  })

  it('refuses a write inside a transaction block, and the block then aborts', async () => {
    const s = b.session()
    await s.query('BEGIN')
    expect(await sqlState(s, "INSERT INTO t VALUES (7, 'in a block')")).toBe(SqlState.featureNotSupported)
    expect(await sqlState(s, 'SELECT 1')).toBe(SqlState.inFailedSqlTransaction)
    await s.query('ROLLBACK')
  })

  it('refuses rows of a table created in the same statement for other regions', async () => {
    const f = await failure(b, "CREATE TABLE t2 WITH (replication_regions = 'us-west') AS SELECT 1 AS id")
    expect(f?.code).toBe(SqlState.featureNotSupported)
    expect(f?.message).toContain('"t2"')
  })

  it('takes DDL that touches no rows, and refuses DDL that must fill or check rows it does not hold', async () => {
    const t2 = "CREATE TABLE d (id INT PRIMARY KEY) WITH (replication_regions = 'us-west')"
    await b.query(t2)
    await b.query('ALTER TABLE d ADD COLUMN note TEXT')
    await b.query('CREATE INDEX d_note ON d (note)')
    await b.query("ALTER TABLE d SET (replication_regions = 'us-west,eu-central')")
    const f = await failure(b, "ALTER TABLE d ADD COLUMN flag TEXT DEFAULT 'on'")
    expect(f?.code).toBe(SqlState.featureNotSupported)
    expect(f?.message).toContain('"d"')
    expect(await sqlState(b, 'ALTER TABLE d ADD COLUMN must TEXT NOT NULL')).toBe(SqlState.featureNotSupported)
    await b.query('DROP TABLE d')
  })

  it('leaves the holder with exactly its rows, and b still serves the tables it holds', async () => {
    cluster.heal()
    await cluster.settle()
    expect((await a.query('SELECT * FROM t ORDER BY id')).rows).toEqual([{ id: 1, v: 'x' }])
    // Nothing of t was stored on b either (a refused write leaves no stray local row).
    expect(b.replica.rowCount('t')).toBe(0)
    expect((await b.query('SELECT * FROM u')).rows).toEqual([{ id: 1, w: 'here' }])
    cluster.partition(['a'], ['b'])
  })
})
