import { describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

const db = useOneNodeDb()

/** Runs `steps` in one block as `role`, returning each step's first value or SQLSTATE. */
async function asRole(role: string, steps: string[]): Promise<unknown[]> {
  await db.rows('BEGIN')
  await db.rows(`SET LOCAL SESSION AUTHORIZATION ${role}`)
  const out: unknown[] = []
  for (const s of steps) {
    const code = await db.code(s)
    if (code !== undefined) {
      out.push(code)
      break
    }
    out.push((await db.rows(`SELECT 'ok'`))[0]![0])
  }
  await db.rows('ROLLBACK')
  return out
}

// Answers checked on PostgreSQL 15.
describe('sequence privileges (USAGE, SELECT, UPDATE)', () => {
  it('nextval needs USAGE or UPDATE, currval and lastval USAGE or SELECT, setval UPDATE', async () => {
    await db.rows('CREATE USER regress_sq_u')
    await db.rows('GRANT CREATE ON SCHEMA public TO regress_sq_u')
    const prelude = ['CREATE SEQUENCE sq3', `SELECT nextval('sq3')`, 'REVOKE ALL ON sq3 FROM regress_sq_u']
    expect(await asRole('regress_sq_u', [...prelude, 'GRANT SELECT ON sq3 TO regress_sq_u', `SELECT nextval('sq3')`])).toEqual(['ok', 'ok', 'ok', 'ok', '42501'])
    expect(await asRole('regress_sq_u', [...prelude, 'GRANT UPDATE ON sq3 TO regress_sq_u', `SELECT nextval('sq3')`, `SELECT currval('sq3')`])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', '42501'])
    expect(await asRole('regress_sq_u', [...prelude, 'GRANT USAGE ON sq3 TO regress_sq_u', `SELECT currval('sq3')`, 'SELECT lastval()', `SELECT setval('sq3', 5)`])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', '42501'])
    expect(await asRole('regress_sq_u', [...prelude, 'GRANT UPDATE ON sq3 TO regress_sq_u', 'SELECT lastval()'])).toEqual(['ok', 'ok', 'ok', 'ok', '42501'])
    // The owner, and a superuser, hold them all.
    expect(await asRole('regress_sq_u', ['CREATE SEQUENCE sq5', `SELECT nextval('sq5')`, `SELECT setval('sq5', 3)`, `SELECT currval('sq5')`])).toEqual(['ok', 'ok', 'ok', 'ok'])
  })

  it('GRANT on a sequence takes its privileges only, and shows them in relacl', async () => {
    await db.rows('CREATE USER regress_sq_v')
    await db.rows('CREATE SEQUENCE sq4')
    await db.rows('CREATE TABLE tq (a int)')
    expect(await db.code('GRANT INSERT ON sq4 TO regress_sq_v')).toBeUndefined()
    expect(await db.code('GRANT USAGE ON tq TO regress_sq_v')).toBe('0LP01')
    expect(await db.code('GRANT INSERT ON SEQUENCE sq4 TO regress_sq_v')).toBe('0LP01')
    expect(await db.code('GRANT ALL ON SEQUENCE sq4 TO regress_sq_v')).toBeUndefined()
    expect(await db.rows(`SELECT relacl FROM pg_class WHERE relname = 'sq4'`)).toEqual([['{concord=rwU/concord,regress_sq_v=rwU/concord}']])
    // DROP takes the grants with it: a sequence made again with the name starts with none.
    await db.rows('DROP SEQUENCE sq4')
    await db.rows('CREATE SEQUENCE sq4')
    expect(await db.rows(`SELECT relacl FROM pg_class WHERE relname = 'sq4'`)).toEqual([[null]])
  })
})
