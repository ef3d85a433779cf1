/**
 * WebSockets over TLS (issue 19): a node started with --tls-self-signed --wss-port serves
 * browser replicas on a `/tls/ws` listener with its certificate; the demo page in headless
 * Chromium joins it by `wss://host:port` and syncs both ways. Chromium runs with
 * --ignore-certificate-errors, standing in for a certificate the browser trusts (a
 * self-signed one is trusted by no browser). Skipped where /usr/bin/chromium is absent.
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
    db: {
      query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>
      status(): { status: string; peers: Array<{ nodeId: string }>; targets: Array<{ addr: string; connected: boolean; lastError?: string }> }
    }
  }
}


describe.skipIf(!hasChromium)('browser replica over wss:// (headless Chromium)', () => {
  let dir: string
  let node: NodePeer
  let server: StaticServer
  let context: BrowserContext
  let page: Page
  let wssUrl = ''

  const pageQuery = (sql: string): Promise<Array<Record<string, unknown>>> => page.evaluate(async (s) => (await (window as unknown as PageApi).concord!.db.query(s)).rows, sql)
  const pageStatus = () => page.evaluate(() => (window as unknown as PageApi).concord!.db.status())

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-browser-wss-'))
    const [, n] = await Promise.all([buildDemo(join(dir, 'www')), NodePeer.start({ dataDir: join(dir, 'a'), nodeId: 'node-wss', extraArgs: ['--tls-self-signed', '--wss-port', '0'] })])
    node = n
    expect(node.wssAddress).toMatch(/\/tls\/ws\/p2p\//)
    wssUrl = `wss://127.0.0.1:${/\/tcp\/(\d+)\//.exec(node.wssAddress)![1]}`
    await node.query('CREATE TABLE inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)')
    await node.query("INSERT INTO inventory VALUES ('w0001', 'from the node', 1)")
    server = await serveStatic(join(dir, 'www'), () => ({ join: [wssUrl] }))
    ;({ context, page } = await launchChromium(dir, { args: ['--ignore-certificate-errors'] }))
    await page.goto(`${server.url}?name=wss`)
    await page.waitForFunction(() => (window as unknown as PageApi).concord?.ready === true, null, { timeout: 60_000 })
  }, 120_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await server?.close().catch(() => {})
    await node?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('joins the node by wss://host:port and syncs rows both ways', async () => {
    await until(async () => (await pageStatus()).peers.some((p) => p.nodeId === 'node-wss'), 30_000, 'the node as a peer over wss')
    // The one dial target, as a multiaddr (`wss://host:port` becomes `/ip4/host/tcp/port/wss`), connected.
    const targets = (await pageStatus()).targets
    expect(targets.map((t) => [t.addr.replace(/\/p2p\/.*$/, ''), t.connected])).toEqual([[`/ip4/127.0.0.1/tcp/${new URL(wssUrl).port}/wss`, true]])
    await until(async () => (await pageQuery("SELECT name FROM inventory WHERE sku = 'w0001'")).length === 1, 30_000, 'the node row in the page')
    await pageQuery("INSERT INTO inventory VALUES ('w0002', 'from the page', 2)")
    try {
      await until(async () => (await node.query("SELECT count(*)::int AS n FROM inventory WHERE sku = 'w0002'")).rows[0]?.['n'] === 1, 30_000, 'the page row on the node')
    } catch (err) {
      console.log(`node log:\n${node.log.slice(-20_000)}\npage status: ${JSON.stringify(await pageStatus().catch(() => null))}`)
      throw err
    }
  }, 90_000)
})
