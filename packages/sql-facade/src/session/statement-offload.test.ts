import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { runOffloadedStatement } from '../offloaded-statement.js'
import type { QueryResult } from '../result-format.js'
import type { OffloadRequest, StatementOffloader } from './statement-offload.js'

/** An offloader answering on this thread, on a fresh engine as a worker would: it records what it was given. */
function recordingOffloader(): StatementOffloader & { requests: OffloadRequest[] } {
  const requests: OffloadRequest[] = []
  return {
    requests,
    run: async (request, signal) => {
      requests.push(request)
      return await runOffloadedStatement(structuredClone(request), () => signal.aborted)
    },
  }
}

/** Long enough to pass offload_after = 1ms on any machine, short enough for a unit test. */
const LONG = 'SELECT count(*), sum(g), max(md5(g::text)) FROM generate_series(1, 50000) g'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE items (id INT PRIMARY KEY, label TEXT, price NUMERIC(10,2), at TIMESTAMPTZ)')
  await db.query("INSERT INTO items SELECT g, 'item ' || g, g * 1.25, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour' FROM generate_series(1, 2000) g")
  await db.query('CREATE SEQUENCE seq')
  await db.query("CREATE ROLE reader LOGIN PASSWORD 'pw'")
})
afterAll(async () => {
  await db.close()
})

async function run(sql: string, offloader: StatementOffloader | undefined, setup: string[] = [], user?: string): Promise<QueryResult> {
  const session = db.session({ ...(offloader ? { offloader } : {}), ...(user !== undefined ? { user } : {}) })
  for (const s of setup) await session.query(s)
  await session.query(`SET offload_after = '${offloader ? '1ms' : '0'}'`)
  try {
    return await session.query(sql)
  } finally {
    await session.close()
  }
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message?: string; detail?: string; hint?: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string }
  }
  throw new Error('expected a failure')
}

describe('statements moved off the main thread', () => {
  it('a long SELECT is moved and answers exactly as one run here', async () => {
    const off = recordingOffloader()
    const moved = await run(LONG, off)
    expect(off.requests).toHaveLength(1)
    const here = await run(LONG, undefined)
    expect(moved).toEqual(here)
  })

  it('a SELECT of a table is moved with the table and the session settings, and answers as here', async () => {
    const sql = "SELECT i.label, i.price, i.at, now() >= i.at AS past, count(*) OVER () FROM items i, generate_series(1, 60) g WHERE i.id % 97 = g ORDER BY 1 LIMIT 20"
    const setup = ["SET DateStyle = 'SQL, DMY'", "SET IntervalStyle = 'iso_8601'"]
    const off = recordingOffloader()
    const moved = await run(sql, off, setup)
    expect(off.requests).toHaveLength(1)
    expect(off.requests[0]!.shards.map((s) => s.shard).some((id) => id.includes('items'))).toBe(true)
    expect(moved).toEqual(await run(sql, undefined, setup))
  })

  it('a SELECT through a view moves with the view\'s tables and answers as here', async () => {
    await db.query('CREATE VIEW cheap AS SELECT id, label FROM items WHERE price < 100')
    const sql = 'SELECT count(*), max(md5(c.label || g::text)) FROM cheap c, generate_series(1, 200) g'
    const off = recordingOffloader()
    const moved = await run(sql, off)
    expect(off.requests).toHaveLength(1)
    expect(moved).toEqual(await run(sql, undefined))
  })

  it('an error raised where the statement was moved reaches the client with its SQLSTATE and message', async () => {
    const sql = 'SELECT count(*) / (count(*) - 200000) FROM generate_series(1, 200000) g'
    const off = recordingOffloader()
    const moved = await failure(run(sql, off))
    expect(off.requests).toHaveLength(1)
    const here = await failure(run(sql, undefined))
    expect({ code: moved.code, message: moved.message }).toEqual({ code: here.code, message: here.message })
    expect(moved.code).toBe('22012')
  })

  it('privileges are checked where the statement was moved as here: a role without SELECT gets 42501', async () => {
    const sql = 'SELECT count(*) FROM generate_series(1, 200000) g WHERE g > (SELECT count(*) FROM items)'
    const off = recordingOffloader()
    const here = await failure(run(sql, undefined, [], 'reader'))
    expect(here.code).toBe('42501')
    // SET ROLE too: the superuser session runs as reader.
    const moved = await failure(run(sql, off, ['SET ROLE reader']))
    expect(moved.code).toBe('42501')
    expect(moved.message).toBe(here.message)
    // The engine the statement moves to checks them too: the superuser's request, run as reader there.
    await run(sql, off)
    const request = off.requests.at(-1)!
    expect(request.shards.some((s) => s.shard.includes('items'))).toBe(true)
    const asReader = await runOffloadedStatement({ ...request, settings: [...request.settings, ['role', 'reader']] }, () => false)
    expect(asReader).toEqual({ ok: false, error: { code: '42501', message: here.message } })
  })

  it('statement_timeout bounds the statement where it was moved (57014)', async () => {
    const off = recordingOffloader()
    const e = await failure(run('SELECT count(*) FROM generate_series(1, 3000000) a', off, ["SET statement_timeout = '300ms'"]))
    expect(e.code).toBe('57014')
    expect(e.message).toBe('canceling statement due to statement timeout')
    expect(off.requests[0]!.timeoutMs).toBeGreaterThan(0)
    expect(off.requests[0]!.timeoutMs).toBeLessThanOrEqual(300)
  })

  it('statements that write, draw from a sequence or read node state stay on the main thread', async () => {
    const off = recordingOffloader()
    for (const sql of [
      "SELECT nextval('seq'), count(*) FROM generate_series(1, 200000)",
      'SELECT count(*) FROM generate_series(1, 200000) g, (SELECT random()) r',
      'SELECT count(*) FROM items, generate_series(1, 100) FOR UPDATE OF items',
      'SELECT count(*) FROM pg_class, generate_series(1, 2000)',
    ]) {
      await run(sql, off).catch(() => undefined)
    }
    expect(off.requests).toEqual([])
    const r = await run("SELECT nextval('seq') > 0 AS drawn, count(*) FROM generate_series(1, 200000)", off)
    expect(r.rowArrays).toEqual([[true, '200000']])
    expect(off.requests).toEqual([])
  })

  it('inside a transaction block nothing is moved', async () => {
    const off = recordingOffloader()
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    await session.query('COMMIT')
    await session.close()
    expect(off.requests).toEqual([])
  })

  it('an offloader that declines leaves the statement to run here', async () => {
    const off: StatementOffloader = { run: async () => null }
    expect(await run(LONG, off)).toEqual(await run(LONG, undefined))
  })
})
