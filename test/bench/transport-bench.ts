/**
 * What one replication message costs in the transport (issue 13): CPU per round trip of a
 * message between two `Libp2pTransport`s in this process (the sync protocol over Noise
 * and Yamux on 127.0.0.1, both ends' work), against a round trip of the same bytes
 * between two plain TCP sockets in this process (the kernel's and Node's part alone),
 * measured in the same run. A replicated single-row commit is one such message each way
 * (the update, then the acknowledgement), so the difference is what libp2p and the sync
 * protocol add to every commit on the writer and its peer together.
 *
 * Sizes: 150 bytes (a single-row update) and 4 KiB. ROUNDS rounds of ROUND_TRIPS
 * messages each, both transports in turns; medians. Bounded by count and DEADLINE_MS.
 * Run: `npm run bench -- transport`.
 */
import '@concord/p2p' // first: Promise.withResolvers for libp2p on Node 20
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { Libp2pTransport } from '@concord/node-server'
import { fmt, load1, median, printTable, ratio } from './harness.js'

const ROUND_TRIPS = 5_000
const ROUNDS = 5
const DEADLINE_MS = 60_000
const SIZES = [150, 4096]

/** Sends `size`-byte messages one at a time, each once the previous came back: CPU µs per round trip. */
async function cpuPerRoundTrip(send: (m: Uint8Array) => void, arrived: { next: (() => void) | null }, size: number, deadline: number): Promise<number> {
  const message = new Uint8Array(size).fill(7)
  const c0 = process.cpuUsage()
  let n = 0
  for (; n < ROUND_TRIPS && Date.now() < deadline; n++) {
    const back = new Promise<void>((resolve) => {
      arrived.next = resolve
    })
    send(message)
    await back
  }
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / n
}

interface Pair {
  name: string
  send(m: Uint8Array): void
  arrived: { next: (() => void) | null }
  stop(): Promise<void>
}

/** Two plain sockets: the far one echoes what it reads; framing by the message's known size. */
async function tcpPair(size: number): Promise<Pair> {
  const arrived: Pair['arrived'] = { next: null }
  const server = createServer((s) => {
    s.setNoDelay(true)
    s.on('data', (d) => s.write(d))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const socket: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let held = 0
  socket.on('data', (d) => {
    held += d.byteLength
    if (held < size) return
    held -= size
    const next = arrived.next
    arrived.next = null
    next?.()
  })
  return {
    name: 'TCP',
    send: (m) => socket.write(m),
    arrived,
    stop: async () => {
      socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Two transports joined by TCP: the far one sends back each message it gets. */
async function libp2pPair(): Promise<Pair> {
  const arrived: Pair['arrived'] = { next: null }
  const start = async (nodeId: string, onMessage: (from: string, data: Uint8Array) => void) => {
    const t = new Libp2pTransport({ nodeId, listen: ['/ip4/127.0.0.1/tcp/0'], handshakeTimeoutMs: 10_000, backoff: { initialMs: 50, maxMs: 500 } })
    const up: string[] = []
    await t.start({ onMessage, onPeerUp: (peer) => up.push(peer), onPeerDown: () => {} })
    return { t, up }
  }
  const a = await start('bench-a', () => {
    const next = arrived.next
    arrived.next = null
    next?.()
  })
  const b = await start('bench-b', (from, data) => void b.t.send(from, data))
  const address = a.t.addresses().find((x) => x.includes('/tcp/') && !x.includes('/ws'))
  if (address === undefined) throw new Error('no TCP address')
  b.t.join(address)
  const deadline = Date.now() + 30_000
  while (!(a.up.includes('bench-b') && b.up.includes('bench-a'))) {
    if (Date.now() > deadline) throw new Error('the transports did not connect')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return {
    name: 'libp2p sync protocol',
    send: (m) => void a.t.send('bench-b', m),
    arrived,
    stop: async () => {
      await a.t.stop()
      await b.t.stop()
    },
  }
}

const deadline = Date.now() + DEADLINE_MS
const rows: Array<Array<string | number>> = [['message', 'TCP, CPU µs per round trip', 'libp2p sync protocol, CPU µs', 'libp2p / TCP', 'load']]
const libp2p = await libp2pPair()
try {
  for (const size of SIZES) {
    const tcp = await tcpPair(size)
    const times: Record<string, number[]> = { TCP: [], libp2p: [] }
    try {
      // The first round of each warms the code up; not recorded.
      for (let round = 0; round <= ROUNDS; round++) {
        const t = await cpuPerRoundTrip(tcp.send, tcp.arrived, size, deadline)
        const l = await cpuPerRoundTrip(libp2p.send, libp2p.arrived, size, deadline)
        if (round === 0) continue
        times['TCP']!.push(t)
        times['libp2p']!.push(l)
      }
    } finally {
      await tcp.stop()
    }
    const t = median(times['TCP']!)
    const l = median(times['libp2p']!)
    rows.push([`${fmt(size)} bytes`, fmt(t, 1), fmt(l, 1), ratio(l, t, 'time'), load1().toFixed(2)])
  }
} finally {
  await libp2p.stop()
}
printTable(`A message's round trip in one process: medians of ${ROUNDS} rounds of ${fmt(ROUND_TRIPS)}`, rows)
process.exit(0)
