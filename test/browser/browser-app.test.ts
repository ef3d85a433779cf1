/**
 * The browser replica as an app platform, in headless Chromium against one `concord
 * start` node: the connection state follows the browser's own offline/online events at
 * once (not after a WebSocket times out), says when it last synced and which rows are
 * pending; dial failures read as sentences; the demo pages 10,000 rows through a live
 * query, its +/- buttons add up on a counter column, and it deletes. Prints the cold-open
 * time of 10,000 rows from IndexedDB and the offline-status latency (docs/benchmarks.md).
 * Last, with the static server stopped and the network off, the page starts from its
 * service worker's cache.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { buildDemo } from '../../packages/browser/demo/build.js'
import { NodePeer } from '../../packages/browser/demo/node-peer.js'
import { serveStatic, type StaticServer } from '../../packages/browser/demo/static-server.js'
import { hasChromium, launchChromium, until } from './chromium.fixture.js'

// Nothing listens here (inside this suite's port range): a dial target that always fails.
const DEAD_WS = '/ip4/127.0.0.1/tcp/47913/ws'
const ROWS = 10_000

interface Status {
  status: string
  networkAvailable: boolean
  pendingChanges: number
  pendingRows: number
  lastSyncedAt: number | null
  peers: Array<{ nodeId: string }>
  targets: Array<{ addr: string; connected: boolean; lastError?: string }>
}
interface PageApi {
  concord?: {
    ready: boolean
    timings?: { start: number; opened: number; firstPage: number }
    goTo(offset: number): void
    db: {
      query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
      status(): Status
      isPending(table: string, key: unknown[]): boolean
      replica: { rowsCheckpointed: boolean; shards: Map<string, { viewName(): string | null; isDeferred: boolean }> }
    }
  }
}


describe.skipIf(!hasChromium)('the browser replica as an app platform (headless Chromium)', () => {
  let dir: string
  let a: NodePeer
  let server: StaticServer
  let context: BrowserContext
  let page: Page

  const api = () => window as unknown as PageApi
  const pageQuery = (sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> =>
    page.evaluate(async ([s, p]) => (await (window as unknown as PageApi).concord!.db.query(s as string, p as unknown[])).rows, [sql, params] as const)
  const pageStatus = (): Promise<Status> => page.evaluate(() => (window as unknown as PageApi).concord!.db.status())
  const waitReady = () => page.waitForFunction(() => (window as unknown as PageApi).concord?.ready === true, null, { timeout: 60_000 })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-browser-app-'))
    const [, nodeA] = await Promise.all([buildDemo(join(dir, 'www')), NodePeer.start({ dataDir: join(dir, 'a'), nodeId: 'node-a' })])
    a = nodeA
    await a.query("CREATE TABLE inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0) WITH (counter_columns = 'qty')")
    await a.query("INSERT INTO inventory (sku, name, qty) VALUES ('a0001', 'anvil', 5)")
    server = await serveStatic(join(dir, 'www'), () => ({ join: [a.wsAddress, DEAD_WS] }))
    ;({ context, page } = await launchChromium(dir, { viewport: { width: 1200, height: 900 } }))
    await page.goto(`${server.url}?name=app`)
    await waitReady()
    await until(async () => (await pageStatus()).status === 'online', 30_000, 'online')
  }, 120_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await server?.close().catch(() => {})
    await a?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('shows offline as soon as the browser loses the network, and online again when it returns', async () => {
    expect((await pageStatus()).lastSyncedAt).not.toBeNull()
    await context.setOffline(true)
    const t0 = Date.now()
    await until(async () => (await page.locator('#status').textContent()) === 'offline', 5_000, 'the badge to say offline', 20)
    const latency = Date.now() - t0
    const off = await pageStatus()
    expect(off).toMatchObject({ status: 'offline', networkAvailable: false, peers: [] })
    expect(off.lastSyncedAt).toBeGreaterThan(Date.now() - 60_000)
    console.info(`offline status latency after context.setOffline(true): ${latency} ms (badge and db.status())`)

    // A write while offline is pending, by row, and marked in the table.
    await pageQuery("INSERT INTO inventory (sku, name, qty) VALUES ('a0000', 'offline axe', 1)")
    await until(async () => (await pageStatus()).pendingRows === 1, 5_000, 'one pending row')
    expect(await page.evaluate(() => (window as unknown as PageApi).concord!.db.isPending('inventory', ['a0000']))).toBe(true)
    expect(await page.evaluate(() => (window as unknown as PageApi).concord!.db.isPending('inventory', ['a0001']))).toBe(false)
    await until(async () => (await page.locator('tr.pending[data-sku="a0000"]').count()) === 1, 5_000, 'the pending marker')
    expect(await page.locator('#synced').textContent()).not.toBe('now')

    await context.setOffline(false)
    await until(async () => (await pageStatus()).status === 'online', 20_000, 'online again')
    await until(async () => (await pageStatus()).pendingRows === 0, 10_000, 'nothing pending')
    await until(async () => (await a.query("SELECT count(*)::int AS n FROM inventory WHERE sku = 'a0000'")).rows[0]?.['n'] === 1, 10_000, 'the offline row on the node')
    await until(async () => (await page.locator('tr.pending').count()) === 0, 5_000, 'markers gone')
  }, 60_000)

  it('reports why a dial target fails in words, not [object Event]', async () => {
    await until(async () => (await pageStatus()).targets.some((t) => t.addr === DEAD_WS && t.lastError !== undefined), 20_000, 'a failed dial of the dead target')
    const dead = (await pageStatus()).targets.find((t) => t.addr === DEAD_WS)!
    expect(dead.connected).toBe(false)
    expect(dead.lastError).not.toContain('[object')
    expect(dead.lastError!.length).toBeGreaterThan(10)
    console.info(`dial error shown for ${DEAD_WS}: ${dead.lastError}`)
  }, 30_000)

  it('the +/- buttons add up on the counter column and delete removes the row everywhere', async () => {
    const row = page.locator('tr[data-sku="a0001"]')
    await until(async () => (await row.count()) === 1, 10_000, 'row a0001 shown')
    for (let i = 0; i < 6; i++) await row.locator('button[data-delta="1"]').click()
    await row.locator('button[data-delta="-1"]').click()
    await a.query("UPDATE inventory SET qty = qty + 10 WHERE sku = 'a0001'") // concurrently, on the node
    await until(async () => (await a.query("SELECT qty FROM inventory WHERE sku = 'a0001'")).rows[0]?.['qty'] === 20, 20_000, '5 + 6 - 1 + 10 on the node')
    await until(async () => (await row.locator('td.num').textContent()) === '20', 20_000, '20 in the page')

    await page.locator('tr[data-sku="a0000"] button[data-action="delete"]').click()
    await until(async () => (await a.query("SELECT count(*)::int AS n FROM inventory WHERE sku = 'a0000'")).rows[0]?.['n'] === 0, 20_000, 'delete on the node')
    await until(async () => (await page.locator('tr[data-sku="a0000"]').count()) === 0, 10_000, 'row gone from the page')
  }, 60_000)

  it(`pages ${ROWS} rows, and opens them cold from IndexedDB`, async () => {
    const values = Array.from({ length: ROWS }, (_, i) => `('b${String(i).padStart(5, '0')}', 'item ${i}', ${i % 100})`)
    for (let i = 0; i < ROWS; i += 1000) await a.query(`INSERT INTO inventory (sku, name, qty) VALUES ${values.slice(i, i + 1000).join(', ')}`)
    await until(async () => (await pageQuery('SELECT count(*)::int AS n FROM inventory'))[0]?.['n'] === ROWS + 1, 120_000, `${ROWS} rows in the page`, 500)
    await until(async () => (await page.locator('#page').textContent()) === `1-50 of ${ROWS + 1}`, 20_000, 'the pager total')
    expect(await page.locator('#rows tr').count()).toBe(50)
    await page.click('#next')
    await until(async () => (await page.locator('#rows tr').first().getAttribute('data-sku')) === 'b00049', 10_000, 'the second page')

    // A change on the node re-renders the visible page only.
    await a.query("UPDATE inventory SET qty = 777 WHERE sku = 'b00050'")
    await until(async () => (await page.locator('tr[data-sku="b00050"] td.num').textContent()) === '777', 20_000, 'the change on the visible page')

    // Cold open: reload with the network gone, so everything comes from IndexedDB. A page
    // quiet for a second has checkpointed its rows (storage/row-checkpoint.ts), so the
    // reload starts from them instead of resolving every Yjs record again.
    await until(async () => (await pageStatus()).status === 'online', 30_000, 'online before the reload')
    await until(() => page.evaluate(() => (window as unknown as PageApi).concord!.db.replica.rowsCheckpointed), 30_000, 'the row checkpoint')
    await page.evaluate(() => localStorage.setItem('concord-demo-offline', '1'))
    const t0 = Date.now()
    await page.reload()
    await waitReady()
    const wall = Date.now() - t0
    const fromCheckpoint = await page.evaluate(() => [...(window as unknown as PageApi).concord!.db.replica.shards.values()].some((sh) => sh.viewName() === 'inventory' && sh.isDeferred))
    expect(fromCheckpoint).toBe(true)
    const timings = await page.evaluate(() => (window as unknown as PageApi).concord!.timings!)
    const q0 = Date.now()
    expect((await pageQuery('SELECT count(*)::int AS n FROM inventory'))[0]?.['n']).toBe(ROWS + 1)
    const countMs = Date.now() - q0
    expect(await page.locator('#rows tr').count()).toBe(50)
    console.info(
      `cold open of ${ROWS + 1} rows from IndexedDB (row checkpoint): openReplica ${Math.round(timings.opened - timings.start)} ms, ` +
        `first page shown ${Math.round(timings.firstPage - timings.start)} ms after the script started; reload to ready ${wall} ms; count(*) ${countMs} ms`,
    )
    await page.evaluate(() => localStorage.setItem('concord-demo-offline', '0'))
  }, 300_000)

  it('starts with no network from its service worker cache: shell, bundle, config, then its IndexedDB rows', async () => {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 })
    await server.close() // the static server is gone
    await context.setOffline(true) // and so is the network
    try {
      await page.reload()
      await waitReady()
      expect((await pageStatus()).status).toBe('offline')
      expect(await page.locator('#rows tr').count()).toBe(50)
      expect((await pageQuery('SELECT count(*)::int AS n FROM inventory'))[0]?.['n']).toBe(ROWS + 1)
      expect(await page.locator('#page').textContent()).toBe(`1-50 of ${ROWS + 1}`)
    } finally {
      await context.setOffline(false)
    }
  }, 120_000)
})
