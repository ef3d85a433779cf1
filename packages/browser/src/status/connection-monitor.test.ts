import { describe, expect, it } from 'vitest'
import { encodeMessage, MemoryStorage, MessageType, Replica } from '@concord/core'
import { ConnectionMonitor, type MonitoredNetwork } from './connection-monitor.js'
import type { PeerInfo } from '../transport/browser-transport.js'

class FakeNetwork implements MonitoredNetwork {
  peers: PeerInfo[] = []
  isOnline = true
  networkAvailable = true
  private fns = new Set<() => void>()
  peerInfos = () => this.peers
  targetInfos = () => []
  onChange(fn: () => void) {
    this.fns.add(fn)
    return () => this.fns.delete(fn)
  }
  loseNetwork() {
    this.networkAvailable = false
    for (const f of this.fns) f()
  }
  connect(nodeId: string) {
    this.peers = [{ nodeId, peerId: `p-${nodeId}`, addr: '/ip4/127.0.0.1/tcp/1/ws' }]
    for (const f of this.fns) f()
  }
  /** `peer` says hello to the replica, then sends a DIGEST listing exactly its shards and hashes. */
  digestFrom(peer: string, of: Replica) {
    of.replicator.receive(peer, encodeMessage({ type: MessageType.Hello, nodeId: peer, region: of.region, reply: true }))
    const digests = [...of.digests()].map(([shard, hash]) => ({ shard, generation: 0, hash, rows: of.shards.get(shard)!.rowsHash }))
    of.replicator.receive(peer, encodeMessage({ type: MessageType.Digest, lsn: 0, digests }))
  }
}

const settle = () => new Promise((r) => setTimeout(r, 80))

describe('ConnectionMonitor', () => {
  it('goes offline -> syncing -> online as peers confirm the shard hashes, and counts local changes until then', async () => {
    const replica = await Replica.open({ nodeId: 'page', antiEntropyIntervalMs: 0 })
    const net = new FakeNetwork()
    const m = await ConnectionMonitor.create(replica, net)
    expect(m.state.status).toBe('offline')

    replica.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'k', type: 'text' }, { name: 'v', type: 'int' }], primaryKey: ['k'] }))
    replica.transact((tx) => tx.insert('t', { k: 'a', v: 1 }))
    await settle()
    expect(m.state.status).toBe('offline')
    expect(m.state.pendingChanges).toBeGreaterThanOrEqual(1)

    net.connect('node-a')
    await settle()
    expect(m.state.status).toBe('syncing')
    expect(m.state.progress).toBe(0)

    // A peer that holds exactly what we hold reports the same hashes: online, nothing pending.
    net.digestFrom('node-a', replica)
    await settle()
    expect(m.state).toMatchObject({ status: 'online', progress: 1, pendingChanges: 0 })

    // A new local write is unconfirmed until the peer reports the new hash.
    replica.transact((tx) => tx.update('t', ['a'], { v: 2 }))
    await settle()
    expect(m.state.status).toBe('syncing')
    expect(m.state.pendingChanges).toBe(1)
    expect(m.state.progress).toBeGreaterThan(0)
    expect(m.state.progress).toBeLessThan(1)
    m.close()
    await replica.close()
  })
})

describe('ConnectionMonitor pending count', () => {
  it('survives a reopen through the replica\'s metadata', async () => {
    const storage = new MemoryStorage()
    const first = await Replica.open({ nodeId: 'page', storage, antiEntropyIntervalMs: 0 })
    const net = new FakeNetwork()
    const m1 = await ConnectionMonitor.create(first, net)
    first.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'k', type: 'text' }], primaryKey: ['k'] }))
    first.transact((tx) => tx.insert('t', { k: 'a' }))
    first.transact((tx) => tx.insert('t', { k: 'b' }))
    await settle()
    const pending = m1.state.pendingChanges
    expect(pending).toBeGreaterThanOrEqual(2)
    m1.close()
    await first.close()

    const second = await Replica.open({ nodeId: 'page', storage, antiEntropyIntervalMs: 0 })
    const m2 = await ConnectionMonitor.create(second, new FakeNetwork())
    expect(m2.state.pendingChanges).toBe(pending)
    m2.close()
    await second.close()
  })
})

describe('ConnectionMonitor and the browser network', () => {
  it('is offline at once when the browser loses the network, keeps when it last synced and which rows are pending', async () => {
    let now = 1_000
    const replica = await Replica.open({ nodeId: 'page', antiEntropyIntervalMs: 0 })
    const net = new FakeNetwork()
    const m = await ConnectionMonitor.create(replica, net, () => now)
    replica.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'k', type: 'text' }], primaryKey: ['k'] }))
    net.connect('node-a')
    net.digestFrom('node-a', replica)
    await settle()
    expect(m.state).toMatchObject({ status: 'online', lastSyncedAt: 1_000, pendingRows: 0 })

    now = 5_000
    net.loseNetwork() // synchronously: no coalescing delay, though the peer still looks connected
    expect(m.state).toMatchObject({ status: 'offline', networkAvailable: false, peers: [], lastSyncedAt: 5_000 })

    now = 9_000
    replica.transact((tx) => tx.insert('t', { k: 'a' }))
    replica.transact((tx) => tx.update('t', ['a'], { k: 'a' }))
    replica.transact((tx) => tx.insert('t', { k: 'b' }))
    await settle()
    expect(m.state).toMatchObject({ status: 'offline', lastSyncedAt: 5_000, pendingRows: 2 })
    expect(m.pendingKeys('t').size).toBe(2)
    m.close()
    await replica.close()
  })
})
