#!/usr/bin/env node
// The `concord` command: runs the compiled CLI (dist/cli.js) in this process, with no
// second process and no TypeScript loader. Node 20's gaps that libp2p relies on are
// closed inside it (docs/decisions/node-20-runtime.md): dist/cli.js loads the
// Promise.withResolvers polyfill first, and `concord start` installs a global WebSocket
// when the runtime has none.
//
// The CLI is found through this package's own `./cli` export, so under the
// `@concord/source` condition (the test suites set it) the bin runs src/cli.ts instead,
// through tsx in this same process: tests never need a build.
const cli = import.meta.resolve('@concord/node-server/cli')
if (cli.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
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
