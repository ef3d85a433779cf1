/**
 * Long read-only statements move off the event loop (issue 15, docs/decisions/0031-statement-offload.md):
 * while one client's long SELECT runs, other clients are answered, a cancel request stops
 * it, statement_timeout bounds it, and a statement that outgrows its worker's heap fails
 * with 53200 while the node lives on. A real `concord start` on 127.0.0.1, with its worker
 * heap lowered so the last case is quick. The assertions are about the order answers come
 * in, never about how long they take: the long statements run for seconds (tens of
 * seconds where a cancel or a timeout must end them), the short ones for milliseconds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { sendCancelRequest } from '../../packages/node-server/src/pgwire/raw-wire-socket.fixture.js'
import { metric, race } from './client-race.js'
import { ConcordProcess } from './concord-process.js'

/** Seconds of work on the event loop, little memory: md5 of a few hundred thousand numbers. */
const LONG = 'SELECT count(*) AS n, max(md5(g::text)) AS top FROM generate_series(1, 400000) g'
/** Minutes of work: only a cancel or a timeout ends it in time. */
const ENDLESS = 'SELECT count(*) AS n, max(md5(g::text)) AS top FROM generate_series(1, 3000000) g'

let dir: string
let node: ConcordProcess
const clients: pg.Client[] = []

async function client(user = 'concord'): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user, database: 'concord', query_timeout: 120_000 })
  await c.connect()
  clients.push(c)
  return c
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-offload-'))
  node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'offload', httpPort: true, extraArgs: ['--offload-heap-mb', '256'] })
  const admin = await client()
  await admin.query('CREATE TABLE kv (id INT PRIMARY KEY, v TEXT)')
  await admin.query("INSERT INTO kv SELECT g, 'v' || g FROM generate_series(1, 1000) g")
  await admin.query('CREATE SEQUENCE s')
  await admin.query('CREATE ROLE reader LOGIN')
  // User functions: IMMUTABLE and STABLE ones whose bodies only read move with the statement (the tables they read too).
  await admin.query('CREATE FUNCTION hashed(x INT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$ SELECT md5(x::text) $$')
  await admin.query('CREATE FUNCTION pl_hashed(x INT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN md5(x::text || \'pl\'); END $$')
  await admin.query('CREATE FUNCTION kv_len(x INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT length(v) FROM kv WHERE id = x $$')
  await admin.query('CREATE FUNCTION volatile_hashed(x INT) RETURNS TEXT LANGUAGE sql AS $$ SELECT md5(x::text) $$')
  await admin.query('CREATE TABLE secret (id INT PRIMARY KEY, v TEXT)')
  await admin.query("INSERT INTO secret SELECT g, 's' || g FROM generate_series(1, 100) g")
  await admin.query('CREATE FUNCTION secret_len(x INT) RETURNS INT LANGUAGE sql STABLE AS $$ SELECT length(v) FROM secret WHERE id = x $$')
  await admin.query('CREATE ROLE fnreader LOGIN')
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/**
 * Runs `statement` on one client while another sends short queries: with offload off
 * (offload_after = 0) it holds every client, as before; on (the default) the short
 * statements, a point read of a table among them, come first.
 */
async function offThenOn(statement: string): Promise<{ before: Awaited<ReturnType<typeof race>>; after: Awaited<ReturnType<typeof race>> }> {
  const [a, b] = [await client(), await client()]
  await a.query('SET offload_after = 0')
  const before = await race(a, statement, b, ['SELECT 1'])
  expect(before.order).toEqual(['long', 'short0'])
  await a.query('RESET offload_after')
  const after = await race(a, statement, b, ['SELECT 1', 'SELECT v FROM kv WHERE id = 7'])
  expect(after.order).toEqual(['short0', 'short1', 'long'])
  return { before, after }
}

