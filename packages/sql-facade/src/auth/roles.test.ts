import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import type { Session } from '../session/session.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import { parseScramVerifier, scramVerifier } from './scram-verifier.js'
import { hmacSha256, pbkdf2Sha256, sha256 } from './sha256.js'

let db: Database
let alice: Session

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
  await db.query("INSERT INTO t VALUES (1, 'one')")
  await db.query("CREATE ROLE alice WITH LOGIN PASSWORD 's3cret'")
  alice = db.session({ user: 'alice' })
})
afterEach(async () => {
  await db.close()
})

describe('SCRAM-SHA-256 primitives', () => {
  it('match the published test vectors', () => {
    expect(hex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(hex(sha256(utf8('a'.repeat(1000))))).toBe('41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3')
    expect(hex(hmacSha256(utf8('key'), utf8('The quick brown fox jumps over the lazy dog')))).toBe('f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8')
    expect(hex(pbkdf2Sha256(utf8('password'), utf8('salt'), 4096))).toBe('c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a')
    // A key longer than a block is hashed once (RFC 4231 test case 6).
    expect(hex(hmacSha256(new Uint8Array(131).fill(0xaa), utf8('Test Using Larger Than Block-Size Key - Hash Key First'))))
      .toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
  })

  it('hashes a long password once per verifier, not once per round', async () => {
    await db.query(`CREATE ROLE big PASSWORD '${'x'.repeat(2_000_000)}'`)
    expect(parseScramVerifier((await db.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'big'")).rows[0]!['rolpassword'] as string)).not.toBeNull()
  })

  it('builds the verifier RFC 7677 gives for its example password and salt', () => {
    const salt = Uint8Array.from([0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81])
    expect(scramVerifier('pencil', salt)).toBe('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=')
    expect(parseScramVerifier('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:bad')).toBeNull()
  })
})

describe('roles', () => {
  it('stores the password only as a SCRAM-SHA-256 verifier and lists the role in pg_roles', async () => {
    const r = await db.query("SELECT rolname, rolcanlogin, rolsuper, rolpassword FROM pg_roles WHERE rolname = 'alice'")
    expect(r.rows).toEqual([{ rolname: 'alice', rolcanlogin: true, rolsuper: false, rolpassword: '********' }])
    const auth = await db.query("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")
    const verifier = auth.rows[0]!['rolpassword'] as string
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/)
    expect(verifier).not.toContain('s3cret')
    expect(JSON.stringify(db.replica.listCatalog('role'))).not.toContain('s3cret')
  })

  it('accepts a pre-hashed verifier as it is (what psql \\password sends)', async () => {
    // psql's \password asks which algorithm to hash with.
    expect((await db.query('SHOW password_encryption')).rows).toEqual([{ password_encryption: 'scram-sha-256' }])
    expect(await sqlState(db, "SET password_encryption = 'md5'")).toBe('22023')
    const v = scramVerifier('other')
    await db.query(`CREATE USER bob PASSWORD '${v}'`)
    expect((await db.query("SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = 'bob'")).rows).toEqual([{ rolpassword: v, rolcanlogin: true }])
    expect(await sqlState(db, "CREATE USER carol PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'")).toBe('22023')
  })

  it('refuses duplicates, reserved names and unknown roles as PostgreSQL does', async () => {
    expect(await sqlState(db, 'CREATE ROLE alice')).toBe('42710')
    expect(await sqlState(db, 'CREATE ROLE concord')).toBe('42710')
    expect(await sqlState(db, 'CREATE ROLE postgres')).toBe('42710')
    expect(await sqlState(db, 'CREATE ROLE pg_mine')).toBe('42939')
    expect(await sqlState(db, 'DROP ROLE nobody')).toBe('42704')
    expect((await db.query('DROP ROLE IF EXISTS nobody')).notices).toEqual(['role "nobody" does not exist, skipping'])
    expect(await sqlState(db, 'GRANT SELECT ON t TO nobody')).toBe('42704')
    expect(await sqlState(db, 'DROP ROLE concord')).toBe('55006')
    expect(await sqlState(db, 'CREATE ROLE r REPLICATION')).toBe('0A000')
  })

  it('alters, renames and drops roles', async () => {
    await db.query('ALTER ROLE alice WITH NOLOGIN CREATEROLE')
    await db.query('ALTER ROLE alice RENAME TO alicia')
    const r = await db.query("SELECT rolname, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname LIKE 'ali%'")
    expect(r.rows).toEqual([{ rolname: 'alicia', rolcanlogin: false, rolcreaterole: true }])
    await db.query('DROP ROLE alicia')
    expect((await db.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE 'ali%'")).rows).toEqual([{ n: 0 }])
  })

  it('refuses to drop a role that holds privileges (2BP01) until they are revoked', async () => {
    await db.query('GRANT SELECT ON t TO alice')
    expect(await sqlState(db, 'DROP ROLE alice')).toBe('2BP01')
    await db.query('REVOKE ALL ON t FROM alice')
    await db.query('DROP ROLE alice')
  })

  it('answers current_user, session_user and current_role with the session role', async () => {
    expect((await alice.query('SELECT current_user AS a, session_user AS b, current_role AS c, user AS d')).rows).toEqual([{ a: 'alice', b: 'alice', c: 'alice', d: 'alice' }])
    expect((await alice.query('SHOW is_superuser')).rows).toEqual([{ is_superuser: 'off' }])
    expect((await db.query('SHOW is_superuser')).rows).toEqual([{ is_superuser: 'on' }])
    expect(await sqlState(alice, 'SET ROLE concord')).toBe('42501')
    expect(await sqlState(alice, 'SET SESSION AUTHORIZATION concord')).toBe('42501')
    expect((await alice.query('SELECT current_user AS u')).rows).toEqual([{ u: 'alice' }])
    await alice.query('RESET ROLE')
  })

  it('refuses a session as an unknown role once a LOGIN role exists (28000), and lets any name in before', async () => {
    expect(await sqlState(db.session({ user: 'mallory' }), 'SELECT 1')).toBe('28000')
    // postgres is the bootstrap superuser's other name (PostgreSQL's tools connect as it).
    expect((await db.session({ user: 'postgres' }).query('SELECT current_user AS u, rolsuper FROM pg_roles WHERE oid = 10')).rows).toEqual([{ u: 'postgres', rolsuper: true }])
    // Dropping every LOGIN role does not reopen the node.
    await db.query('DROP ROLE alice')
    expect(await sqlState(db.session({ user: 'mallory' }), 'SELECT 1')).toBe('28000')
    const fresh = await openDatabase({ nodeId: 'n2' })
    try {
      await fresh.query('CREATE TABLE x (id INT PRIMARY KEY)')
      expect(await sqlState(fresh.session({ user: 'postgres' }), 'DROP TABLE x')).toBeNull()
    } finally {
      await fresh.close()
    }
  })
})

describe('privileges', () => {
  it('denies every table access without a grant (42501, naming the table)', async () => {
    await expect(alice.query('SELECT * FROM t')).rejects.toMatchObject({ code: '42501', message: 'permission denied for table t' })
    expect(await sqlState(alice, "INSERT INTO t VALUES (2, 'two')")).toBe('42501')
    expect(await sqlState(alice, "UPDATE t SET v = 'x'")).toBe('42501')
    expect(await sqlState(alice, 'DELETE FROM t')).toBe('42501')
    expect(await sqlState(alice, 'TRUNCATE t')).toBe('42501')
    expect(await sqlState(alice, 'SELECT 1 + 1')).toBeNull()
  })

  it('allows exactly what was granted', async () => {
    await db.query('GRANT SELECT ON TABLE t TO alice')
    expect((await alice.query('SELECT v FROM t')).rows).toEqual([{ v: 'one' }])
    await expect(alice.query("INSERT INTO t VALUES (2, 'two')")).rejects.toMatchObject({ code: '42501', message: 'permission denied for table t' })
    await db.query('GRANT INSERT ON t TO alice')
    await alice.query("INSERT INTO t VALUES (2, 'two')")
    // UPDATE with WHERE reads the table too; UPDATE privilege alone is not enough without a grant.
    expect(await sqlState(alice, "UPDATE t SET v = 'x' WHERE id = 1")).toBe('42501')
    await db.query('REVOKE SELECT ON t FROM alice')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBe('42501')
    expect(await sqlState(alice, "INSERT INTO t VALUES (3, 'three') RETURNING id")).toBe('42501')
    await alice.query("INSERT INTO t VALUES (3, 'three')")
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 3 }])
  })

  it('checks tables read inside subqueries, joins, CTEs and SQL functions', async () => {
    await db.query('CREATE TABLE secret (id INT PRIMARY KEY, s TEXT)')
    await db.query('GRANT SELECT ON t TO alice')
    await db.query('CREATE FUNCTION peek() RETURNS BIGINT LANGUAGE sql AS $$ SELECT count(*) FROM secret $$')
    expect(await sqlState(alice, 'SELECT * FROM t WHERE id IN (SELECT id FROM secret)')).toBe('42501')
    expect(await sqlState(alice, 'SELECT * FROM t JOIN secret USING (id)')).toBe('42501')
    expect(await sqlState(alice, 'WITH secret AS (SELECT * FROM secret) SELECT * FROM secret')).toBe('42501')
    expect(await sqlState(alice, 'WITH x AS (SELECT 1 AS id) SELECT * FROM x JOIN t USING (id)')).toBeNull()
    expect(await sqlState(alice, 'SELECT peek()')).toBe('42501')
    expect(await sqlState(alice, "INSERT INTO t SELECT id, s FROM secret")).toBe('42501')
  })

  it('grants to PUBLIC, on ALL TABLES IN SCHEMA public, and through role membership', async () => {
    await db.query('CREATE TABLE u (id INT PRIMARY KEY)')
    await db.query('GRANT SELECT ON t TO PUBLIC')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBeNull()
    expect(await sqlState(alice, 'SELECT * FROM u')).toBe('42501')
    await db.query('CREATE ROLE readers')
    await db.query('GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO readers')
    await db.query('GRANT readers TO alice')
    await alice.query('INSERT INTO u VALUES (1)')
    await db.query('REVOKE readers FROM alice')
    expect(await sqlState(alice, 'INSERT INTO u VALUES (2)')).toBe('42501')
  })

  it('gives pg_read_all_data SELECT and pg_write_all_data writes on every table', async () => {
    await db.query('GRANT pg_read_all_data TO alice')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBeNull()
    expect(await sqlState(alice, 'DELETE FROM t')).toBe('42501')
    await db.query('GRANT pg_write_all_data TO alice')
    await alice.query('DELETE FROM t WHERE id = 1')
    expect(await sqlState(alice, 'TRUNCATE t')).toBe('42501')
  })

  it('lets superusers do everything and keeps DDL for superusers and owners', async () => {
    await db.query('CREATE ROLE boss SUPERUSER LOGIN')
    const boss = db.session({ user: 'boss' })
    await boss.query('CREATE TABLE b (id INT PRIMARY KEY)')
    await boss.query('INSERT INTO t VALUES (9, null)')
    expect(await sqlState(alice, 'CREATE TABLE mine (id INT PRIMARY KEY)')).toBe('42501')
    expect(await sqlState(alice, 'DROP TABLE t')).toBe('42501')
    expect(await sqlState(alice, 'ALTER TABLE t ADD COLUMN w INT')).toBe('42501')
    expect(await sqlState(alice, 'CREATE ROLE eve')).toBe('42501')
    expect(await sqlState(alice, 'ALTER SYSTEM SET conflict_resolution_policy = first_write_wins')).toBe('42501')
    expect(await sqlState(alice, 'GRANT SELECT ON t TO alice')).toBe('42501')
    // The owner of a table has every privilege on it and may alter and drop it.
    await db.query('ALTER TABLE t OWNER TO alice')
    expect((await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 't'")).rows).toEqual([{ tableowner: 'alice' }])
    await alice.query("UPDATE t SET v = 'mine' WHERE id = 1")
    await alice.query('GRANT SELECT ON t TO PUBLIC')
    await alice.query('ALTER TABLE t ADD COLUMN w INT')
    await alice.query('DROP TABLE t')
    // A role created by a CREATEROLE role may be dropped by it.
    await db.query('ALTER ROLE alice CREATEROLE')
    await alice.query('CREATE ROLE eve')
    await alice.query('DROP ROLE eve')
  })

  it('lets a role change its own password but not its attributes', async () => {
    await alice.query("ALTER ROLE alice PASSWORD 'new'")
    expect(await sqlState(alice, 'ALTER ROLE alice SUPERUSER')).toBe('42501')
    expect(await sqlState(alice, 'ALTER ROLE alice CREATEROLE')).toBe('42501')
  })

  it('answers has_table_privilege, relacl and information_schema.table_privileges from the grants', async () => {
    await db.query('GRANT SELECT, UPDATE ON t TO alice')
    const r = await db.query(`SELECT has_table_privilege('alice', 't', 'SELECT') AS s, has_table_privilege('alice', 't', 'INSERT') AS i,
      has_table_privilege('t', 'INSERT') AS mine`)
    expect(r.rows).toEqual([{ s: true, i: false, mine: true }])
    expect((await alice.query("SELECT has_table_privilege('t', 'UPDATE') AS u")).rows).toEqual([{ u: true }])
    expect((await db.query("SELECT relacl::text AS acl FROM pg_class WHERE relname = 't'")).rows).toEqual([{ acl: '{concord=arwdDxt/concord,alice=rw/concord}' }])
    const p = await db.query("SELECT grantee, privilege_type FROM information_schema.table_privileges WHERE table_name = 't' AND grantee = 'alice' ORDER BY 2")
    expect(p.rows).toEqual([{ grantee: 'alice', privilege_type: 'SELECT' }, { grantee: 'alice', privilege_type: 'UPDATE' }])
    const m = await db.query("GRANT pg_read_all_data TO alice; SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles u ON u.oid = a.member WHERE u.rolname = 'alice'")
    expect(m.rows).toEqual([{ rolname: 'pg_read_all_data' }])
  })

  it('forgets the grants of a dropped table: a new table of the name starts with none', async () => {
    await db.query('GRANT SELECT ON t TO alice')
    await db.query('DROP TABLE t')
    await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBe('42501')
  })
})

describe('roles inside a transaction block', () => {
  it('see the block\'s own grants and role changes, and lose them on ROLLBACK', async () => {
    await db.query('CREATE ROLE boss SUPERUSER')
    const admin = db.session()
    await admin.query('BEGIN')
    await admin.query('GRANT SELECT ON t TO alice')
    expect((await admin.query("SELECT has_table_privilege('alice', 't', 'SELECT') AS s")).rows).toEqual([{ s: true }])
    await admin.query('ROLLBACK')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBe('42501')
    await alice.query('BEGIN')
    expect(await sqlState(alice, 'SELECT * FROM t')).toBe('42501')
    await alice.query('ROLLBACK')
  })
})

describe('CREATE on schema public', () => {
  it('lets a granted role create tables it owns, and checks what they refer to', async () => {
    await db.query('CREATE TABLE secret (id INT PRIMARY KEY)')
    await db.query('CREATE ROLE bob LOGIN')
    const bob = db.session({ user: 'bob' })
    expect((await alice.query("SELECT has_schema_privilege('public', 'CREATE') AS c, has_schema_privilege('public', 'USAGE') AS u")).rows).toEqual([{ c: false, u: true }])
    expect(await sqlState(alice, 'CREATE TABLE mine (id INT PRIMARY KEY)')).toBe('42501')
    await db.query('GRANT CREATE ON SCHEMA public TO alice')
    expect((await alice.query("SELECT has_schema_privilege('public', 'CREATE') AS c")).rows).toEqual([{ c: true }])
    await alice.query('CREATE TABLE mine (id INT PRIMARY KEY, v TEXT)')
    expect((await db.query("SELECT tableowner FROM pg_tables WHERE tablename = 'mine'")).rows).toEqual([{ tableowner: 'alice' }])
    await alice.query("INSERT INTO mine VALUES (1, 'a')")
    await alice.query('GRANT SELECT ON mine TO bob')
    expect((await bob.query('SELECT v FROM mine')).rows).toEqual([{ v: 'a' }])
    expect(await sqlState(bob, 'DELETE FROM mine')).toBe('42501')
    // A foreign key to a table needs REFERENCES on it; LIKE needs SELECT; CREATE TABLE AS its reads.
    expect(await sqlState(alice, 'CREATE TABLE probe (id INT PRIMARY KEY REFERENCES secret (id))')).toBe('42501')
    expect(await sqlState(alice, 'ALTER TABLE mine ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES secret (id)')).toBe('42501')
    expect(await sqlState(alice, 'CREATE TABLE copy (LIKE secret)')).toBe('42501')
    expect(await sqlState(alice, 'CREATE TABLE copy AS SELECT * FROM secret')).toBe('42501')
    await alice.query('CREATE VIEW mine_v AS SELECT v FROM mine')
    await alice.query('GRANT SELECT ON mine_v TO bob')
    await alice.query('REVOKE SELECT ON mine FROM bob')
    // A view reads its tables with its owner's rights.
    expect((await bob.query('SELECT v FROM mine_v')).rows).toEqual([{ v: 'a' }])
    await alice.query('DROP VIEW mine_v')
    await alice.query('DROP TABLE mine')
    await db.query('REVOKE CREATE ON SCHEMA public FROM alice')
    expect(await sqlState(alice, 'CREATE TABLE again (id INT PRIMARY KEY)')).toBe('42501')
  })

  it('does not let a view owner read through the view what the owner itself may not read', async () => {
    await db.query('CREATE TABLE secret (id INT PRIMARY KEY)')
    await db.query('GRANT CREATE ON SCHEMA public TO alice')
    expect(await sqlState(alice, 'CREATE VIEW peek AS SELECT * FROM secret')).toBeNull()
    expect(await sqlState(alice, 'SELECT * FROM peek')).toBe('42501')
  })
})
