// The entry of a statement worker thread (src/offload/statement-worker-pool.ts starts it):
// loads src/offload/statement-worker.ts the way bin/concord.js loads the CLI. Under the
// `@concord/source` condition (the test suites set it, and a worker inherits the
// process's flags) this package's `./statement-worker` export names the TypeScript source,
// run through tsx in this thread; otherwise the compiled dist/offload/statement-worker.js.
// It sits two folders below the package, like src/offload/*.ts, dist/offload/*.js and the
// bundle's chunks, so `new URL('../../bin/statement-worker.js', import.meta.url)` names it
// from any of them.
const source = import.meta.resolve('@concord/node-server/statement-worker')
if (source.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(source)
