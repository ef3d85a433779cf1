import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { databaseWithRoles } from './login-roles.fixture.js'
import type { Session } from '../session/session.js'

let db: Database
let dave: Session
let bob: Session

/** dave owns views over t, holding column privileges on t only; bob reads and writes through them. */
beforeEach(async () => {
  const made = await databaseWithRoles(['CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b TEXT)', `INSERT INTO t VALUES (1, 'x', 'y')`], ['dave', 'bob'])
  db = made.db
  ;({ dave, bob } = made.as as Record<'dave' | 'bob', Session>)
  await db.query('GRANT CREATE ON SCHEMA public TO dave')
  await db.query('GRANT SELECT (id, a) ON t TO dave')
  await dave.query('CREATE VIEW v AS SELECT id, a FROM t')
  await dave.query('CREATE VIEW vb AS SELECT id, b FROM t')
  await dave.query('CREATE VIEW vs AS SELECT count(*) AS n FROM t')
})

afterEach(async () => {
  await db.close()
})

const denied = (message: string): object => ({ code: '42501', message })

/** Each expectation is what PostgreSQL 15 answers to the same statements. */
describe('column privileges on views', () => {
  it('a reader holding SELECT (a) on a view reads that column of it only', async () => {
    await dave.query('GRANT SELECT (a) ON v TO bob')
    expect((await bob.query('SELECT a FROM v')).rows).toEqual([{ a: 'x' }])
    expect((await bob.query('SELECT count(*)::int AS n FROM v')).rows).toEqual([{ n: 1 }])
    await expect(bob.query('SELECT id FROM v')).rejects.toMatchObject(denied('permission denied for view v'))
    await expect(bob.query('SELECT * FROM v')).rejects.toMatchObject(denied('permission denied for view v'))
    const acl = await db.query(`SELECT attname, attacl::text AS acl FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0 ORDER BY attnum`)
    expect(acl.rows).toEqual([{ attname: 'id', acl: null }, { attname: 'a', acl: '{bob=r/dave}' }])
    const has = await db.query(`SELECT has_column_privilege('bob', 'v', 'a', 'SELECT') AS a, has_column_privilege('bob', 'v', 'id', 'SELECT') AS b`)
    expect(has.rows).toEqual([{ a: true, b: false }])
  })

  it('reading through a view checks the owner\'s column privileges on the columns the view reads', async () => {
    await db.query('GRANT SELECT ON vb, vs TO bob')
    // dave holds no privilege on t.b: his view of it lends bob nothing.
    await expect(bob.query('SELECT * FROM vb')).rejects.toMatchObject(denied('permission denied for table t'))
    await expect(bob.query('SELECT id FROM vb')).rejects.toMatchObject(denied('permission denied for table t'))
    // count(*) needs SELECT on some column of t, which dave has.
    expect((await bob.query('SELECT n::int FROM vs')).rows).toEqual([{ n: 1 }])
  })

  it('writing through a view needs the owner\'s privilege on the base columns, the reader\'s on the view first', async () => {
    await dave.query('GRANT UPDATE (a), INSERT (a) ON v TO bob')
    await expect(bob.query(`UPDATE v SET a = 'z' WHERE id = 1`)).rejects.toMatchObject(denied('permission denied for view v'))
    await expect(bob.query(`UPDATE v SET a = 'z'`)).rejects.toMatchObject(denied('permission denied for table t'))
    await expect(bob.query(`INSERT INTO v (a) VALUES ('q')`)).rejects.toMatchObject(denied('permission denied for table t'))
    await db.query('GRANT UPDATE (a), INSERT (id, a) ON t TO dave')
    await dave.query('GRANT SELECT (id), INSERT (id) ON v TO bob')
    await bob.query(`UPDATE v SET a = 'z' WHERE id = 1`)
    await bob.query(`INSERT INTO v (id, a) VALUES (2, 'q')`)
    await expect(bob.query('UPDATE v SET id = 3 WHERE id = 2')).rejects.toMatchObject(denied('permission denied for view v'))
    await expect(bob.query('DELETE FROM v')).rejects.toMatchObject(denied('permission denied for view v'))
    expect((await db.query('SELECT * FROM t ORDER BY id')).rows).toEqual([{ id: 1, a: 'z', b: 'y' }, { id: 2, a: 'q', b: null }])
  })

  it('a view owner holding only SELECT on a table cannot lend writes on it (it once could)', async () => {
    await db.query('GRANT SELECT ON t TO dave')
    await dave.query('CREATE VIEW vw AS SELECT id, a FROM t')
    await dave.query('GRANT ALL ON vw TO bob')
    for (const sql of [`UPDATE vw SET a = 'hacked'`, `INSERT INTO vw VALUES (5, 'hacked')`, 'DELETE FROM vw']) {
      await expect(bob.query(sql), sql).rejects.toMatchObject(denied('permission denied for table t'))
    }
    expect((await db.query('SELECT * FROM t')).rows).toEqual([{ id: 1, a: 'x', b: 'y' }])
  })

  it('column grants on a view take WITH GRANT OPTION as on a table', async () => {
    await dave.query('GRANT SELECT (a) ON v TO bob WITH GRANT OPTION')
    await db.query('CREATE ROLE carol LOGIN')
    await bob.query('GRANT SELECT (a) ON v TO carol')
    expect((await db.session({ user: 'carol' }).query('SELECT a FROM v')).rows).toEqual([{ a: 'x' }])
    await expect(dave.query('REVOKE SELECT (a) ON v FROM bob')).rejects.toMatchObject({ code: '2BP01' })
    await dave.query('REVOKE SELECT (a) ON v FROM bob CASCADE')
    await expect(db.session({ user: 'carol' }).query('SELECT a FROM v')).rejects.toMatchObject(denied('permission denied for view v'))
  })
})
