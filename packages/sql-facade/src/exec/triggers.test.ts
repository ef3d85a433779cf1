/**
 * CREATE TRIGGER / DROP TRIGGER and firing (exec/triggers.ts), answers as PostgreSQL 15
 * gives them; and the multi-master rule: a trigger fires on the node that runs the
 * statement, never where the change is replicated to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'trg1', region: 'us-west' })
})
afterAll(async () => {
  await db.close()
})

const rows = async (sql: string): Promise<unknown[][]> => (await db.query(sql)).rowArrays
const failure = async (sql: string): Promise<{ code?: string; message: string }> => {
  try {
    await db.query(sql)
  } catch (e) {
    const err = e as { code?: string; message: string }
    return { code: err.code, message: err.message }
  }
  throw new Error(`${sql} succeeded`)
}

describe('triggers', () => {
  it('BEFORE ROW triggers change NEW, skip a row by returning NULL, and see TG_OP / TG_WHEN / TG_LEVEL / TG_TABLE_NAME', async () => {
    await db.query('create table t(a int primary key, b text)')
    await db.query('create table log(op text, a int, b text)')
    await db.query(`create function tf() returns trigger language plpgsql as $$ begin
      if tg_op = 'DELETE' then insert into log values (tg_op, old.a, old.b); return old; end if;
      if new.a < 0 then return null; end if; new.b := upper(new.b);
      insert into log values (tg_op || ' ' || tg_when || ' ' || tg_level || ' ' || tg_table_name, new.a, new.b); return new; end $$`)
    await db.query('create trigger t1 before insert or update or delete on t for each row execute function tf()')
    expect((await db.query(`insert into t values (1,'x'),(-1,'y'),(2,'z')`)).rowCount).toBe(2)
    expect(await rows('select * from t order by a')).toEqual([[1, 'X'], [2, 'Z']])
    await db.query(`update t set b = 'q' where a = 1`)
    await db.query('delete from t where a = 2')
    expect(await rows('select * from t order by a')).toEqual([[1, 'Q']])
    expect(await rows('select * from log order by op, a')).toEqual([['DELETE', 2, 'Z'], ['INSERT BEFORE ROW t', 1, 'X'], ['INSERT BEFORE ROW t', 2, 'Z'], ['UPDATE BEFORE ROW t', 1, 'Q']])
  })

  it('AFTER STATEMENT and AFTER ROW triggers with WHEN and arguments (TG_ARGV from 0, TG_NARGS)', async () => {
    await db.query('create table cnt(n int)')
    await db.query('insert into cnt values (0)')
    await db.query(`create function bump() returns trigger language plpgsql as $$ begin update cnt set n = n + 1;
      insert into log values (tg_op || ' ' || tg_when || ' ' || tg_level || ' ' || tg_argv[0] || ' ' || tg_nargs, null, null); return null; end $$`)
    await db.query(`create trigger s1 after insert on t for each statement execute function bump('stmt')`)
    await db.query(`create trigger s2 after update on t for each row when (old.b is distinct from new.b) execute function bump('w', 'x')`)
    await db.query(`insert into t values (5, 'e'), (6, 'f')`)
    await db.query('update t set b = b')
    await db.query(`update t set b = 'zz'`)
    expect(await rows('select n from cnt')).toEqual([[4]])
    expect(await rows('select op from log where a is null order by op')).toEqual([['INSERT AFTER STATEMENT stmt 1'], ['UPDATE AFTER ROW w 2'], ['UPDATE AFTER ROW w 2'], ['UPDATE AFTER ROW w 2']])
  })

  it('DROP TRIGGER [IF EXISTS], and DROP FUNCTION of a trigger function in use (2BP01; CASCADE drops the trigger)', async () => {
    await db.query('drop trigger s1 on t')
    expect(await failure('drop trigger s1 on t')).toEqual({ code: '42704', message: 'trigger "s1" for table "t" does not exist' })
    expect((await db.query('drop trigger if exists s1 on t')).notices).toEqual(['trigger "s1" for relation "t" does not exist, skipping'])
    expect(await failure('drop trigger s1 on nosuch')).toEqual({ code: '42P01', message: 'relation "nosuch" does not exist' })
    expect((await db.query('drop trigger if exists s1 on nosuch')).notices).toEqual(['relation "nosuch" does not exist, skipping'])
    expect(await failure('drop trigger s1 on no_such_schema.nosuch')).toEqual({ code: '3F000', message: 'schema "no_such_schema" does not exist' })
    expect(await failure('drop function bump()')).toEqual({ code: '2BP01', message: 'cannot drop function bump() because other objects depend on it' })
    expect((await db.query('drop function bump() cascade')).notices).toEqual(['drop cascades to trigger s2 on table t'])
    await db.query(`insert into t values (7, 'g')`)
    expect(await rows('select n from cnt')).toEqual([[4]])
  })

  it('BEFORE and AFTER TRUNCATE statement triggers', async () => {
    await db.query('create table tr(a int)')
    await db.query('insert into tr values (1)')
    await db.query(`create function trunc_log() returns trigger language plpgsql as $$ begin insert into log values (tg_op || ' ' || tg_when, (select count(*) from tr), null); return null; end $$`)
    await db.query('create trigger tt1 before truncate on tr for each statement execute function trunc_log()')
    await db.query('create trigger tt2 after truncate on tr for each statement execute function trunc_log()')
    await db.query('truncate tr')
    expect(await rows(`select op, a from log where op like 'TRUNCATE%' order by op`)).toEqual([['TRUNCATE AFTER', 0], ['TRUNCATE BEFORE', 1]])
  })

  it('refuse what PostgreSQL refuses, and what Concord does not build with 0A000', async () => {
    expect(await failure('create trigger x before insert on nosuch for each row execute function tf()')).toEqual({ code: '42P01', message: 'relation "nosuch" does not exist' })
    expect(await failure('create trigger x before insert on t for each row execute function nosuch()')).toEqual({ code: '42883', message: 'function nosuch() does not exist' })
    expect(await failure('create trigger t1 before insert on t for each row execute function tf()')).toEqual({ code: '42710', message: 'trigger "t1" for relation "t" already exists' })
    expect((await failure('create trigger y before truncate on t for each row execute function tf()')).code).toBe('0A000')
    expect((await failure('create trigger y instead of insert on t for each row execute function tf()')).code).toBe('42809')
    expect(await failure('select tf()')).toEqual({ code: '0A000', message: 'trigger functions can only be called as triggers' })
    await db.query('create function noreturn() returns trigger language plpgsql as $$ begin end $$')
    await db.query('create trigger nr before insert on tr for each row execute function noreturn()')
    expect(await failure('insert into tr values (1)')).toEqual({ code: '2F005', message: 'control reached end of trigger procedure without RETURN' })
  })

  it('MERGE fires the triggers of the events its actions have; INSERT .. ON CONFLICT DO UPDATE fires UPDATE triggers too', async () => {
    await db.query('create table tgt(id int primary key, v int)')
    await db.query('create table src(id int, v int)')
    await db.query('create table ev(e text)')
    await db.query('insert into tgt values (1, 10), (2, 20)')
    await db.query('insert into src values (1, 100), (2, 200), (3, 300)')
    await db.query(`create function logit() returns trigger language plpgsql as $$ begin insert into ev values (tg_when || ' ' || tg_op || ' ' || tg_level);
      if tg_level = 'ROW' and tg_op = 'INSERT' then new.v := new.v + 1; end if; if tg_op = 'DELETE' then return old; end if; return new; end $$`)
    await db.query('create trigger b_row before insert or update or delete on tgt for each row execute function logit()')
    await db.query('create trigger a_stmt after insert or update or delete on tgt for each statement execute function logit()')
    await db.query(`merge into tgt t using src s on t.id = s.id when matched and s.id = 1 then update set v = s.v when matched then delete
      when not matched then insert values (s.id, s.v)`)
    expect(await rows('select * from tgt order by id')).toEqual([[1, 100], [3, 301]])
    expect(await rows('select e, count(*) from ev group by e order by e')).toEqual([
      ['AFTER DELETE STATEMENT', '1'], ['AFTER INSERT STATEMENT', '1'], ['AFTER UPDATE STATEMENT', '1'],
      ['BEFORE DELETE ROW', '1'], ['BEFORE INSERT ROW', '1'], ['BEFORE UPDATE ROW', '1'],
    ])
    await db.query('delete from ev')
    await db.query('insert into tgt values (1, 5), (9, 9) on conflict (id) do update set v = excluded.v * 2')
    expect(await rows('select * from tgt order by id')).toEqual([[1, 12], [3, 301], [9, 10]])
    expect(await rows('select e, count(*) from ev group by e order by e')).toEqual([['AFTER INSERT STATEMENT', '1'], ['AFTER UPDATE STATEMENT', '1'], ['BEFORE INSERT ROW', '2'], ['BEFORE UPDATE ROW', '1']])
  })

  it('transition tables (REFERENCING OLD TABLE / NEW TABLE) hold the statement\'s rows for AFTER triggers', async () => {
    await db.query('create table tt(a int, b text)')
    await db.query(`insert into tt values (1, 'x'), (2, 'y')`)
    await db.query('create table tlog(msg text)')
    await db.query(`create function trans_f() returns trigger language plpgsql as $$ begin insert into tlog values (tg_op
      || ' old=' || coalesce((select string_agg(o::text, ', ' order by a) from old_t o), '-') || ' new=' || coalesce((select string_agg(n::text, ', ' order by a) from new_t n), '-')); return null; end $$`)
    await db.query('create trigger tr_upd after update on tt referencing old table as old_t new table as new_t for each statement execute function trans_f()')
    await db.query(`create function trans_ins() returns trigger language plpgsql as $$ begin insert into tlog values ('ins ' || (select count(*) from new_t)::text || ' sum ' || (select sum(a) from new_t)::text); return null; end $$`)
    await db.query('create trigger tr_ins after insert on tt referencing new table as new_t for each statement execute function trans_ins()')
    await db.query('update tt set a = a * 10')
    await db.query(`insert into tt values (5, 'z'), (6, 'w')`)
    expect(await rows('select * from tlog order by msg')).toEqual([['UPDATE old=(1,x), (2,y) new=(10,x), (20,y)'], ['ins 2 sum 11']])
    expect((await failure('create trigger bad1 before update on tt referencing old table as o for each statement execute function trans_f()')).code).toBe('42P17')
    expect((await failure('create trigger bad2 after insert on tt referencing old table as o for each statement execute function trans_f()')).code).toBe('42P17')
    expect((await failure('create trigger bad3 after insert or update on tt referencing new table as o for each statement execute function trans_f()')).code).toBe('0A000')
  })

  it('UPDATE OF columns fires only for statements that assign one of them, in UPDATE and in ON CONFLICT DO UPDATE (as PostgreSQL 15 answers)', async () => {
    await db.query('create table uo(a int primary key, b text, c text)')
    await db.query('create table uolog(msg text)')
    await db.query(`create function uo_f() returns trigger language plpgsql as $$ begin insert into uolog values (tg_name || ' ' || new.a::text); return new; end $$`)
    await db.query('create trigger uo_b before update of b on uo for each row execute function uo_f()')
    await db.query('create trigger uo_bc after update of b, c on uo for each row execute function uo_f()')
    await db.query(`insert into uo values (1, 'x', 'y'), (2, 'x', 'y')`)
    await db.query(`update uo set c = 'q' where a = 1`)
    await db.query(`update uo set b = 'q' where a = 2`)
    await db.query(`update uo set a = 3 where a = 1`)
    await db.query(`insert into uo values (2, 'n', 'n') on conflict (a) do update set c = excluded.c`)
    await db.query(`insert into uo values (3, 'n', 'n') on conflict (a) do update set b = excluded.b`)
    expect(await rows('select msg from uolog order by msg')).toEqual([['uo_b 2'], ['uo_b 3'], ['uo_bc 1'], ['uo_bc 2'], ['uo_bc 2'], ['uo_bc 3']])
  })

  it('fire on the node that runs the statement, never where its changes are replicated to; the definition replicates', async () => {
    const cluster = await SimCluster.create({ seed: 7, nodes: [{ id: 'a', region: 'r1' }, { id: 'b', region: 'r2' }] })
    try {
      const a = cluster.node('a')
      const b = cluster.node('b')
      await a.query('create table items(id int primary key, v text)')
      await a.query('create table audit(node text, id int)')
      await a.query(`create function audit_it() returns trigger language plpgsql as $$ begin insert into audit values (tg_argv[0], new.id); return new; end $$`)
      await a.query(`create trigger au after insert on items for each row execute function audit_it('fired')`)
      await cluster.settle()
      await a.query(`insert into items values (1, 'x')`)
      await b.query(`insert into items values (2, 'y')`)
      await cluster.settle()
      // Each insert fired once, on its own node: one audit row per item on both nodes, none doubled by replication.
      for (const n of [a, b]) expect((await n.query('select id from audit order by id')).rowArrays).toEqual([[1], [2]])
    } finally {
      await cluster.close()
    }
  })
})
