import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { databaseWithRoles } from './login-roles.fixture.js'
import type { Session } from '../session/session.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
let alice: Session
let bob: Session
let carol: Session

beforeEach(async () => {
  const made = await databaseWithRoles(['CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b TEXT)', `INSERT INTO t VALUES (1, 'x', 'y')`], ['alice', 'bob', 'carol'])
  db = made.db
  ;({ alice, bob, carol } = made.as as Record<'alice' | 'bob' | 'carol', Session>)
})

afterEach(async () => {
  await db.close()
})

/** pg_attribute.attacl of one column of t, sorted (Concord does not keep PostgreSQL's grant order). */
const attacl = async (column: string): Promise<string[] | null> => {
  const v = (await db.query(`SELECT attacl::text AS acl FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = '${column}'`)).rows[0]!['acl'] as string | null
  return v === null ? null : v.slice(1, -1).split(',').sort()
}
const reads = async (s: Session, column: string): Promise<boolean> => (await sqlState(s, `SELECT ${column} FROM t`)) === null

/** What PostgreSQL 15 does, checked against it statement by statement. */
describe('column privileges WITH GRANT OPTION', () => {
  it('lets the grantee grant the column on, recorded as the grantor, shown with * as PostgreSQL does', async () => {
    await db.query('GRANT SELECT (a) ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT (a) ON t TO bob')
    expect([await reads(bob, 'a'), await reads(bob, 'b')]).toEqual([true, false])
    expect(await attacl('a')).toEqual(['alice=r*/concord', 'bob=r/alice'])
    const has = await db.query(`SELECT has_column_privilege('alice', 't', 'a', 'SELECT WITH GRANT OPTION') AS a, has_column_privilege('bob', 't', 'a', 'SELECT WITH GRANT OPTION') AS b,
      has_column_privilege('bob', 't', 'a', 'SELECT') AS c, has_column_privilege('alice', 't', 'b', 'SELECT WITH GRANT OPTION') AS d`)
    expect(has.rows).toEqual([{ a: true, b: false, c: true, d: false }])
    // Passed on again WITH GRANT OPTION: bob may grant it too.
    await alice.query('GRANT SELECT (a) ON t TO bob WITH GRANT OPTION')
    await bob.query('GRANT SELECT (a) ON t TO carol')
    expect(await reads(carol, 'a')).toBe(true)
    expect(await attacl('a')).toEqual(['alice=r*/concord', 'bob=r*/alice', 'carol=r/bob'])
  })

  it('without the option a warning and nothing granted; nothing held on the column is 42501 naming it', async () => {
    await db.query('GRANT SELECT (a) ON t TO alice WITH GRANT OPTION')
    expect((await alice.query('GRANT UPDATE (a) ON t TO bob')).notices).toEqual(['no privileges were granted for column "a" of relation "t"'])
    expect((await alice.query('GRANT SELECT (a), UPDATE (a) ON t TO bob')).notices).toEqual(['not all privileges were granted for column "a" of relation "t"'])
    expect(await attacl('a')).toEqual(['alice=r*/concord', 'bob=r/alice'])
    await expect(alice.query('GRANT SELECT (b) ON t TO bob')).rejects.toMatchObject({ code: '42501', message: 'permission denied for column "b" of relation "t"' })
    await expect(alice.query('GRANT SELECT (a, b) ON t TO bob')).rejects.toMatchObject({ code: '42501', message: 'permission denied for column "b" of relation "t"' })
    await expect(alice.query('GRANT SELECT ON t TO bob')).rejects.toMatchObject({ code: '42501', message: 'permission denied for table t' })
    await expect(carol.query('GRANT SELECT (a) ON t TO bob')).rejects.toMatchObject({ code: '42501', message: 'permission denied for column "a" of relation "t"' })
    // A table privilege without the option: a warning, as PostgreSQL.
    await db.query('GRANT SELECT ON t TO carol')
    expect((await carol.query('GRANT SELECT (b) ON t TO bob')).notices).toEqual(['no privileges were granted for column "b" of relation "t"'])
    expect(await sqlState(db, 'GRANT SELECT (a) ON t TO PUBLIC WITH GRANT OPTION')).toBe('0LP01')
  })

  it('REVOKE refuses while grants made with the option exist (2BP01); CASCADE takes back the chain', async () => {
    await db.query('GRANT SELECT (a, b) ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT (a, b) ON t TO bob WITH GRANT OPTION')
    await bob.query('GRANT SELECT (a) ON t TO carol')
    await expect(db.query('REVOKE SELECT (a) ON t FROM alice')).rejects.toMatchObject({ code: '2BP01', message: 'dependent privileges exist' })
    expect(await reads(carol, 'a')).toBe(true)
    await db.query('REVOKE SELECT (a) ON t FROM alice CASCADE')
    expect([await reads(alice, 'a'), await reads(bob, 'a'), await reads(carol, 'a')]).toEqual([false, false, false])
    expect(await attacl('a')).toBeNull()
    // Column b keeps its own chain.
    expect(await attacl('b')).toEqual(['alice=r*/concord', 'bob=r*/alice'])
    // A table REVOKE takes the grantee's column privileges of that kind, and the chain with CASCADE.
    expect(await sqlState(db, 'REVOKE SELECT ON t FROM alice')).toBe('2BP01')
    await db.query('REVOKE SELECT ON t FROM alice CASCADE')
    expect(await attacl('b')).toBeNull()
  })

  it('REVOKE GRANT OPTION FOR on a column keeps the privilege and takes back what was granted with it', async () => {
    await db.query('GRANT SELECT (a) ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT (a) ON t TO bob')
    expect(await sqlState(db, 'REVOKE GRANT OPTION FOR SELECT (a) ON t FROM alice')).toBe('2BP01')
    await db.query('REVOKE GRANT OPTION FOR SELECT (a) ON t FROM alice CASCADE')
    expect([await reads(alice, 'a'), await reads(bob, 'a')]).toEqual([true, false])
    expect(await attacl('a')).toEqual(['alice=r/concord'])
    expect((await alice.query('GRANT SELECT (a) ON t TO carol')).notices).toEqual(['no privileges were granted for column "a" of relation "t"'])
  })

  it('a table-level grant option lets the grantee grant columns, and those grants depend on it', async () => {
    await db.query('GRANT SELECT ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT (a) ON t TO bob')
    expect(await attacl('a')).toEqual(['bob=r/alice'])
    expect([await reads(bob, 'a'), await reads(bob, 'b')]).toEqual([true, false])
    // PostgreSQL 15 revokes alice's option here and leaves bob=r/alice behind; Concord keeps no orphan.
    expect(await sqlState(db, 'REVOKE SELECT ON t FROM alice')).toBe('2BP01')
    await db.query('REVOKE SELECT ON t FROM alice CASCADE')
    expect(await reads(bob, 'a')).toBe(false)
    expect(await attacl('a')).toBeNull()
  })

  it('a grantee revokes only what it granted itself', async () => {
    await db.query('GRANT SELECT (a) ON t TO alice WITH GRANT OPTION')
    await db.query('GRANT SELECT (a) ON t TO bob')
    await alice.query('GRANT SELECT (a) ON t TO bob')
    await alice.query('REVOKE SELECT (a) ON t FROM bob')
    expect(await reads(bob, 'a')).toBe(true)
    expect(await attacl('a')).toEqual(['alice=r*/concord', 'bob=r/concord'])
    await expect(alice.query('REVOKE SELECT (b) ON t FROM bob')).rejects.toMatchObject({ code: '42501', message: 'permission denied for column "b" of relation "t"' })
  })
})
