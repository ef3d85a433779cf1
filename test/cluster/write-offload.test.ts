/**
 * Long UPDATEs and DELETEs no longer hold other clients (issue 15,
 * docs/decisions/0031-statement-offload.md, "Writes"): a worker evaluates the WHERE over a
 * snapshot and the write runs on the event loop over the rows it found and the rows
 * changed since. A real `concord start` on 127.0.0.1. As in statement-offload.test.ts the
 * assertions compare offload off with on, never a wait with a fixed time: with offload on
 * another client's `SELECT 1` is answered before the write, and waited less than half
 * what it waited with offload off (the write holds it for seconds then); the waits are
 * printed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordProcess } from './concord-process.js'

const ROWS = 300_000

/** Seconds of work on the event loop over 300,000 rows (md5 of each note, no index), writing a few hundred. */
const UPDATE = "UPDATE big SET v = v + 1 WHERE md5(md5(note)) LIKE '%abc%' RETURNING id"
const DELETE = "DELETE FROM big WHERE md5(md5(note)) LIKE '%fed%'"

let dir: string
let node: ConcordProcess
const clients: pg.Client[] = []

async function client(): Promise<pg.Client> {
  const c = await node.client()
  clients.push(c)
  return c
}

/** Runs `long` on `a` and, once it is surely under way, `SELECT 1` on `b`: the order the answers came in, and how long b waited. */
async function race(a: pg.Client, long: string, b: pg.Client): Promise<{ order: string[]; long: pg.QueryResult; waitedMs: number; longMs: number }> {
  const order: string[] = []
  const started = performance.now()
  let longMs = 0
  const running = a.query(long).finally(() => {
    longMs = performance.now() - started
    order.push('long')
  })
  // Not a deadline: the long statement has been sent and read by the node well before this.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const sent = performance.now()
  await b.query('SELECT 1')
  const waitedMs = performance.now() - sent
  order.push('short')
  const result = await running
  return { order, long: result, waitedMs, longMs }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-write-offload-'))
  node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'write-offload' })
  const admin = await client()
  await admin.query('CREATE TABLE big (id INT PRIMARY KEY, k INT, v INT, note TEXT)')
  await admin.query(`INSERT INTO big SELECT g, g % 1000, 0, 'note ' || g FROM generate_series(1, ${ROWS}) g`)
}, 300_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('long writes off the event loop', () => {
  it('another client is answered while a long UPDATE or DELETE runs, and the write is the one made on the event loop', async () => {
    const [a, b] = [await client(), await client()]
    const ids = (r: pg.QueryResult) => r.rows.map((x: { id: number }) => x.id).sort((x, y) => x - y)
    // The rows the UPDATE targets, read first: it writes exactly these, offload off or on.
    const targets = (await a.query("SELECT id FROM big WHERE md5(md5(note)) LIKE '%abc%' ORDER BY id")).rows.map((x: { id: number }) => x.id)
    expect(targets.length).toBeGreaterThan(100)
    // The node's worker starts on first use: started here, by a long SELECT, so the races measure the writes alone.
    await a.query('SELECT count(*), max(md5(g::text)) FROM generate_series(1, 400000) g')
    await a.query('SET offload_after = 0')
    const before = await race(a, UPDATE, b)
    await a.query('RESET offload_after')
    const after = await race(a, UPDATE, b)
    expect(after.order).toEqual(['short', 'long'])
    // With offload off b waited for the whole scan; on, for the slice before the move and
    // the snapshot. (Not the order of the answers, as for a SELECT: a write is answered
    // once durable, so b's answer may come first even when it was held.)
    expect(after.waitedMs).toBeLessThan(before.waitedMs / 2)
    expect(ids(before.long)).toEqual(targets)
    expect(ids(after.long)).toEqual(targets)
    expect((await a.query('SELECT v, count(*)::int AS n FROM big WHERE v > 0 GROUP BY v')).rows).toEqual([{ v: 2, n: targets.length }])

    const doomed = (await a.query("SELECT count(*)::int AS n FROM big WHERE md5(md5(note)) LIKE '%fed%'")).rows[0].n as number
    const deleted = await race(a, DELETE, b)
    expect(deleted.order).toEqual(['short', 'long'])
    expect(deleted.long.rowCount).toBe(doomed)
    expect((await a.query('SELECT count(*)::int AS n FROM big')).rows).toEqual([{ n: ROWS - doomed }])
    const ms = (n: number) => `${n.toFixed(1)} ms`
    console.log(`b waited: UPDATE off ${ms(before.waitedMs)}, on ${ms(after.waitedMs)}; DELETE on ${ms(deleted.waitedMs)}. a took: UPDATE off ${ms(before.longMs)}, on ${ms(after.longMs)}; DELETE on ${ms(deleted.longMs)}`)
  }, 300_000)

  it('a WHERE with a subquery over another table moves too, and writes the rows it names', async () => {
    const [a, b] = [await client(), await client()]
    await a.query('CREATE TABLE marks (k INT PRIMARY KEY)')
    await a.query('INSERT INTO marks VALUES (3), (5), (8)')
    const where = "md5(md5(note)) LIKE '%ab%' AND k IN (SELECT k FROM marks)"
    const targets = (await a.query(`SELECT count(*)::int AS n FROM big WHERE ${where}`)).rows[0].n as number
    expect(targets).toBeGreaterThan(0)
    const moved = await race(a, `UPDATE big SET v = -1 WHERE ${where}`, b)
    expect(moved.order).toEqual(['short', 'long'])
    // b was answered while the scan ran, not after it.
    expect(moved.waitedMs).toBeLessThan(moved.longMs / 2)
    expect(moved.long.rowCount).toBe(targets)
    expect((await a.query('SELECT count(*)::int AS n FROM big WHERE v = -1')).rows).toEqual([{ n: targets }])
    console.log(`subquery UPDATE: b waited ${moved.waitedMs.toFixed(1)} ms while a took ${moved.longMs.toFixed(1)} ms`)
  }, 300_000)

  it('in a transaction block too: another client is answered, and the rows are the block\'s until COMMIT', async () => {
    const [a, b] = [await client(), await client()]
    // No cheap term beside the md5s: one (k < 100) was pushed into the scan, and the
    // statement ended before the other client's turn (CI once).
    const where = "md5(md5(note)) LIKE '%cde%'"
    const targets = (await a.query(`SELECT count(*)::int AS n FROM big WHERE ${where}`)).rows[0].n as number
    expect(targets).toBeGreaterThan(0)
    await a.query('BEGIN')
    // One row of the block's own, matching: the worker finds it through the block's writes.
    await a.query("INSERT INTO big VALUES (-1, 1, 0, 'cdecde')")
    const own = (await a.query(`SELECT count(*)::int AS n FROM big WHERE id = -1 AND ${where}`)).rows[0].n as number
    const moved = await race(a, `UPDATE big SET v = -2 WHERE ${where}`, b)
    expect(moved.order).toEqual(['short', 'long'])
    expect(moved.waitedMs).toBeLessThan(moved.longMs / 2)
    expect(moved.long.rowCount).toBe(targets + own)
    expect((await b.query('SELECT count(*)::int AS n FROM big WHERE v = -2')).rows).toEqual([{ n: 0 }])
    await a.query('COMMIT')
    expect((await b.query('SELECT count(*)::int AS n FROM big WHERE v = -2')).rows).toEqual([{ n: targets + own }])
    console.log(`UPDATE in a block: b waited ${moved.waitedMs.toFixed(1)} ms while a took ${moved.longMs.toFixed(1)} ms`)
  }, 300_000)
})
