/**
 * A scoped browser token in a real browser (issue 15): the demo page in headless Chromium
 * opens its replica with a token from `concord_browser_token(ARRAY['inventory'], ..,
 * ARRAY['prices'])`. It syncs inventory both ways, receives prices, and refuses, itself,
 * to write prices or change the schema (42501), where before such writes ran in the page
 * and reached no node. Skipped where /usr/bin/chromium is absent.
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


interface PageApi {
  concord?: {
    ready: boolean
    db: { query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> }
  }
}


describe.skipIf(!hasChromium)('a scoped browser token in headless Chromium', () => {
  let dir: string
  let node: NodePeer
  let server: StaticServer
  let context: BrowserContext
  let page: Page

  /** The page's answer, or its error's SQLSTATE and message. */
  const pageRun = (sql: string): Promise<{ rows?: Array<Record<string, unknown>>; code?: string; message?: string }> => page.evaluate(async (s) => {
    try {
      return { rows: (await (window as unknown as PageApi).concord!.db.query(s)).rows }
    } catch (err) {
      return { code: (err as { code?: string }).code, message: (err as Error).message }
    }
  }, sql)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-browser-token-'))
    const [, n] = await Promise.all([buildDemo(join(dir, 'www')), NodePeer.start({ dataDir: join(dir, 'a'), nodeId: 'node-token' })])
    node = n
    await node.query("CREATE TABLE inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0) WITH (counter_columns = 'qty')")
    await node.query('CREATE TABLE prices (sku TEXT PRIMARY KEY, cents INT)')
    await node.query("INSERT INTO prices VALUES ('w0001', 250)")
    const peerId = /\/p2p\/([^/]+)$/.exec(node.wsAddress)![1]!
    await node.query(`ALTER SYSTEM ADD NODE '${peerId}'`)
    const token = (await node.query<{ t: string }>("SELECT concord_browser_token(ARRAY['inventory'], 600, ARRAY['prices']) AS t")).rows[0]!.t
    server = await serveStatic(join(dir, 'www'), () => ({ join: [node.wsAddress], token }))
    ;({ context, page } = await launchChromium(dir))
    await page.goto(`${server.url}?name=scoped`)
    await page.waitForFunction(() => (window as unknown as PageApi).concord?.ready === true, null, { timeout: 60_000 })
  }, 120_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await server?.close().catch(() => {})
    await node?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('reads its read-only table, writes its own, and refuses the rest itself', async () => {
    await until(async () => (await pageRun("SELECT cents FROM prices WHERE sku = 'w0001'")).rows?.length === 1, 30_000, 'the price in the page')
    expect(await pageRun("UPDATE prices SET cents = 1 WHERE sku = 'w0001'")).toMatchObject({ code: '42501', message: 'permission denied for table prices' })
    expect(await pageRun('CREATE TABLE mine (id INT PRIMARY KEY)')).toMatchObject({ code: '42501' })
    expect((await pageRun("SELECT cents FROM prices WHERE sku = 'w0001'")).rows).toEqual([{ cents: 250 }])
    expect(await pageRun("INSERT INTO inventory VALUES ('w0002', 'from the page', 2)")).toMatchObject({ rows: [] })
    try {
      await until(async () => (await node.query("SELECT count(*)::int AS n FROM inventory WHERE sku = 'w0002'")).rows[0]?.['n'] === 1, 30_000, 'the page row on the node')
    } catch (err) {
      console.log(`node log:\n${node.log.slice(-20_000)}`)
      throw err
    }
    expect((await node.query("SELECT cents FROM prices WHERE sku = 'w0001'")).rows).toEqual([{ cents: 250 }])
  }, 90_000)
})