describe('long read-only statements off the event loop', () => {
  it('other clients are answered while a long SELECT runs, and its answer is the one computed on the event loop', async () => {
    const { before, after } = await offThenOn(LONG)
    expect((after.long as pg.QueryResult).rows).toEqual((before.long as pg.QueryResult).rows)
    expect((after.long as pg.QueryResult).rows).toEqual([{ n: '400000', top: expect.stringMatching(/^[0-9a-f]{32}$/) }])
    // Field types and the command tag are those of the event loop's answer.
    expect((after.long as pg.QueryResult).fields.map((f) => [f.name, f.dataTypeID])).toEqual((before.long as pg.QueryResult).fields.map((f) => [f.name, f.dataTypeID]))
    expect((after.long as pg.QueryResult).command).toBe('SELECT')
  })

  it('a SELECT reading a table moves with it and answers as on the event loop, parameters included', async () => {
    const [a, b] = [await client(), await client()]
    // Seconds of work, as LONG: 100 rows of kv times 4,000 (with 400 the moved statement could end before b's query was sent).
    const sql = 'SELECT k.v, count(*) AS n, max(md5(g::text || k.v)) AS top FROM kv k, generate_series(1, 4000) g WHERE k.id > $1 GROUP BY k.v ORDER BY k.v LIMIT 3'
    await a.query('SET offload_after = 0')
    const here = await a.query(sql, [900])
    await a.query('RESET offload_after')
    const moved = await race(a, { text: sql, values: [900] }, b, ['SELECT 1'])
    expect(moved.order).toEqual(['short0', 'long'])
    expect((moved.long as pg.QueryResult).rows).toEqual(here.rows)
  })

  it('a later statement over the same table, after writes, is sent only what changed to the engine its worker kept, and answers as on the event loop', async () => {
    const [a, b] = [await client(), await client()]
    await b.query('CREATE TABLE kept (id INT PRIMARY KEY, v TEXT)')
    await b.query("INSERT INTO kept SELECT g, 'v' || g FROM generate_series(1, 1000) g")
    const sql = 'SELECT count(*) AS n, sum(length(k.v)) AS len, max(md5(g::text || k.v)) AS top FROM kept k, generate_series(1, 400) g'
    const answer = async () => {
      await b.query('SET offload_after = 0')
      return (await b.query(sql)).rows
    }
    expect((await a.query(sql)).rows).toEqual(await answer())
    const [kept, bytes] = [await metric(node, 'concord_offload_kept_engine_total'), await metric(node, 'concord_offload_state_bytes_total')]
    await b.query("INSERT INTO kept SELECT g, 'w' || g FROM generate_series(1001, 1100) g")
    await b.query("UPDATE kept SET v = v || '!' WHERE id <= 10")
    const here = await answer()
    await b.query('RESET offload_after')
    const moved = await race(a, sql, b, ['SELECT 1'])
    expect(moved.order).toEqual(['short0', 'long'])
    expect((moved.long as pg.QueryResult).rows).toEqual(here)
    expect((moved.long as pg.QueryResult).rows[0]).toMatchObject({ n: String(1100 * 400) })
    expect(await metric(node, 'concord_offload_kept_engine_total')).toBe(kept + 1)
    // The 100 rows inserted and 10 updated, not the table's 1,100 rows and the catalog (over 50 kB).
    const sent = (await metric(node, 'concord_offload_state_bytes_total')) - bytes
    expect(sent).toBeGreaterThan(0)
    expect(sent).toBeLessThan(16 * 1024)
  })

  it('a cancel request stops the moved statement with 57014, and the node goes on serving', async () => {
    const [a, b] = [await client(), await client()]
    const running = a.query(ENDLESS).then(() => null, (e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Answered: the event loop is free, so the long statement runs elsewhere now.
    expect((await b.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await cancel(a)
    expect(await running).toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    expect((await a.query('SELECT v FROM kv WHERE id = 3')).rows).toEqual([{ v: 'v3' }])
    expect((await a.query(LONG)).rows[0]).toMatchObject({ n: '400000' })
  })

  it('statement_timeout stops the moved statement with 57014', async () => {
    const [a, b] = [await client(), await client()]
    await a.query("SET statement_timeout = '1500ms'")
    const r = await race(a, ENDLESS, b, ['SELECT 1'])
    expect(r.order).toEqual(['short0', 'long'])
    expect(r.long).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' })
  })

  it('a statement calling nextval is not moved, and is still right', async () => {
    const [a, b] = [await client(), await client()]
    // The first draw may wait for the node's id range (the event loop is free meanwhile): drawn before the race.
    await a.query("SELECT nextval('s')")
    const r = await race(a, `SELECT nextval('s') AS id, ${LONG.slice('SELECT '.length)}`, b, ['SELECT 1'])
    expect(r.order).toEqual(['long', 'short0'])
    expect((r.long as pg.QueryResult).rows).toEqual([{ id: '2', n: '400000', top: expect.any(String) }])
  })

  it('privileges hold as on the event loop: without SELECT 42501, with it the answer', async () => {
    const sql = 'SELECT count(*) AS n, max(md5(g::text)) AS top FROM generate_series(1, 400000) g WHERE g > (SELECT count(*) - 1000 FROM kv)'
    const r = await client('reader')
    await expect(r.query(sql)).rejects.toMatchObject({ code: '42501' })
    await (await client()).query('GRANT SELECT ON kv TO reader')
    const b = await client()
    const granted = await race(r, sql, b, ['SELECT 1'])
    expect(granted.order).toEqual(['short0', 'long'])
    expect((granted.long as pg.QueryResult).rows[0]).toMatchObject({ n: '400000' })
  })

  it('a statement that outgrows its worker heap fails with 53200; the node lives and the next one moves to a fresh worker', async () => {
    const [a, b] = [await client(), await client()]
    // No statement_mem bound: only the worker's heap (256 MB here) stops it.
    await a.query('SET statement_mem = 0')
    const r = await race(a, "SELECT count(*) FROM (SELECT g, repeat('x', 100) || g AS s FROM generate_series(1, 10000000) g ORDER BY s) t", b, ['SELECT 1'])
    expect(r.order).toEqual(['short0', 'long'])
    expect(r.long).toMatchObject({ code: '53200', message: 'out of memory' })
    expect(node.log).toContain("ran out of its worker's heap")
    const again = await race(a, LONG, b, ['SELECT 1'])
    expect(again.order).toEqual(['short0', 'long'])
    expect((again.long as pg.QueryResult).rows[0]).toMatchObject({ n: '400000' })
  })
})

describe('long read-only statements calling user functions off the event loop', () => {
  // Seconds of work on the event loop: each call of a SQL function runs its body's plan.
  const CALLS = 'SELECT count(*) AS n, max(hashed(g)) AS top, max(pl_hashed(g)) AS pl, sum(kv_len(1 + g % 1000)) AS len FROM generate_series(1, 20000) g'

  it('a SELECT calling IMMUTABLE and STABLE functions (SQL and PL/pgSQL, one reading a table) moves, and answers as on the event loop', async () => {
    const { before, after } = await offThenOn(CALLS)
    expect((after.long as pg.QueryResult).rows).toEqual((before.long as pg.QueryResult).rows)
    expect((after.long as pg.QueryResult).rows).toEqual([{ n: '20000', top: expect.stringMatching(/^[0-9a-f]{32}$/), pl: expect.stringMatching(/^[0-9a-f]{32}$/), len: expect.any(String) }])
  })

  it('a statement calling a VOLATILE function is not moved, and is still right', async () => {
    const [a, b] = [await client(), await client()]
    const r = await race(a, 'SELECT count(*) AS n, max(volatile_hashed(g)) AS top FROM generate_series(1, 60000) g', b, ['SELECT 1'])
    expect(r.order).toEqual(['long', 'short0'])
    expect((r.long as pg.QueryResult).rows).toEqual([{ n: '60000', top: expect.stringMatching(/^[0-9a-f]{32}$/) }])
  })

  it("privileges hold as on the event loop: a function's body reads as the caller, 42501 without SELECT, the answer with it", async () => {
    const sql = 'SELECT count(*) AS n, max(hashed(g)) AS top, sum(secret_len(1 + g % 100)) AS len FROM generate_series(1, 60000) g'
    const r = await client('fnreader')
    await expect(r.query(sql)).rejects.toMatchObject({ code: '42501', message: 'permission denied for table secret' })
    await (await client()).query('GRANT SELECT ON secret TO fnreader')
    const b = await client()
    const granted = await race(r, sql, b, ['SELECT 1'])
    expect(granted.order).toEqual(['short0', 'long'])
    expect((granted.long as pg.QueryResult).rows[0]).toMatchObject({ n: '60000' })
  })
})

describe('long read-only statements of transaction blocks and over the catalog off the event loop', () => {
  it('a long SELECT inside BEGIN .. COMMIT no longer holds other clients, answers as on the event loop (the block\'s own writes included), and the block goes on', async () => {
    const [a, b] = [await client(), await client()]
    const sql = 'SELECT count(*) AS n, max(md5(g::text || k.v)) AS top FROM kv k, generate_series(1, 400) g WHERE k.id > $1'
    await a.query('SET offload_after = 0')
    await a.query('BEGIN')
    const before = await race(a, { text: sql, values: [0] }, b, ['SELECT 1'])
    await a.query('COMMIT')
    expect(before.order).toEqual(['long', 'short0'])
    await a.query('RESET offload_after')
    // As an ORM or a psql script sends it: BEGIN, reads, a write, COMMIT.
    await a.query('BEGIN')
    await a.query("SET LOCAL DateStyle = 'SQL, DMY'")
    const after = await race(a, { text: sql, values: [0] }, b, ['SELECT 1', 'SELECT v FROM kv WHERE id = 7'])
    expect(after.order).toEqual(['short0', 'short1', 'long'])
    expect((after.long as pg.QueryResult).rows).toEqual((before.long as pg.QueryResult).rows)
    expect((after.long as pg.QueryResult).rows).toEqual([{ n: '400000', top: expect.stringMatching(/^[0-9a-f]{32}$/) }])
    // After a write of the table it reads, the SELECT moves with the block's writes and sees them.
    await a.query("INSERT INTO kv VALUES (5001, 'in block')")
    await a.query("UPDATE kv SET v = 'changed' WHERE id = 1")
    const own = await race(a, { text: sql, values: [0] }, b, ['SELECT 1', 'SELECT v FROM kv WHERE id = 1'])
    expect(own.order).toEqual(['short0', 'short1', 'long'])
    expect((own.long as pg.QueryResult).rows).toEqual([{ n: '400400', top: expect.stringMatching(/^[0-9a-f]{32}$/) }])
    expect((await a.query('SELECT v FROM kv WHERE id IN (1, 5001) ORDER BY id')).rows).toEqual([{ v: 'changed' }, { v: 'in block' }])
    expect((await a.query('SHOW DateStyle')).rows).toEqual([{ DateStyle: 'SQL, DMY' }])
    expect((await a.query('COMMIT')).command).toBe('COMMIT')
    expect((await b.query('SELECT v FROM kv WHERE id = 5001')).rows).toEqual([{ v: 'in block' }])
    await b.query('DELETE FROM kv WHERE id = 5001')
    await b.query("UPDATE kv SET v = 'v1' WHERE id = 1")
  })

  it('an error in a moved statement aborts the block: 25P02 after it, ROLLBACK TO SAVEPOINT resumes, COMMIT of a failed block rolls back', async () => {
    const [a, b] = [await client(), await client()]
    const failing = 'SELECT count(*) / (count(*) - 400000) AS n, max(md5(g::text)) AS top FROM generate_series(1, 400000) g'
    await a.query('BEGIN')
    await a.query('SAVEPOINT s')
    const r = await race(a, failing, b, ['SELECT 1'])
    expect(r.order).toEqual(['short0', 'long'])
    expect(r.long).toMatchObject({ code: '22012', message: 'division by zero' })
    await expect(a.query('SELECT v FROM kv WHERE id = 1')).rejects.toMatchObject({ code: '25P02' })
    await a.query('ROLLBACK TO SAVEPOINT s')
    expect((await a.query('SELECT v FROM kv WHERE id = 1')).rows).toEqual([{ v: 'v1' }])
    const again = await race(a, failing, b, ['SELECT 1'])
    expect(again.order).toEqual(['short0', 'long'])
    expect(again.long).toMatchObject({ code: '22012' })
    await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' })
    expect((await a.query('COMMIT')).command).toBe('ROLLBACK')
    expect((await a.query('SELECT v FROM kv WHERE id = 1')).rows).toEqual([{ v: 'v1' }])
  })

  it('a long query over catalog-only system views moves and answers as on the event loop; one over pg_settings stays', async () => {
    const [a, b] = [await client(), await client()]
    const sql = 'SELECT count(*) AS n, max(md5(c.relname || a.attname || g::text)) AS top FROM pg_catalog.pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, generate_series(1, 520) g'
    await a.query('SET offload_after = 0')
    const before = await race(a, sql, b, ['SELECT 1'])
    expect(before.order).toEqual(['long', 'short0'])
    await a.query('RESET offload_after')
    const after = await race(a, sql, b, ['SELECT 1'])
    expect(after.order).toEqual(['short0', 'long'])
    expect((after.long as pg.QueryResult).rows).toEqual((before.long as pg.QueryResult).rows)
    // information_schema too, inside a block.
    const columns = 'SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns, (SELECT max(md5(g::text)) FROM generate_series(1, 400000) g) slow ORDER BY 1, 4'
    await a.query('BEGIN')
    const listed = await race(a, columns, b, ['SELECT 1'])
    await a.query('COMMIT')
    expect(listed.order).toEqual(['short0', 'long'])
    expect((listed.long as pg.QueryResult).rows).toContainEqual({ table_name: 'kv', column_name: 'v', data_type: 'text', ordinal_position: 2 })
    // pg_settings shows node state: it stays on the event loop.
    const settings = await race(a, 'SELECT count(*) AS n, max(md5(s.name || g::text)) AS top FROM pg_settings s, generate_series(1, 4600) g', b, ['SELECT 1'])
    expect(settings.order).toEqual(['long', 'short0'])
  })
})

// A worker's engine kept its copies of the tables it read for the node's life; one unused
// for --offload-idle ends now (its memory returned), and the next long statement starts a
// fresh worker that answers as before.
describe('a statement worker left unused', () => {
  it('ends after --offload-idle, and the next long statement moves to a fresh worker with the same answer', async () => {
    const idleDir = mkdtempSync(join(tmpdir(), 'concord-offload-idle-'))
    const idle = await ConcordProcess.start({ dataDir: join(idleDir, 'n'), nodeId: 'offload-idle', httpPort: true, extraArgs: ['--offload-idle', '1s'] })
    const c = new pg.Client({ host: '127.0.0.1', port: idle.pgPort, user: 'concord', database: 'concord', query_timeout: 120_000 })
    try {
      await c.connect()
      const first = await c.query(LONG)
      expect(await metric(idle, 'concord_statement_workers')).toBe(1)
      let ended = 0
      for (let i = 0; i < 200 && ended === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        ended = await metric(idle, 'concord_statement_workers_idle_ended_total')
      }
      expect(ended).toBe(1)
      expect(await metric(idle, 'concord_statement_workers')).toBe(0)
      const second = await c.query(LONG)
      expect(second.rows).toEqual(first.rows)
      expect(await metric(idle, 'concord_statement_workers')).toBe(1)
      expect(await metric(idle, 'concord_offloaded_statements_total')).toBe(2)
    } finally {
      await c.end().catch(() => {})
      await idle.stop()
      rmSync(idleDir, { recursive: true, force: true })
    }
  }, 120_000)
})

/** pg's CancelRequest for a client's connection, sent on a new one. */
async function cancel(c: pg.Client): Promise<void> {
  const { processID, secretKey } = c as unknown as { processID: number; secretKey: number }
  await sendCancelRequest(node.pgPort, processID, secretKey)
}
