/**
 * Bundles the demo app (and with it the whole @concord/browser stack: SQL facade, core,
 * libp2p, IndexedDB storage) with esbuild for browsers, copies the parser's WASM beside
 * the bundle, and reports sizes.
 *
 * libpg-query's Emscripten glue has Node-only branches that import `node:fs` and
 * `node:crypto`; they never run in a page, so they stay external. Nothing else may
 * import a Node built-in: `assertNoNodeBuiltins` checks the metafile.
 */
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const ALLOWED_EXTERNAL = new Set(['node:fs', 'node:crypto'])

export interface BundleReport {
  outDir: string
  jsBytes: number
  jsGzipBytes: number
  wasmBytes: number
  wasmGzipBytes: number
}

export async function buildDemo(outDir = join(here, '..', 'dist', 'demo')): Promise<BundleReport> {
  mkdirSync(outDir, { recursive: true })
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
    external: [...ALLOWED_EXTERNAL],
    define: { 'process.env.NODE_ENV': '"production"' },
  })
  assertNoNodeBuiltins(result.metafile)
  const require = createRequire(import.meta.url)
  const wasm = join(dirname(require.resolve('libpg-query')), 'libpg-query.wasm')
  copyFileSync(wasm, join(outDir, 'libpg-query.wasm'))
  copyFileSync(join(here, 'index.html'), join(outDir, 'index.html'))
  const js = readFileSync(join(outDir, 'app.js'))
  const wasmBytes = readFileSync(wasm)
  return { outDir, jsBytes: js.length, jsGzipBytes: gzipSync(js).length, wasmBytes: statSync(wasm).size, wasmGzipBytes: gzipSync(wasmBytes).length }
}

function assertNoNodeBuiltins(meta: Metafile): void {
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !ALLOWED_EXTERNAL.has(imp.path)) throw new Error(`bundle imports ${imp.path}: a Node built-in or unbundled module in the browser build`)
    }
  }
}

export function formatReport(r: BundleReport): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`
  return `app.js ${kb(r.jsBytes)} (${kb(r.jsGzipBytes)} gzip), libpg-query.wasm ${kb(r.wasmBytes)} (${kb(r.wasmGzipBytes)} gzip) in ${r.outDir}`
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
