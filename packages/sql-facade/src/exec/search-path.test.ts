/**
 * search_path is honoured or refused, never kept as a label (catalog/search-path.ts).
 * Before, `SET search_path = app` was accepted and then `CREATE TABLE t` made public.t and
 * unqualified reads found public's tables. Answers checked on PostgreSQL 15, except where
 * PostgreSQL would create in a user schema (Concord: 0A000, docs/compatibility.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import { searchPathNames } from '../catalog/search-path.js'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'sp1' })
  await db.query('CREATE TABLE t0 (a int)')
  await db.query('INSERT INTO t0 VALUES (1)')
  await db.query("CREATE FUNCTION f0() RETURNS int LANGUAGE sql AS 'SELECT 7'")
  await db.query("CREATE TYPE mood AS ENUM ('ok')")
  await db.query('CREATE SCHEMA app')
})
afterAll(async () => {
  await db?.close()
})

const rows = async (s: ReturnType<Database['session']>, sql: string) => (await s.query(sql)).rowArrays

describe('search_path', () => {
  it('reads its names as PostgreSQL does', () => {
    expect(searchPathNames('"$user", public')).toEqual(['$user', 'public'])
    expect(searchPathNames(' App ,"My ""S""",public')).toEqual(['app', 'My "S"', 'public'])
    expect(searchPathNames('')).toEqual([])
  })

  it('without an existing schema: nothing to create in, and public is not searched', async () => {
    const s = db.session()
    await s.query('SET search_path = nosuch')
    expect(await sqlState(s, 'CREATE TABLE t1 (a int)')).toBe('3F000')
    expect(await sqlState(s, 'CREATE VIEW v1 AS SELECT 1')).toBe('3F000')
    expect(await sqlState(s, 'CREATE SEQUENCE q1')).toBe('3F000')
    expect(await rows(s, 'SELECT current_schema(), current_schemas(true), current_schemas(false)')).toEqual([[null, '{pg_catalog}', '{}']])
    expect(await sqlState(s, 'SELECT * FROM t0')).toBe('42P01')
    expect(await sqlState(s, 'INSERT INTO t0 VALUES (2)')).toBe('42P01')
    expect(await sqlState(s, 'UPDATE t0 SET a = 3')).toBe('42P01')
    expect(await sqlState(s, 'DROP TABLE t0')).toBe('42P01')
    expect(await sqlState(s, 'SELECT f0()')).toBe('42883')
    expect(await sqlState(s, "SELECT 'ok'::mood")).toBe('42704')
    expect(await sqlState(s, 'DROP TYPE mood')).toBe('42704')
    // What the path still reaches: qualified names, built-ins, CTEs, temporary tables.
    expect(await rows(s, 'SELECT a FROM public.t0')).toEqual([[1]])
    expect(await rows(s, "SELECT count(*)::int FROM pg_tables WHERE tablename = 't0'")).toEqual([[1]])
    expect(await rows(s, 'WITH t0 AS (SELECT 5 AS a) SELECT a FROM t0')).toEqual([[5]])
    await s.query('CREATE TEMP TABLE tt (a int)')
    await s.query('INSERT INTO tt VALUES (2)')
    expect(await rows(s, 'SELECT a FROM tt')).toEqual([[2]])
    // psql's \dt lists what pg_table_is_visible says: not public's tables, the temporary one.
    expect(await rows(s, "SELECT pg_table_is_visible('public.t0'::regclass), pg_table_is_visible('tt'::regclass), pg_table_is_visible('pg_class'::regclass)")).toEqual([[false, true, true]])
    expect((await db.query("SELECT pg_table_is_visible('t0'::regclass), pg_table_is_visible('information_schema.tables'::regclass)")).rowArrays).toEqual([[true, false]])
    const dropped = await s.query('DROP TABLE IF EXISTS t0')
    expect(dropped.notices).toEqual(['table "t0" does not exist, skipping'])
    // Nothing above touched public.t0.
    expect((await db.query('SELECT a FROM t0')).rowArrays).toEqual([[1]])
  })

  it('an empty path (as pg_dump sets it) takes qualified names only', async () => {
    const s = db.session()
    await s.query("SELECT pg_catalog.set_config('search_path', '', false)")
    expect(await sqlState(s, 'CREATE TABLE t4 (a int)')).toBe('3F000')
    await s.query('CREATE TABLE public.t4 (a int)')
    expect(await sqlState(s, 'SELECT * FROM t4')).toBe('42P01')
    expect(await rows(s, 'SELECT count(*)::int FROM public.t4')).toEqual([[0]])
  })

  it('a user schema first: creating there is refused, lookups go on to public', async () => {
    const s = db.session()
    await s.query('SET search_path = app, public')
    expect(await rows(s, 'SELECT current_schema(), current_schemas(false)')).toEqual([['app', '{app,public}']])
    expect(await sqlState(s, 'CREATE TABLE t3 (a int)')).toBe('0A000')
    expect(await sqlState(s, "CREATE TYPE e3 AS ENUM ('a')")).toBe('0A000')
    expect(await sqlState(s, "CREATE FUNCTION f3() RETURNS int LANGUAGE sql AS 'SELECT 1'")).toBe('0A000')
    expect(await rows(s, 'SELECT a, f0() FROM t0')).toEqual([[1, 7]])
    await s.query('CREATE TEMP TABLE t3 (a int)')
    expect((await db.query("SELECT count(*)::int FROM pg_tables WHERE tablename = 't3'")).rowArrays).toEqual([[0]])
  })

  it('pg_catalog first is a permission error; public after an unknown schema is public', async () => {
    const s = db.session()
    await s.query('SET search_path = pg_catalog, public')
    expect(await sqlState(s, 'CREATE TABLE t5 (a int)')).toBe('42501')
    await s.query('SET search_path = nosuch, public')
    await s.query('CREATE TABLE t2 (a int)')
    expect(await rows(s, 'SELECT current_schema(), current_schemas(true)')).toEqual([['public', '{pg_catalog,public}']])
    await s.query('RESET search_path')
    expect(await rows(s, "SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('t2', 't0')")).toEqual([[2]])
  })

  it('"$user" names the role schema: one of the role\'s name comes first', async () => {
    const s = db.session()
    expect(await rows(s, 'SELECT current_schema()')).toEqual([['public']])
    const [[user]] = await rows(s, 'SELECT current_user::text')
    await db.query(`CREATE SCHEMA "${String(user)}"`)
    try {
      expect(await rows(s, 'SELECT current_schema()')).toEqual([[user]])
      expect(await sqlState(s, 'CREATE TABLE t6 (a int)')).toBe('0A000')
    } finally {
      await db.query(`DROP SCHEMA "${String(user)}"`)
    }
    await s.query('CREATE TABLE t6 (a int)')
  })

  it("a block's own CREATE SCHEMA is on its path until it rolls back; another session's at its next statement", async () => {
    const s = db.session()
    await s.query('SET search_path = later, public')
    expect(await rows(s, 'SELECT current_schema()')).toEqual([['public']])
    await s.query('BEGIN')
    await s.query('CREATE SCHEMA later')
    expect(await rows(s, 'SELECT current_schema(), current_schemas(false)')).toEqual([['later', '{later,public}']])
    await s.query('ROLLBACK')
    expect(await rows(s, 'SELECT current_schema()')).toEqual([['public']])
    await db.query('CREATE SCHEMA later')
    expect(await rows(s, 'SELECT current_schema()')).toEqual([['later']])
    await db.query('DROP SCHEMA later')
    expect(await rows(s, 'SELECT current_schema(), current_schemas(true)')).toEqual([['public', '{pg_catalog,public}']])
  })
})
