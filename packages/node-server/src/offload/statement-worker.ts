/**
 * A statement worker thread (statement-worker-pool.ts starts it through
 * bin/statement-worker.js): answers one offloaded statement at a time on the engine it
 * keeps between statements (`OffloadEngineHost`), its cancel flag being the shared memory
 * the pool sets on the client's cancel request. Says `ready` once its modules (the SQL layer, the parser's
 * WASM) are loaded. V8's flags are the process's: the linear-time fallback for
 * backtracking regular expressions the node sets at start (node/regexp-backtracking.ts)
 * holds here too (measured: `/(a+)+$/` on 28 a's and a '!' takes 11 ms in a worker with
 * it set on the main thread, 34 s without).
 *
 * Invariants: outside a worker thread, importing this module does nothing (the package's
 * entry points are imported in plain Node by the ship check); every request gets exactly
 * one reply, with its id.
 */
import { isMainThread, parentPort } from 'node:worker_threads'
import { loadParser, OffloadEngineHost, type OffloadRequest } from '@concord/sql-facade'

interface RunMessage {
  kind: 'run'
  id: number
  request: OffloadRequest
  flag: SharedArrayBuffer
}

const port = isMainThread ? null : parentPort
if (port !== null) {
  await loadParser()
  const host = new OffloadEngineHost()
  port.on('message', (m: RunMessage) => {
    if (m.kind !== 'run') return
    const flag = new Int32Array(m.flag)
    void host.run(m.request, () => Atomics.load(flag, 0) !== 0).then((reply) => port.postMessage({ kind: 'reply', id: m.id, reply }))
  })
  port.postMessage({ kind: 'ready' })
}
