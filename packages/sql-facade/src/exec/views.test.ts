import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

async function withEmployees(nodeId: string): Promise<Database> {
  const d = await openDatabase({ nodeId })
  await d.query('CREATE TABLE emp (id int PRIMARY KEY, name text, dept int, salary numeric(10,2))')
  await d.query(`INSERT INTO emp VALUES (1, 'ann', 1, 10), (2, 'bob', 1, 20), (3, 'cy', 2, 30)`)
  return d
}

describe('views', () => {
  it('read their query afresh: WHERE, joins, aggregates over a view, views over views', async () => {
    db = await withEmployees('v1')
    expect((await db.query('CREATE VIEW rich (who, pay) AS SELECT name, salary FROM emp WHERE salary > 15')).commandTag).toBe('CREATE VIEW')
    expect((await db.query('SELECT * FROM rich ORDER BY who')).rows).toEqual([{ who: 'bob', pay: '20.00' }, { who: 'cy', pay: '30.00' }])
    await db.query(`INSERT INTO emp VALUES (4, 'dee', 2, 40)`)
    expect((await db.query('SELECT who FROM rich WHERE pay > 25 ORDER BY who')).rows).toEqual([{ who: 'cy' }, { who: 'dee' }])
    expect((await db.query('SELECT e.id, r.pay FROM emp e JOIN rich r ON r.who = e.name ORDER BY e.id')).rowArrays).toEqual([[2, '20.00'], [3, '30.00'], [4, '40.00']])
    await db.query('CREATE VIEW by_dept AS SELECT dept, sum(salary) AS total FROM emp GROUP BY dept')
    expect((await db.query('SELECT max(total) AS m FROM by_dept')).rows).toEqual([{ m: '70.00' }])
    await db.query('CREATE VIEW richest AS SELECT who FROM rich ORDER BY pay DESC LIMIT 1')
    expect((await db.query('SELECT who FROM richest')).rows).toEqual([{ who: 'dee' }])
    // A CTE of the reading statement does not capture the view's table name.
    expect((await db.query('WITH emp AS (SELECT 1 AS x) SELECT count(*)::int AS n FROM rich')).rows).toEqual([{ n: 3 }])
  })

  it('keep the columns they were created with, and OR REPLACE may only add columns', async () => {
    db = await withEmployees('v2')
    await db.query('CREATE VIEW all_emp AS SELECT * FROM emp')
    await db.query('ALTER TABLE emp ADD COLUMN extra int')
    expect((await db.query('SELECT * FROM all_emp WHERE id = 1')).fields.map((f) => f.name)).toEqual(['id', 'name', 'dept', 'salary'])
    await expect(db.query('CREATE VIEW all_emp AS SELECT 1 AS id')).rejects.toMatchObject({ code: '42P07' })
    await expect(db.query('CREATE OR REPLACE VIEW all_emp AS SELECT id FROM emp')).rejects.toMatchObject({ code: '42P16', message: 'cannot drop columns from view' })
    await expect(db.query('CREATE OR REPLACE VIEW all_emp AS SELECT id, name AS nm, dept, salary FROM emp')).rejects.toMatchObject({ code: '42P16' })
    await expect(db.query('CREATE OR REPLACE VIEW all_emp AS SELECT id::text AS id, name, dept, salary FROM emp')).rejects.toMatchObject({ code: '42P16' })
    await db.query('CREATE OR REPLACE VIEW all_emp AS SELECT id, name, dept, salary, extra FROM emp')
    expect((await db.query('SELECT * FROM all_emp WHERE id = 1')).rows).toEqual([{ id: 1, name: 'ann', dept: 1, salary: '10.00', extra: null }])
    await expect(db.query('CREATE VIEW twice (a, a) AS SELECT 1, 2')).rejects.toMatchObject({ code: '42701' })
    await expect(db.query('CREATE VIEW toomany (a, b) AS SELECT 1')).rejects.toMatchObject({ code: '42601' })
    await expect(db.query('CREATE VIEW bad AS SELECT nope FROM emp')).rejects.toMatchObject({ code: '42703' })
    await expect(db.query('CREATE TABLE all_emp (a int)')).rejects.toMatchObject({ code: '42P07' })
  })

  it('refuse writes through views that are not automatically updatable with 0A000, and DROP follows RESTRICT / CASCADE', async () => {
    db = await withEmployees('v3')
    await db.query('CREATE VIEW names AS SELECT id, name FROM emp')
    await db.query('CREATE VIEW n2 AS SELECT name FROM names')
    await db.query('CREATE VIEW dnames AS SELECT DISTINCT name FROM emp')
    for (const [w, verb] of [[`INSERT INTO dnames VALUES ('x')`, 'insert into'], [`UPDATE dnames SET name = 'x'`, 'update'], ['DELETE FROM dnames', 'delete from']]) {
      await expect(db.query(w!)).rejects.toMatchObject({ code: '0A000', message: `cannot ${verb} view "dnames"`, detail: 'Views containing DISTINCT are not automatically updatable.' })
    }
    await db.query('DROP VIEW dnames')
    await expect(db.query('DROP TABLE emp')).rejects.toMatchObject({ code: '2BP01', message: 'cannot drop table emp because other objects depend on it' })
    await expect(db.query('DROP VIEW names')).rejects.toMatchObject({ code: '2BP01' })
    await expect(db.query('DROP TABLE names')).rejects.toMatchObject({ code: '42809' })
    await expect(db.query('DROP VIEW emp')).rejects.toMatchObject({ code: '42809' })
    await expect(db.query('DROP VIEW nope')).rejects.toMatchObject({ code: '42P01' })
    expect((await db.query('DROP VIEW IF EXISTS nope')).notices).toEqual(['view "nope" does not exist, skipping'])
    const r = await db.query('DROP TABLE emp CASCADE')
    expect(r.notices).toEqual(['drop cascades to 2 other objects'])
    await expect(db.query('SELECT * FROM n2')).rejects.toMatchObject({ code: '42P01' })
  })

  it('appear in pg_class, information_schema and pg_get_viewdef', async () => {
    db = await withEmployees('v4')
    await db.query('CREATE VIEW rich AS SELECT name, salary FROM emp WHERE salary > 15')
    expect((await db.query(`SELECT relkind, relnatts FROM pg_class WHERE relname = 'rich'`)).rows).toEqual([{ relkind: 'v', relnatts: 2 }])
    expect((await db.query(`SELECT pg_get_viewdef('rich') AS d`)).rows).toEqual([{ d: ' SELECT name, salary FROM emp WHERE salary > 15;' }])
    expect((await db.query(`SELECT pg_get_viewdef(c.oid, true) IS NOT NULL AS ok FROM pg_class c WHERE relname = 'rich'`)).rows).toEqual([{ ok: true }])
    expect((await db.query(`SELECT table_type FROM information_schema.tables WHERE table_name = 'rich'`)).rows).toEqual([{ table_type: 'VIEW' }])
    expect((await db.query(`SELECT view_definition, is_updatable FROM information_schema.views WHERE table_schema = 'public'`)).rows)
      .toEqual([{ view_definition: ' SELECT name, salary FROM emp WHERE salary > 15;', is_updatable: 'NO' }])
    expect((await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'rich' ORDER BY ordinal_position`)).rowArrays)
      .toEqual([['name', 'text'], ['salary', 'numeric']])
    // psql's \dv query.
    const dv = await db.query(`SELECT n.nspname AS "Schema", c.relname AS "Name" FROM pg_catalog.pg_class c
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
      WHERE c.relkind IN ('v','') AND n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_toast' AND n.nspname <> 'information_schema'
      AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2`)
    expect(dv.rows).toEqual([{ Schema: 'public', Name: 'rich' }])
    await expect(db.query('CREATE MATERIALIZED VIEW m AS SELECT 1')).rejects.toMatchObject({ code: '0A000' })
    // A temporary view belongs to its session (session/temp-schema.test.ts has more).
    const s = db.session()
    await s.query('CREATE TEMP VIEW tv AS SELECT 1 AS one')
    expect((await s.query('SELECT one FROM tv')).rowArrays).toEqual([[1]])
    await expect(db.query('SELECT * FROM tv')).rejects.toMatchObject({ code: '42P01' })
  })

  it('replicate: a view created on one node is read on another', async () => {
    const cluster = await SimCluster.create({ seed: 14, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'eu-central' }] })
    try {
      await cluster.node('a').query('CREATE TABLE kv (k text PRIMARY KEY, v int)')
      await cluster.node('a').query(`INSERT INTO kv VALUES ('x', 1), ('y', 2)`)
      await cluster.node('a').query('CREATE VIEW big AS SELECT k FROM kv WHERE v > 1')
      await cluster.settle()
      expect((await cluster.node('b').query('SELECT k FROM big')).rows).toEqual([{ k: 'y' }])
      await cluster.node('b').query('DROP VIEW big')
      await cluster.settle()
      await expect(cluster.node('a').query('SELECT k FROM big')).rejects.toMatchObject({ code: '42P01' })
    } finally {
      await cluster.close()
    }
  })
})

describe('CREATE TABLE AS and SELECT INTO', () => {
  it('create a table with the query\'s names and types and its rows', async () => {
    db = await withEmployees('c1')
    const r = await db.query(`CREATE TABLE t AS SELECT id, name, salary * 2 AS double_pay, 'k' AS tag FROM emp WHERE dept = 1`)
    expect(r.commandTag).toBe('SELECT 2')
    expect(r.returnsRows).toBe(false)
    expect((await db.query('SELECT * FROM t ORDER BY id')).rows).toEqual([{ id: 1, name: 'ann', double_pay: '20.00', tag: 'k' }, { id: 2, name: 'bob', double_pay: '40.00', tag: 'k' }])
    expect((await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position`)).rowArrays)
      .toEqual([['id', 'integer'], ['name', 'text'], ['double_pay', 'numeric'], ['tag', 'text']])
    await db.query(`INSERT INTO t VALUES (9, 'new', 1, 'z')`)
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 3 }])
  })

  it('take column names, WITH NO DATA, IF NOT EXISTS, and SELECT .. INTO', async () => {
    db = await withEmployees('c2')
    expect((await db.query('CREATE TABLE n (a, b) AS SELECT id, name FROM emp WITH NO DATA')).commandTag).toBe('CREATE TABLE AS')
    expect((await db.query('SELECT a, b FROM n')).rows).toEqual([])
    expect((await db.query('CREATE TABLE IF NOT EXISTS n AS SELECT 1')).notices).toEqual(['relation "n" already exists, skipping'])
    await expect(db.query('CREATE TABLE n AS SELECT 1')).rejects.toMatchObject({ code: '42P07' })
    await expect(db.query('CREATE TABLE m (a, b, c) AS SELECT 1, 2')).rejects.toMatchObject({ code: '42601' })
    expect((await db.query('SELECT name, dept INTO s FROM emp WHERE id > 1')).commandTag).toBe('SELECT 2')
    expect((await db.query('SELECT * FROM s ORDER BY name')).rows).toEqual([{ name: 'bob', dept: 1 }, { name: 'cy', dept: 2 }])
  })

  it('is one transaction: a failing query leaves no table', async () => {
    db = await withEmployees('c3')
    await expect(db.query('CREATE TABLE bad AS SELECT 1 / (id - 2) AS q FROM emp')).rejects.toMatchObject({ code: '22012' })
    await expect(db.query('SELECT * FROM bad')).rejects.toMatchObject({ code: '42P01' })
  })
})
