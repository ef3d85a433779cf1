import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
  await db.query('CREATE ROLE reader')
  await db.query('CREATE ROLE writer')
  await db.query('GRANT SELECT ON t TO reader')
  await db.query('GRANT reader TO writer')
})

afterEach(async () => {
  await db.close()
})

async function who(s: { query: Database['query'] }): Promise<unknown> {
  return (await s.query('SELECT current_user AS c, session_user AS s')).rows[0]
}

describe('SET SESSION AUTHORIZATION and SET ROLE', () => {
  it('a superuser session runs as another role after SET SESSION AUTHORIZATION, with its privileges', async () => {
    const s = db.session()
    await s.query('SET SESSION AUTHORIZATION reader')
    expect(await who(s)).toEqual({ c: 'reader', s: 'reader' })
    expect((await s.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
    expect(await sqlState(s, 'INSERT INTO t VALUES (1)')).toBe('42501')
    expect((await s.query('SHOW is_superuser')).rows).toEqual([{ is_superuser: 'off' }])
    await s.query('RESET SESSION AUTHORIZATION')
    expect(await who(s)).toEqual({ c: 'concord', s: 'concord' })
    await s.query('INSERT INTO t VALUES (1)')
  })

  it('SET ROLE changes current_user but not session_user; NONE and RESET go back', async () => {
    const s = db.session()
    await s.query('SET ROLE writer')
    expect(await who(s)).toEqual({ c: 'writer', s: 'concord' })
    expect((await s.query('SHOW role')).rows).toEqual([{ role: 'writer' }])
    await s.query('SET ROLE NONE')
    expect(await who(s)).toEqual({ c: 'concord', s: 'concord' })
  })

  it('lets a non-superuser session user take only roles it is a member of (42501 otherwise)', async () => {
    const s = db.session()
    await s.query('SET SESSION AUTHORIZATION writer')
    await s.query('SET ROLE reader')
    expect(await who(s)).toEqual({ c: 'reader', s: 'writer' })
    await s.query('RESET ROLE')
    await s.query('SET SESSION AUTHORIZATION reader')
    expect(await sqlState(s, 'SET ROLE writer')).toBe('42501')
    expect(await sqlState(s, 'SET ROLE nobody')).toBe('42704')
  })

  it('undoes a SET ROLE made in a rolled-back block, and SET LOCAL ROLE at the block end', async () => {
    const s = db.session()
    await s.query('BEGIN')
    await s.query('SET ROLE reader')
    expect(await who(s)).toEqual({ c: 'reader', s: 'concord' })
    await s.query('ROLLBACK')
    expect(await who(s)).toEqual({ c: 'concord', s: 'concord' })
    await s.query('BEGIN')
    await s.query('SET LOCAL ROLE reader')
    expect(await sqlState(s, 'INSERT INTO t VALUES (2)')).toBe('42501')
    await s.query('COMMIT')
    expect(await who(s)).toEqual({ c: 'concord', s: 'concord' })
  })

  it('refuses SET SESSION AUTHORIZATION to another role for a session that logged in as a non-superuser', async () => {
    await db.query('CREATE ROLE alice LOGIN')
    const alice = db.session({ user: 'alice' })
    expect(await sqlState(alice, 'SET SESSION AUTHORIZATION reader')).toBe('42501')
    await alice.query('SET SESSION AUTHORIZATION alice')
    expect(await who(alice)).toEqual({ c: 'alice', s: 'alice' })
  })
})

describe('privileges checked for the role a session switched to', () => {
  it('GRANT ALL ON SCHEMA public TO public lets every role create tables and types', async () => {
    const s = db.session()
    await s.query('SET SESSION AUTHORIZATION reader')
    expect(await sqlState(s, 'CREATE TABLE mine (a INT)')).toBe('42501')
    expect(await sqlState(s, 'CREATE DOMAIN pos AS int CHECK (VALUE > 0)')).toBe('42501')
    await db.query('GRANT ALL ON SCHEMA public TO public')
    await s.query('CREATE TABLE mine (a INT)')
    await s.query('CREATE DOMAIN pos AS int CHECK (VALUE > 0)')
  })

  it('MERGE needs the privileges its actions use on the target, and SELECT on target and source', async () => {
    await db.query('CREATE TABLE src (id INT PRIMARY KEY)')
    await db.query('INSERT INTO src VALUES (1), (2)')
    await db.query('GRANT INSERT ON t TO writer')
    const s = db.session()
    await s.query('SET SESSION AUTHORIZATION writer')
    const merge = 'MERGE INTO t USING src ON t.id = src.id WHEN NOT MATCHED THEN INSERT VALUES (src.id)'
    expect(await sqlState(s, merge)).toBe('42501') // no SELECT on src
    await db.query('GRANT SELECT ON src TO writer')
    const r = await s.query(merge)
    expect(r.rowCount).toBe(2)
    expect(await sqlState(s, 'MERGE INTO t USING src ON t.id = src.id WHEN MATCHED THEN DELETE')).toBe('42501')
  })
})

describe('the role cannot be changed around the checks', () => {
  it('refuses set_config of role and session_authorization (42501), so a non-superuser cannot take a role', async () => {
    await db.query('CREATE ROLE boss SUPERUSER')
    const s = db.session()
    await s.query('SET SESSION AUTHORIZATION reader')
    expect(await sqlState(s, "SELECT set_config('role', 'boss', false)")).toBe('42501')
    expect(await sqlState(s, "SELECT set_config('session_authorization', 'boss', false)")).toBe('42501')
    expect(await who(s)).toEqual({ c: 'reader', s: 'reader' })
  })
})
