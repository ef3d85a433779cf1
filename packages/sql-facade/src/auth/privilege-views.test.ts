// information_schema's privilege views. The same rows are checked against PostgreSQL 15
// by the conformance corpus (test/conformance/corpus/privileges.slt); these cover what
// the corpus cannot: logged-in sessions, a recreated table, the bootstrap superuser's name.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { databaseWithRoles } from './login-roles.fixture.js'
import type { Session } from '../session/session.js'

let db: Database
let alice: Session
let bob: Session
let carol: Session

beforeEach(async () => {
  const made = await databaseWithRoles(['CREATE TABLE t (id INT PRIMARY KEY, v TEXT, secret TEXT)'], ['alice', 'bob', 'carol'])
  db = made.db
  ;({ alice, bob, carol } = made.as as Record<'alice' | 'bob' | 'carol', Session>)
})

afterEach(async () => {
  await db.close()
})

const COLUMN_ROWS = `SELECT grantor, grantee, table_catalog, table_schema, table_name, column_name, privilege_type, is_grantable
  FROM information_schema.column_privileges WHERE grantee <> 'concord' ORDER BY column_name, grantee, privilege_type, is_grantable`

describe('information_schema.column_privileges', () => {
  it('has a row per column for a table grant and per granted column for a column grant, with PostgreSQL columns', async () => {
    await db.query('GRANT UPDATE ON t TO alice')
    await db.query('GRANT SELECT (id, v) ON t TO bob WITH GRANT OPTION')
    await db.query('GRANT DELETE, TRUNCATE ON t TO carol') // no column privileges: no rows
    const r = await db.query(COLUMN_ROWS)
    expect(r.fields.map((f) => f.name)).toEqual(['grantor', 'grantee', 'table_catalog', 'table_schema', 'table_name', 'column_name', 'privilege_type', 'is_grantable'])
    expect(r.rows).toEqual([
      { grantor: 'concord', grantee: 'alice', table_catalog: 'concord', table_schema: 'public', table_name: 't', column_name: 'id', privilege_type: 'UPDATE', is_grantable: 'NO' },
      { grantor: 'concord', grantee: 'bob', table_catalog: 'concord', table_schema: 'public', table_name: 't', column_name: 'id', privilege_type: 'SELECT', is_grantable: 'YES' },
      { grantor: 'concord', grantee: 'alice', table_catalog: 'concord', table_schema: 'public', table_name: 't', column_name: 'secret', privilege_type: 'UPDATE', is_grantable: 'NO' },
      { grantor: 'concord', grantee: 'alice', table_catalog: 'concord', table_schema: 'public', table_name: 't', column_name: 'v', privilege_type: 'UPDATE', is_grantable: 'NO' },
      { grantor: 'concord', grantee: 'bob', table_catalog: 'concord', table_schema: 'public', table_name: 't', column_name: 'v', privilege_type: 'SELECT', is_grantable: 'YES' },
    ])
    // The owner's implicit privileges: the four column privileges on each column.
    const own = await db.query(`SELECT count(*)::int AS n FROM information_schema.column_privileges WHERE grantee = 'concord' AND table_name = 't'`)
    expect(own.rows).toEqual([{ n: 12 }])
  })

  it('shows a column granted both ways once, and twice when only one way carries the option (as PostgreSQL\'s UNION)', async () => {
    await db.query('GRANT SELECT ON t TO alice')
    await db.query('GRANT SELECT (id) ON t TO alice')
    await db.query('GRANT SELECT (v) ON t TO alice WITH GRANT OPTION')
    const r = await db.query(`SELECT column_name, is_grantable FROM information_schema.column_privileges WHERE grantee = 'alice' ORDER BY 1, 2`)
    expect(r.rows).toEqual([
      { column_name: 'id', is_grantable: 'NO' }, { column_name: 'secret', is_grantable: 'NO' }, { column_name: 'v', is_grantable: 'NO' }, { column_name: 'v', is_grantable: 'YES' },
    ])
  })

  it('shows a logged-in role only the grants it gave or holds (itself or through a role it inherits) and those to PUBLIC', async () => {
    await db.query('CREATE ROLE readers')
    await db.query('GRANT readers TO carol')
    await db.query('GRANT SELECT (id) ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT (id) ON t TO bob')
    await db.query('GRANT SELECT (v) ON t TO readers')
    await db.query('GRANT REFERENCES (id) ON t TO PUBLIC')
    const seen = async (s: Session): Promise<string[]> =>
      (await s.query(`SELECT grantor || '>' || grantee || ':' || column_name || ':' || privilege_type AS g FROM information_schema.column_privileges ORDER BY 1`)).rows.map((x) => x['g'] as string)
    expect(await seen(alice)).toEqual(['alice>bob:id:SELECT', 'concord>PUBLIC:id:REFERENCES', 'concord>alice:id:SELECT'])
    expect(await seen(bob)).toEqual(['alice>bob:id:SELECT', 'concord>PUBLIC:id:REFERENCES'])
    expect(await seen(carol)).toEqual(['concord>PUBLIC:id:REFERENCES', 'concord>readers:v:SELECT'])
    // role_column_grants: grantor or grantee an enabled role, PUBLIC only through its grantor.
    const roleGrants = await alice.query(`SELECT grantor, grantee, column_name FROM information_schema.role_column_grants ORDER BY 1, 2`)
    expect(roleGrants.rows).toEqual([{ grantor: 'alice', grantee: 'bob', column_name: 'id' }, { grantor: 'concord', grantee: 'alice', column_name: 'id' }])
  })

  it('forgets the grants of a dropped table when one of that name is created again, and lists views\' columns', async () => {
    await db.query('GRANT SELECT (v) ON t TO alice')
    await db.query('DROP TABLE t')
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await db.query('CREATE VIEW tv AS SELECT id, v FROM t')
    await db.query('GRANT INSERT ON tv TO bob')
    const r = await db.query(`SELECT table_name, column_name, grantee, privilege_type FROM information_schema.column_privileges WHERE grantee <> 'concord' ORDER BY 1, 2`)
    expect(r.rows).toEqual([
      { table_name: 'tv', column_name: 'id', grantee: 'bob', privilege_type: 'INSERT' },
      { table_name: 'tv', column_name: 'v', grantee: 'bob', privilege_type: 'INSERT' },
    ])
  })
})

