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
  const made = await databaseWithRoles(['CREATE TABLE t (id INT PRIMARY KEY, v TEXT)', "INSERT INTO t VALUES (1, 'one')"], ['alice', 'bob', 'carol'])
  db = made.db
  ;({ alice, bob, carol } = made.as as Record<'alice' | 'bob' | 'carol', Session>)
})

afterEach(async () => {
  await db.close()
})

/** pg_class.relacl's aclitems, sorted (PostgreSQL lists them in the order they were granted; Concord does not keep it). */
const acl = async (): Promise<string[] | null> => {
  const v = (await db.query("SELECT relacl::text AS acl FROM pg_class WHERE relname = 't'")).rows[0]!['acl'] as string | null
  return v === null ? null : v.slice(1, -1).split(',').sort()
}
const canRead = async (s: Session): Promise<boolean> => (await sqlState(s, 'SELECT * FROM t')) === null

describe('WITH GRANT OPTION', () => {
  it('lets a grantee grant the privilege on, recorded as the grantor, and shows it as PostgreSQL does', async () => {
    await db.query('GRANT SELECT, INSERT ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT ON t TO bob')
    expect(await canRead(bob)).toBe(true)
    expect(await sqlState(bob, 'INSERT INTO t VALUES (2, 2)')).toBe('42501')
    expect(await acl()).toEqual(['alice=a*r*/concord', 'bob=r/alice', 'concord=arwdDxt/concord'])
    const has = await db.query(`SELECT has_table_privilege('alice', 't', 'SELECT WITH GRANT OPTION') AS a, has_table_privilege('bob', 't', 'SELECT WITH GRANT OPTION') AS b,
      has_table_privilege('bob', 't', 'SELECT') AS c`)
    expect(has.rows).toEqual([{ a: true, b: false, c: true }])
    const info = await db.query(`SELECT grantor, grantee, privilege_type, is_grantable FROM information_schema.table_privileges
      WHERE table_name = 't' AND grantee IN ('alice', 'bob') ORDER BY grantee, privilege_type`)
    expect(info.rows).toEqual([
      { grantor: 'concord', grantee: 'alice', privilege_type: 'INSERT', is_grantable: 'YES' },
      { grantor: 'concord', grantee: 'alice', privilege_type: 'SELECT', is_grantable: 'YES' },
      { grantor: 'alice', grantee: 'bob', privilege_type: 'SELECT', is_grantable: 'NO' },
    ])
  })

  it('without the option: a warning and nothing granted; with no privilege at all: 42501', async () => {
    await db.query('GRANT SELECT ON t TO alice')
    const r = await alice.query('GRANT SELECT ON t TO bob')
    expect(r.notices).toEqual(['no privileges were granted for "t"'])
    expect(await canRead(bob)).toBe(false)
    expect(await sqlState(carol, 'GRANT SELECT ON t TO bob')).toBe('42501')
    // Partly held: the held one is granted, with a warning.
    await db.query('GRANT UPDATE ON t TO alice WITH GRANT OPTION')
    expect((await alice.query('GRANT SELECT, UPDATE ON t TO bob')).notices).toEqual(['not all privileges were granted for "t"'])
    expect(await acl()).toEqual(['alice=rw*/concord', 'bob=w/alice', 'concord=arwdDxt/concord'])
  })

  it('refuses a grant option for PUBLIC (0LP01)', async () => {
    expect(await sqlState(db, 'GRANT SELECT ON t TO PUBLIC WITH GRANT OPTION')).toBe('0LP01')
  })

  it('REVOKE refuses while grants made with the option exist (2BP01), and CASCADE takes them back down the chain', async () => {
    await db.query('GRANT SELECT ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT ON t TO bob WITH GRANT OPTION')
    await bob.query('GRANT SELECT ON t TO carol')
    expect(await sqlState(db, 'REVOKE SELECT ON t FROM alice')).toBe('2BP01')
    expect(await canRead(alice)).toBe(true)
    expect(await canRead(carol)).toBe(true)
    await db.query('REVOKE SELECT ON t FROM alice CASCADE')
    expect([await canRead(alice), await canRead(bob), await canRead(carol)]).toEqual([false, false, false])
    // No grant left: the default ACL (NULL; PostgreSQL shows the owner's entry once anything was granted).
    expect(await acl()).toBeNull()
  })

  it('REVOKE GRANT OPTION FOR keeps the privilege and takes back what was granted with it', async () => {
    await db.query('GRANT SELECT ON t TO alice WITH GRANT OPTION')
    await alice.query('GRANT SELECT ON t TO bob')
    await db.query('REVOKE GRANT OPTION FOR SELECT ON t FROM alice CASCADE')
    expect([await canRead(alice), await canRead(bob)]).toEqual([true, false])
    expect(await acl()).toEqual(['alice=r/concord', 'concord=arwdDxt/concord'])
    expect(await sqlState(alice, 'GRANT SELECT ON t TO carol')).toBeNull()
    expect(await canRead(carol)).toBe(false)
  })

  it('a grantee revokes only what it granted itself', async () => {
    await db.query('GRANT SELECT ON t TO alice WITH GRANT OPTION')
    await db.query('GRANT SELECT ON t TO bob')
    await alice.query('GRANT SELECT ON t TO bob')
    await alice.query('REVOKE SELECT ON t FROM bob')
    // bob keeps the owner's grant.
    expect(await canRead(bob)).toBe(true)
    expect(await acl()).toEqual(['alice=r*/concord', 'bob=r/concord', 'concord=arwdDxt/concord'])
  })
})
