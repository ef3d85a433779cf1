import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { MemoryStorage } from '@concord/core'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'
import { writeClusterKey } from '../transport/cluster-key.js'

const nodes: ConcordNode[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'concord-node-'))
  dirs.push(d)
  return d
}

async function start(options: Partial<ConcordNodeOptions>): Promise<ConcordNode> {
  const n = await ConcordNode.start({ dataDir: dir(), pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', ...options })
  nodes.push(n)
  return n
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('ConcordNode', () => {
  it('joins a peer by its PostgreSQL address and reports health and metrics over HTTP', async () => {
    const a = await start({ nodeId: 'a', httpPort: 0 })
    const b = await start({ nodeId: 'b', join: [`127.0.0.1:${a.pgPort}`] })
    await until(() => a.transport!.peers().includes('b') && b.transport!.peers().includes('a'), 15_000, 'peers up')
    const health = (await (await fetch(`http://127.0.0.1:${a.httpPort}/health`)).json()) as { status: string; peers: string[] }
    expect(health).toMatchObject({ status: 'ok', peers: ['b'] })
    const metrics = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text()
    expect(metrics).toMatch(/^concord_peers 1$/m)
    expect(metrics).toMatch(/# TYPE concord_sync_bytes_sent_total counter/)
    // conflicts by kind, and divergence (none between healthy nodes)
    expect(metrics).toMatch(/^concord_conflicts_total\{kind="update_update"\} 0$/m)
    expect(metrics).toMatch(/^concord_conflicts_total\{kind="unique"\} 0$/m)
    expect(metrics).toMatch(/^concord_diverged_shards 0$/m)
  })

  it('answers its node id and libp2p addresses over PostgreSQL', async () => {
    const a = await start({ nodeId: 'pg-a' })
    const c = new pg.Client({ host: '127.0.0.1', port: a.pgPort, user: 'concord' })
    await c.connect()
    try {
      expect((await c.query('SHOW concord.node_id')).rows).toEqual([{ node_id: 'pg-a' }])
      const addrs = (await c.query('SHOW concord.p2p_addresses')).rows.map((r: { address: string }) => r.address)
      expect(addrs).toEqual(a.p2pAddresses())
    } finally {
      await c.end()
    }
  })

  it('keeps its node id and libp2p identity across restarts of one data directory', async () => {
    const d = dir()
    const first = await ConcordNode.start({ dataDir: d, pgPort: 0, p2pHost: '127.0.0.1' })
    const id = first.nodeId
    const peer = first.transport!.peerId
    await first.stop()
    const second = await ConcordNode.start({ dataDir: d, pgPort: 0, p2pHost: '127.0.0.1' })
    expect(second.nodeId).toBe(id)
    expect(second.transport!.peerId).toBe(peer)
    // While it runs, no other node opens the directory (data-dir-lock.ts); once it stopped, another id is refused.
    await expect(ConcordNode.start({ dataDir: d, pgPort: 0 })).rejects.toThrow(/is in use by another process/)
    await second.stop()
    await expect(ConcordNode.start({ dataDir: d, nodeId: 'other', pgPort: 0 })).rejects.toThrow(/belongs to node/)
    // A refused start leaves the lock free.
    nodes.push(await ConcordNode.start({ dataDir: d, pgPort: 0, p2pHost: '127.0.0.1' }))
  })

  it('keeps its data directory 0700 and every file in it 0600, narrowing a directory others could read', async () => {
    const d = join(dir(), 'data')
    mkdirSync(d, { mode: 0o755 })
    chmodSync(d, 0o755)
    const n = await start({ dataDir: d, password: 'pw' })
    const modes: Record<string, string> = {}
    const walk = (p: string, rel: string): void => {
      modes[rel] = (statSync(p).mode & 0o777).toString(8)
      if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name), rel === '.' ? name : `${rel}/${name}`)
    }
    walk(d, '.')
    // node id, peer key, cluster key (a password keys the peer port), the directory's lock, LMDB data and lock files
    expect(modes).toEqual({
      '.': '700', 'node-id': '600', 'peer.key': '600', 'cluster.key': '600', 'concord.pid': '600',
      lmdb: '700', 'lmdb/data.mdb': '600', 'lmdb/lock.mdb': '600',
    })
    expect(n.peerPortKey).toMatchObject({ file: join(d, 'cluster.key'), created: true })
  })

  it('listens for peers on loopback by default and keys a peer port beyond it', async () => {
    const local = await start({ nodeId: 'local', p2pHost: undefined })
    expect(local.p2pAddresses().every((a) => a.startsWith('/ip4/127.0.0.1/'))).toBe(true)
    expect(local.peerPortKey).toEqual({ created: false })
    const open = await start({ nodeId: 'open', p2pHost: '0.0.0.0' })
    expect(open.peerPortKey.created).toBe(true)
  })

  it('/health names peers and addresses only when its listener is on loopback', async () => {
    const a = await start({ nodeId: 'h-a', httpPort: 0 })
    const local = (await (await fetch(`http://127.0.0.1:${a.httpPort}/health`)).json()) as Record<string, unknown>
    expect(Object.keys(local).sort()).toEqual(['nodeId', 'p2p', 'p2pAddresses', 'parser', 'peerCount', 'peers', 'pgPort', 'region', 'status', 'storage', 'uptimeSeconds'])
    // Beyond loopback (0.0.0.0 is every interface, loopback included): counts only.
    const b = await start({ nodeId: 'h-b', httpPort: 0, httpHost: '0.0.0.0' })
    const remote = (await (await fetch(`http://127.0.0.1:${b.httpPort}/health`)).json()) as Record<string, unknown>
    expect(remote).toEqual({ status: 'ok', region: 'default', uptimeSeconds: expect.any(Number), peerCount: 0, storage: 'lmdb', p2p: true, parser: { ok: true, restarts: 0, lastFailure: null } })
    expect(JSON.stringify(remote)).not.toMatch(/h-b|ip4/)
  })

  it('the console at / reads the system views on a loopback listener, and shows only /health and /metrics beyond it', async () => {
    const a = await start({ nodeId: 'c-a', httpPort: 0 })
    const page = await fetch(`http://127.0.0.1:${a.httpPort}/`)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toMatch(/<title>Concord console<\/title>/)
    const local = (await (await fetch(`http://127.0.0.1:${a.httpPort}/console/state`)).json()) as { nodes: Array<{ node_id: string }>; conflicts: { total: number }; metrics: Record<string, number> }
    expect(local.nodes.map((n) => n.node_id)).toEqual(['c-a'])
    expect(local.conflicts.total).toBe(0)
    expect(local.metrics['concord_shards']).toBeGreaterThan(0)
    const b = await start({ nodeId: 'c-b', httpPort: 0, httpHost: '0.0.0.0' })
    const remote = (await (await fetch(`http://127.0.0.1:${b.httpPort}/console/state`)).json()) as Record<string, unknown>
    expect(Object.keys(remote).sort()).toEqual(['at', 'detail', 'health', 'metrics'])
    expect(JSON.stringify(remote)).not.toMatch(/c-b|ip4/)
  })

  it('a node without the cluster key cannot join a keyed cluster', async () => {
    const keyFile = join(dir(), 'cluster.key')
    writeClusterKey(keyFile)
    const a = await start({ nodeId: 'k1', clusterKeyFile: keyFile })
    const b = await start({ nodeId: 'k2', clusterKeyFile: keyFile, join: [`127.0.0.1:${a.pgPort}`] })
    const stranger = await start({ nodeId: 'k3', join: [`127.0.0.1:${a.pgPort}`] })
    await until(() => a.transport!.peers().includes('k2'), 15_000, 'keyed peer')
    await new Promise((r) => setTimeout(r, 1000))
    expect(a.transport!.peers()).toEqual(['k2'])
    expect(stranger.transport!.peers()).toEqual([])
    void b
  })
})

describe('ConcordNode on a supplied storage, without libp2p', () => {
  async function sql(port: number, text: string): Promise<pg.QueryResult> {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
    await c.connect()
    try {
      return await c.query(text)
    } finally {
      await c.end()
    }
  }

  it('a node started on a snapshot of a stopped node storage serves its data; the copy diverges alone', async () => {
    const storage = new MemoryStorage()
    const setup = await ConcordNode.start({ storage, p2p: false, pgPort: 0, pgPortSearch: false })
    expect(setup.transport).toBeUndefined()
    expect(setup.p2pAddresses()).toEqual([])
    expect(setup.health()).toMatchObject({ storage: 'memory', p2p: false })
    await sql(setup.pgPort, 'CREATE TABLE t (id int PRIMARY KEY, v text)')
    await sql(setup.pgPort, `INSERT INTO t VALUES (1, 'setup')`)
    await setup.stop()
    const saved = storage.snapshot()

    const a = await start({ storage: MemoryStorage.fromSnapshot(saved), p2p: false })
    await sql(a.pgPort, `INSERT INTO t VALUES (2, 'only in a')`)
    expect((await sql(a.pgPort, 'SELECT id FROM t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }])
    const b = await start({ storage: MemoryStorage.fromSnapshot(saved), p2p: false })
    expect((await sql(b.pgPort, 'SELECT id, v FROM t')).rows).toEqual([{ id: 1, v: 'setup' }])
    // The supplied storage was not closed by stop: a node starts on it again with its data.
    const again = await start({ storage, p2p: false })
    expect((await sql(again.pgPort, 'SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 1 }])
  })

  it('puts an idle shard away after hibernateAfterMs and reports it, with its memory, in /metrics', async () => {
    const a = await start({ nodeId: 'h-a', p2p: false, hibernateAfterMs: 300 })
    const c = new pg.Client({ host: '127.0.0.1', port: a.pgPort, user: 'concord', database: 'concord' })
    await c.connect()
    try {
      await c.query('CREATE TABLE big (id INT PRIMARY KEY, v TEXT)')
      await c.query("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 2000) g")
      const metric = (name: string): number | undefined => a.metrics().find((m) => m.name === name)?.value
      await until(() => metric('concord_shards_hibernated') === 1, 20_000, 'the shard put away')
      expect(metric('concord_shards_hibernated_total')).toBeGreaterThanOrEqual(1)
      for (const name of ['concord_resident_memory_bytes', 'concord_heap_total_bytes', 'concord_heap_used_bytes']) expect(metric(name)).toBeGreaterThan(0)
      expect((await c.query('SELECT count(*)::int AS n FROM big')).rows).toEqual([{ n: 2000 }])
      await c.query("UPDATE big SET v = 'changed' WHERE id = 1")
      expect(metric('concord_shards_hibernated')).toBe(0)
      expect((await c.query('SELECT v FROM big WHERE id = 1')).rows).toEqual([{ v: 'changed' }])
    } finally {
      await c.end()
    }
  })

  it('refuses joins without libp2p', async () => {
    await expect(ConcordNode.start({ memory: true, p2p: false, pgPort: 0, join: ['127.0.0.1:5432'] })).rejects.toThrow(/needs libp2p/)
    const n = await start({ memory: true, p2p: false })
    expect(() => n.join('127.0.0.1:5432')).toThrow(/without libp2p/)
  })
})