describe('information_schema.table_privileges and role_table_grants', () => {
  it('give is_grantable YES to a superuser grantee and to a role inheriting the owner, as PostgreSQL', async () => {
    await db.query('CREATE ROLE boss SUPERUSER')
    await db.query('CREATE ROLE deputy')
    await db.query('GRANT concord TO deputy')
    await db.query('GRANT SELECT ON t TO boss, deputy, alice')
    const r = await db.query(`SELECT grantee, is_grantable FROM information_schema.table_privileges WHERE table_name = 't' AND privilege_type = 'SELECT' ORDER BY 1`)
    expect(r.rows).toEqual([
      { grantee: 'alice', is_grantable: 'NO' }, { grantee: 'boss', is_grantable: 'YES' }, { grantee: 'concord', is_grantable: 'YES' }, { grantee: 'deputy', is_grantable: 'YES' },
    ])
  })

  it('role_table_grants keeps a grant to PUBLIC for its grantor and a superuser, not for others', async () => {
    await db.query('GRANT SELECT ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT ON t TO PUBLIC')
    const publicRows = async (s: Session | Database): Promise<number> =>
      (await s.query(`SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE grantee = 'PUBLIC'`)).rows[0]!['n'] as number
    expect([await publicRows(db), await publicRows(alice), await publicRows(bob)]).toEqual([1, 1, 0])
    // table_privileges shows grants to PUBLIC to everyone.
    expect((await bob.query(`SELECT grantor FROM information_schema.table_privileges WHERE grantee = 'PUBLIC'`)).rows).toEqual([{ grantor: 'alice' }])
  })
})
