import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

const values = async (db: Database, sql: string): Promise<unknown[]> => (await db.query(sql)).rowArrays.map((r) => r[0])

describe('user sequences on one node', () => {
  let db: Database | null = null
  afterEach(async () => {
    await db?.close()
    db = null
  })

  it('nextval counts from START by INCREMENT; currval and lastval are per session and 55000 before the first nextval', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE SEQUENCE s START 10 INCREMENT BY 5')
    expect(await sqlState(db, "SELECT currval('s')")).toBe('55000')
    expect(await sqlState(db, 'SELECT lastval()')).toBe('55000')
    expect(await values(db, "SELECT nextval('s') FROM generate_series(1, 3)")).toEqual(['10', '15', '20'])
    expect((await db.query("SELECT currval('s'), lastval()")).rowArrays).toEqual([['20', '20']])
    const other = db.session()
    expect(await sqlState(other, "SELECT currval('s')")).toBe('55000')
    expect((await other.query("SELECT nextval('s')")).rowArrays).toEqual([['25']])
    expect((await db.query("SELECT currval('s')")).rowArrays).toEqual([['20']])
    expect(await sqlState(db, "SELECT nextval('nope')")).toBe('42P01')
    // A text argument names the sequence too, as PostgreSQL's implicit text to regclass cast.
    expect((await db.query("SELECT nextval('s'::text), currval('S'::text)")).rowArrays).toEqual([['30', '30']])
    await db.query('CREATE TABLE t (id int)')
    expect(await sqlState(db, "SELECT nextval('t')")).toBe('42809')
  })

  it('setval with two and three arguments, ALTER SEQUENCE RESTART and INCREMENT', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE SEQUENCE s')
    expect(await values(db, "SELECT setval('s', 100)")).toEqual(['100'])
    expect(await values(db, "SELECT currval('s')")).toEqual(['100'])
    expect(await values(db, "SELECT nextval('s')")).toEqual(['101'])
    await db.query("SELECT setval('s', 50, false)")
    expect(await values(db, "SELECT nextval('s')")).toEqual(['50'])
    await db.query('ALTER SEQUENCE s RESTART WITH 7')
    expect(await values(db, "SELECT nextval('s')")).toEqual(['7'])
    await db.query('ALTER SEQUENCE s INCREMENT BY 10')
    expect(await values(db, "SELECT nextval('s')")).toEqual(['17'])
    await db.query('ALTER SEQUENCE s RESTART')
    expect(await values(db, "SELECT nextval('s')")).toEqual(['1'])
    expect(await sqlState(db, "SELECT setval('s', 0)")).toBe('22003')
  })

  it('TRUNCATE .. RESTART IDENTITY restarts the sequences its tables own and refuses SERIAL and identity columns (they went on unrestarted)', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE owned (id bigint, v int)')
    await db.query('CREATE SEQUENCE owned_seq START 5 OWNED BY owned.id')
    await db.query('CREATE SEQUENCE free_seq START 5')
    await db.query("INSERT INTO owned SELECT nextval('owned_seq'), g FROM generate_series(1, 3) g")
    expect(await values(db, "SELECT nextval('free_seq')")).toEqual(['5'])
    await db.query('TRUNCATE owned CONTINUE IDENTITY')
    expect(await values(db, "SELECT nextval('owned_seq')")).toEqual(['8'])
    await db.query('TRUNCATE owned RESTART IDENTITY')
    expect(await values(db, 'SELECT count(*) FROM owned')).toEqual(['0'])
    expect(await values(db, "SELECT nextval('owned_seq')")).toEqual(['5'])
    // A sequence no truncated table owns goes on.
    expect(await values(db, "SELECT nextval('free_seq')")).toEqual(['6'])
    await db.query('CREATE TABLE drawn (id serial PRIMARY KEY, v int)')
    await db.query('CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY, v int)')
    await db.query('INSERT INTO drawn (v) VALUES (1), (2)')
    for (const t of ['drawn', 'ident', 'owned, drawn']) expect(await sqlState(db, `TRUNCATE ${t} RESTART IDENTITY`)).toBe('0A000')
    // Refused whole: nothing was emptied or restarted.
    expect(await values(db, 'SELECT count(*) FROM drawn')).toEqual(['2'])
    expect(await values(db, "SELECT nextval('owned_seq')")).toEqual(['6'])
  })

  it('MAXVALUE stops with 2200H unless CYCLE, which wraps to MINVALUE; descending sequences stop at MINVALUE', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE SEQUENCE up MAXVALUE 3')
    expect(await values(db, "SELECT nextval('up') FROM generate_series(1, 3)")).toEqual(['1', '2', '3'])
    expect(await sqlState(db, "SELECT nextval('up')")).toBe('2200H')
    await db.query('CREATE SEQUENCE c AS smallint MINVALUE 2 MAXVALUE 4 START 3 CYCLE CACHE 20')
    expect(await values(db, "SELECT nextval('c') FROM generate_series(1, 5)")).toEqual(['3', '4', '2', '3', '4'])
    await db.query('CREATE SEQUENCE down INCREMENT -1 MINVALUE -2')
    expect(await values(db, "SELECT nextval('down') FROM generate_series(1, 2)")).toEqual(['-1', '-2'])
    expect(await sqlState(db, "SELECT nextval('down')")).toBe('2200H')
  })

  it('CREATE SEQUENCE checks its options as PostgreSQL does', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    expect(await sqlState(db, 'CREATE SEQUENCE a INCREMENT 0')).toBe('22023')
    expect(await sqlState(db, 'CREATE SEQUENCE a MINVALUE 5 MAXVALUE 5')).toBe('22023')
    expect(await sqlState(db, 'CREATE SEQUENCE a AS smallint MAXVALUE 100000')).toBe('22023')
    expect(await sqlState(db, 'CREATE SEQUENCE a AS text')).toBe('22023')
    expect(await sqlState(db, 'CREATE SEQUENCE a START 0')).toBe('22023')
    await db.query('CREATE TABLE t (id int)')
    expect(await sqlState(db, 'CREATE SEQUENCE t')).toBe('42P07')
    await db.query('CREATE SEQUENCE a')
    expect((await db.query('CREATE SEQUENCE IF NOT EXISTS a')).notices).toEqual(['relation "a" already exists, skipping'])
    expect(await sqlState(db, 'DROP SEQUENCE t')).toBe('42809')
  })

  it('a sequence as a column default; OWNED BY drops it with its table; DROP SEQUENCE [IF EXISTS]', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id bigint DEFAULT nextval(\'t_seq\'), v text)')
    await db.query('CREATE SEQUENCE t_seq OWNED BY t.id')
    const r = await db.query("INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id")
    expect(r.rowArrays).toEqual([['1'], ['2']])
    await db.query('DROP TABLE t')
    expect(await sqlState(db, "SELECT nextval('t_seq')")).toBe('42P01')
    await db.query('CREATE SEQUENCE x')
    expect(await sqlState(db, 'DROP SEQUENCE x, y')).toBe('42P01')
    expect((await db.query('DROP SEQUENCE IF EXISTS x, y')).notices).toEqual(['sequence "y" does not exist, skipping'])
    expect(await sqlState(db, "SELECT nextval('x')")).toBe('42P01')
  })

  it('sequences appear in pg_class as relkind S, in information_schema.sequences, pg_sequences and psql \\ds', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE SEQUENCE s AS integer INCREMENT 2 MAXVALUE 1000 CYCLE')
    expect((await db.query("SELECT relname, relkind FROM pg_class WHERE relkind = 'S'")).rowArrays).toEqual([['s', 'S']])
    expect((await db.query('SELECT sequence_name, data_type, start_value, minimum_value, maximum_value, increment, cycle_option FROM information_schema.sequences')).rowArrays)
      .toEqual([['s', 'integer', '1', '1', '1000', '2', 'YES']])
    expect((await db.query('SELECT sequencename, data_type::text, max_value, cycle FROM pg_sequences')).rowArrays).toEqual([['s', 'integer', '1000', true]])
    // psql 15's \ds
    const ds = await db.query(`SELECT n.nspname as "Schema", c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('S','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2`)
    expect(ds.rowArrays).toEqual([['public', 's', 'sequence', 'concord']])
  })
})

describe('user sequences across masters', () => {
  it('two partitioned nodes both call nextval; after healing no value was handed out twice', async () => {
    const cluster = await SimCluster.create({ seed: 41, nodes: [{ id: 'a' }, { id: 'b' }] })
    try {
      await cluster.node('a').query('CREATE SEQUENCE s')
      await cluster.node('a').query('CREATE TABLE drawn (v bigint PRIMARY KEY, node text)')
      await cluster.settle()
      cluster.partition(['a'], ['b'])
      for (let i = 0; i < 40; i++) {
        for (const n of ['a', 'b']) await cluster.node(n).query(`INSERT INTO drawn SELECT nextval('s'), '${n}'`)
      }
      cluster.heal()
      await cluster.settle()
      const rows = await cluster.node('b').query('SELECT v, node FROM drawn')
      // A duplicate value would have merged two rows into one under the primary key.
      expect(rows.rowCount).toBe(80)
      expect(new Set(rows.rowArrays.map((r) => r[0])).size).toBe(80)
      expect(rows.rowArrays.filter((r) => r[1] === 'a').length).toBe(40)
    } finally {
      await cluster.close()
    }
  })
})
