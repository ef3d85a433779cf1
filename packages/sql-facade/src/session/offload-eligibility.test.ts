import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { parseScript } from '../parser/parse.js'
import { readView } from '../catalog/view-def.js'
import { offloadInsertSource, offloadTables, type EligibilityCatalog } from './offload-eligibility.js'

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
  await db.query('CREATE VIEW node_settings AS SELECT name, setting FROM pg_settings')
  await db.query('CREATE TABLE tables (id INT PRIMARY KEY)')
  await db.query('CREATE FUNCTION twice(x INT) RETURNS INT LANGUAGE sql AS $$ SELECT x * 2 $$')
  await db.query('CREATE FUNCTION upper(x TEXT) RETURNS TEXT LANGUAGE sql AS $$ SELECT x $$')
  // Functions a moved statement may call: IMMUTABLE or STABLE, bodies that only read.
  await db.query('CREATE FUNCTION sq(x INT) RETURNS INT LANGUAGE sql IMMUTABLE AS $$ SELECT x * x $$')
  await db.query('CREATE FUNCTION sq_std(x INT) RETURNS INT IMMUTABLE RETURN x * x')
  await db.query('CREATE FUNCTION a_count() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM a $$')
  await db.query('CREATE FUNCTION b_of(x INT) RETURNS SETOF INT LANGUAGE sql STABLE AS $$ SELECT id FROM b WHERE a_id = x $$')
  await db.query('CREATE FUNCTION via_view() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM abv $$')
  await db.query('CREATE FUNCTION outer_fn(x INT) RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT sq(x) + a_count() $$')
  await db.query('CREATE FUNCTION with_cte() RETURNS BIGINT LANGUAGE sql STABLE AS $$ WITH w AS (SELECT id FROM m) SELECT count(*) FROM w $$')
  await db.query('CREATE FUNCTION fact(n INT) RETURNS NUMERIC LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN n <= 1 THEN 1 ELSE n * fact(n - 1) END $$')
  await db.query('CREATE FUNCTION ping(n INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT CASE WHEN n <= 0 THEN 0 ELSE pong(n - 1) END $$')
  await db.query('CREATE FUNCTION pong(n INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT CASE WHEN n <= 0 THEN (SELECT count(*)::int FROM b) ELSE ping(n - 1) END $$')
  await db.query(`CREATE FUNCTION pl_read(x INT) RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
    DECLARE n BIGINT := x * 2; r RECORD;
    BEGIN
      n := n + (SELECT count(*) FROM a);
      SELECT count(*) INTO n FROM b WHERE id > x;
      PERFORM 1 FROM m;
      FOR r IN SELECT * FROM av LOOP n := n + 1; END LOOP;
      FOR i IN 1 .. sq(x) LOOP n := n + i; END LOOP;
      IF n < 0 THEN RAISE EXCEPTION 'negative %', n; END IF;
      RETURN n;
    END $$`)
  // Functions that keep the statement here.
  await db.query('CREATE FUNCTION vol(x INT) RETURNS INT LANGUAGE sql AS $$ SELECT x $$')
  await db.query('CREATE FUNCTION vol_declared(x INT) RETURNS INT LANGUAGE sql VOLATILE AS $$ SELECT x $$')
  await db.query("CREATE FUNCTION draws() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT nextval('s') $$")
  await db.query('CREATE FUNCTION rolls() RETURNS FLOAT8 LANGUAGE sql IMMUTABLE AS $$ SELECT random() $$')
  await db.query('CREATE FUNCTION ticks() RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$ SELECT clock_timestamp() $$')
  await db.query("CREATE FUNCTION sets() RETURNS TEXT LANGUAGE sql STABLE AS $$ SELECT set_config('a.b', 'c', false) $$")
  await db.query('CREATE FUNCTION sleeps() RETURNS VOID LANGUAGE sql STABLE AS $$ SELECT pg_sleep(1) $$')
  await db.query('CREATE FUNCTION sys_read() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM pg_class $$')
  await db.query('CREATE FUNCTION sys_view_read() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM classes $$')
  await db.query('CREATE FUNCTION locks_read() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM pg_locks $$')
  await db.query('CREATE FUNCTION settings_view_read() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM node_settings $$')
  await db.query('CREATE FUNCTION calls_vol(x INT) RETURNS INT LANGUAGE sql IMMUTABLE AS $$ SELECT vol(x) $$')
  await db.query('CREATE FUNCTION writes_sql() RETURNS INT LANGUAGE sql STABLE AS $$ INSERT INTO a VALUES (99, \'x\'); SELECT 1 $$')
  await db.query('CREATE FUNCTION pl_writes() RETURNS INT LANGUAGE plpgsql STABLE AS $$ BEGIN INSERT INTO a VALUES (98, \'y\'); RETURN 1; END $$')
  await db.query("CREATE FUNCTION pl_dynamic() RETURNS INT LANGUAGE plpgsql STABLE AS $$ DECLARE n INT; BEGIN EXECUTE 'SELECT 1' INTO n; RETURN n; END $$")
  await db.query("CREATE FUNCTION pl_notice() RETURNS INT LANGUAGE plpgsql STABLE AS $$ BEGIN RAISE NOTICE 'hello'; RETURN 1; END $$")
  await db.query("CREATE FUNCTION pl_default_draws() RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$ DECLARE n BIGINT := nextval('s'); BEGIN RETURN n; END $$")
  await db.query("CREATE FUNCTION pl_assign_draws() RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$ DECLARE n BIGINT; BEGIN n := nextval('s'); RETURN n; END $$")
  await db.query('CREATE FUNCTION lower(x TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$ SELECT x || \'!\' $$')
  await db.query('CREATE FUNCTION ceil(x INT) RETURNS INT LANGUAGE sql IMMUTABLE AS $$ SELECT nextval(\'s\')::int $$')
  await db.query('CREATE FUNCTION altered(x INT) RETURNS INT LANGUAGE sql AS $$ SELECT x $$')
  await db.query('CREATE FUNCTION missing_read() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM nowhere $$')
  catalog = {
    table: (name) => db.replica.table(name),
    tables: () => db.replica.tables(),
    userFunction: (name) => db.userFunction(name),
    holdsWhole: (info) => db.replica.holdsWhole(info),
    viewQuery: (name) => readView(db.replica, name)?.query,
    systemView: (schema, name) => db.system.schemaOf(schema, name),
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

  it('views calling functions off the list or reading system views of node state, those views, other schemas and missing relations stay', () => {
    expect(tablesOf('SELECT * FROM drawing')).toBeNull()
    expect(tablesOf('SELECT * FROM a, node_settings')).toBeNull()
    expect(tablesOf('SELECT * FROM myschema.a')).toBeNull()
    expect(tablesOf('SELECT * FROM pg_temp.a')).toBeNull()
    expect(tablesOf('SELECT * FROM nowhere')).toBeNull()
  })

  it('system views computed from the catalog and the session identity move, named as the executor resolves them', () => {
    expect(tablesOf('SELECT * FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid')).toEqual([])
    expect(tablesOf('SELECT * FROM pg_catalog.pg_namespace, public.pg_type, pg_catalog.pg_proc, pg_index, pg_constraint')).toEqual([])
    expect(tablesOf('SELECT * FROM pg_roles, pg_auth_members, pg_tables, pg_indexes, pg_inherits, pg_enum, pg_database')).toEqual([])
    expect(tablesOf('SELECT * FROM information_schema.tables t JOIN information_schema.columns c USING (table_name)')).toEqual([])
    expect(tablesOf('SELECT * FROM information_schema.key_column_usage, information_schema.table_privileges, columns')).toEqual([])
    // With user tables, and through a user view over pg_class.
    expect(tablesOf('SELECT * FROM a, classes, pg_class')).toEqual(['a'])
    // An unqualified name is a user table before a system view (plan/from.ts): the table moves.
    expect(tablesOf('SELECT * FROM tables')).toEqual(['tables'])
    expect(tablesOf('SELECT * FROM information_schema.tables')).toEqual([])
    // With the catalog functions psql and ORMs call over them.
    expect(tablesOf(`SELECT c.relname, pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid),
      col_description(c.oid, a.attnum), pg_table_is_visible(c.oid) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum`)).toEqual([])
    expect(tablesOf('SELECT pg_get_indexdef(indexrelid), pg_get_constraintdef(0), pg_get_functiondef(0), pg_get_viewdef(0) FROM pg_index')).toEqual([])
  })

  it('system views of node or session state stay, and a name in the wrong schema is no system view', () => {
    for (const v of ['pg_settings', 'pg_catalog.pg_settings', 'pg_stat_user_indexes', 'pg_locks', 'pg_cursors', 'pg_prepared_statements', 'pg_sequences',
      'pg_sequence', 'information_schema.sequences', 'concord_conflicts', 'concord_cluster_members', 'concord_backups', 'pg_stat_progress_backup',
      'pg_stat_replication', 'query_result_cache', 'information_schema.pg_class', 'pg_catalog.columns', 'pg_catalog.nowhere',
      // its verifiers are in the secrets shard (decision 34), which no snapshot carries: a
      // moved statement showed the placeholder instead
      'pg_authid']) {
      expect(tablesOf(`SELECT * FROM ${v}`), v).toBeNull()
    }
  })

  it('IMMUTABLE and STABLE user functions whose bodies only read move, with the tables their bodies read', () => {
    expect(tablesOf('SELECT sum(sq(g)) FROM generate_series(1, 10) g')).toEqual([])
    expect(tablesOf('SELECT sum(sq_std(g)) FROM generate_series(1, 10) g')).toEqual([])
    expect(tablesOf('SELECT public.sq(2), a_count()')).toEqual(['a'])
    expect(tablesOf('SELECT * FROM b_of(1)')).toEqual(['b'])
    expect(tablesOf('SELECT via_view()')).toEqual(['a', 'b'])
    expect(tablesOf('SELECT outer_fn(g) FROM generate_series(1, 10) g')).toEqual(['a'])
    // A WITH query's name inside a body hides no table outside it; the partitioned table moves with its family.
    expect(tablesOf('SELECT with_cte()')).toEqual(['m', 'm1', 'm2'])
    expect(tablesOf('SELECT v FROM a WHERE id = sq(3)')).toEqual(['a'])
    expect(tablesOf('SELECT pl_read(g) FROM generate_series(1, 10) g')).toEqual(['a', 'b', 'm', 'm1', 'm2'])
    // Bodies reading catalog-only system views, directly or through a view.
    expect(tablesOf('SELECT sys_read(), sys_view_read()')).toEqual([])
  })

  it('recursive and mutually recursive functions are walked once', () => {
    expect(tablesOf('SELECT fact(20)')).toEqual([])
    expect(tablesOf('SELECT ping(5)')).toEqual(['b'])
  })

  it('VOLATILE functions, and functions whose bodies write, call functions off the list or read system views, stay', () => {
    for (const f of ['vol(1)', 'vol_declared(1)', 'draws()', 'rolls()', 'ticks()', 'sets()', 'sleeps()', 'locks_read()', 'settings_view_read()', 'calls_vol(1)',
      'writes_sql()', 'pl_writes()', 'pl_dynamic()', 'pl_notice()', 'pl_default_draws()', 'pl_assign_draws()', 'missing_read()', 'myschema.sq(1)']) {
      expect(tablesOf(`SELECT ${f}, count(*) FROM generate_series(1, 10)`), f).toBeNull()
    }
  })

  it('a user function named as a built-in is judged as the function the executor runs', () => {
    // upper: VOLATILE, so stays; lower: IMMUTABLE and reading nothing, so moves (also qualified, as the executor runs it then too).
    expect(tablesOf("SELECT upper('x')")).toBeNull()
    expect(tablesOf("SELECT lower('x'), pg_catalog.lower('y')")).toEqual([])
    // ceil is on the allow-list, but the user's ceil draws from a sequence.
    expect(tablesOf('SELECT ceil(1)')).toBeNull()
    expect(tablesOf('SELECT floor(1.5)')).toEqual([])
  })

  it('ALTER FUNCTION sets the volatility a statement is judged by', async () => {
    expect(tablesOf('SELECT altered(1)')).toBeNull()
    await db.query('ALTER FUNCTION altered(INT) STABLE')
    expect(tablesOf('SELECT altered(1)')).toEqual([])
    expect((await db.query("SELECT provolatile FROM pg_proc WHERE proname IN ('altered', 'sq', 'vol') ORDER BY proname")).rows).toEqual([
      { provolatile: 's' }, { provolatile: 'i' }, { provolatile: 'v' },
    ])
    await db.query('ALTER FUNCTION altered(INT) VOLATILE')
    expect(tablesOf('SELECT altered(1)')).toBeNull()
  })

  it('the walk through function bodies is bounded in depth', async () => {
    // A chain of 20 distinct STABLE functions, each calling the next: past the depth bound.
    await db.query('CREATE FUNCTION chain20(x INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT x $$')
    for (let i = 19; i >= 0; i--) await db.query(`CREATE FUNCTION chain${i}(x INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT chain${i + 1}(x) $$`)
    expect(tablesOf('SELECT chain10(1)')).toEqual([])
    expect(tablesOf('SELECT chain0(1)')).toBeNull()
  })

  it('a WITH query hides a relation of its name only inside its scope', () => {
    expect(tablesOf('SELECT (WITH pg_locks AS (SELECT 1) SELECT count(*) FROM pg_locks)')).toEqual([])
    expect(tablesOf('SELECT (WITH pg_locks AS (SELECT 1) SELECT 1), (SELECT count(*) FROM pg_locks)')).toBeNull()
    expect(tablesOf('WITH x AS (SELECT 1), y AS (SELECT * FROM x) SELECT * FROM y')).toEqual([])
    expect(tablesOf('WITH y AS (SELECT * FROM x), x AS (SELECT 1) SELECT * FROM y')).toBeNull()
    expect(tablesOf('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r')).toEqual([])
    expect(tablesOf('(WITH w AS (SELECT id FROM a) SELECT id FROM w) UNION SELECT id FROM b')).toEqual(['a', 'b'])
  })

  it('a table not held wholly here stays', () => {
    const held: EligibilityCatalog = { ...catalog, holdsWhole: (info) => info.name !== 'b' }
    expect(offloadTables(parseScript('SELECT * FROM a')[0]!, held)).not.toBeNull()
    expect(offloadTables(parseScript('SELECT * FROM a, b')[0]!, held)).toBeNull()
  })
})

