import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'
import { MAX_PREPARED_BYTES } from './wire-session.js'

// One connection holding 60 prepared statements of 50 MB drove a node to 4.2 GB: the text
// and parameters a connection keeps in prepared statements and portals are bounded.

let engine: SqlEngine
let server: PgServer
let port: number

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'prep1', region: 'r1' })
  server = new PgServer({ session: () => engine.session(), port: 0 })
  port = await server.listen()
})
afterAll(async () => {
  await server.close()
  await engine.close()
})

describe('prepared statements per connection', () => {
  it('refuse a Parse past the connection bound with 53200 and keep serving the connection', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
    await c.connect()
    try {
      // Three statements of a quarter of the bound each fit; one more of half the bound does not.
      const filler = ' '.repeat(MAX_PREPARED_BYTES / 4 - 64)
      for (let i = 0; i < 3; i++) {
        const r = await c.query({ name: `s${i}`, text: `SELECT ${i}::int AS n${i}${filler}` })
        expect(r.rows).toEqual([{ [`n${i}`]: i }])
      }
      const err = await c.query({ name: 's4', text: `SELECT 4::int AS n${filler}${filler}` }).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: '53200', message: 'out of memory' })
      // The connection keeps working, and the statements it kept still run.
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect((await c.query({ name: 's1', text: `SELECT 1::int AS n1${filler}` })).rows).toEqual([{ n1: 1 }])
    } finally {
      await c.end()
    }
    // Another connection has its own bound.
    const d = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
    await d.connect()
    try {
      expect((await d.query({ name: 'big', text: `SELECT 2::int AS two${' '.repeat(MAX_PREPARED_BYTES / 2)}` })).rows).toEqual([{ two: 2 }])
    } finally {
      await d.end()
    }
  }, 120_000)
})
