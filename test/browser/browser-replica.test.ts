/**
 * The browser replica end to end: the demo page in headless Chromium (Debian's
 * `chromium`, driven by playwright-core) against two `concord start` processes on
 * 127.0.0.1. The page joins node A's WebSocket address only and meets node B by peer
 * exchange. Skipped, with a message, where /usr/bin/chromium is absent.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { buildDemo, formatReport } from '../../packages/browser/demo/build.js'
import { NodePeer } from '../../packages/browser/demo/node-peer.js'
import { serveStatic, type StaticServer } from '../../packages/browser/demo/static-server.js'
import { CHROMIUM, hasChromium, launchChromium, until } from './chromium.fixture.js'

// CONCORD_CHROMIUM overrides the path (a wrong one shows the skip path).
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
const run = promisify(execFile)

if (!hasChromium) {
  console.warn(`browser suite SKIPPED: ${CHROMIUM} not found (Debian: apt-get install -y chromium)`)
}

/** What the demo page puts on `window` (see packages/browser/demo/app.ts). */
interface PageApi {
  concord?: {
    ready: boolean
    db: {
      query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
      status(): { status: string; progress: number; pendingChanges: number; manualOffline: boolean; peers: Array<{ nodeId: string }> }
      serialReady(): boolean
    }
  }
}

/** Polls `cond` every `stepMs` until it holds; bounded in count and time. */

