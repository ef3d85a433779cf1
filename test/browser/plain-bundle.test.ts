/**
 * An application bundles the browser package as any app would: esbuild with `bundle`,
 * `format` and `outfile` and nothing else (no externals, no loaders, no plugins, no
 * conditions, no asset copying), from the packages' built `dist/` as an installed package
 * is. The bundle runs in headless Chromium and answers a query: the parser's WASM is
 * found with no help (it travels inside the bundle: packages/sql-facade/build/browser-parser.ts),
 * and nothing Node-only is pulled in.
 *
 * The same app through Vite's `build` with no configuration at all (an index.html naming
 * app.ts) runs the same way.
 *
 * The packages are built first (`tsc -b` and the browser parser; both skip work that is
 * up to date), since a plain bundler resolves `@concord/browser` to its `dist/`.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build } from 'esbuild'
import { build as viteBuild } from 'vite'
import { chromium, type Browser } from 'playwright-core'
import { buildBrowserParser } from '../../packages/sql-facade/build/browser-parser.js'
import { serveStatic, type StaticServer } from '../../packages/browser/demo/static-server.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const CHROMIUM = process.env['CONCORD_CHROMIUM'] ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)

const APP = `import { openReplica } from '@concord/browser'

const out = window as unknown as { result?: unknown; failure?: string }
openReplica({ name: 'plain', join: [], offline: true })
  .then(async (db) => {
    await db.query('CREATE TABLE IF NOT EXISTS notes (id INT PRIMARY KEY, body TEXT NOT NULL)')
    await db.query('INSERT INTO notes VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [1, 'bundled with no flags'])
    out.result = (await db.query('SELECT id, body FROM notes WHERE id = $1', [1])).rows
  })
  .catch((err: unknown) => (out.failure = String((err as Error).stack ?? err)))
`

describe.skipIf(!hasChromium)('the browser package bundled with plain esbuild or Vite (no flags)', () => {
  let dir: string
  let server: StaticServer
  let browser: Browser | undefined

  beforeAll(async () => {
    await run('npx', ['tsc', '-b'], { cwd: root, timeout: 600_000 })
    await buildBrowserParser()
    // Inside the repository, so '@concord/browser' resolves through its node_modules as an app's would.
    mkdirSync(join(root, 'test', 'artifacts'), { recursive: true })
    dir = mkdtempSync(join(root, 'test', 'artifacts', 'plain-bundle-'))
    writeFileSync(join(dir, 'app.ts'), APP)
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>plain bundle</title><script type="module" src="./app.js"></script>')
  }, 660_000)

  afterAll(async () => {
    await browser?.close().catch(() => {})
    await server?.close().catch(() => {})
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('builds with bundle, format and outfile only, and the page queries a row', async () => {
    const result = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', outfile: join(dir, 'app.js'), logLevel: 'silent', metafile: true })
    expect(result.errors).toEqual([])
    // Everything is inside: nothing left for the page to import.
    expect(Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path))).toEqual([])
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.some((p) => p.includes('packages/browser/dist/'))).toBe(true)
    expect(inputs.some((p) => p.includes('packages/sql-facade/dist/browser/libpg-query.js'))).toBe(true)
    expect(readFileSync(join(dir, 'app.js'), 'utf8')).not.toMatch(/from\s*["']node:/)

    expect(await queryInPage(dir)).toEqual([{ id: 1, body: 'bundled with no flags' }])
  }, 180_000)

  it('builds with Vite and no configuration, and the page queries a row', async () => {
    const site = join(dir, 'vite')
    mkdirSync(site)
    writeFileSync(join(site, 'app.ts'), APP)
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>vite</title><script type="module" src="./app.ts"></script>')
    await viteBuild({ root: site, configFile: false, logLevel: 'silent' })
    expect(await queryInPage(join(site, 'dist'))).toEqual([{ id: 1, body: 'bundled with no flags' }])
  }, 180_000)

  /** Serves `www` and opens it in Chromium: the rows the app's query gave, or its error. */
  async function queryInPage(www: string): Promise<unknown> {
    await server?.close()
    server = await serveStatic(www, () => ({}))
    browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    // A context of its own: a fresh IndexedDB for each bundle.
    const context = await browser.newContext()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(server.url)
    await page.waitForFunction(() => {
      const w = window as unknown as { result?: unknown; failure?: string }
      return w.result !== undefined || w.failure !== undefined
    }, null, { timeout: 120_000 })
    const outcome = await page.evaluate(() => {
      const w = window as unknown as { result?: unknown; failure?: string }
      return { result: w.result, failure: w.failure }
    })
    await context.close()
    expect(outcome.failure).toBeUndefined()
    expect(errors).toEqual([])
    return outcome.result
  }
})
