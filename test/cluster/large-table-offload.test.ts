/**
 * A long SELECT over a table of more rows than one snapshot may hold (200,000) moves off
 * the event loop too (issue 15, docs/decisions/0031-statement-offload.md, "Engines kept
 * between statements"): the table goes to the statement worker's engine in slices, other
 * clients answered between them, and later statements send only what changed. A real
 * `concord start` on 127.0.0.1. The assertions are about the order answers come in and
 * what they are, never about how long they take.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { metric as nodeMetric, race as raceOf } from './client-race.js'
import { ConcordProcess } from './concord-process.js'

const ROWS = 250_000
/** Seconds of work on the event loop over every row of the table. */
const LONG = 'SELECT count(*) AS n, sum(k) AS s, max(md5(k::text || id)) AS top FROM big'

let dir: string
let node: ConcordProcess
const clients: pg.Client[] = []

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', query_timeout: 300_000 })
  await c.connect()
  clients.push(c)
  return c
}

const metric = (name: string) => nodeMetric(node, name)

/** LONG on `a` raced by `short` on `b` (client-race.ts): the order, and LONG's rows. */
async function race(a: pg.Client, b: pg.Client, short: string[]): Promise<{ order: string[]; long: pg.QueryResult }> {
  const r = await raceOf(a, LONG, b, short)
  if (r.long instanceof Error) throw r.long
  return { order: r.order, long: r.long }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-large-offload-'))
  node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'large', httpPort: true })
  const admin = await client()
  await admin.query('CREATE TABLE big (id INT PRIMARY KEY, k INT)')
  for (let i = 0; i < ROWS; i += 50_000) await admin.query(`INSERT INTO big SELECT g, g % 1000 FROM generate_series(${i + 1}, ${i + 50_000}) g`)
}, 300_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('a long SELECT over a table past 200,000 rows', () => {
  it('moves: other clients are answered while it runs (the table sent in slices), and later ones send only what changed', async () => {
    const [a, b] = [await client(), await client()]
    await a.query('SET offload_after = 0')
    const here = await race(a, b, ['SELECT 1'])
    expect(here.order).toEqual(['long', 'short0'])
    expect(here.long.rows[0]).toMatchObject({ n: String(ROWS) })
    await a.query('RESET offload_after')
    const moved = await race(a, b, ['SELECT 1', 'SELECT k FROM big WHERE id = 7'])
    expect(moved.order).toEqual(['short0', 'short1', 'long'])
    expect(moved.long.rows).toEqual(here.long.rows)
    const [kept, bytes] = [await metric('concord_offload_kept_engine_total'), await metric('concord_offload_state_bytes_total')]
    // The table went whole, in slices: megabytes.
    expect(bytes).toBeGreaterThan(1_000_000)

    // b's own statements stay on the event loop (the counts below are a's alone).
    await b.query('SET offload_after = 0')
    await b.query('UPDATE big SET k = k + 1 WHERE id <= 100')
    await b.query('DELETE FROM big WHERE id > 249900')
    const changed = (await b.query(LONG)).rows
    expect(changed[0]).toMatchObject({ n: String(ROWS - 100) })
    const again = await race(a, b, ['SELECT 1'])
    expect(again.order).toEqual(['short0', 'long'])
    expect(again.long.rows).toEqual(changed)
    expect(await metric('concord_offload_kept_engine_total')).toBe(kept + 1)
    // The 100 rows updated and 100 deleted, not the table.
    expect((await metric('concord_offload_state_bytes_total')) - bytes).toBeLessThan(64 * 1024)

    // An UPDATE over the table the engine holds finds its rows there too (before: past its
    // 32 MiB snapshot bound, never moved), sent only what changed.
    const where = "md5(k::text || id) LIKE '%abc%'"
    const matching = Number((await b.query(`SELECT count(*) AS n FROM big WHERE ${where}`)).rows[0].n)
    expect(matching).toBeGreaterThan(0)
    const sentBefore = await metric('concord_offload_state_bytes_total')
    const order: string[] = []
    const updating = a.query(`UPDATE big SET k = k + 1 WHERE ${where}`).finally(() => order.push('update'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    await b.query('SELECT 1')
    order.push('short0')
    expect((await updating).rowCount).toBe(matching)
    expect(order).toEqual(['short0', 'update'])
    expect(await metric('concord_offload_kept_engine_total')).toBe(kept + 2)
    expect((await metric('concord_offload_state_bytes_total')) - sentBefore).toBeLessThan(64 * 1024)
    expect(Number((await b.query(`SELECT sum(k) AS s FROM big`)).rows[0].s)).toBe(Number(changed[0].s) + matching)
  }, 300_000)
})
