/**
 * `npm run demo`: builds the demo bundle, starts a local Concord node with a WebSocket
 * listener (data in a temporary directory unless --data-dir is given), serves the page,
 * and prints where to open it and how to reach the node with psql. Ctrl-C stops all.
 *
 *   npm run demo -- [--port 8080] [--data-dir ./demo-data] [--ws-port 0]
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildDemo, formatReport } from './build.js'
import { NodePeer } from './node-peer.js'
import { serveStatic } from './static-server.js'

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, 'data-dir': { type: 'string' }, 'ws-port': { type: 'string', default: '0' } } })

const report = await buildDemo()
console.log(`bundle: ${formatReport(report)}`)
const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'concord-demo-'))
const node = await NodePeer.start({ dataDir, nodeId: 'demo-node', wsPort: Number(values['ws-port']) })
await node.query('CREATE TABLE IF NOT EXISTS inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)')
const server = await serveStatic(report.outDir, () => ({ join: [node.wsAddress] }), Number(values.port))
console.log(`demo:   ${server.url}  (open it in two tabs with ?name=a and ?name=b)`)
console.log(`node:   psql -h 127.0.0.1 -p ${node.pgPort} -U concord concord   (data in ${dataDir})`)
console.log(`        ${node.wsAddress}`)

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await server.close()
  await node.stop()
  process.exit(0)
}
// If this process dies some other way, do not leave the node running.
process.once('exit', () => {
  if (node.running) node.child.kill('SIGKILL')
})
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
