/**
 * Builds `dist/browser/libpg-query.js`: libpg-query for browsers, as one ES module with
 * its WASM inside (embedded-wasm.ts). package.json's `browser` field maps `libpg-query`
 * to it for every import made from this package, so bundlers that honour the field
 * (esbuild, Vite, webpack, Rollup's node-resolve with `browser: true`) pick it with no
 * option. Node keeps the package's own build.
 *
 * libpg-query's Emscripten glue has Node-only branches that `require('node:fs')` and
 * `require('node:crypto')`; they never run in a page, so they resolve to empty modules
 * here, once, instead of in every application's bundler.
 *
 * Run by `npm run build` (after `tsc -b`): `tsx packages/sql-facade/build/browser-parser.ts`.
 * Skips the work when the output is newer than its inputs.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Plugin } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const OUT = join(here, '..', 'dist', 'browser', 'libpg-query.js')
const GLUE = /[\\/]libpg-query[\\/]wasm[\\/]libpg-query\.js$/

const require = createRequire(import.meta.url)
const entry = require.resolve('libpg-query').replace(/index\.cjs$/, 'index.js')
const wasmPath = join(dirname(entry), 'libpg-query.wasm')

/** The Node-only modules of the glue, and the glue itself wrapped to use the embedded WASM. */
const browserGlue: Plugin = {
  name: 'concord-libpg-query-browser',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|crypto)$/ }, (args) => ({ path: args.path, namespace: 'node-only' }))
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = {}', loader: 'js' }))
    b.onLoad({ filter: GLUE }, (args) => {
      const glue = readFileSync(args.path, 'utf8')
      if (!glue.includes('module.exports=PgQueryModule')) throw new Error(`${args.path}: not the Emscripten glue this build wraps`)
      const loader = JSON.stringify(join(here, 'embedded-wasm.ts'))
      return {
        contents: `${glue}
;{
  const factory = module.exports
  const { withEmbeddedWasm } = require(${loader})
  const embedded = (moduleArg) => withEmbeddedWasm(factory, moduleArg)
  module.exports = embedded
  module.exports.default = embedded
}
`,
        loader: 'js',
      }
    })
  },
}

/** The output is newer than libpg-query's files and this build's own. */
function upToDate(): boolean {
  if (!existsSync(OUT)) return false
  const built = statSync(OUT).mtimeMs
  const inputs = [entry, wasmPath, join(dirname(entry), 'libpg-query.js'), join(here, 'embedded-wasm.ts'), fileURLToPath(import.meta.url)]
  return inputs.every((f) => statSync(f).mtimeMs <= built)
}

export async function buildBrowserParser(): Promise<{ file: string; bytes: number }> {
  if (upToDate()) return { file: OUT, bytes: statSync(OUT).size }
  mkdirSync(dirname(OUT), { recursive: true })
  const wasm = gzipSync(readFileSync(wasmPath), { level: 9 })
  await build({
    entryPoints: [entry],
    outfile: OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
    plugins: [browserGlue],
    define: { __CONCORD_PG_WASM_GZIP_BASE64__: JSON.stringify(wasm.toString('base64')) },
  })
  return { file: OUT, bytes: statSync(OUT).size }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { file, bytes } = await buildBrowserParser()
  console.log(`${file}: ${(bytes / 1024).toFixed(0)} KB`)
}
