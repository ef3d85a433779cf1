/**
 * ALTER FUNCTION, SQL-standard bodies (RETURN, BEGIN ATOMIC) and functions created inside
 * a transaction block (exec/function-ddl.ts), answers as PostgreSQL 15 gives them.
 */
import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

describe('function DDL', () => {
  it('RETURN expr and BEGIN ATOMIC .. END bodies run as SQL functions', async () => {
    await db.rows(`CREATE FUNCTION functest_s_1(a text, b date) RETURNS boolean LANGUAGE SQL RETURN a = 'abcd' AND b > '2001-01-01'`)
    await db.rows('CREATE FUNCTION functest_s_3() RETURNS boolean RETURN false')
    expect(await db.rows(`SELECT functest_S_1('abcd', '2020-01-01'), functest_S_3()`)).toEqual([[true, false]])
    await db.rows('create function ba(x int) returns int language sql begin atomic select x + 1; end')
    expect(await db.rows('select ba(2)')).toEqual([[3]])
    expect(await db.code('create function bad(x int) returns int language plpgsql return 1')).toBe('42P13')
    await db.rows('CREATE FUNCTION functest_s_3a() RETURNS boolean BEGIN ATOMIC ;;RETURN false;; END')
    await db.rows('CREATE FUNCTION functest_s_13() RETURNS boolean BEGIN ATOMIC SELECT 1; SELECT false; END')
    expect(await db.rows('select functest_s_3a(), functest_s_13()')).toEqual([[false, false]])
  })

  it('ALTER FUNCTION sets STRICT / CALLED ON NULL INPUT and accepts volatility and COST; an unknown function is 42883', async () => {
    await db.rows('alter function ba(int) strict')
    expect(await db.rows('select ba(null) is null')).toEqual([[true]])
    await db.rows('create function sx(x int) returns int language sql strict return 5')
    expect(await db.rows('select sx(null) is null')).toEqual([[true]])
    await db.rows('alter function sx(int) called on null input stable cost 10')
    expect(await db.rows('select sx(null)')).toEqual([[5]])
    expect(await db.code('alter function nosuch(int) volatile')).toBe('42883')
  })

  it('ALTER and DROP FUNCTION need the function\'s owner (42501 otherwise)', async () => {
    await db.rows('create role fown_user')
    await db.rows('grant create on schema public to fown_user')
    await db.rows('create function fown_a() returns int language sql return 1')
    await db.rows('set role fown_user')
    await db.rows('create function fown_c() returns int language sql return 2')
    await db.rows('alter function fown_c() strict')
    await db.rows('drop function fown_c()')
    expect(await db.code('drop function fown_a()')).toBe('42501')
    expect(await db.code('alter function fown_a() strict')).toBe('42501')
    await db.rows('reset role')
    await db.rows('drop function fown_a()')
  })

  it('a function created inside BEGIN .. COMMIT can be called before the COMMIT', async () => {
    await db.rows('begin')
    await db.rows('create function inblk() returns int language plpgsql as $$ begin return 7; end $$')
    expect(await db.rows('select inblk()')).toEqual([[7]])
    await db.rows('commit')
  })
})
