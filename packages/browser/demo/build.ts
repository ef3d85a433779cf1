/**
 * Bundles the demo app (and with it the whole @concord/browser stack: SQL facade, core,
 * libp2p, IndexedDB storage) with esbuild for browsers, and reports its size.
 *
 * No externals, no asset to copy: the parser's WASM travels inside the bundle
 * (packages/sql-facade/build/browser-parser.ts), so this is the build any application
 * would write. `assertSelfContained` checks the metafile: a Node built-in or anything
 * left unbundled fails the build.
 *
 * It bundles what Node resolves here: the TypeScript sources when run under the
 * `@concord/source` condition (tests, `npm run demo`), the packages' dist/ otherwise.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'
import { buildBrowserParser } from '../../sql-facade/build/browser-parser.js'

const here = dirname(fileURLToPath(import.meta.url))
const SOURCE_CONDITION = '@concord/source'
const BROWSER_PARSER = join(here, '..', '..', 'sql-facade', 'dist', 'browser', 'libpg-query.js')

export interface BundleReport {
  outDir: string
  jsBytes: number
  jsGzipBytes: number
  fromSources: boolean
}

export async function buildDemo(outDir = join(here, '..', 'dist', 'demo')): Promise<BundleReport> {
  mkdirSync(outDir, { recursive: true })
  // Made by `npm run build`; made here when a test runs before any build.
  if (!existsSync(BROWSER_PARSER)) await buildBrowserParser()
  const fromSources = import.meta.resolve('@concord/browser').endsWith('.ts')
  const result = await build({
    entryPoints: [join(here, 'app.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
    conditions: fromSources ? [SOURCE_CONDITION] : [],
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  assertSelfContained(result.metafile)
  // The service worker that lets the page start offline (sw.ts): its own small script.
  await build({
    entryPoints: [join(here, 'sw.ts')],
    outfile: join(outDir, 'sw.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  })
  copyFileSync(join(here, 'index.html'), join(outDir, 'index.html'))
  const js = readFileSync(join(outDir, 'app.js'))
  return { outDir, jsBytes: js.length, jsGzipBytes: gzipSync(js).length, fromSources }
}

function assertSelfContained(meta: Metafile): void {
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (imp.external) throw new Error(`bundle imports ${imp.path}: a Node built-in or unbundled module in the browser build`)
    }
  }
}

export function formatReport(r: BundleReport): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`
  const from = r.fromSources ? 'sources' : 'dist'
  return `app.js ${kb(r.jsBytes)} (${kb(r.jsGzipBytes)} gzip, parser WASM included) from ${from} in ${r.outDir}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildDemo().then(
    (r) => console.log(formatReport(r)),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