describe.skipIf(!hasChromium)('browser replica in headless Chromium', () => {
  let dir: string
  let a: NodePeer
  let b: NodePeer
  let server: StaticServer
  let context: BrowserContext
  let page: Page
  let aWsPort = 0
  const pageLog: string[] = []

  const pageQuery = (sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> =>
    page.evaluate(async ([s, p]) => (await (window as unknown as PageApi).concord!.db.query(s as string, p as unknown[])).rows, [sql, params] as const)
  const pageStatus = () => page.evaluate(() => (window as unknown as PageApi).concord!.db.status())
  const waitReady = () => page.waitForFunction(() => (window as unknown as PageApi).concord?.ready === true, null, { timeout: 30_000 })
  const nodeRows = async (n: NodePeer, sql: string): Promise<Array<Record<string, unknown>>> => (await n.query(sql)).rows

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-browser-'))
    const [bundle, nodeA] = await Promise.all([buildDemo(join(dir, 'www')), NodePeer.start({ dataDir: join(dir, 'a'), nodeId: 'node-a' })])
    console.info(`browser bundle: ${formatReport(bundle)}`)
    a = nodeA
    aWsPort = Number(/\/tcp\/(\d+)\/ws/.exec(a.wsAddress)![1])
    b = await NodePeer.start({ dataDir: join(dir, 'b'), nodeId: 'node-b', region: 'eu-central', join: [a.pgAddress] })
    await a.query('CREATE TABLE inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)')
    await until(async () => (await nodeRows(b, "SELECT 1 FROM pg_tables WHERE tablename = 'inventory'")).length === 1 || (await b.query('SELECT count(*) FROM inventory').then(() => true)), 20_000, 'the table on node B')
    server = await serveStatic(join(dir, 'www'), () => ({ join: [a.wsAddress] }))
    ;({ context, page } = await launchChromium(dir, { viewport: { width: 1200, height: 720 } }))
    page.on('console', (m) => pageLog.push(`[${m.type()}] ${m.text()}`))
    page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`))
    await page.goto(`${server.url}?name=e2e`)
    await waitReady()
  }, 90_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await server?.close().catch(() => {})
    await Promise.all([a?.stop(), b?.stop()])
    if (pageLog.some((l) => l.includes('pageerror'))) console.warn(pageLog.join('\n'))
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('meets both nodes (node B by peer exchange) and reports online', async () => {
    await until(async () => (await pageStatus()).peers.length === 2, 20_000, 'two peers in the page')
    await until(async () => (await pageStatus()).status === 'online', 20_000, 'online')
    expect((await pageStatus()).peers.map((p) => p.nodeId).sort()).toEqual(['node-a', 'node-b'])
  }, 45_000)

  it('rows written in the page reach psql on a node, and rows written on the node reach the page', async () => {
    await pageQuery("INSERT INTO inventory (sku, name, qty) VALUES ('p1', 'pencil', 12), ('p2', 'paper', 500)")
    const psql = async (): Promise<string> =>
      existsSync('/usr/bin/psql')
        ? (await run('psql', ['-h', '127.0.0.1', '-p', String(b.pgPort), '-U', 'concord', '-At', '-c', "SELECT sku || '=' || qty FROM inventory WHERE sku LIKE 'p%' ORDER BY sku", 'concord'], { timeout: 10_000 })).stdout.trim()
        : (await nodeRows(b, "SELECT sku || '=' || qty AS v FROM inventory WHERE sku LIKE 'p%' ORDER BY sku")).map((r) => r['v']).join('\n')
    await until(async () => (await psql()) === 'p1=12\np2=500', 20_000, 'page rows on node B through psql')

    await b.query("INSERT INTO inventory (sku, name, qty) VALUES ('n1', 'notebook', 7)")
    await until(async () => (await pageQuery("SELECT qty FROM inventory WHERE sku = 'n1'"))[0]?.['qty'] === 7, 20_000, 'node row in the page')
    await until(async () => (await page.locator('tr[data-sku="n1"]').count()) === 1, 5_000, 'node row rendered')
  }, 60_000)

  it('a live query in the page is called back with rows written on a node, and not after it is stopped', async () => {
    await a.query("INSERT INTO inventory (sku, name, qty) VALUES ('live', 'lamp', 0)")
    await page.evaluate(async () => {
      const w = window as unknown as { liveSeen: Array<{ at: number; qty: unknown }>; liveStop: () => void; concord: { db: { live(sql: string, p: unknown[], f: (rows: Array<Record<string, unknown>>) => void): Promise<() => void> } } }
      w.liveSeen = []
      w.liveStop = await w.concord.db.live("SELECT qty FROM inventory WHERE sku = 'live'", [], (rows) => w.liveSeen.push({ at: Date.now(), qty: rows[0]?.['qty'] }))
    })
    type Seen = Array<{ at: number; qty: unknown }>
    const seen = () => page.evaluate(() => (window as unknown as { liveSeen: Seen }).liveSeen)
    const latencies: number[] = []
    for (let i = 1; i <= 20; i++) {
      const t0 = Date.now()
      await a.query(`UPDATE inventory SET qty = ${i} WHERE sku = 'live'`)
      await until(async () => (await seen()).some((s) => s.qty === i), 20_000, `live rows with qty ${i} in the page`, 5)
      latencies.push((await seen()).find((s) => s.qty === i)!.at - t0)
    }
    latencies.sort((x, y) => x - y)
    console.info(`live query, write on node A -> callback in the page: p50 ${latencies[10]} ms, max ${latencies[19]} ms (20 writes)`)
    await page.evaluate(() => (window as unknown as { liveStop: () => void }).liveStop())
    const before = (await seen()).length
    await a.query("UPDATE inventory SET qty = 99 WHERE sku = 'live'")
    await until(async () => (await pageQuery("SELECT qty FROM inventory WHERE sku = 'live'"))[0]?.['qty'] === 99, 20_000, 'the last write in the page')
    expect((await seen()).length).toBe(before)
  }, 90_000)

  it('offline writes survive a reload, then converge with concurrent node writes by each table policy, without duplicates', async () => {
    await a.query('CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT NOT NULL)')
    await a.query("CREATE TABLE claims (item TEXT PRIMARY KEY, holder TEXT) WITH (conflict_resolution_policy = 'first_write_wins')")
    await a.query("INSERT INTO inventory (sku, name, qty) VALUES ('c1', 'crate', 1), ('c2', 'cable', 1)")
    await a.query("INSERT INTO claims VALUES ('desk', NULL)")
    await until(async () => (await pageQuery("SELECT count(*)::int AS n FROM inventory WHERE sku IN ('c1', 'c2')"))[0]?.['n'] === 2 && (await pageQuery('SELECT count(*)::int AS n FROM claims'))[0]?.['n'] === 1, 20_000, 'tables in the page')
    // SERIAL ids offline come from an id range the other members confirmed while the page
    // was online (without one, an offline SERIAL insert fails with 55000, loudly).
    await until(() => page.evaluate(() => (window as unknown as PageApi).concord!.db.serialReady()), 60_000, 'an id range confirmed for the page')

    // Offline through the page's own button (hangs up, stops dialing; kept across reloads).
    await page.click('#toggle')
    await until(async () => (await pageStatus()).status === 'offline', 10_000, 'offline')
    expect(await page.locator('#status').textContent()).toBe('offline')

    const pause = () => new Promise((r) => setTimeout(r, 30))
    await pageQuery("INSERT INTO notes (body) VALUES ('one'), ('two'), ('three')")
    await pageQuery("UPDATE inventory SET qty = 10 WHERE sku = 'c1'") // earlier: loses to the node (last write wins)
    await pageQuery("UPDATE claims SET holder = 'page' WHERE item = 'desk'") // earlier: wins (first write wins)
    await pause()
    await a.query("UPDATE inventory SET qty = 20 WHERE sku = 'c1'")
    await a.query("UPDATE inventory SET qty = 30 WHERE sku = 'c2'")
    await a.query("UPDATE claims SET holder = 'node' WHERE item = 'desk'")
    await pause()
    await pageQuery("UPDATE inventory SET qty = 40 WHERE sku = 'c2'") // later: wins
    await pageQuery("INSERT INTO inventory (sku, name, qty) VALUES ('off1', 'offline item', 3)")

    // Nothing left the page.
    await new Promise((r) => setTimeout(r, 500))
    expect((await nodeRows(a, 'SELECT count(*)::int AS n FROM notes'))[0]!['n']).toBe(0)
    const pendingBefore = (await pageStatus()).pendingChanges
    expect(pendingBefore).toBeGreaterThanOrEqual(7)
    await page.screenshot({ path: join(mkdirAndReturn(ARTIFACTS), 'browser-demo-offline.png') })

    // Reload while still offline: every write is still there, and still pending.
    await page.reload()
    await waitReady()
    expect((await pageStatus()).status).toBe('offline')
    expect((await pageStatus()).manualOffline).toBe(true)
    expect((await pageQuery('SELECT body FROM notes ORDER BY id')).map((r) => r['body'])).toEqual(['one', 'two', 'three'])
    expect(await pageQuery("SELECT sku, qty FROM inventory WHERE sku IN ('c1', 'c2', 'off1') ORDER BY sku")).toEqual([
      { sku: 'c1', qty: 10 },
      { sku: 'c2', qty: 40 },
      { sku: 'off1', qty: 3 },
    ])
    expect((await pageStatus()).pendingChanges).toBe(pendingBefore)

    // Back online: everything converges on the page and on both nodes.
    await page.click('#toggle')
    await until(async () => (await pageStatus()).status === 'online' && (await pageStatus()).pendingChanges === 0, 30_000, 'online with nothing pending')
    const expectedInventory = [
      { sku: 'c1', qty: 20 },
      { sku: 'c2', qty: 40 },
      { sku: 'off1', qty: 3 },
    ]
    const invSql = "SELECT sku, qty FROM inventory WHERE sku IN ('c1', 'c2', 'off1') ORDER BY sku"
    const notesSql = 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, count(DISTINCT body)::int AS b FROM notes'
    for (const n of [a, b]) {
      await until(async () => JSON.stringify(await nodeRows(n, invSql)) === JSON.stringify(expectedInventory), 20_000, 'inventory converged on a node')
      await until(async () => JSON.stringify(await nodeRows(n, notesSql)) === JSON.stringify([{ n: 3, d: 3, b: 3 }]), 20_000, 'notes on a node, once each')
      await until(async () => (await nodeRows(n, "SELECT holder FROM claims WHERE item = 'desk'"))[0]?.['holder'] === 'page', 20_000, 'first write wins on a node')
    }
    expect(await pageQuery(invSql)).toEqual(expectedInventory)
    expect(await pageQuery(notesSql)).toEqual([{ n: 3, d: 3, b: 3 }])
    expect(await pageQuery("SELECT holder FROM claims WHERE item = 'desk'")).toEqual([{ holder: 'page' }])
    // The same ids everywhere: the page's SERIAL ids were not reissued on sync.
    const ids = async (rows: Promise<Array<Record<string, unknown>>>) => (await rows).map((r) => r['id'])
    expect(await ids(nodeRows(b, 'SELECT id::text AS id FROM notes ORDER BY id'))).toEqual(await ids(pageQuery('SELECT id::text AS id FROM notes ORDER BY id')))
  }, 100_000)

  it('holds only the shards of its region: a table replicated to another region stays on its nodes', async () => {
    await b.query("CREATE TABLE eu_orders (id INT PRIMARY KEY, total INT) WITH (replication_regions = 'eu-central')")
    await b.query('INSERT INTO eu_orders VALUES (1, 100), (2, 200)')
    await b.query("INSERT INTO inventory (sku, name, qty) VALUES ('g1', 'global marker', 1)")
    // The marker was written after the regional rows: once it arrived, so would they have.
    await until(async () => (await pageQuery("SELECT count(*)::int AS n FROM inventory WHERE sku = 'g1'"))[0]?.['n'] === 1, 20_000, 'marker in the page')
    await until(async () => (await page.evaluate(() => (window as unknown as { concord: { db: { replica: { table(n: string): unknown } } } }).concord.db.replica.table('eu_orders') !== undefined)), 20_000, 'table known to the page')
    const held = await page.evaluate(() => {
      const r = (window as unknown as { concord: { db: { replica: { rowCount(t: string): number; shards: Map<string, unknown> } } } }).concord.db.replica
      return { rows: r.rowCount('eu_orders'), shards: [...r.shards.keys()].filter((id) => id.endsWith(':eu_orders')) }
    })
    expect(held).toEqual({ rows: 0, shards: [] })
    expect((await nodeRows(b, 'SELECT count(*)::int AS n FROM eu_orders'))[0]!['n']).toBe(2)
  }, 45_000)

  it('reconnects with backoff after its node peer restarts', async () => {
    await a.stop()
    await until(async () => (await pageStatus()).peers.every((p) => p.nodeId !== 'node-a'), 15_000, 'node A gone from the page')
    expect((await pageStatus()).status).not.toBe('offline') // still connected to node B
    await b.query("INSERT INTO inventory (sku, name, qty) VALUES ('r1', 'while A was down', 1)")
    a = await NodePeer.start({ dataDir: join(dir, 'a'), nodeId: 'node-a', wsPort: aWsPort })
    await until(async () => (await pageStatus()).peers.some((p) => p.nodeId === 'node-a'), 30_000, 'page redialed node A')
    await until(async () => (await nodeRows(a, "SELECT count(*)::int AS n FROM inventory WHERE sku = 'r1'"))[0]?.['n'] === 1, 20_000, 'A caught up')
  }, 60_000)

  it('refuses a second tab on the same replica name (one node id, one writer)', async () => {
    const second = await context.newPage()
    try {
      await second.goto(`${server.url}?name=e2e`)
      await until(async () => ((await second.locator('#error').textContent()) ?? '').includes('open in another tab'), 15_000, 'the second tab refused')
    } finally {
      await second.close()
    }
  }, 30_000)

  it('saves a screenshot of the demo page', async () => {
    await until(async () => (await page.locator('#rows tr').count()) >= 5, 10_000, 'rows rendered')
    const path = join(mkdirAndReturn(ARTIFACTS), 'browser-demo.png')
    await page.screenshot({ path, fullPage: true })
    expect(existsSync(path)).toBe(true)
  }, 20_000)
})

function mkdirAndReturn(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}
