/**
 * A PL/pgSQL loop does not freeze the node (issue 15, docs/decisions/0039-pausable-plpgsql.md):
 * `DO $$ BEGIN LOOP END LOOP; END $$` held every client of the node for ever (no
 * statement_timeout by default), a cancel request could not be read, and a loop of
 * 3,000,000 assignments ran 63 s and then failed with a false 53200. Now a DO block and
 * `SELECT f(..)` of a PL/pgSQL function pause in their loops: other clients are answered,
 * a cancel request stops them, and they stay one transaction; a loop that cannot pause
 * (called per row, from a trigger) is canceled past the node's plpgsql_hold_timeout.
 * A real `concord start` on
 * 127.0.0.1; clients give up after 60 s, so the old behaviour fails instead of hanging.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { sendCancelRequest } from '../../packages/node-server/src/pgwire/raw-wire-socket.fixture.js'
import { ConcordProcess } from './concord-process.js'

let dir: string
let node: ConcordProcess
const clients: pg.Client[] = []

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', query_timeout: 60_000 })
  await c.connect()
  clients.push(c)
  return c
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string; message: string }
  }
  throw new Error('succeeded')
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-plpgsql-'))
  node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'plloop' })
  const admin = await client()
  await admin.query('CREATE TABLE flag (id INT PRIMARY KEY)')
  await admin.query('CREATE TABLE log (id INT PRIMARY KEY, v BIGINT)')
  await admin.query(`CREATE FUNCTION forever() RETURNS INT LANGUAGE plpgsql AS $$ BEGIN LOOP END LOOP; END $$`)
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('PL/pgSQL loops', () => {
  it('a DO block looping until another client\'s row appears: that client is served, and the block sees its commit', async () => {
    const [looping, other] = await Promise.all([client(), client()])
    const run = looping.query(`DO $$ DECLARE n BIGINT := 0; BEGIN
      FOR i IN 1..50000000 LOOP n := i; EXIT WHEN i % 1000 = 0 AND EXISTS (SELECT 1 FROM flag); END LOOP;
      INSERT INTO log VALUES (1, n); END $$`)
    expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await other.query('INSERT INTO flag VALUES (1)')
    expect((await run).command).toBe('DO')
    const { rows } = await other.query<{ v: string }>('SELECT v FROM log WHERE id = 1')
    expect(Number(rows[0]!.v)).toBeLessThan(50_000_000)
  }, 120_000)

  it('a cancel request stops an endless loop with 57014, in a DO block and in SELECT f(); statement_timeout does too', async () => {
    const [looping, other] = await Promise.all([client(), client()])
    const { processID, secretKey } = looping as unknown as { processID: number; secretKey: number }
    for (const sql of ['DO $$ BEGIN INSERT INTO log VALUES (2, 2); LOOP END LOOP; END $$', 'SELECT forever()']) {
      const run = failure(looping.query(sql))
      expect((await other.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
      await sendCancelRequest(node.pgPort, processID, secretKey)
      expect(await run).toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    }
    // The DO block's INSERT was rolled back with it; the connection goes on.
    expect((await other.query('SELECT count(*)::int AS n FROM log WHERE id = 2')).rows).toEqual([{ n: 0 }])
    await looping.query("SET statement_timeout = '300ms'")
    expect(await failure(looping.query('SELECT forever()'))).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' })
    expect((await looping.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }])
  }, 120_000)

  it('a loop that cannot pause (per row, in a trigger) is canceled past plpgsql_hold_timeout (10 s by default), 57014', async () => {
    const [admin, other] = await Promise.all([client(), client()])
    expect((await admin.query('SHOW plpgsql_hold_timeout')).rows).toEqual([{ plpgsql_hold_timeout: '10s' }])
    await admin.query("SET plpgsql_hold_timeout = '500ms'")
    await admin.query('CREATE TABLE looped (id INT PRIMARY KEY)')
    await admin.query(`CREATE FUNCTION forever_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN LOOP END LOOP; END $$`)
    await admin.query('CREATE TRIGGER looping BEFORE INSERT ON looped FOR EACH ROW EXECUTE FUNCTION forever_trigger()')
    expect(await failure(other.query('SELECT forever() FROM (VALUES (1), (2)) v'))).toMatchObject({ code: '57014', message: 'canceling statement due to plpgsql_hold_timeout (500 ms)' })
    expect(await failure(other.query('INSERT INTO looped VALUES (1)'))).toMatchObject({ code: '57014' })
    // Only a superuser sets it: a node setting.
    await admin.query('CREATE ROLE plain LOGIN')
    const plain = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'plain', database: 'concord' })
    await plain.connect()
    clients.push(plain)
    expect(await failure(plain.query('SET plpgsql_hold_timeout = 0'))).toMatchObject({ code: '42501' })
    await admin.query('SET plpgsql_hold_timeout = DEFAULT')
  }, 120_000)

  it('a loop of 1,000,000 assignments ends with its answer, not 53200, others served meanwhile', async () => {
    const [looping, other] = await Promise.all([client(), client()])
    const run = looping.query(`DO $$ DECLARE x BIGINT := 0; BEGIN FOR i IN 1..1000000 LOOP x := x + i; END LOOP;
      INSERT INTO log VALUES (3, x); END $$`)
    expect((await other.query('SELECT 4 AS four')).rows).toEqual([{ four: 4 }])
    await run
    expect((await other.query('SELECT v FROM log WHERE id = 3')).rows).toEqual([{ v: '500000500000' }])
  }, 120_000)
})
