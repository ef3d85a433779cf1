import { describe, expect, it } from 'vitest'
import { openDatabase } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

// What schema tools (drizzle-kit push) read of the catalog, answered as PostgreSQL 15 answers.
describe('catalog introspection as ORMs read it', () => {
  it('a SERIAL column has its sequence: nextval default, pg_get_serial_sequence, pg_class and pg_sequences; nextval draws its ids', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE users (id SERIAL PRIMARY KEY, name TEXT)')
    const r = await db.query(`SELECT pg_get_expr(ad.adbin, ad.adrelid) AS def, pg_get_serial_sequence('"public"."users"', 'id') AS seq,
      pg_get_serial_sequence('users', 'name') AS none, 'nextval(''' || pg_get_serial_sequence('users', 'id')::regclass || '''::regclass)' AS rebuilt
      FROM pg_attrdef ad WHERE ad.adrelid = 'users'::regclass`)
    expect(r.rows).toEqual([{ def: "nextval('users_id_seq'::regclass)", seq: 'public.users_id_seq', none: null, rebuilt: "nextval('users_id_seq'::regclass)" }])
    expect((await db.query("SELECT relkind FROM pg_class WHERE relname = 'users_id_seq'")).rows).toEqual([{ relkind: 'S' }])
    expect((await db.query("SELECT data_type::text AS t, max_value FROM pg_sequences WHERE sequencename = 'users_id_seq'")).rows).toEqual([{ t: 'integer', max_value: '2147483647' }])
    await db.query("INSERT INTO users (name) VALUES ('a')")
    const drawn = (await db.query("SELECT nextval('users_id_seq') AS n")).rows[0]!.n
    await db.query("INSERT INTO users (name) VALUES ('b')")
    const ids = (await db.query('SELECT id FROM users ORDER BY id')).rows.map((x) => BigInt(x.id as number))
    expect(ids).toEqual([1n, BigInt(drawn as string) + 1n])
    expect(await sqlState(db, "SELECT setval('users_id_seq', 10)")).toBe('0A000')
    expect(await sqlState(db, 'DROP SEQUENCE users_id_seq')).toBe('2BP01')
    expect(await sqlState(db, 'CREATE SEQUENCE users_id_seq')).toBe('42P07')
    expect(await sqlState(db, "SELECT pg_get_serial_sequence('users', 'nope')")).toBe('42703')
    await db.close()
  })

  it("reads regtype arrays, index operator classes, constraint_column_usage and a UNIQUE constraint's own name", async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE a (id INT PRIMARY KEY, email VARCHAR(50), CONSTRAINT a_email_unique UNIQUE (email))')
    await db.query('CREATE TABLE b (id INT PRIMARY KEY, a_id INT REFERENCES a (id), at TIMESTAMP)')
    await db.query('CREATE INDEX b_a_at ON b (a_id, at)')
    expect((await db.query("SELECT 'int4'::regtype = ANY ('{int,int8,int2}'::regtype[]) AS yes, 'text'::regtype = ANY ('{int,int8}'::regtype[]) AS no")).rows)
      .toEqual([{ yes: true, no: false }])
    const opc = await db.query(`SELECT ic.relname, opc.opcname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_opclass opc ON opc.oid = ANY(i.indclass) WHERE ic.relname IN ('b_a_at', 'a_email_unique') ORDER BY 1, 2`)
    expect(opc.rowArrays).toEqual([['a_email_unique', 'text_ops'], ['b_a_at', 'int4_ops'], ['b_a_at', 'timestamp_ops']])
    const usage = await db.query('SELECT table_name, column_name, constraint_name FROM information_schema.constraint_column_usage ORDER BY 3, 2')
    expect(usage.rowArrays).toEqual([['a', 'email', 'a_email_unique'], ['a', 'id', 'a_pkey'], ['a', 'id', 'b_a_id_fkey'], ['b', 'id', 'b_pkey']])
    expect((await db.query("SELECT indexrelname FROM pg_stat_user_indexes WHERE relname = 'b' ORDER BY 1")).rows).toEqual([{ indexrelname: 'b_a_at' }, { indexrelname: 'b_pkey' }])
    expect((await db.query("SELECT identity_start, identity_cycle, collation_name FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'id'")).rows)
      .toEqual([{ identity_start: null, identity_cycle: 'NO', collation_name: null }])
    expect((await db.query('SELECT count(*)::int AS n FROM pg_policies')).rows).toEqual([{ n: 0 }])
    expect(await sqlState(db, "INSERT INTO a VALUES (1, 'x'), (2, 'x')")).toBe('23505')
    await db.query('ALTER TABLE a DROP CONSTRAINT a_email_unique')
    await db.query("INSERT INTO a VALUES (1, 'x'), (2, 'x')")
    await db.close()
  })

  it('pg_proc, pg_language and the function catalog functions describe user functions; regproc names them', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query("CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x + 1'")
    const r = await db.query(`SELECT p.proname, l.lanname, pg_get_function_result(p.oid) AS result, pg_get_function_arguments(p.oid) AS args,
      pg_function_is_visible(p.oid) AS visible, p.prosrc, p.pronargs, p.prorettype::regtype::text AS rettype, 'add_one'::regproc::text AS named
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`)
    expect(r.rows).toEqual([{ proname: 'add_one', lanname: 'sql', result: 'integer', args: 'x integer', visible: true, prosrc: 'SELECT x + 1', pronargs: 1, rettype: 'integer', named: 'add_one' }])
    expect((await db.query("SELECT pg_get_functiondef('add_one'::regproc) AS d")).rows[0]!.d)
      .toBe('CREATE OR REPLACE FUNCTION public.add_one(x integer)\n RETURNS integer\n LANGUAGE sql\nAS $function$SELECT x + 1$function$\n')
    expect(await sqlState(db, "SELECT 'no_such'::regproc")).toBe('42883')
    // SETOF, STRICT and trigger functions, as PostgreSQL 15 describes them.
    await db.query(`create function pfx(int) returns setof int language sql strict as 'select 1'`)
    await db.query('create function ptr() returns trigger language plpgsql as $$ begin return null; end $$')
    expect((await db.query(`select pg_get_function_result(p.oid) as r, p.prorettype::int as t, proretset, proisstrict from pg_proc p where proname in ('pfx', 'ptr') order by proname`)).rowArrays)
      .toEqual([['SETOF integer', 23, true, true], ['trigger', 2279, false, false]])
    expect((await db.query("SELECT pg_get_functiondef('pfx'::regproc) AS d")).rows[0]!.d)
      .toBe('CREATE OR REPLACE FUNCTION public.pfx(integer)\n RETURNS SETOF integer\n LANGUAGE sql\n STRICT\nAS $function$select 1$function$\n')
    await db.close()
  })
})
