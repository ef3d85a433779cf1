/**
 * PL/pgSQL functions and DO blocks (exec/plpgsql.ts), answers as PostgreSQL 15 gives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'plp1', region: 'us-west' })
})
afterAll(async () => {
  await db.close()
})

const rows = async (sql: string): Promise<unknown[][]> => (await db.query(sql)).rowArrays
const code = async (sql: string): Promise<string | undefined> => {
  try {
    await db.query(sql)
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}
const failure = async (sql: string): Promise<{ code?: string; message: string; hint?: string }> => {
  try {
    await db.query(sql)
  } catch (e) {
    const err = e as { code?: string; message: string; hint?: string }
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
  }
  throw new Error(`${sql} succeeded`)
}

describe('PL/pgSQL functions', () => {
  it('returning void give PostgreSQL\'s empty void value, not NULL; a SQL one ending in SELECT gives NULL', async () => {
    await db.query('CREATE FUNCTION v_plain() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$')
    await db.query('CREATE FUNCTION v_ret() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RETURN; END $$')
    await db.query('CREATE FUNCTION v_sql() RETURNS void LANGUAGE sql AS $$ SELECT 1 $$')
    expect(await rows('SELECT v_plain() IS NULL, v_ret() IS NULL, v_plain()::text, v_sql() IS NULL')).toEqual([[false, false, '', true]])
  })

  it('run DECLARE defaults, assignment, IF/ELSIF/ELSE, FOR over a range, WHILE, and send RAISE NOTICE to the client', async () => {
    await db.query(`create function f(a int) returns int language plpgsql as $$ declare x int := 1; begin x := x + a;
      if x > 2 then raise notice 'big %', x; elsif x = 2 then x := 100; else x := -1; end if;
      for i in 1..3 loop x := x + i; end loop; return x; end $$`)
    const r = await db.query('select f(5), f(1), f(-5)')
    expect(r.rowArrays).toEqual([[12, 106, 5]])
    expect(r.notices).toEqual(['big 6'])
    await db.query(`create function fib(n int) returns bigint language plpgsql as $$ declare a bigint := 0; b bigint := 1; t bigint; i int := 0;
      begin while i < n loop t := a + b; a := b; b := t; i := i + 1; end loop; return a; end $$`)
    expect(await rows('select fib(10), fib(0)')).toEqual([['55', '0']])
  })

  it('run REVERSE .. BY, labelled LOOP with EXIT/CONTINUE, and CASE (simple, searched, missing ELSE is 20000)', async () => {
    await db.query(`create function steps() returns text language plpgsql as $$ declare s text := ''; begin
      for i in reverse 10..1 by 3 loop s := s || i || ','; end loop;
      <<outer>> loop s := s || 'L'; exit outer when length(s) > 12; continue outer; end loop; return s; end $$`)
    expect(await rows('select steps()')).toEqual([['10,7,4,1,LLLL']])
    await db.query(`create function kind(x int) returns text language plpgsql as $$ begin
      case x when 1, 2 then return 'small'; when 3 then return 'three'; else return 'other'; end case; end $$`)
    expect(await rows('select kind(1), kind(3), kind(9)')).toEqual([['small', 'three', 'other']])
    await db.query(`create function kind2(x int) returns text language plpgsql as $$ begin case when x < 0 then return 'neg'; end case; return 'x'; end $$`)
    expect(await rows('select kind2(-1)')).toEqual([['neg']])
    expect(await failure('select kind2(1)')).toEqual({ code: '20000', message: 'case not found', hint: 'CASE statement is missing ELSE part.' })
  })

  it('run SQL statements with the variables as parameters, FOR over a query, GET DIAGNOSTICS ROW_COUNT, PERFORM and FOUND', async () => {
    await db.query('create table pt(a int primary key, b text)')
    await db.query(`create function fill(n int) returns int language plpgsql as $$ declare c int; r record; s text := ''; begin
      for i in 1..n loop insert into pt values (i, 'v' || i); end loop;
      for r in select * from pt order by a loop s := s || r.b; end loop;
      raise notice 's=%', s; update pt set b = 'x' where a > 1; get diagnostics c = row_count; return c; end $$`)
    const r = await db.query('select fill(3)')
    expect(r.rowArrays).toEqual([[2]])
    expect(r.notices).toEqual(['s=v1v2v3'])
    expect(await rows('select * from pt order by a')).toEqual([[1, 'v1'], [2, 'x'], [3, 'x']])
    await db.query(`create function perf() returns boolean language plpgsql as $$ begin perform 1 from pt where a = 1; return found; end $$`)
    expect(await rows('select perf()')).toEqual([[true]])
  })

  it('SELECT INTO [STRICT]: no row is P0002 under STRICT, NULL and FOUND false without it; %ROWTYPE records', async () => {
    await db.query(`create function one(k int) returns text language plpgsql as $$ declare v text; begin select b into strict v from pt where a = k; return v; end $$`)
    expect(await rows('select one(1)')).toEqual([['v1']])
    expect(await failure('select one(42)')).toEqual({ code: 'P0002', message: 'query returned no rows' })
    await db.query(`create function nostrict(k int) returns text language plpgsql as $$ declare v text := 'init'; begin
      select b into v from pt where a = k; if not found then return 'none:' || coalesce(v, 'null'); end if; return v; end $$`)
    expect(await rows('select nostrict(42), nostrict(1)')).toEqual([['none:null', 'v1']])
    await db.query(`create function usesel() returns text language plpgsql as $$ declare r pt%rowtype; begin select * into r from pt where a = 1; return r.a || '/' || r.b; end $$`)
    expect(await rows('select usesel()')).toEqual([['1/v1']])
    await db.query(`create function rec_row() returns text language plpgsql as $$ declare r record; begin r := row(1, 'x'); return r; end $$`)
    expect(await rows('select rec_row()')).toEqual([['(1,x)']])
  })

  it('EXCEPTION WHEN catches by condition name, undoes the block\'s writes and sets SQLSTATE / SQLERRM', async () => {
    await db.query(`create function safe_div(x int) returns text language plpgsql as $$ begin insert into pt values (100, 'z'); return (10/x)::text;
      exception when division_by_zero then return 'caught ' || sqlstate || ': ' || sqlerrm; end $$`)
    expect(await rows('select safe_div(0), safe_div(5)')).toEqual([['caught 22012: division by zero', '2']])
    expect(await rows('select count(*) from pt where a = 100')).toEqual([['1']])
  })

  it('EXECUTE .. INTO .. USING runs dynamic SQL with parameters', async () => {
    await db.query(`create function dyn(t text) returns bigint language plpgsql as $$ declare c bigint; begin
      execute 'select count(*) from ' || quote_ident(t) || ' where a > $1' into c using 1; return c; end $$`)
    expect(await rows('select dyn(\'pt\')')).toEqual([['3']])
  })

  it('RAISE EXCEPTION with format, USING options and conditions; bare RAISE \'msg\' is P0001', async () => {
    expect(await failure(`do $$ begin raise exception 'bad % and %%', 42 using hint = 'h', errcode = '22000'; end $$`)).toEqual({ code: '22000', message: 'bad 42 and %', hint: 'h' })
    expect(await failure('do $$ begin raise division_by_zero; end $$')).toEqual({ code: '22012', message: 'division_by_zero' })
    expect(await failure(`do $$ begin raise 'plain'; end $$`)).toEqual({ code: 'P0001', message: 'plain' })
    const r = await db.query(`do $$ declare o int; a int[] := array[1,2,3,2]; begin o := array_position(a, 2);
      while o is not null loop raise notice '%', o; o := array_position(a, 2, o + 1); end loop; end $$`)
    expect(r.notices).toEqual(['2', '4'])
  })

  it('STRICT, CONSTANT, NOT NULL and falling off the end behave as in PostgreSQL', async () => {
    await db.query(`create function strictf(a int) returns int language plpgsql strict as $$ begin raise exception 'called'; end $$`)
    expect(await rows('select strictf(null) is null')).toEqual([[true]])
    await db.query(`create function noret(a int) returns int language plpgsql as $$ begin if a > 0 then return 1; end if; end $$`)
    expect(await rows('select noret(1)')).toEqual([[1]])
    expect(await failure('select noret(0)')).toEqual({ code: '2F005', message: 'control reached end of function without RETURN' })
    expect(await code(`create function cst() returns int language plpgsql as $$ declare c constant int := 5; begin c := 6; return c; end $$`)).toBe('42601')
    await db.query(`create function nn() returns int language plpgsql as $$ declare c int not null := 1; begin c := null; return c; end $$`)
    expect(await failure('select nn()')).toEqual({ code: '22004', message: 'null value cannot be assigned to variable "c" declared NOT NULL' })
  })

  it('statement_timeout cancels an endless loop (57014), which EXCEPTION WHEN OTHERS does not catch', async () => {
    await db.query('set statement_timeout = 300')
    try {
      expect(await code('do $$ begin loop end loop; end $$')).toBe('57014')
      expect(await code('do $$ begin begin loop end loop; exception when others then null; end; end $$')).toBe('57014')
    } finally {
      await db.query('set statement_timeout = 0')
    }
  })

  it('check the body at CREATE: a syntax error is 42601, a construct not built is 0A000 naming it', async () => {
    expect(await code(`create function bad() returns int language plpgsql as $$ begin retrun 1; end $$`)).toBe('42601')
    expect(await failure(`create function fcursor() returns int language plpgsql as $$ declare c cursor for select 1; begin open c; return 1; end $$`))
      .toEqual({ code: '0A000', message: 'PL/pgSQL OPEN (cursors) is not supported' })
  })

  it('SETOF and TABLE functions (PL/pgSQL RETURN NEXT / RETURN QUERY [EXECUTE], SQL bodies) yield their rows in FROM and in a select list; in WHERE 0A000', async () => {
    await db.query('create table tt14t (f1 text, f2 text, f3 text, f4 text)')
    await db.query(`insert into tt14t values ('foo', 'bar', 'baz', '42')`)
    await db.query('create function tt14f() returns setof tt14t as $$ declare rec1 record; begin for rec1 in select * from tt14t loop return next rec1; end loop; end; $$ language plpgsql')
    expect(await rows('select * from tt14f()')).toEqual([['foo', 'bar', 'baz', '42']])
    await db.query(`create function sillysrf(int) returns setof int as 'values (1),(10),(2),($1)' language sql immutable`)
    expect(await rows('select * from sillysrf(42) order by 1')).toEqual([[1], [2], [10], [42]])
    expect(await rows('select sillysrf(42)')).toEqual([[1], [10], [2], [42]])
    expect(await code('select 1 where sillysrf(1) > 0')).toBe('0A000')
    await db.query(`create function tab(n int) returns table (a int, b text) language plpgsql as $$ begin for i in 1..n loop a := i; b := 'x' || i; return next; end loop; end $$`)
    expect(await rows('select * from tab(3)')).toEqual([[1, 'x1'], [2, 'x2'], [3, 'x3']])
    await db.query(`create function q(n int) returns setof int language plpgsql as $$ begin return query select generate_series(1, n); return query execute 'select $1 * 10' using n; end $$`)
    expect(await rows('select * from q(2)')).toEqual([[1], [2], [20]])
    await db.query('create function sqltab(x int) returns table (a int, b int) language sql as $$ select x, x * 2 union all select x + 1, 0 $$')
    expect(await rows('select * from sqltab(5) order by a')).toEqual([[5, 10], [6, 0]])
    await db.query(`create function outs(out p int, out q text) returns setof record language plpgsql as $$ begin p := 1; q := 'a'; return next; p := 2; q := 'b'; return next; end $$`)
    expect(await rows('select * from outs()')).toEqual([[1, 'a'], [2, 'b']])
  })
})

describe('PL/pgSQL expressions planned once per call (exec/plpgsql-plans.ts)', () => {
  it('answer each run with its own values: calls of constants (current_setting after set_config, currval after nextval) are not folded', async () => {
    await db.query('create sequence kp_seq')
    await db.query(`create function kp_calls() returns text language plpgsql as $$ declare s text := ''; begin
      for i in 1..3 loop
        perform set_config('kp.v', (i * 10)::text, false);
        perform nextval('kp_seq');
        s := s || current_setting('kp.v') || ':' || currval('kp_seq') || ',';
      end loop; return s; end $$`)
    expect(await rows('select kp_calls()')).toEqual([['10:1,20:2,30:3,']])
  })

  it('plan again after the body changed the catalog (a function replaced, a column added) and when a variable\'s type changed', async () => {
    await db.query('create function kp_g() returns int language sql as $$ select 0 $$')
    await db.query(`create function kp_ddl() returns text language plpgsql as $$ declare s text := ''; begin
      for i in 1..3 loop
        execute 'create or replace function kp_g() returns int language sql as $b$ select ' || i || ' $b$';
        s := s || kp_g();
      end loop; return s; end $$`)
    expect(await rows('select kp_ddl()')).toEqual([['123']])
    await db.query(`create function kp_rec() returns text language plpgsql as $$ declare r record; s text := ''; begin
      select 1 as a into r; s := s || (r.a + 1);
      for k in 1..2 loop
        if k = 1 then select 5 as a into r; else select 'x' as a into r; end if;
        s := s || '|' || r.a;
      end loop; return s; end $$`)
    expect(await rows('select kp_rec()')).toEqual([['2|5|x']])
  })

  it('are right in recursive calls, each call with its own plans', async () => {
    await db.query(`create function kp_fib(n int) returns int language plpgsql as $$ begin
      if n < 2 then return n; end if; return kp_fib(n - 1) + kp_fib(n - 2); end $$`)
    expect(await rows('select kp_fib(15)')).toEqual([[610]])
  })

  it('hold one result at a time against statement_mem: a loop of 100,000 evaluations is not 53200', async () => {
    await db.query("set statement_mem = '2MB'")
    try {
      // Before, every evaluation's one-row result counted for the rest of the statement: 5 MB of them.
      await db.query(`do $$ declare x bigint := 0; n int; r record; begin
        for i in 1..100000 loop x := x + i; end loop;
        for i in 1..20000 loop select count(*) into n from (values (1), (2)) v; end loop;
        for i in 1..2000 loop for r in select g from generate_series(1, 10) g loop x := x + r.g; end loop; end loop;
        if x <> 5000160000 then raise exception 'wrong sum %', x; end if; end $$`)
      // Rows a statement of the body does hold at once still count.
      expect(await code(`do $$ declare n int; begin select count(*) into n from (select g from generate_series(1, 200000) g order by g desc) s; end $$`)).toBe('53200')
    } finally {
      await db.query('set statement_mem = default')
    }
  })
})

describe('PL/pgSQL loops that cannot pause', () => {
  it('are canceled past the node\'s plpgsql_hold_timeout (57014): called per row, from a trigger; others are not', async () => {
    await db.query(`create function kp_forever(n int) returns int language plpgsql as $$ begin loop end loop; end $$`)
    await db.query('create table kp_t (id int primary key)')
    await db.query(`create function kp_trig() returns trigger language plpgsql as $$ begin loop end loop; end $$`)
    await db.query('create trigger kp_loop before insert on kp_t for each row execute function kp_trig()')
    await db.query("set plpgsql_hold_timeout = '200ms'")
    try {
      expect(await failure('select kp_forever(x) from (values (1)) v(x)')).toMatchObject({ code: '57014', message: 'canceling statement due to plpgsql_hold_timeout (200 ms)' })
      expect(await code('insert into kp_t values (1)')).toBe('57014')
      expect(await code('select 1 + kp_forever(1)')).toBe('57014')
      // A handler catching query_canceled inside the loop does not keep it going.
      expect(await code(`do $$ begin loop begin loop end loop; exception when query_canceled then null; end; end loop; end $$`)).toBe('57014')
      // A loop that ends in time is not touched.
      expect(await rows(`select kp_fib(12)`)).toEqual([[144]])
    } finally {
      await db.query('set plpgsql_hold_timeout = default')
    }
    expect(await rows('show plpgsql_hold_timeout')).toEqual([['10s']])
  })
})
