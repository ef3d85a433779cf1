/**
 * The operator console (`GET /` on a node's HTTP port) in headless Chromium (Debian's
 * `chromium`, driven by playwright-core) against two `concord start` processes on
 * 127.0.0.1: the figures it shows (nodes, shards, conflicts, metrics) are those the
 * system views give over the wire on the same node, it refreshes by itself, it plots
 * lag over time; a screenshot goes to test/artifacts/console.png. Skipped, with a
 * message, where /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ConcordProcess, until } from '../cluster/concord-process.js'

const CHROMIUM = process.env['CONCORD_CHROMIUM'] ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))

if (!hasChromium) console.warn(`console suite SKIPPED: ${CHROMIUM} not found (Debian: apt-get install -y chromium)`)

describe.skipIf(!hasChromium)('operator console in headless Chromium', () => {
  let dir: string
  const nodes: ConcordProcess[] = []
  let browser: Browser
  let page: Page

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-console-'))
    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'cona', httpPort: true })
    nodes.push(a)
    nodes.push(await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'conb', join: [a.pgAddress] }))
    await until(() => nodes.every((n) => /peer con[ab] up/.test(n.log)), 30_000, 'both nodes connected')
    await a.query('CREATE TABLE orders (id INT PRIMARY KEY, total INT)')
    await a.query('INSERT INTO orders SELECT g, g FROM generate_series(1, 500) g')
    await nodes[1]!.query('CREATE TABLE customers (id INT PRIMARY KEY, name TEXT)')
    await nodes[1]!.query("INSERT INTO customers VALUES (1, 'ann')")
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } })
    await page.goto(`http://127.0.0.1:${a.httpPort}/`)
  }, 120_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await Promise.all(nodes.map((n) => n.stop()))
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('shows the nodes, shards, conflicts and metrics the views give, refreshes by itself and plots lag; screenshot', async () => {
    const a = nodes[0]!
    const view = async (sql: string): Promise<string[]> => (await a.query<{ v: string }>(sql)).rows.map((r) => String(r.v))
    const shown = (selector: string, attr: string): Promise<string[]> => page.$$eval(selector, (els, at) => els.map((e) => e.getAttribute(at) ?? ''), attr)
    const textOf = async (id: string): Promise<string> => (await page.textContent(id)) ?? ''

    // Both nodes, as pg_nodes lists them, with their status.
    await until(async () => (await shown('#nodes tr[data-node]', 'data-node')).length === 2, 30_000, 'two nodes in the console')
    expect((await shown('#nodes tr[data-node]', 'data-node')).sort()).toEqual(await view('SELECT node_id AS v FROM pg_nodes ORDER BY node_id'))
    await until(async () => (await page.$$('#nodes td.up')).length === 2, 30_000, 'both nodes up')

    // Shards of both tables (one made on each node), as pg_stat_concord_shards counts them on this node.
    await until(async () => (await shown('#shards tr[data-table]', 'data-table')).includes('customers'), 30_000, 'the other node\'s table in the shard map')
    await until(async () => (await textOf('#shard-count')) === (await view('SELECT count(*) AS v FROM pg_stat_concord_shards'))[0], 10_000, 'the shard count of the view')
    const ordersRows = await page.textContent('#shards tr[data-table="orders"] td:nth-child(4)')
    expect(ordersRows).toBe((await view("SELECT live_rows AS v FROM pg_stat_concord_shards WHERE table_name = 'orders'"))[0])

    // Conflicts: concurrent updates of one row on both nodes (each before it hears of the
    // other's), until this node has resolved one; the console shows what concord_conflicts has.
    const conflicts = async (): Promise<number> => Number((await view('SELECT count(*) AS v FROM concord_conflicts'))[0])
    for (let i = 0; i < 20 && (await conflicts()) === 0; i++) {
      await Promise.all([a.query(`UPDATE orders SET total = ${1000 + i} WHERE id = 1`), nodes[1]!.query(`UPDATE orders SET total = ${2000 + i} WHERE id = 1`)])
      await new Promise((r) => setTimeout(r, 300))
    }
    expect(await conflicts()).toBeGreaterThan(0)
    await until(async () => (await page.$$('#conflicts tbody tr')).length > 0, 10_000, 'a conflict listed')
    expect(await page.textContent('#conflicts tbody tr td:nth-child(2)')).toBe('orders')
    await until(async () => (await textOf('#conflict-total')) === (await view('SELECT count(*) AS v FROM concord_conflicts'))[0], 10_000, 'the conflict count of the view')

    // A metric, as /metrics says it (shards held is stable).
    const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()
    const shards = /^concord_shards (\d+)$/m.exec(metrics)![1]
    expect(await page.textContent('#metrics tr[data-metric="concord_shards"] td:nth-child(2)')).toBe(shards)

    // Failover role (multi-master: every node a writable master) and catch-up.
    const recovery = (await a.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r
    expect(await textOf('#role')).toBe(recovery ? 'standby' : 'master')
    expect(await textOf('#sync')).toMatch(/^\d+ of [1-9]\d* shards confirmed by a connected peer \(1 peers\)$/)

    // It refreshes by itself: samples grow, and the lag of each node is plotted.
    const before = Number(await textOf('#samples'))
    await until(async () => Number(await textOf('#samples')) >= before + 3, 20_000, 'three more samples')
    expect((await shown('#lag polyline', 'data-node')).sort()).toEqual(['cona', 'conb'])

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true })
  }, 120_000)
})