describe('which INSERT .. SELECTs may move their SELECT off the main thread', () => {
  /** The target and the tables the SELECT reads, sorted; null when the statement stays. */
  function insertOf(sql: string, given: EligibilityCatalog = catalog): { target: string; tables: string[] } | null {
    const r = offloadInsertSource(parseScript(sql)[0]!, given)
    return r === null ? null : { target: r.target.name, tables: r.tables.map((t) => t.name).sort() }
  }

  it('the SELECT is walked as a moved SELECT; the target is not among the tables read unless the SELECT reads it', () => {
    expect(insertOf('INSERT INTO b SELECT id, id FROM a WHERE v LIKE $1')).toEqual({ target: 'b', tables: ['a'] })
    expect(insertOf('INSERT INTO b (id) SELECT g FROM generate_series(1, 10) g ON CONFLICT (id) DO UPDATE SET a_id = excluded.id RETURNING *')).toEqual({ target: 'b', tables: [] })
    expect(insertOf('INSERT INTO a SELECT id + 100, v FROM a')).toEqual({ target: 'a', tables: ['a'] })
    expect(insertOf('INSERT INTO m SELECT id, 1 FROM abv')).toEqual({ target: 'm', tables: ['a', 'b'] })
    // What runs only on the event loop, after the rows are in hand, is not walked: RETURNING may draw from a sequence.
    expect(insertOf("INSERT INTO b SELECT id, id FROM a RETURNING nextval('s')")).toEqual({ target: 'b', tables: ['a'] })
  })

  it('a SELECT off the allow-lists, VALUES, a data-modifying WITH, a view or a table not held as target stay', () => {
    expect(insertOf("INSERT INTO b SELECT nextval('s'), 1 FROM a")).toBeNull()
    expect(insertOf('INSERT INTO b SELECT id, random()::int FROM a')).toBeNull()
    expect(insertOf('INSERT INTO b SELECT vol(id), 1 FROM a')).toBeNull()
    expect(insertOf('INSERT INTO b SELECT id, 1 FROM pg_locks')).toBeNull()
    expect(insertOf('INSERT INTO b VALUES (1, 2), (3, 4)')).toBeNull()
    expect(insertOf('INSERT INTO b DEFAULT VALUES')).toBeNull()
    expect(insertOf('WITH w AS (DELETE FROM a RETURNING id) INSERT INTO b SELECT id, id FROM w')).toBeNull()
    expect(insertOf('WITH w AS (SELECT id FROM a) INSERT INTO b SELECT id, id FROM w WHERE random() < 2')).toBeNull()
    // A WITH of reading queries moves, its names not taken for tables; the tables it reads are the SELECT's.
    expect(insertOf('WITH w AS (SELECT id FROM a) INSERT INTO b SELECT id, id FROM w')).toEqual({ target: 'b', tables: ['a'] })
    expect(insertOf('INSERT INTO av SELECT id, v FROM a')).toBeNull()
    expect(insertOf('INSERT INTO nowhere SELECT 1')).toBeNull()
    expect(insertOf('INSERT INTO b SELECT id, id FROM a', { ...catalog, holdsWhole: (info) => info.name !== 'b' })).toBeNull()
  })
})
