/**
 * A constraint violation carries the constraint, table and column as PostgreSQL's
 * ErrorResponse fields n, t, c and s: node-postgres exposes them (`err.constraint`) and
 * ORMs map a unique violation to its constraint by them. Before, the message named a
 * unique index created under its own name as `<table>_<cols>_key`, and no field was sent.
 */
import { describe, expect, it } from 'vitest'
import { wireServer } from './wire-server.fixture.js'

const wire = wireServer('error-fields')

describe('constraint violations over the wire', () => {
  it('name their constraint, table and column as PostgreSQL does', async () => {
    const c = await wire.client()
    await c.query('CREATE TABLE ef_p (id int PRIMARY KEY, email text NOT NULL, n int CONSTRAINT ef_n_pos CHECK (n > 0))')
    await c.query('CREATE UNIQUE INDEX ef_email_uq ON ef_p (email)')
    await c.query('CREATE TABLE ef_c (id int PRIMARY KEY, p int CONSTRAINT ef_c_parent REFERENCES ef_p)')
    await c.query("INSERT INTO ef_p VALUES (1, 'a@x', 1)")
    const fail = (sql: string) => c.query(sql).then(() => null, (e: Record<string, unknown>) => ({ code: e['code'], message: e['message'], schema: e['schema'], table: e['table'], column: e['column'], constraint: e['constraint'] }))
    expect(await fail("INSERT INTO ef_p VALUES (2, 'a@x', 1)")).toEqual({ code: '23505', message: 'duplicate key value violates unique constraint "ef_email_uq"', schema: 'public', table: 'ef_p', column: undefined, constraint: 'ef_email_uq' })
    expect(await fail("INSERT INTO ef_p VALUES (1, 'b@x', 1)")).toMatchObject({ code: '23505', table: 'ef_p', constraint: 'ef_p_pkey' })
    expect(await fail('INSERT INTO ef_p VALUES (3, NULL, 1)')).toMatchObject({ code: '23502', schema: 'public', table: 'ef_p', column: 'email', constraint: undefined })
    expect(await fail("INSERT INTO ef_p VALUES (4, 'c@x', 0)")).toMatchObject({ code: '23514', table: 'ef_p', constraint: 'ef_n_pos' })
    expect(await fail('INSERT INTO ef_c VALUES (1, 9)')).toMatchObject({ code: '23503', table: 'ef_c', constraint: 'ef_c_parent' })
    await c.query('INSERT INTO ef_c VALUES (1, 1)')
    expect(await fail('DELETE FROM ef_p')).toMatchObject({ code: '23503', table: 'ef_c', constraint: 'ef_c_parent' })
  })
})
