/**
 * The dependency floor of the cluster benchmark (issue 13), run by bare Node with no
 * loader: what the founding choice (rows as Yjs state in a Node process) costs before
 * Concord adds anything. The rows are the benchmark's table in the layout raw Yjs does
 * best (DESIGN.md; the core benchmark's "raw Yjs"): one Y.Doc, one map key per row, the
 * row's values as an array. No storage, no libp2p, no SQL, no encryption.
 *
 *   node yjs-floor-child.mjs serve <rows> <payload>  build the rows in transactions of 1,000,
 *       collect garbage (with --expose-gc), print {"port", "rss"}, then answer each TCP
 *       connection with the document's state as one Yjs update (encoded per connection, as
 *       a writer encodes for each joiner), until stdin closes;
 *   node yjs-floor-child.mjs join <port> <rows>  read one connection's bytes to its end,
 *       apply them to a new document, check it holds <rows> rows, print {"rss", "cpu"};
 *   node yjs-floor-child.mjs start  listen, print {"port"}, answer a connection with one
 *       byte, and exit;
 *   node yjs-floor-child.mjs follow <rows>  listen, print {"port"}; apply the updates one
 *       connection sends (each a 4-byte length and its bytes) to a new document as they
 *       arrive, answer one byte once it holds <rows> rows, and exit;
 *   node yjs-floor-child.mjs write <port> <rows> <payload>  write the rows in transactions of
 *       1,000, each one's update sent to the follower at <port> as it is made, then wait for
 *       the follower's byte; print {"seconds", "cpu"} (from the first transaction).
 */
import { createServer, connect } from 'node:net'
import * as Y from 'yjs'

const [mode, a, b] = process.argv.slice(2)
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n')

if (mode === 'serve') {
  const rows = Number(a)
  const doc = new Y.Doc()
  const map = doc.getMap('rows')
  for (let from = 1; from <= rows; from += 1000) {
    doc.transact(() => {
      for (let id = from; id < Math.min(from + 1000, rows + 1); id++) map.set(String(id), [id, id % 10, b])
    })
  }
  globalThis.gc?.()
  const server = createServer((socket) => {
    socket.on('error', () => {})
    socket.end(Y.encodeStateAsUpdate(doc))
  })
  server.listen(0, '127.0.0.1', () => print({ port: server.address().port, rss: process.memoryUsage().rss }))
  process.stdin.on('close', () => server.close())
  process.stdin.resume()
} else if (mode === 'join') {
  const socket = connect(Number(a), '127.0.0.1')
  const parts = []
  socket.on('data', (chunk) => parts.push(chunk))
  socket.on('end', () => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Buffer.concat(parts))
    const held = doc.getMap('rows').size
    if (held !== Number(b)) throw new Error(`joined ${held} rows, not ${b}`)
    const cpu = process.cpuUsage()
    print({ rss: process.memoryUsage().rss, cpu: (cpu.user + cpu.system) / 1e6 })
  })
} else if (mode === 'start') {
  const server = createServer((socket) => {
    socket.end('1')
    server.close()
  })
  server.listen(0, '127.0.0.1', () => print({ port: server.address().port }))
} else if (mode === 'follow') {
  const rows = Number(a)
  const doc = new Y.Doc()
  const map = doc.getMap('rows')
  const server = createServer((socket) => {
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        const len = pending.readUInt32BE(0)
        Y.applyUpdate(doc, pending.subarray(4, 4 + len))
        pending = pending.subarray(4 + len)
      }
      if (map.size === rows) {
        socket.end('1')
        server.close()
      }
    })
  })
  server.listen(0, '127.0.0.1', () => print({ port: server.address().port }))
} else if (mode === 'write') {
  const rows = Number(b)
  const payload = process.argv[5]
  const socket = connect(Number(a), '127.0.0.1')
  socket.on('connect', () => {
    const doc = new Y.Doc()
    const map = doc.getMap('rows')
    doc.on('update', (update) => {
      const head = Buffer.alloc(4)
      head.writeUInt32BE(update.length, 0)
      socket.write(head)
      socket.write(update)
    })
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    socket.on('data', () => {
      const cpu = process.cpuUsage(cpu0)
      print({ seconds: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 })
      socket.end()
    })
    for (let from = 1; from <= rows; from += 1000) {
      doc.transact(() => {
        for (let id = from; id < Math.min(from + 1000, rows + 1); id++) map.set(String(id), [id, id % 10, payload])
      })
    }
  })
} else {
  throw new Error(`yjs-floor-child: unknown mode '${mode}'`)
}
