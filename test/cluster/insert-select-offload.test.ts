/**
 * A long INSERT .. SELECT no longer holds other clients (issue 15,
 * docs/decisions/0031-statement-offload.md, "INSERT .. SELECT"): a worker evaluates the
 * SELECT over the statement's snapshot and the rows are inserted on the event loop. A real
 * `concord start` on 127.0.0.1. The assertions are about what another client sees while
 * the statement runs, never about how long anything takes: with offload on, its `SELECT 1`
 * is answered and its count of the target table sees none of the rows yet (the SELECT is
 * still running on the worker); with offload off the event loop was held until the rows
 * were in, so the same count sees them all.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { sendCancelRequest } from '../../packages/node-server/src/pgwire/raw-wire-socket.fixture.js'
import { ConcordProcess } from './concord-process.js'

/** Seconds of work (md5 twice of 400,000 numbers), inserting a few thousand rows. */
const SOURCE = "SELECT g, md5(g::text) FROM generate_series(1, 400000) g WHERE md5(md5(g::text)) LIKE 'ab%'"
/** Minutes of work: only a cancel ends it in time. */
const ENDLESS = "SELECT g, md5(g::text) FROM generate_series(1, 3000000) g WHERE md5(md5(md5(g::text))) LIKE 'ab%'"

let dir: string
let node: ConcordProcess
const clients: pg.Client[] = []

async function client(): Promise<pg.Client> {
  const c = await node.client()
  clients.push(c)
  return c
}

/** Runs `long` on `a` and, once it is surely under way, `SELECT 1` and a count of `table` on `b`: what b saw, and the order the answers came in. */
async function race(a: pg.Client, long: string, b: pg.Client, table: string): Promise<{ order: string[]; long: pg.QueryResult | Error; seen: number; waitedMs: number; longMs: number }> {
  const order: string[] = []
  const started = performance.now()
  let longMs = 0
  const running = a.query(long).then((r) => r, (e: Error) => e).finally(() => {
    longMs = performance.now() - started
    order.push('long')
  })
  // Not a deadline: the long statement has been sent and read by the node well before this.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const sent = performance.now()
  expect((await b.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  const waitedMs = performance.now() - sent
  const seen = (await b.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number
  order.push('short')
  return { order, long: await running, seen, waitedMs, longMs }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-insert-offload-'))
  node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'insert-offload' })
  const admin = await client()
  for (const t of ['picked_off', 'picked_on', 'canceled']) await admin.query(`CREATE TABLE ${t} (n SERIAL, g INT PRIMARY KEY, h TEXT NOT NULL)`)
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('long INSERT .. SELECT off the event loop', () => {
  it('another client is answered while the SELECT runs on the worker, and the rows inserted are those of offload off', async () => {
    const [a, b] = [await client(), await client()]
    // The node's worker starts on first use: started here, so the race measures the statement alone.
    const expected = (await a.query(`SELECT count(*)::int AS n FROM (${SOURCE}) s`)).rows[0].n as number
    expect(expected).toBeGreaterThan(1000)
    await a.query('SET offload_after = 0')
    const before = await race(a, `INSERT INTO picked_off (g, h) ${SOURCE} RETURNING n, g`, b, 'picked_off')
    // Held until the rows were in.
    expect(before.seen).toBe(expected)
    await a.query('RESET offload_after')
    const after = await race(a, `INSERT INTO picked_on (g, h) ${SOURCE} RETURNING n, g`, b, 'picked_on')
    // Answered while the worker ran: none of the rows were in yet.
    expect(after.seen).toBe(0)
    expect(after.order).toEqual(['short', 'long'])
    const returned = (r: pg.QueryResult | Error) => (r as pg.QueryResult).rows
    expect(returned(after.long)).toHaveLength(expected)
    expect(returned(after.long)).toEqual(returned(before.long))
    const contents = async (t: string) => (await a.query(`SELECT n, g, h FROM ${t} ORDER BY g`)).rows
    expect(await contents('picked_on')).toEqual(await contents('picked_off'))
    const ms = (n: number) => `${n.toFixed(1)} ms`
    console.log(`b's SELECT 1 waited: off ${ms(before.waitedMs)}, on ${ms(after.waitedMs)}. a took: off ${ms(before.longMs)}, on ${ms(after.longMs)}`)
  }, 300_000)

  it('a cancel request while the worker runs ends the INSERT with 57014, inserts nothing, and the node goes on serving', async () => {
    const [a, b] = [await client(), await client()]
    const running = a.query(`INSERT INTO canceled (g, h) ${ENDLESS}`).then(() => null, (e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Answered: the event loop is free, so the SELECT runs on the worker now.
    expect((await b.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    const { processID, secretKey } = a as unknown as { processID: number; secretKey: number }
    await sendCancelRequest(node.pgPort, processID, secretKey)
    expect(await running).toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    expect((await a.query('SELECT count(*)::int AS n FROM canceled')).rows).toEqual([{ n: 0 }])
  }, 300_000)
})
