/**
 * Garbage on a node's PostgreSQL port and on its libp2p sync protocol: the node logs it,
 * drops that connection, and keeps serving clients and replicating.
 */
import '@concord/p2p' // first: Promise.withResolvers for libp2p on Node 20
import { connect } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { SYNC_PROTOCOL, encodeSyncFrame } from '../../packages/node-server/src/index.js'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const procs: ConcordProcess[] = []
let rogue: Libp2p | undefined

afterAll(async () => {
  await Promise.resolve(rogue?.stop()).catch(() => {})
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Sends bytes on a fresh TCP connection and waits (bounded) for the server to close it. */
function sendGarbage(port: number, bytes: Uint8Array): Promise<'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes))
    s.on('error', () => {})
    const t = setTimeout(() => {
      s.destroy()
      resolve('timeout')
    }, 5000)
    s.on('close', () => {
      clearTimeout(t)
      resolve('closed')
    })
    s.resume()
  })
}

describe('garbage input', () => {
  it('the node drops garbage on the PostgreSQL port and on the sync protocol, logs it, and keeps serving', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-garbage-'))
    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'g-a', httpPort: true })
    procs.push(a)
    const b = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'g-b', join: [a.pgAddress] })
    procs.push(b)
    await until(() => /peer g-b up/.test(a.log), 20_000, 'peers up')
    await a.query('CREATE TABLE t (id INT PRIMARY KEY)')

    // PostgreSQL port: an HTTP request, a bad protocol number, random bytes, a huge length.
    const pgGarbage = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0, 0, 0, 8, 0, 9, 0, 0]),
      Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff)),
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0]),
    ]
    for (const g of pgGarbage) expect(await sendGarbage(a.pgPort, g)).toBe('closed')
    // Raw bytes at the libp2p port itself (not even multistream-select).
    const p2pPort = Number(a.p2pAddress.split('/')[4])
    await sendGarbage(p2pPort, Buffer.from('garbage garbage garbage\n'))

    // The sync protocol: a real libp2p peer that speaks nonsense frames on it.
    rogue = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: async () => false } })
    await rogue.handle(SYNC_PROTOCOL, () => {})
    const frames = [
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // length overflow
      Uint8Array.of(5, 9, 9, 9, 9, 9), // unknown frame version/type
      Uint8Array.of(3, 1, 1, 0x7b),
    ]
    for (const f of frames) {
      const stream = await rogue.dialProtocol(multiaddr(a.p2pAddress), SYNC_PROTOCOL)
      stream.send(f)
      await until(() => rogue!.getConnections().length === 0, 5_000, 'rogue dropped', 25)
    }
    // A well-formed HELLO followed by a DATA frame whose payload is not a Concord message.
    {
      const stream = await rogue.dialProtocol(multiaddr(a.p2pAddress), SYNC_PROTOCOL)
      const out = lpStream(stream)
      await out.write(encodeSyncFrame({ type: 'hello', nodeId: 'g-rogue', addrs: [] }))
      await out.write(encodeSyncFrame({ type: 'data', data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3) }))
      await new Promise((r) => setTimeout(r, 300))
      stream.abort(new Error('done'))
    }

    await until(() => /bad sync frame/.test(a.log) && /dropping client/.test(a.log), 5_000, 'garbage logged')
    expect(a.running).toBe(true)
    // Still serving SQL and replicating both ways.
    await a.query('INSERT INTO t VALUES (1)')
    await b.query('INSERT INTO t VALUES (2)')
    await until(async () => (await a.query('SELECT id FROM t')).rows.length === 2 && (await b.query('SELECT id FROM t')).rows.length === 2, 20_000, 'replication after garbage')
    const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()
    expect(Number(/^concord_frames_rejected_total (\d+)/m.exec(metrics)![1])).toBeGreaterThanOrEqual(frames.length)
    expect(Number(/^concord_malformed_total (\d+)/m.exec(metrics)![1])).toBeGreaterThanOrEqual(1)
    expect(/^concord_peers (\d+)/m.exec(metrics)![1]).toBe('1')
  }, 90_000)
})
