/**
 * Bundles the compiled CLI (dist/cli.js, from `tsc -b`) with the node-server, SQL and
 * engine packages and libp2p into `dist/bundle/`, the code `concord` runs.
 *
 * Why: Node 20 spends most of `concord start` resolving and loading some 200 ES modules
 * one by one; the same code as a few files starts about three times faster
 * (docs/decisions/14-ship-compiled-javascript.md). Code splitting keeps `--help` small:
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
 */
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const OUT_DIR = join(here, '..', 'dist', 'bundle')
const EXTERNAL = ['lmdb', 'libpg-query', 'pg-native', 'undici']

export async function bundleCli(): Promise<string> {
  rmSync(OUT_DIR, { recursive: true, force: true })
  await build({
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
    logLevel: 'warning',
  })
  return join(OUT_DIR, 'cli.mjs')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await bundleCli())
}
