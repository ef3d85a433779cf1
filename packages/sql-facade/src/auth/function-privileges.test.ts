import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseWithRoles, type RolesDatabase } from './login-roles.fixture.js'

let rdb: RolesDatabase

beforeAll(async () => {
  rdb = await databaseWithRoles([
    'CREATE TABLE secret (id INT PRIMARY KEY, v TEXT)',
    "INSERT INTO secret VALUES (1, 'a'), (2, 'b')",
    'CREATE TABLE open_t (id INT PRIMARY KEY)',
    'INSERT INTO open_t VALUES (1)',
    'CREATE FUNCTION sql_reads() RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM secret $$',
    'CREATE FUNCTION std_reads() RETURNS BIGINT STABLE RETURN (SELECT count(*) FROM secret)',
    'CREATE FUNCTION atomic_reads() RETURNS BIGINT STABLE BEGIN ATOMIC SELECT count(*) FROM secret; END',
    'CREATE FUNCTION pl_expr_reads() RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN (SELECT count(*) FROM secret); END $$',
    'CREATE FUNCTION pl_into_reads() RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$ DECLARE n BIGINT; BEGIN SELECT count(*) INTO n FROM secret; RETURN n; END $$',
    'CREATE FUNCTION pl_plain(x INT) RETURNS INT LANGUAGE plpgsql IMMUTABLE AS $$ DECLARE y INT := x * 2; BEGIN y := y + 1; RETURN y; END $$',
    'CREATE FUNCTION pl_open() RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN (SELECT count(*) FROM open_t); END $$',
    'GRANT SELECT ON open_t TO PUBLIC',
  ], ['caller'])
})
afterAll(async () => {
  await rdb.db.close()
})

describe("a function's body reads as the calling role", () => {
  it('SQL, SQL-standard and PL/pgSQL bodies reading a table the caller may not read: 42501', async () => {
    for (const f of ['sql_reads()', 'std_reads()', 'atomic_reads()', 'pl_expr_reads()', 'pl_into_reads()']) {
      await expect(rdb.as['caller']!.query(`SELECT ${f}`), f).rejects.toMatchObject({ code: '42501', message: 'permission denied for table secret' })
    }
  })

  it('PL/pgSQL functions reading nothing, or what the caller may read, answer', async () => {
    expect((await rdb.as['caller']!.query('SELECT pl_plain(2) AS v')).rows).toEqual([{ v: 5 }])
    expect((await rdb.as['caller']!.query('SELECT pl_open() AS v')).rows).toEqual([{ v: '1' }])
  })

  it('with SELECT granted, every body answers', async () => {
    await rdb.db.query('GRANT SELECT ON secret TO caller')
    for (const f of ['sql_reads()', 'std_reads()', 'atomic_reads()', 'pl_expr_reads()', 'pl_into_reads()']) {
      expect((await rdb.as['caller']!.query(`SELECT ${f} AS v`)).rows, f).toEqual([{ v: '2' }])
    }
  })
})
