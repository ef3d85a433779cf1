import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from './database.js'
import { formatPgText } from './result-format.js'

let db: Database

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})
afterEach(async () => {
  await db.close()
})

async function codeOf(sql: string): Promise<string | undefined> {
  try {
    await db.query(sql)
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}

describe('Database', () => {
  it('creates, inserts, selects with parameters and reports field types', async () => {
    await db.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2))')
    const ins = await db.query("INSERT INTO products (name, price) VALUES ('Widget', 99.99), ('Gadget', 5) RETURNING name")
    expect(ins).toMatchObject({ command: 'INSERT', commandTag: 'INSERT 0 2', rowCount: 2 })
    const r = await db.query('SELECT name, price FROM products WHERE price > $1 ORDER BY price DESC', [10])
    expect(r.rows).toEqual([{ name: 'Widget', price: '99.99' }])
    expect(r.fields.map((f) => [f.name, f.type, f.oid])).toEqual([['name', 'text', 25], ['price', 'numeric(10,2)', 1700]])
  })

  it('gives SERIAL columns node-unique integer ids', async () => {
    await db.query('CREATE TABLE t (id SERIAL PRIMARY KEY, v INT)')
    await db.query('INSERT INTO t (v) VALUES (1), (2), (3)')
    const ids = (await db.query('SELECT id FROM t')).rows.map((r) => r.id)
    expect(new Set(ids).size).toBe(3)
    expect(ids.every((id) => typeof id === 'number' && id <= 2147483647)).toBe(true)
  })

  it('raises PostgreSQL SQLSTATEs and leaves no partial state', async () => {
    await db.query('CREATE TABLE k (id INT PRIMARY KEY, v INT CHECK (v > 0))')
    await db.query('INSERT INTO k VALUES (1, 1)')
    expect(await codeOf('INSERT INTO k VALUES (2, 2), (1, 3)')).toBe('23505')
    expect(await codeOf('INSERT INTO k VALUES (3, -1)')).toBe('23514')
    expect(await codeOf('INSERT INTO k VALUES (NULL, 1)')).toBe('23502')
    expect(await codeOf('SELECT * FROM nope')).toBe('42P01')
    expect(await codeOf('SELECT nope FROM k')).toBe('42703')
    expect(await codeOf('SELECT 2147483647 + 1')).toBe('22003')
    expect(await codeOf('SELECT 1 / 0')).toBe('22012')
    expect(await codeOf('SET no_such_setting = 1')).toBe('42704')
    expect((await db.query('SELECT count(*) AS n FROM k')).rows).toEqual([{ n: '1' }])
  })

  it('uses three-valued logic', async () => {
    const r = await db.query('SELECT NULL AND false AS a, NULL OR true AS b, NULL = NULL AS c, 1 IN (2, NULL) AS d')
    expect(r.rows[0]).toEqual({ a: false, b: true, c: null, d: null })
  })

  it('runs joins, grouping, subqueries, CTEs and set operations', async () => {
    await db.query(`CREATE TABLE dept (id INT PRIMARY KEY, name TEXT);
      CREATE TABLE emp (id INT PRIMARY KEY, dept_id INT, salary NUMERIC(8,2));
      INSERT INTO dept VALUES (1, 'eng'), (2, 'ops'), (3, 'empty');
      INSERT INTO emp VALUES (1, 1, 100), (2, 1, 200), (3, 2, 50)`)
    const r = await db.query(`WITH totals AS (SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id)
      SELECT d.name, t.total, (SELECT count(*) FROM emp e WHERE e.dept_id = d.id) AS n
      FROM dept d LEFT JOIN totals t ON t.dept_id = d.id ORDER BY d.id`)
    expect(r.rows).toEqual([
      { name: 'eng', total: '300.00', n: '2' },
      { name: 'ops', total: '50.00', n: '1' },
      { name: 'empty', total: null, n: '0' },
    ])
    const u = await db.query('SELECT id FROM dept EXCEPT SELECT dept_id FROM emp')
    expect(u.rows).toEqual([{ id: 3 }])
  })

  it('answers point and range predicates through primary keys and indexes', async () => {
    await db.query('CREATE TABLE big (id INT PRIMARY KEY, grp INT, name TEXT)')
    await db.query("INSERT INTO big SELECT g, g % 10, 'n' || g FROM generate_series(1, 500) AS g")
    await db.query('CREATE INDEX big_grp ON big (grp)')
    expect((await db.query('SELECT count(*) AS n FROM big WHERE grp = 3')).rows).toEqual([{ n: '50' }])
    expect((await db.query('SELECT id FROM big WHERE grp = 7 AND id BETWEEN 50 AND 80 ORDER BY id')).rows).toEqual([{ id: 57 }, { id: 67 }, { id: 77 }])
    await db.query('UPDATE big SET grp = 99 WHERE id = 13')
    expect((await db.query('SELECT id FROM big WHERE grp = 99')).rows).toEqual([{ id: 13 }])
    expect((await db.query('SELECT name FROM big WHERE id = 42')).rows).toEqual([{ name: 'n42' }])
  })

  it('makes BEGIN .. COMMIT atomic and ROLLBACK discard', async () => {
    await db.query('CREATE TABLE a (x INT PRIMARY KEY)')
    await db.query('BEGIN')
    await db.query('INSERT INTO a VALUES (1)')
    expect((await db.query('SELECT count(*) AS n FROM a')).rows).toEqual([{ n: '1' }])
    await db.query('ROLLBACK')
    expect((await db.query('SELECT count(*) AS n FROM a')).rows).toEqual([{ n: '0' }])
    await db.query('BEGIN; INSERT INTO a VALUES (2); INSERT INTO a VALUES (3); COMMIT')
    expect((await db.query('SELECT x FROM a ORDER BY x')).rows).toEqual([{ x: 2 }, { x: 3 }])
  })

  it('replicates cluster settings through the catalog and keeps session settings local', async () => {
    await db.query('SET multi_master_enabled = true')
    expect(db.replica.getCatalog('setting', 'multi_master_enabled')).toBe('on')
    await db.query("SET application_name = 'app'")
    expect(db.replica.getCatalog('setting', 'application_name')).toBeUndefined()
    await db.query("SET conflict_resolution_policy = 'custom_function'")
    expect(db.replica.getCatalog('policy', 'default')).toEqual({ custom: 'resolve_conflict' })
  })

  it('formats values as PostgreSQL text output', async () => {
    const r = await db.query("SELECT true AS b, 1.5::float8 AS f, 1e20::float8 AS big, interval '1 day 2 hours' AS i, '2024-01-02 03:04:05'::timestamptz AS ts, 10::bigint AS n")
    const text = r.fields.map((f, i) => formatPgText(r.rowArrays[0]![i]!, f))
    expect(text).toEqual(['t', '1.5', '1e+20', '1 day 02:00:00', '2024-01-02 03:04:05+00', '10'])
  })

  it('ALTER COLUMN SET/DROP DEFAULT and SET/DROP NOT NULL behave as in PostgreSQL', async () => {
    await db.query('CREATE TABLE ac (id INT PRIMARY KEY, a INT, b TEXT)')
    await db.query("INSERT INTO ac VALUES (1, NULL, 'x')")
    await db.query('ALTER TABLE ac ALTER COLUMN a SET DEFAULT 7')
    await db.query("INSERT INTO ac (id, b) VALUES (2, 'y')")
    expect(await codeOf('ALTER TABLE ac ALTER COLUMN a SET NOT NULL')).toBe('23502')
    await db.query('UPDATE ac SET a = 0 WHERE a IS NULL')
    await db.query('ALTER TABLE ac ALTER COLUMN a SET NOT NULL')
    expect(await codeOf('INSERT INTO ac (id, a) VALUES (3, NULL)')).toBe('23502')
    await db.query('ALTER TABLE ac ALTER COLUMN a DROP NOT NULL, ALTER COLUMN a DROP DEFAULT')
    await db.query('INSERT INTO ac (id) VALUES (4)')
    expect(await codeOf('ALTER TABLE ac ALTER COLUMN id DROP NOT NULL')).toBe('42P16')
    const r = await db.query('SELECT id, a FROM ac ORDER BY id')
    expect(r.rows).toEqual([{ id: 1, a: 0 }, { id: 2, a: 7 }, { id: 4, a: null }])
  })
})
