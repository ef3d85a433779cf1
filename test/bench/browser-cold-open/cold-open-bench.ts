/**
 * Cold open of a browser replica from IndexedDB, in headless Chromium: fills an offline
 * replica with BENCH_ROWS rows (default 10,000) in one page load, then reloads the page
 * BENCH_RUNS times (default 5) and reports `openReplica`'s time and `count(*)` after it,
 * with the page's CPU time (CDP Performance.getMetrics' TaskDuration) and the load average.
 * BENCH_PROFILE=file.cpuprofile writes a CDP CPU profile of the last open.
 *
 *   NODE_OPTIONS=--conditions=@concord/source npx tsx test/bench/browser-cold-open/cold-open-bench.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { serveStatic } from '../../../packages/browser/demo/static-server.js'

const here = dirname(fileURLToPath(import.meta.url))
const CHROMIUM = process.env['CONCORD_CHROMIUM'] ?? '/usr/bin/chromium'
const ROWS = Number(process.env['BENCH_ROWS'] ?? '10000')
const RUNS = Number(process.env['BENCH_RUNS'] ?? '5')
/** Milliseconds the page stays open after each open, before the next reload (a checkpoint comes after 1 s of quiet). */
const QUIET_MS = Number(process.env['BENCH_QUIET_MS'] ?? '0')

interface BenchResult { phase: string; openMs?: number; countMs?: number; rows?: number; fromSnapshot?: boolean; error?: string }

const dir = mkdtempSync(join(tmpdir(), 'concord-cold-open-'))
try {
  const fromSources = import.meta.resolve('@concord/browser').endsWith('.ts')
  await build({
    entryPoints: [join(here, 'page.ts')],
    outfile: join(dir, 'www', 'app.js'),
    bundle: true,
    format: 'esm',
    minify: process.env['BENCH_MINIFY'] !== '0',
    conditions: fromSources ? ['@concord/source'] : [],
    logLevel: 'warning',
  })
  writeFileSync(join(dir, 'www', 'index.html'), '<!doctype html><script type="module" src="./app.js"></script>')
  const server = await serveStatic(join(dir, 'www'), () => ({}))
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const result = async (): Promise<BenchResult> => {
      await page.waitForFunction(() => (window as unknown as { bench?: unknown }).bench !== undefined, null, { timeout: 300_000 })
      const r = await page.evaluate(() => (window as unknown as { bench: BenchResult }).bench)
      if (r.error) throw new Error(r.error)
      return r
    }
    await page.goto(`${server.url}?phase=fill&rows=${ROWS}`)
    await result()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Performance.enable')
    const profileFile = process.env['BENCH_PROFILE']
    for (let i = 0; i < RUNS; i++) {
      const last = i === RUNS - 1
      if (last && profileFile) {
        await cdp.send('Profiler.enable')
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
      }
      await page.goto('about:blank')
      const before = await cdp.send('Performance.getMetrics')
      if (last && profileFile) await cdp.send('Profiler.start')
      await page.goto(`${server.url}?phase=open${process.env['BENCH_TRACE'] === '1' ? '&trace=1' : ''}`)
      const r = await result()
      if (process.env['BENCH_TRACE'] === '1') console.log((await page.evaluate(() => (window as unknown as { idb: string[] }).idb)).join('\n'))
      const after = await cdp.send('Performance.getMetrics')
      if (last && profileFile) {
        const { profile } = await cdp.send('Profiler.stop')
        writeFileSync(profileFile, JSON.stringify(profile))
      }
      const task = (m: { metrics: Array<{ name: string; value: number }> }): number => m.metrics.find((x) => x.name === 'TaskDuration')?.value ?? 0
      console.log(
        `cold open of ${r.rows} rows (${r.fromSnapshot ? 'row checkpoint' : 'Yjs records'}): openReplica ${r.openMs!.toFixed(0)} ms, count(*) ${r.countMs!.toFixed(0)} ms, ` +
          `page CPU (TaskDuration) ${((task(after) - task(before)) * 1000).toFixed(0)} ms, load ${loadavg()[0]!.toFixed(1)}`,
      )
      if (QUIET_MS > 0) await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
    }
  } finally {
    await context.close()
    await server.close()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
