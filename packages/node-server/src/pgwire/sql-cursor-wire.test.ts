import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'

// SQL cursors, SQL prepared statements and sequences through the wire server with
// node-postgres: FETCH results carry a RowDescription and a `FETCH n` tag, EXECUTE
// returns the prepared statement's rows, nextval works with a bound parameter.

let engine: SqlEngine
let server: PgServer
let client: pg.Client

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'cursor-wire', region: 'local' })
  server = new PgServer({ session: () => engine.session(), port: 0 })
  const port = await server.listen()
  client = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
  await client.connect()
  await client.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
  await client.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
}, 30_000)

afterAll(async () => {
  await client?.end().catch(() => {})
  await server?.close()
  await engine?.close()
})

describe('cursors, PREPARE and sequences over the wire', () => {
  it('DECLARE / FETCH / MOVE / CLOSE in a block; FETCH rows have fields and a FETCH n tag', async () => {
    await client.query('BEGIN')
    await client.query('DECLARE c SCROLL CURSOR FOR SELECT id, v FROM t ORDER BY id')
    const first = await client.query('FETCH 2 FROM c')
    expect(first.command).toBe('FETCH')
    expect(first.rowCount).toBe(2)
    expect(first.fields.map((f) => f.name)).toEqual(['id', 'v'])
    expect(first.rows).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
    const moved = await client.query('MOVE BACKWARD 1 IN c')
    expect([moved.command, moved.rowCount]).toEqual(['MOVE', 1])
    expect((await client.query('FETCH NEXT FROM c')).rows).toEqual([{ id: 2, v: 'b' }])
    await client.query('CLOSE c')
    await client.query('COMMIT')
    await expect(client.query('DECLARE d CURSOR FOR SELECT 1')).rejects.toMatchObject({ code: '25P01' })
  })

  it('PREPARE / EXECUTE / DEALLOCATE', async () => {
    await client.query('PREPARE byid (int) AS SELECT v FROM t WHERE id = $1')
    expect((await client.query('EXECUTE byid(3)')).rows).toEqual([{ v: 'c' }])
    await client.query('DEALLOCATE byid')
    await expect(client.query('EXECUTE byid(3)')).rejects.toMatchObject({ code: '26000' })
  })

  it('nextval with a bound sequence name; currval 55000 on a connection that never called nextval', async () => {
    await client.query('CREATE SEQUENCE wire_seq START 5')
    expect((await client.query('SELECT nextval($1) AS n', ['wire_seq'])).rows).toEqual([{ n: '5' }])
    expect((await client.query("SELECT currval('wire_seq') AS n")).rows).toEqual([{ n: '5' }])
    const other = new pg.Client({ host: '127.0.0.1', port: server.port(), user: 'concord', database: 'concord' })
    await other.connect()
    try {
      await expect(other.query("SELECT currval('wire_seq')")).rejects.toMatchObject({ code: '55000' })
      expect((await other.query("SELECT nextval('wire_seq') AS n")).rows).toEqual([{ n: '6' }])
    } finally {
      await other.end()
    }
  })
})
