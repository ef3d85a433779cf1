/**
 * Bundles the compiled CLI (dist/cli.js, from `tsc -b`) with the node-server, SQL and
 * engine packages and libp2p into `dist/bundle/`, the code `concord` runs.
 *
 * Why: Node 20 spends most of `concord start` resolving and loading some 200 ES modules
 * one by one; the same code as a few files starts about three times faster
 * (docs/decisions/0014-ship-compiled-javascript.md). Code splitting keeps `--help` small:
 * the node and everything under it are a chunk loaded by `start` only.
 *
 * Invariants: the bundle runs the same JavaScript tsc emitted (its input is dist/, not
 * the sources); packages that find files beside themselves or load native code (lmdb,
 * libpg-query's WASM, pg's optional native driver) and undici (loaded only on Node 20)
 * stay external and load from node_modules as usual; the entry sits two folders below the
 * package, like src/cli/*.ts, so `new URL('../../bin/concord.js', import.meta.url)` in
 * local-cluster.ts names the bin from either.
 *
 * Run by `npm run build` (after `tsc -b`): `tsx packages/node-server/build/cli-bundle.ts`.
 * Skips the work when no input changed since the last bundle.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const OUT_DIR = join(here, '..', 'dist', 'bundle')
const EXTERNAL = ['lmdb', 'libpg-query', 'pg-native', 'undici']
/** The inputs of the last bundle (esbuild's metafile), to skip a bundle that is up to date. */
const INPUTS = join(OUT_DIR, 'inputs.json')

function upToDate(): boolean {
  if (!existsSync(INPUTS)) return false
  const built = statSync(INPUTS).mtimeMs
  const inputs = [...(JSON.parse(readFileSync(INPUTS, 'utf8')) as string[]), fileURLToPath(import.meta.url)]
  return inputs.every((f) => existsSync(f) && statSync(f).mtimeMs <= built)
}

export async function bundleCli(): Promise<string> {
  const entry = join(OUT_DIR, 'cli.mjs')
  if (upToDate()) return entry
  rmSync(OUT_DIR, { recursive: true, force: true })
  const result = await build({
    entryPoints: { cli: join(here, '..', 'dist', 'cli.js') },
    outdir: OUT_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS dependencies bundled into an ES module still call require() for Node's
    // built-ins.
    banner: { js: "import { createRequire as __concordRequire } from 'node:module'; const require = __concordRequire(import.meta.url);" },
    // Without whitespace the 4.7 MB of code is 3.4 MB, and V8 parses it ~50 ms sooner (a
    // start measured 537 against 589 ms, median of five); names stay, so profiles and
    // stack traces still name every function (by column, on a few long lines).
    minifyWhitespace: true,
    // Source maps beside the files, named by no comment in them: Node never reads them
    // (no start-up cost), test/bench/profile-shares.ts does, to name the module of each
    // profiled function (the bundle without whitespace has no per-module lines to go by).
    sourcemap: 'external',
    sourcesContent: false,
    logLevel: 'warning',
    metafile: true,
  })
  // Written last: a bundle interrupted half-way has no inputs file and is rebuilt.
  writeFileSync(INPUTS, JSON.stringify(Object.keys(result.metafile.inputs).map((f) => join(process.cwd(), f))))
  return entry
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await bundleCli())
}
