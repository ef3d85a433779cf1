/**
 * Federated reads: a node outside a table's regions answers queries over it by reading
 * the table from a holder and finishing the query itself; the answer equals the holder's.
 * With no holder reachable the query fails (08001), never with fewer rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'
import { DEFAULT_FEDERATED_READ_TIMEOUT_MS } from '@concord/core'

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

describe('federated reads of a table held in another region', () => {
  let cluster: SimCluster
  let a: Database
  let b: Database
  const onB = async (sql: string) => (await cluster.run(b.query(sql))).rows
  const onA = async (sql: string) => (await a.query(sql)).rows

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1601,
      nodes: [
        { id: 'a', region: 'us-west' },
        { id: 'b', region: 'ap-southeast' },
      ],
    })
    a = cluster.node('a')
    b = cluster.node('b')
    await a.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT, n NUMERIC(8,2), at TIMESTAMP, big BIGINT) WITH (replication_regions = 'us-west')")
    await a.query('CREATE INDEX t_v ON t (v)')
    for (let i = 1; i <= 30; i++) {
      await a.query(`INSERT INTO t VALUES (${i}, '${['x', 'y', 'z'][i % 3]}', ${i}.25, '2026-01-${String((i % 28) + 1).padStart(2, '0')} 10:00', ${9_000_000_000_000 + i})`)
    }
    await a.query('CREATE TABLE u (id INT PRIMARY KEY, w TEXT)')
    for (let i = 1; i <= 10; i++) await a.query(`INSERT INTO u VALUES (${i * 3}, 'u${i}')`)
    await a.query('CREATE VIEW tv AS SELECT id, v FROM t WHERE id <= 5')
    // A function's body reads t as well: the WHERE term on t must not narrow what it sees.
    await a.query('CREATE FUNCTION tcount() RETURNS bigint AS $$ SELECT count(*) FROM t $$ LANGUAGE SQL')
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  const queries = [
    'SELECT * FROM t ORDER BY id',
    'SELECT count(*) FROM t',
    'SELECT v, count(*), sum(n), min(at), max(big) FROM t GROUP BY v ORDER BY v',
    "SELECT id FROM t WHERE v = 'y' ORDER BY id",
    'SELECT * FROM t WHERE id = 7',
    'SELECT u.w, t.v, t.n FROM u JOIN t ON t.id = u.id ORDER BY u.id',
    'SELECT t.id, u.w FROM t LEFT JOIN u ON u.id = t.id WHERE t.id < 8 ORDER BY t.id',
    'SELECT * FROM u WHERE id IN (SELECT id FROM t WHERE n > 20) ORDER BY id',
    'SELECT id, (SELECT v FROM t WHERE t.id = u.id) FROM u ORDER BY id',
    "WITH c AS (SELECT v, count(*) AS k FROM t GROUP BY v) SELECT * FROM c WHERE k > 9 ORDER BY v",
    "SELECT x.id FROM t x WHERE 10 < x.id AND x.v = 'y' AND x.n <= 25.25 ORDER BY x.id",
    // The view reads t too: the WHERE term on t alone must not narrow what the view sees.
    'SELECT t.id AS a, tv.id AS b FROM t, tv WHERE t.id = 3 ORDER BY tv.id',
    'SELECT id, tcount() AS k FROM t WHERE id = 4',
    'SELECT * FROM tv ORDER BY id',
    'SELECT v FROM t ORDER BY id DESC LIMIT 3 OFFSET 2',
  ]
  for (const sql of queries) {
    it(`answers as the holder does: ${sql}`, async () => {
      const expected = await onA(sql)
      expect(expected.length).toBeGreaterThan(0)
      expect(await onB(sql)).toEqual(expected)
    })
  }

  it('answers a statement with parameters and a prepared statement as the holder does', async () => {
    const sql = 'SELECT id, v FROM t WHERE id > $1 AND v = $2 ORDER BY id'
    const expected = (await a.query(sql, [20, 'x'])).rows
    expect(expected.length).toBeGreaterThan(0)
    expect((await cluster.run(b.query(sql, [20, 'x']))).rows).toEqual(expected)
    const s = b.session()
    await s.query('PREPARE q (int) AS SELECT count(*)::int AS k FROM t WHERE id <= $1')
    expect((await cluster.run(s.query('EXECUTE q (12)'))).rows).toEqual([{ k: 12 }])
  })

  it('keeps the rows read for concurrent queries on one session apart (a narrowed read serves only its own query)', async () => {
    const [one, all, view] = await cluster.run(
      Promise.all([b.query('SELECT count(*)::int AS k FROM t WHERE id = 1'), b.query('SELECT count(*)::int AS k FROM t'), b.query('SELECT count(*)::int AS k FROM tv')]),
    )
    expect([one.rows, all.rows, view.rows]).toEqual([[{ k: 1 }], [{ k: 30 }], [{ k: 5 }]])
  })

  it('answers inside a transaction block, and writes what it read into a table held here', async () => {
    const s = b.session()
    await s.query('BEGIN')
    expect((await cluster.run(s.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: 30 }])
    await cluster.run(s.query("INSERT INTO u SELECT id + 100, v FROM t WHERE v = 'z'"))
    await s.query('COMMIT')
    await cluster.settle()
    expect(await onA('SELECT count(*)::int AS k FROM u WHERE id > 100')).toEqual([{ k: 10 }])
  })

  it('forwards a write to the holder, acknowledged once durable there, with its RETURNING rows', async () => {
    const inserted = await cluster.run(b.query("INSERT INTO t (id, v) VALUES (99, 'w'), (98, 'w')"))
    expect([inserted.command, inserted.rowCount]).toEqual(['INSERT', 2])
    // Acknowledged once the holder has it: a's own read sees it at once.
    expect(await onA('SELECT id FROM t WHERE v = \'w\' ORDER BY id')).toEqual([{ id: 98 }, { id: 99 }])
    const updated = await cluster.run(b.query('UPDATE t SET v = $1 WHERE id >= $2', ['ww', '98']))
    expect(updated.rowCount).toBe(2)
    // The holder's own checks apply: a duplicate key fails as it would there.
    expect(await codeOf(cluster.run(b.query("INSERT INTO t (id, v) VALUES (99, 'again')")))).toBe(SqlState.uniqueViolation)
    expect((await cluster.run(b.query('DELETE FROM t WHERE id >= 98'))).rowCount).toBe(2)
    // RETURNING: the holder's rows come back.
    expect((await cluster.run(b.query("UPDATE t SET v = 'y' WHERE id = 1 RETURNING id, v"))).rows).toEqual([{ id: 1, v: 'y' }])
    expect(await onA('SELECT v FROM t WHERE id = 1')).toEqual([{ v: 'y' }])
    expect(await onA('SELECT count(*)::int AS k FROM t')).toEqual([{ k: 30 }])
  })

  it('sees the holder’s later writes on the next statement', async () => {
    await a.query("UPDATE t SET v = 'fresh' WHERE id = 2")
    await cluster.settle()
    expect(await onB('SELECT v FROM t WHERE id = 2')).toEqual([{ v: 'fresh' }])
  })

  it('fails with 08001, not a short answer, when the holder is partitioned away, and answers again after it heals', async () => {
    cluster.partition(['a'], ['b'])
    const f = await codeOf(cluster.run(b.query('SELECT count(*) FROM t')))
    expect(f).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    cluster.heal()
    await cluster.settle()
    expect(await onB('SELECT count(*)::int AS k FROM t')).toEqual([{ k: 30 }])
  })

  it('fails with 08001 naming the table when the holder does not answer within the timeout', async () => {
    cluster.sim.setFaults({ drop: 1 })
    let message = ''
    const code = await codeOf(
      cluster.run(b.query('SELECT * FROM t')).catch((e: unknown) => {
        message = (e as Error).message
        throw e
      }),
    )
    cluster.sim.setFaults({ drop: 0 })
    expect(code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    expect(message).toContain('"t"')
    expect(message).toContain('us-west')
    expect(message).toContain('no answer within')
    await cluster.settle()
  })
})

describe('a federated read past the holder’s result limit', () => {
  it('fails with 54000 rather than reading part of the table, unless its WHERE terms or the columns it reads narrow it below the limit', async () => {
    const cluster = await SimCluster.create({
      seed: 1602,
      nodes: [
        { id: 'a', region: 'us-west', options: { federatedReadMaxBytes: 2_000 } },
        { id: 'b', region: 'ap-southeast' },
      ],
    })
    const a = cluster.node('a')
    await a.query("CREATE TABLE big (id INT PRIMARY KEY, pad TEXT) WITH (replication_regions = 'us-west')")
    await a.query("INSERT INTO big SELECT g, repeat('p', 100) FROM generate_series(1, 40) g")
    await a.query("CREATE TABLE small (id INT PRIMARY KEY) WITH (replication_regions = 'us-west')")
    await a.query('INSERT INTO small VALUES (1), (2)')
    await cluster.settle()
    const b = cluster.node('b')
    expect(await codeOf(cluster.run(b.query('SELECT count(pad) FROM big')))).toBe(SqlState.programLimitExceeded)
    // Only the columns the statement reads cross the network: count(*) needs the key alone.
    expect((await cluster.run(b.query('SELECT count(*)::int AS k FROM big'))).rows).toEqual([{ k: 40 }])
    expect((await cluster.run(b.query('SELECT count(*)::int AS k FROM small'))).rows).toEqual([{ k: 2 }])
    // Simple WHERE terms go to the holder, which then sends only the rows that can match.
    expect((await cluster.run(b.query('SELECT id, length(pad) AS n FROM big WHERE id >= 3 AND id < 5 ORDER BY id'))).rows).toEqual([
      { id: 3, n: 100 },
      { id: 4, n: 100 },
    ])
    expect((await cluster.run(b.query("SELECT count(*)::int AS k FROM big g WHERE g.id = 7 AND 'p' < g.pad"))).rows).toEqual([{ k: 1 }])
    await cluster.close()
  })
})

describe('a partitioned table held in another region', () => {
  it('is read whole or by partition from a holder, in a block too; its partitions take no regions of their own', async () => {
    const cluster = await SimCluster.create({ seed: 1603, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'ap-southeast' }] })
    const a = cluster.node('a')
    await a.query("CREATE TABLE orders (id INT, area TEXT, total INT, PRIMARY KEY (id, area)) PARTITION BY LIST (area) WITH (replication_regions = 'us-west')")
    await a.query("CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us')")
    await a.query("CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu')")
    await a.query("INSERT INTO orders VALUES (1, 'us', 10), (2, 'eu', 20), (3, 'eu', 30), (4, 'us', 40)")
    await cluster.settle()
    const b = cluster.node('b')
    for (const sql of ['SELECT * FROM orders ORDER BY id', 'SELECT * FROM orders_eu ORDER BY id', 'SELECT area, sum(total) FROM orders GROUP BY area ORDER BY area']) {
      expect((await cluster.run(b.query(sql))).rows).toEqual((await a.query(sql)).rows)
    }
    const s = b.session()
    await s.query('BEGIN')
    expect((await cluster.run(s.query('SELECT id FROM orders_us ORDER BY id'))).rows).toEqual([{ id: 1 }, { id: 4 }])
    await s.query('COMMIT')
    expect(await codeOf(cluster.run(b.query("INSERT INTO orders_eu VALUES (5, 'eu', 50)")))).toBe(SqlState.featureNotSupported)
    expect(await codeOf(a.query("ALTER TABLE orders_eu SET (replication_regions = 'ap-southeast')"))).toBe(SqlState.featureNotSupported)
    expect(await codeOf(a.query("CREATE TABLE orders_x PARTITION OF orders FOR VALUES IN ('x') WITH (replication_regions = 'ap-southeast')"))).toBe(
      SqlState.featureNotSupported,
    )
    await cluster.close()
  })
})

describe('several holders', () => {
  it('asks the next holder when the one asked goes down before it answers', async () => {
    const cluster = await SimCluster.create({
      seed: 1604,
      nodes: [
        { id: 'a1', region: 'us-west' },
        { id: 'a2', region: 'us-west' },
        { id: 'b', region: 'ap-southeast' },
      ],
    })
    const a1 = cluster.node('a1')
    await a1.query("CREATE TABLE t (id INT PRIMARY KEY) WITH (replication_regions = 'us-west')")
    await a1.query('INSERT INTO t SELECT g FROM generate_series(1, 12) g')
    await cluster.settle()
    const b = cluster.node('b')
    // No round trip measured yet: a1 is asked first (by node id); it crashes before its answer arrives.
    const pending = b.query('SELECT count(*)::int AS k FROM t')
    await cluster.advance(0) // the request to a1 is on its way
    const asked = cluster.sim.now
    cluster.crash('a1')
    expect((await cluster.run(pending)).rows).toEqual([{ k: 12 }])
    // Passed over at once on going down, not after the request timeout.
    expect(cluster.sim.now - asked).toBeLessThan(DEFAULT_FEDERATED_READ_TIMEOUT_MS)
    cluster.crash('a2')
    expect(await codeOf(cluster.run(b.query('SELECT count(*) FROM t')))).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    await cluster.close()
  })
})

describe('a session that ran while this node held every table', () => {
  it('reads a table created later in another region from its holder, forwards a write to it, and refuses one in a block', async () => {
    const cluster = await SimCluster.create({
      seed: 1605,
      nodes: [
        { id: 'a', region: 'us-west' },
        { id: 'b', region: 'ap-southeast' },
      ],
    })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE here (id INT PRIMARY KEY, w TEXT)')
    await a.query("INSERT INTO here VALUES (1, 'h1'), (2, 'h2')")
    await cluster.settle()
    const s = b.session()
    // Every table is held on b: its statements skip the federation walk.
    for (let i = 0; i < 3; i++) expect((await cluster.run(s.query('SELECT w FROM here WHERE id = 1'))).rows).toEqual([{ w: 'h1' }])
    await a.query("CREATE TABLE away (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await a.query("INSERT INTO away VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')")
    await cluster.settle()
    expect((await cluster.run(s.query("SELECT count(*)::int AS k FROM away WHERE v <> 'a2'"))).rows).toEqual([{ k: 2 }])
    expect((await cluster.run(s.query('SELECT h.w, a.v FROM here h JOIN away a ON a.id = h.id ORDER BY h.id'))).rows).toEqual([
      { w: 'h1', v: 'a1' },
      { w: 'h2', v: 'a2' },
    ])
    // Outside a block the write is forwarded to the holder; inside one it is refused.
    expect((await cluster.run(s.query("UPDATE away SET v = 'x' WHERE id = 1"))).rowCount).toBe(1)
    expect((await a.query('SELECT v FROM away WHERE id = 1')).rows).toEqual([{ v: 'x' }])
    await s.query('BEGIN')
    expect((await cluster.run(s.query('SELECT v FROM away WHERE id = 3'))).rows).toEqual([{ v: 'a3' }])
    expect(await codeOf(cluster.run(s.query("INSERT INTO away VALUES (9, 'x')")))).toBe(SqlState.featureNotSupported)
    await s.query('ROLLBACK')
    expect(await a.query('SELECT v FROM away ORDER BY id').then((r) => r.rows)).toEqual([{ v: 'x' }, { v: 'a2' }, { v: 'a3' }])
    await cluster.close()
  })
})

describe('a table whose placed partitions live on different nodes', () => {
  it('is read from their holders at once: answers as a holder does, and fails after one timeout (not one per holder) when none answers', async () => {
    const cluster = await SimCluster.create({
      seed: 1603,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'u2', region: 'us-west' },
        { id: 'r', region: 'ap-southeast' },
      ],
    })
    const u1 = cluster.node('u1')
    const r = cluster.node('r')
    await u1.query("CREATE TABLE orders (id INT PRIMARY KEY, total INT) PARTITION BY HASH (id) WITH (replication_regions = 'us-west')")
    for (let p = 0; p < 2; p++) await u1.query(`CREATE TABLE orders_shard_${p} PARTITION OF orders FOR VALUES WITH (MODULUS 2, REMAINDER ${p})`)
    await u1.query('INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 40) g')
    await cluster.settle()
    await u1.query("ALTER TABLE orders_shard_0 SET (shard_location = 'u1')")
    await u1.query("ALTER TABLE orders_shard_1 SET (shard_location = 'u2')")
    await cluster.settle()
    const sql = 'SELECT count(*)::int AS k, sum(total)::int AS s FROM orders'
    expect((await cluster.run(r.query(sql))).rows).toEqual((await cluster.run(u1.query(sql))).rows)
    expect((await cluster.run(r.query("SELECT holder_id FROM query_result_cache WHERE relation = 'orders'"))).rows).toEqual([{ holder_id: 'u1,u2' }])
    cluster.sim.setFaults({ drop: 1 })
    const started = r.replica.now()
    let message = ''
    const code = await codeOf(
      cluster.run(r.query(sql)).catch((e: unknown) => {
        message = (e as Error).message
        throw e
      }),
    )
    const waited = r.replica.now() - started
    cluster.sim.setFaults({ drop: 0 })
    expect(code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    expect(message).toContain('u1 (no answer within')
    expect(message).toContain('u2 (no answer within')
    // Both holders were asked at once: one timeout of virtual time, not two.
    expect(waited).toBeLessThan(2 * DEFAULT_FEDERATED_READ_TIMEOUT_MS)
    await cluster.close()
  })
})
