import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { parseScript } from '../parser/parse.js'
import { readView } from '../catalog/view-def.js'
import { offloadTables, type EligibilityCatalog } from './offload-eligibility.js'

let db: Database
let catalog: EligibilityCatalog

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'e1', region: 'r1' })
  await db.query('CREATE TABLE a (id INT PRIMARY KEY, v TEXT)')
  await db.query('CREATE TABLE b (id INT PRIMARY KEY, a_id INT)')
  await db.query('CREATE TABLE m (id INT, k INT, PRIMARY KEY (id, k)) PARTITION BY LIST (k)')
  await db.query('CREATE TABLE m1 PARTITION OF m FOR VALUES IN (1)')
  await db.query('CREATE TABLE m2 PARTITION OF m FOR VALUES IN (2)')
  await db.query('CREATE VIEW av AS SELECT * FROM a')
  await db.query('CREATE VIEW abv AS SELECT av.v, b.id FROM av JOIN b ON b.a_id = av.id')
  await db.query("CREATE SEQUENCE s")
  await db.query("CREATE VIEW drawing AS SELECT nextval('s') AS n")
  await db.query('CREATE VIEW classes AS SELECT relname FROM pg_class')
  await db.query('CREATE FUNCTION twice(x INT) RETURNS INT LANGUAGE sql AS $$ SELECT x * 2 $$')
  await db.query('CREATE FUNCTION upper(x TEXT) RETURNS TEXT LANGUAGE sql AS $$ SELECT x $$')
  catalog = {
    table: (name) => db.replica.table(name),
    tables: () => db.replica.tables(),
    hasUserFunction: (name) => db.userFunction(name) !== undefined,
    holdsWhole: (info) => db.replica.holdsWhole(info),
    viewQuery: (name) => readView(db.replica, name)?.query,
  }
})
afterAll(async () => {
  await db.close()
})

/** The names of the tables a statement would move with, sorted; null when it stays on the main thread. */
function tablesOf(sql: string): string[] | null {
  const t = offloadTables(parseScript(sql)[0]!, catalog)
  return t === null ? null : t.map((x) => x.name).sort()
}

describe('which statements may move off the main thread', () => {
  it('SELECTs of user tables, WITH queries and allowed built-ins move, with the tables they read', () => {
    expect(tablesOf('SELECT 1')).toEqual([])
    expect(tablesOf('VALUES (1), (2)')).toEqual([])
    expect(tablesOf('SELECT count(*), max(md5(g::text)) FROM generate_series(1, 10) g')).toEqual([])
    expect(tablesOf('SELECT a.v, count(*) FROM a JOIN b ON b.a_id = a.id GROUP BY a.v')).toEqual(['a', 'b'])
    expect(tablesOf('WITH w AS (SELECT id FROM a) SELECT * FROM w, public.b WHERE w.id = b.id')).toEqual(['a', 'b'])
    expect(tablesOf('SELECT pg_catalog.abs(-1), now(), current_user, $1::int')).toEqual([])
    expect(tablesOf('SELECT (SELECT max(id) FROM b) FROM a WHERE EXISTS (SELECT 1 FROM b)')).toEqual(['a', 'b'])
  })

  it('a partitioned table moves with its partitions, a partition with its parent and siblings', () => {
    expect(tablesOf('SELECT count(*) FROM m')).toEqual(['m', 'm1', 'm2'])
    expect(tablesOf('SELECT count(*) FROM m2')).toEqual(['m', 'm1', 'm2'])
  })

  it('writes, locks, INTO and sampling stay', () => {
    expect(tablesOf('INSERT INTO a VALUES (1)')).toBeNull()
    expect(tablesOf('SELECT * FROM a FOR UPDATE')).toBeNull()
    expect(tablesOf('SELECT * FROM a FOR SHARE')).toBeNull()
    expect(tablesOf('WITH d AS (DELETE FROM a RETURNING id) SELECT count(*) FROM d')).toBeNull()
    expect(tablesOf('SELECT * INTO c FROM a')).toBeNull()
    expect(tablesOf('SELECT * FROM a TABLESAMPLE BERNOULLI (10)')).toBeNull()
    expect(tablesOf('EXPLAIN ANALYZE SELECT 1')).toBeNull()
  })

  it('functions off the allow-list, and built-ins shadowed by a user function, stay', () => {
    for (const f of ["nextval('s')", "setval('s', 1)", "currval('s')", 'random()', 'clock_timestamp()', 'pg_sleep(1)', "set_config('a.b', 'c', false)",
      "current_setting('search_path')", 'pg_advisory_lock(1)', 'pg_backend_pid()', 'gen_random_uuid()', 'twice(1)', 'some_unknown_function(1)',
      "concord_node_id()", "upper('x')", 'myschema.abs(1)']) {
      expect(tablesOf(`SELECT ${f}, count(*) FROM generate_series(1, 10)`), f).toBeNull()
    }
  })

  it('a view moves with the tables its query reads, nested views too', () => {
    expect(tablesOf('SELECT * FROM av')).toEqual(['a'])
    expect(tablesOf('SELECT count(*) FROM abv, generate_series(1, 10)')).toEqual(['a', 'b'])
  })

  it('views calling functions off the list or reading system views, system views, other schemas and missing relations stay', () => {
    expect(tablesOf('SELECT * FROM drawing')).toBeNull()
    expect(tablesOf('SELECT * FROM a, classes')).toBeNull()
    expect(tablesOf('SELECT * FROM pg_class')).toBeNull()
    expect(tablesOf('SELECT * FROM pg_catalog.pg_class')).toBeNull()
    expect(tablesOf('SELECT * FROM information_schema.tables')).toBeNull()
    expect(tablesOf('SELECT * FROM nowhere')).toBeNull()
  })

  it('a table not held wholly here stays', () => {
    const held: EligibilityCatalog = { ...catalog, holdsWhole: (info) => info.name !== 'b' }
    expect(offloadTables(parseScript('SELECT * FROM a')[0]!, held)).not.toBeNull()
    expect(offloadTables(parseScript('SELECT * FROM a, b')[0]!, held)).toBeNull()
  })
})
