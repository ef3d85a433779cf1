import { encodeSyncFrame, SYNC_PROTOCOL } from '@concord/p2p' // first: Promise.withResolvers for libp2p on Node 20
import { createServer, type AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { multiaddr } from '@multiformats/multiaddr'
import type { TransportHandler } from '@concord/core'
import { Libp2pTransport, ownAddress, type Libp2pTransportOptions } from './libp2p-transport.js'
import { generateClusterKey, readClusterKey, writeClusterKey } from './cluster-key.js'

interface Probe extends TransportHandler {
  messages: Array<{ from: string; text: string }>
  up: string[]
  down: string[]
}

function probe(): Probe {
  const p: Probe = {
    messages: [],
    up: [],
    down: [],
    onMessage: (from, data) => p.messages.push({ from, text: new TextDecoder().decode(data) }),
    onPeerUp: (peer) => p.up.push(peer),
    onPeerDown: (peer) => p.down.push(peer),
  }
  return p
}

const running: Array<{ stop(): Promise<void> | void }> = []
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop()
})

async function startNode(nodeId: string, extra: Partial<Libp2pTransportOptions> = {}): Promise<{ t: Libp2pTransport; p: Probe }> {
  const t = new Libp2pTransport({ nodeId, listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'], handshakeTimeoutMs: 3000, backoff: { initialMs: 50, maxMs: 500 }, ...extra })
  const p = probe()
  running.push(t)
  await t.start(p)
  return { t, p }
}

function tcpAddr(t: Libp2pTransport): string {
  const a = t.addresses().find((x) => x.includes('/tcp/') && !x.includes('/ws'))
  if (!a) throw new Error('no tcp address')
  return a
}

/** Polls `cond` every 20 ms; fails after `ms`. */
async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

/** An unsigned varint (the sync protocol's length prefix). */
function varint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

describe('Libp2pTransport', () => {
  it('two nodes name each other by node id and exchange direct messages both ways', async () => {
    const a = await startNode('node-a')
    const b = await startNode('node-b')
    b.t.join(tcpAddr(a.t))
    await until(() => a.p.up.includes('node-b') && b.p.up.includes('node-a'), 10_000, 'peers up')
    expect(a.t.peers()).toEqual(['node-b'])
    for (let i = 0; i < 100; i++) a.t.send('node-b', bytes(`a${i}`))
    b.t.send('node-a', bytes('hello a'))
    await until(() => b.p.messages.length === 100 && a.p.messages.length === 1, 10_000, 'messages')
    expect(b.p.messages.map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`))
    expect(b.p.messages.every((m) => m.from === 'node-a')).toBe(true)
    expect(a.p.messages).toEqual([{ from: 'node-b', text: 'hello a' }])
  })

  it('carries a 20 MiB message (above libp2p’s 4 MiB default)', async () => {
    const a = await startNode('big-a')
    const b = await startNode('big-b')
    b.t.join(tcpAddr(a.t))
    await until(() => a.p.up.length === 1 && b.p.up.length === 1)
    let got: Uint8Array | undefined
    b.p.onMessage = (_from, data) => (got = data)
    const big = new Uint8Array(20 * 1024 * 1024).map((_, i) => i & 0xff)
    a.t.send('big-b', big)
    await until(() => got !== undefined, 20_000, 'big message')
    expect(got!.length).toBe(big.length)
    expect(got![12345]).toBe(12345 & 0xff)
  })

  it('three nodes mesh through peer exchange and gossip reaches every subscriber', async () => {
    const a = await startNode('g-a')
    const b = await startNode('g-b')
    const c = await startNode('g-c')
    for (const n of [a, b, c]) n.t.subscribe('region/default')
    b.t.join(tcpAddr(a.t))
    c.t.join(tcpAddr(a.t))
    // c learns b from a's PEERS frame and connects directly.
    await until(() => [a, b, c].every((n) => n.t.peers().length === 2), 15_000, 'full mesh')
    expect(c.t.peers().sort()).toEqual(['g-a', 'g-b'])
    // The mesh grafts a little after connecting: publish until a first message gets through.
    await until(() => {
      a.t.publish('region/default', bytes('probe'))
      return b.p.messages.length > 0 && c.p.messages.length > 0
    }, 15_000, 'gossip mesh')
    for (let i = 0; i < 20; i++) a.t.publish('region/default', bytes(`g${i}`))
    // Counted by their own text: a probe published before the mesh answered may arrive after
    // them (counting every message let a late probe stand in for g19 on a loaded host).
    const published = (n: { p: { messages: Array<{ text: string }> } }): number => n.p.messages.filter((m) => m.text.startsWith('g')).length
    await until(() => published(b) >= 20 && published(c) >= 20, 10_000, 'gossip')
    expect(b.p.messages.filter((m) => m.text.startsWith('g')).map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `g${i}`))
    expect(c.p.messages.every((m) => m.from === 'g-a')).toBe(true)
    expect(a.p.messages).toEqual([]) // no echo of our own publishes
  })

  it('a node without the cluster key cannot connect to a keyed node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-key-'))
    try {
      writeClusterKey(join(dir, 'cluster.key'), generateClusterKey())
      const key = readClusterKey(join(dir, 'cluster.key'))
      const keyed = await startNode('k-a', { clusterKey: key })
      const member = await startNode('k-b', { clusterKey: key })
      const stranger = await startNode('k-c')
      member.t.join(tcpAddr(keyed.t))
      stranger.t.join(tcpAddr(keyed.t))
      await until(() => keyed.p.up.includes('k-b'), 10_000, 'keyed member up')
      await new Promise((r) => setTimeout(r, 500)) // several stranger dial attempts
      expect(keyed.p.up).toEqual(['k-b'])
      expect(stranger.p.up).toEqual([])
      expect(stranger.t.peers()).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses to listen beyond loopback without a cluster key', () => {
    expect(() => new Libp2pTransport({ nodeId: 'open', listen: ['/ip4/0.0.0.0/tcp/0'] })).toThrow(/beyond loopback .* without a cluster key/)
    expect(() => new Libp2pTransport({ nodeId: 'open', listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/10.0.0.1/tcp/0/ws'] })).toThrow(/10\.0\.0\.1/)
    expect(() => new Libp2pTransport({ nodeId: 'keyed', listen: ['/ip4/0.0.0.0/tcp/0'], clusterKey: generateClusterKey() })).not.toThrow()
    expect(() => new Libp2pTransport({ nodeId: 'local', listen: ['/ip4/127.0.0.1/tcp/0'] })).not.toThrow()
  })

  it('garbage on the sync protocol drops that peer and the node keeps working', async () => {
    const a = await startNode('v-a')
    const b = await startNode('v-b')
    b.t.join(tcpAddr(a.t))
    await until(() => a.p.up.includes('v-b'))

    const rogue = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: async () => false } })
    running.push(rogue)
    // Accept our HELLO so the connection stays up long enough for the garbage to be read.
    await rogue.handle(SYNC_PROTOCOL, () => {})
    const garbage = [Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), Uint8Array.of(5, 9, 9, 9, 9, 9), Uint8Array.of(3, 1, 1, 0x7b)]
    for (const g of garbage) {
      const stream = await rogue.dialProtocol(multiaddr(tcpAddr(a.t)), SYNC_PROTOCOL)
      stream.send(g)
      await until(() => rogue.getConnections().length === 0, 5_000, 'rogue dropped')
    }
    expect(a.t.stats().framesRejected).toBeGreaterThanOrEqual(garbage.length)
    expect(a.p.up).toEqual(['v-b'])
    a.t.send('v-b', bytes('still here'))
    await until(() => b.p.messages.some((m) => m.text === 'still here'), 5_000, 'message after garbage')
  })

  it('a peer that opens a sync stream and sends no HELLO is dropped after the handshake timeout, not counted as a bad frame', async () => {
    const warnings: string[] = []
    const a = await startNode('h-a', { logger: { info() {}, warn: (m: string) => warnings.push(m), error() {} } })
    const silent = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: async () => false } })
    running.push(silent)
    await silent.handle(SYNC_PROTOCOL, () => {})
    await silent.dialProtocol(multiaddr(tcpAddr(a.t)), SYNC_PROTOCOL)
    await until(() => warnings.some((w) => /no HELLO within 3000 ms/.test(w)), 10_000, 'the silent peer dropped')
    expect(a.t.stats().framesRejected).toBe(0)
    expect(warnings.filter((w) => w.includes('bad sync frame'))).toEqual([])
  })

  it('a second identity claiming a bound node id is refused and does not replace its session', async () => {
    // Node ids bound to PeerIds as the member list binds them (node/peer-membership.ts).
    let bPeer = ''
    const refusals: string[] = []
    const logger = { info() {}, warn: (m: string) => refusals.push(m), error() {} }
    const a = await startNode('i-a', { claimRefused: (nodeId, peerId) => (nodeId === 'i-b' && peerId !== bPeer ? `node id i-b is bound to member ${bPeer}` : null), logger })
    const b = await startNode('i-b')
    bPeer = b.t.peerId
    b.t.join(tcpAddr(a.t))
    await until(() => a.p.up.includes('i-b'), 10_000, 'b up')
    // The impostor: b's node id, its own libp2p key.
    const impostor = await startNode('i-b')
    impostor.t.join(tcpAddr(a.t))
    await until(() => refusals.some((l) => l.startsWith(`refused peer ${impostor.t.peerId}: its HELLO names node id i-b`)), 10_000, 'the impostor refused')
    await new Promise((r) => setTimeout(r, 1000)) // its redials
    // b's session never went down (before, each impostor HELLO replaced it: connection flaps).
    expect(a.p.up).toEqual(['i-b'])
    expect(a.p.down).toEqual([])
    expect(a.t.peerIdOf('i-b')).toBe(bPeer)
    impostor.t.send('i-a', bytes('forged'))
    b.t.send('i-a', bytes('real'))
    await until(() => a.p.messages.length > 0, 5_000, "b's message")
    expect(a.p.messages).toEqual([{ from: 'i-b', text: 'real' }])
    // Both sides send HELLO as a connection opens, so the impostor may read a's HELLO (and
    // count a as up for a moment) before a reads the impostor's and closes: what matters is
    // that a sends it nothing (messages to i-b go to the bound b).
    a.t.send('i-b', bytes('to the real b'))
    await until(() => b.p.messages.some((m) => m.text === 'to the real b'), 5_000, "a's message to b")
    expect(impostor.p.messages).toEqual([])
  })

  it('keeps of a HELLO only the addresses that are the peer\'s own', () => {
    const me = '12D3KooWGRUVh8MAxJEb1Lnr8yLzrq1PyAVhqKpWMpVntStnmZkN'
    const other = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
    expect(ownAddress(`/ip4/10.0.0.5/tcp/4001/p2p/${me}`, me, ['10.0.0.5'])).toBe(`/ip4/10.0.0.5/tcp/4001/p2p/${me}`)
    expect(ownAddress('/ip4/10.0.0.5/tcp/4001', me, ['10.0.0.5'])).toBe(`/ip4/10.0.0.5/tcp/4001/p2p/${me}`)
    expect(ownAddress(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${me}`, me, ['127.0.0.1'])).toBe(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${me}`)
    // Another host, another identity, a name, our own loopback: not the peer's.
    expect(ownAddress(`/ip4/10.0.0.6/tcp/22/p2p/${me}`, me, ['10.0.0.5'])).toBeUndefined()
    expect(ownAddress(`/ip4/10.0.0.5/tcp/4001/p2p/${other}`, me, ['10.0.0.5'])).toBeUndefined()
    expect(ownAddress(`/dns4/example.com/tcp/4001/p2p/${me}`, me, ['10.0.0.5'])).toBeUndefined()
    expect(ownAddress(`/ip4/127.0.0.1/tcp/5432/p2p/${me}`, me, ['10.0.0.5'])).toBeUndefined()
    expect(ownAddress('not a multiaddr', me, ['10.0.0.5'])).toBeUndefined()
  })

  it('a forged HELLO address list makes no member dial an address of the sender\'s choosing', async () => {
    // The trap: an address the attacker wants the cluster to dial (here a TCP port that counts connections).
    let trapped = 0
    const trap = createServer((s) => {
      trapped++
      s.destroy()
    })
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r))
    running.push({ stop: () => new Promise<void>((r) => trap.close(() => r())) })
    const trapPort = (trap.address() as AddressInfo).port
    const someoneElse = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'

    const warnings: string[] = []
    const a = await startNode('h-a', { logger: { info() {}, warn: (m: string) => warnings.push(m), error() {} } })
    const b = await startNode('h-b')
    b.t.join(tcpAddr(a.t))
    await until(() => a.p.up.includes('h-b'), 10_000, 'b up')

    // The attacker speaks the sync protocol by hand: a HELLO listing the trap under another identity.
    const rogue = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionGater: { denyDialMultiaddr: async () => false } })
    running.push(rogue)
    await rogue.handle(SYNC_PROTOCOL, () => {}) // a's outbound stream opens, so the session comes up
    const forged = [`/ip4/127.0.0.1/tcp/${trapPort}/p2p/${someoneElse}`, `/ip4/10.1.2.3/tcp/${trapPort}/p2p/${rogue.peerId.toString()}`]
    const hello = encodeSyncFrame({ type: 'hello', nodeId: 'h-rogue', addrs: forged })
    const stream = await rogue.dialProtocol(multiaddr(tcpAddr(a.t)), SYNC_PROTOCOL)
    stream.send(Uint8Array.of(...varint(hello.length), ...hello))
    await until(() => a.p.up.includes('h-rogue'), 10_000, 'the rogue up on a')
    await new Promise((r) => setTimeout(r, 1500)) // a tells b about it; b would dial now
    expect(trapped).toBe(0)
    expect(warnings.some((w) => w.startsWith(`peer ${rogue.peerId.toString()} advertised 2 address(es) that are not its own`))).toBe(true)
  })

  it('a joined peer that restarts is redialed with backoff and comes back up', async () => {
    const a = await startNode('r-a')
    const port = Number(tcpAddr(a.t).split('/')[4])
    const b = await startNode('r-b')
    b.t.join(`/ip4/127.0.0.1/tcp/${port}`)
    await until(() => b.p.up.includes('r-a'))
    await a.t.stop()
    await until(() => b.p.down.includes('r-a'), 10_000, 'peer down')
    const a2 = await startNode('r-a', { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await until(() => b.p.up.filter((x) => x === 'r-a').length === 2, 15_000, 'peer back up')
    expect(a2.p.up).toEqual(['r-b'])
  })
})

describe('Libp2pTransport over WebSockets', () => {
  it('a node dialing over WebSockets (node --experimental-websocket) exchanges messages', async () => {
    const { spawn } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const a = await startNode('ws-parent', { listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    a.p.onMessage = (from, data) => {
      a.p.messages.push({ from, text: new TextDecoder().decode(data) })
      a.t.send(from, bytes('pong over ws'))
    }
    const wsAddr = a.t.addresses().find((x) => x.includes('/ws'))!
    const fixture = fileURLToPath(new URL('./ws-dialer.fixture.ts', import.meta.url))
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', fixture, wsAddr], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(out.trim()).toBe('ws-parent: pong over ws')
    expect(code).toBe(0)
    expect(a.p.messages).toEqual([{ from: 'ws-child', text: 'ping over ws' }])
  })
})
