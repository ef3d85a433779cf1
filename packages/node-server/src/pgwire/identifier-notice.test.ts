import { describe, expect, it } from 'vitest'
import type pg from 'pg'
import { wireServer } from './wire-server.fixture.js'

const server = wireServer('ident1')

const long = 'w'.repeat(70)
const cut = 'w'.repeat(63)

/** The notices a client receives, with the fields PostgreSQL fills. */
function collect(c: pg.Client): Array<{ severity?: string; code?: string; message: string }> {
  const got: Array<{ severity?: string; code?: string; message: string }> = []
  c.on('notice', (n) => got.push({ severity: n.severity, code: n.code, message: n.message ?? '' }))
  return got
}

describe('identifier truncation NOTICE over the wire (PostgreSQL 15: NOTICE 42622)', () => {
  it('simple query: the NOTICE comes with SQLSTATE 42622, also before an error', async () => {
    const c = await server.client()
    const got = collect(c)
    const r = await c.query(`SELECT 1 AS ${long}`)
    expect(r.fields.map((f) => f.name)).toEqual([cut])
    await expect(c.query(`SELECT * FROM ${long}`)).rejects.toMatchObject({ code: '42P01' })
    const notice = { severity: 'NOTICE', code: '42622', message: `identifier "${long}" will be truncated to "${cut}"` }
    expect(got).toEqual([notice, notice])
  })

  it('extended protocol: the NOTICE comes at Parse, and an ordinary statement sends none', async () => {
    const c = await server.client()
    const got = collect(c)
    const r = await c.query(`SELECT $1::int AS ${long}`, [5])
    expect(r.rows).toEqual([{ [cut]: 5 }])
    await c.query('SELECT $1::int AS short_name', [6])
    expect(got).toEqual([{ severity: 'NOTICE', code: '42622', message: `identifier "${long}" will be truncated to "${cut}"` }])
  })
})
