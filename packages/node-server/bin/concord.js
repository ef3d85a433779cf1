#!/usr/bin/env node
// The `concord` command: runs the compiled CLI in this process, with no second process
// and no TypeScript loader. What it runs is dist/bundle/cli.mjs: dist/cli.js and the
// packages under it bundled by `npm run build` (packages/node-server/build/cli-bundle.ts),
// which starts about three times faster than loading their modules one by one.
// Node 20's gaps that libp2p relies on are closed inside it
// (docs/decisions/0015-node-20-runtime.md): the CLI loads the Promise.withResolvers polyfill
// first, and `concord start` installs a global WebSocket when the runtime has none.
//
// Under the `@concord/source` condition (the test suites set it), this package's `./cli`
// export names src/cli.ts, and the bin runs that through tsx in this same process: tests
// never need a build.
const source = import.meta.resolve('@concord/node-server/cli')
let cli = new URL('../dist/bundle/cli.mjs', import.meta.url).href
if (source.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
  cli = source
}
let main
try {
  ;({ main } = await import(cli))
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/')) {
    process.stderr.write(`concord: ${err.message}\n`)
    process.stderr.write('concord: the compiled JavaScript is missing: run `npm run build` at the repository root.\n')
    process.exit(1)
  }
  throw err
}
process.exit(await main(process.argv.slice(2)))
