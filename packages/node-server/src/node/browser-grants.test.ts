/**
 * Scoped browser grants across the cluster (issue 15): a token worked only on the node that
 * issued it (the grant lived in that node's data directory), and nothing revoked one before
 * its expiry. Now grants are signed by the issuing node's libp2p key and replicated in the
 * catalog: any member node honours a token another member issued, and a revocation reaches
 * every node, which then refuses the identity and closes its open connections.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { homeShardId, MemoryStorage, Replica, shardId } from '@concord/core'
import { decodeBrowserToken } from '@concord/p2p'
import { openDatabase, type Database } from '@concord/sql-facade'
import { ConcordNode } from './concord-node.js'
import { BrowserGrants } from './browser-grants.js'
import { queryNode } from './node-query.fixture.js'
import { ed25519PublicKeyOf, signGrant, verifyGrant } from './browser-grant-signature.js'
import { Libp2pTransport } from '../transport/libp2p-transport.js'
import { newPeerKey } from '../transport/peer-key.js'
import { ensureGlobalWebSocket } from '../cli/global-websocket.js'
import type { Logger } from '../log/logger.js'

const dir = mkdtempSync(join(tmpdir(), 'concord-grants-'))
const nodes: ConcordNode[] = []
const clients: Database[] = []

afterAll(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {})
  for (const n of nodes.splice(0)) await n.stop()
  rmSync(dir, { recursive: true, force: true })
})

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function ids(run: (sql: string) => Promise<{ rows: unknown[] }>, table: string): Promise<number[] | null> {
  try {
    return (await run(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => Number((r as { id: unknown }).id))
  } catch {
    return null
  }
}

async function sqlState(node: ConcordNode, sql: string): Promise<string | undefined> {
  try {
    await queryNode(node, sql)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

/** A browser-protocol client (as @concord/browser speaks it) with the token's identity, joined to a node's WebSockets address. */
async function browserClient(nodeId: string, node: ConcordNode, token: string): Promise<{ db: Database; transport: Libp2pTransport }> {
  await ensureGlobalWebSocket()
  const transport = new Libp2pTransport({ nodeId, listen: [], privateKey: decodeBrowserToken(token).privateKey })
  const db = await openDatabase({ nodeId, storage: new MemoryStorage(), transport, serialWaitMs: 0 })
  clients.push(db)
  transport.join(node.p2pAddresses().find((x) => x.includes('/ws'))!)
  return { db, transport }
}

describe('browser grant signatures', () => {
  it('verify with the public key inside the issuer\'s PeerId, and not once anything signed changes', async () => {
    const key = await newPeerKey()
    const issuer = key.publicKey.toString()
    expect(ed25519PublicKeyOf(issuer)).toEqual(Buffer.from(key.publicKey.raw))
    const grant = { browser: '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf', tables: ['notes'], expires: 1_000, issuer }
    const sig = signGrant(key, grant)
    expect(verifyGrant(grant, sig)).toBe(true)
    expect(verifyGrant({ ...grant, tables: ['notes', 'secrets'] }, sig)).toBe(false)
    expect(verifyGrant({ ...grant, expires: 2_000 }, sig)).toBe(false)
    const other = await newPeerKey()
    expect(verifyGrant({ ...grant, issuer: other.publicKey.toString() }, sig)).toBe(false)
    expect(verifyGrant(grant, 'x')).toBe(false)
    expect(ed25519PublicKeyOf('not a peer id')).toBeNull()
  })

  it('bind a grant\'s regions: none added, dropped or moved to the tables verifies, and grants without regions sign as before', async () => {
    const key = await newPeerKey()
    const issuer = key.publicKey.toString()
    const browser = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    const regional = { browser, tables: ['notes'], regions: ['eu'], expires: 1_000, issuer }
    const sig = signGrant(key, regional)
    expect(verifyGrant(regional, sig)).toBe(true)
    for (const edited of [{ regions: ['eu', 'us'] }, { regions: [] }, { tables: ['notes', 'eu'], regions: [] }, { tables: [], readOnly: ['notes'] }, { regions: ['us'] }]) {
      expect(verifyGrant({ ...regional, ...edited }, sig), JSON.stringify(edited)).toBe(false)
    }
    // A grant issued before regions existed (no regions field) verifies with an empty list too.
    const old = { browser, tables: ['notes'], readOnly: ['prices'], expires: 1_000, issuer }
    expect(verifyGrant({ ...old, regions: [] }, signGrant(key, old))).toBe(true)
  })
})

describe('browser grant signatures with read-only regions', () => {
  it('break when a region moves between the read-write and read-only lists, or the read-only list changes at all', async () => {
    const key = await newPeerKey()
    const issuer = key.publicKey.toString()
    const browser = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    const grant = { browser, tables: ['notes'], regions: ['us'], readOnlyRegions: ['eu'], expires: 1_000, issuer }
    const sig = signGrant(key, grant)
    expect(verifyGrant(grant, sig)).toBe(true)
    for (const edited of [
      { regions: ['us', 'eu'], readOnlyRegions: [] }, // eu moved to the read-write list
      { regions: [], readOnlyRegions: ['us', 'eu'] }, // us moved to the read-only list
      { regions: ['eu'], readOnlyRegions: ['us'] }, // the two swapped
      { readOnlyRegions: [] },
      { readOnlyRegions: ['eu', 'ap'] },
      { tables: ['notes'], readOnly: ['eu'], readOnlyRegions: [] },
    ]) {
      expect(verifyGrant({ ...grant, ...edited }, sig), JSON.stringify(edited)).toBe(false)
    }
    // A signature over both regions read-write (an earlier version's bytes) verifies no read-only split of them.
    const readWrite = { browser, tables: ['notes'], regions: ['us', 'eu'], expires: 1_000, issuer }
    const readWriteSig = signGrant(key, readWrite)
    expect(verifyGrant({ ...readWrite, readOnlyRegions: [] }, readWriteSig)).toBe(true)
    expect(verifyGrant({ ...readWrite, regions: ['us'], readOnlyRegions: ['eu'] }, readWriteSig)).toBe(false)
  })
})

describe('BrowserGrants read from the catalog', () => {
  it('admit nobody for a grant whose tables were edited, whose issuer is not trusted, or that was revoked', async () => {
    const replica = await Replica.open({ nodeId: 'n', antiEntropyIntervalMs: 0 })
    try {
      const key = await newPeerKey()
      let trusted = true
      const grants = new BrowserGrants()
      grants.attach(replica, { peerId: key.publicKey.toString(), key, trusted: () => trusted })
      const a = decodeBrowserToken(grants.issue(['notes'], 60)).peerId
      const b = decodeBrowserToken(grants.issue(['notes'], 60)).peerId
      expect([grants.admits(a), grants.admits(b)]).toEqual([true, true])
      expect(grants.scopeOf(a)!.writes('t:1:0:notes')).toBe(true)

      // Whoever writes the catalog cannot widen a grant: the signature no longer matches.
      const stored = replica.getCatalog('browser_grant', a) as Record<string, unknown>
      replica.transact((tx) => tx.setCatalog('browser_grant', a, { ...stored, tables: ['notes', 'secrets'] } as never))
      grants.refresh()
      expect(grants.admits(a)).toBe(false)
      expect(grants.restricted(a)).toBe(true)
      expect(grants.scopeOf(a)!.reads('t:2:0:secrets')).toBe(false)

      expect(grants.revoke(b)).toBe(true)
      expect(grants.admits(b)).toBe(false)
      expect(grants.revoke(b)).toBe(false)
      const c = decodeBrowserToken(grants.issue(['notes'], 60)).peerId
      trusted = false
      grants.refresh()
      expect(grants.admits(c)).toBe(false)
    } finally {
      await replica.close()
    }
  })
})

describe('BrowserGrants with regions', () => {
  it('scope a region grant to the shards placed in its regions, and admit nobody once its regions are edited', async () => {
    const replica = await Replica.open({ nodeId: 'n', antiEntropyIntervalMs: 0 })
    try {
      replica.transact((tx) => {
        tx.createTable({ name: 'eu_notes', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'], regions: ['eu'] })
        tx.createTable({ name: 'both', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'], regions: ['eu', 'us'] })
        tx.createTable({ name: 'notes', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] })
        tx.createTable({ name: 'posts', columns: [{ name: 'id', type: 'int' }, { name: 'region', type: 'text' }], primaryKey: ['id'], options: { home_region_column: 'region' } })
      })
      const key = await newPeerKey()
      const grants = new BrowserGrants()
      grants.attach(replica, { peerId: key.publicKey.toString(), key, trusted: () => true })
      const token = decodeBrowserToken(grants.issue([], 60, ['eu_notes'], ['eu']))
      expect(token.regions).toEqual(['eu'])
      const scope = grants.scopeOf(token.peerId)!
      const shard = (table: string, partition = 0): string => shardId(table, replica.table(table)!.incarnation, partition)
      const posts = replica.table('posts')!
      expect(['eu_notes', 'both', 'notes'].map((t) => scope.reads(shard(t)))).toEqual([true, false, false])
      expect([scope.reads(homeShardId(posts, 'eu')), scope.writes(homeShardId(posts, 'eu')), scope.reads(homeShardId(posts, 'us'))]).toEqual([true, true, false])
      // A table it names read-only stays read-only within its region.
      expect(scope.writes(shard('eu_notes'))).toBe(false)
      expect(['eu_notes', 'posts', 'both'].map((t) => scope.readsTable(t))).toEqual([true, false, false])

      const stored = replica.getCatalog('browser_grant', token.peerId) as Record<string, unknown>
      replica.transact((tx) => tx.setCatalog('browser_grant', token.peerId, { ...stored, regions: ['eu', 'us'] } as never))
      grants.refresh()
      expect(grants.admits(token.peerId)).toBe(false)
      expect(scope.reads(homeShardId(posts, 'eu'))).toBe(false)
    } finally {
      await replica.close()
    }
  })
})

describe('BrowserGrants with read-only regions', () => {
  it('read the shards placed in a read-only region, write none of them, and admit nobody once a region moves to the read-write list', async () => {
    const replica = await Replica.open({ nodeId: 'n', antiEntropyIntervalMs: 0 })
    try {
      replica.transact((tx) => {
        tx.createTable({ name: 'eu_notes', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'], regions: ['eu'] })
        tx.createTable({ name: 'us_notes', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'], regions: ['us'] })
        tx.createTable({ name: 'both', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'], regions: ['eu', 'us'] })
        tx.createTable({ name: 'notes', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] })
        tx.createTable({ name: 'posts', columns: [{ name: 'id', type: 'int' }, { name: 'region', type: 'text' }], primaryKey: ['id'], options: { home_region_column: 'region' } })
      })
      const key = await newPeerKey()
      const grants = new BrowserGrants()
      grants.attach(replica, { peerId: key.publicKey.toString(), key, trusted: () => true })
      const token = decodeBrowserToken(grants.issue([], 60, [], ['us'], ['eu']))
      expect([token.regions, token.readOnlyRegions]).toEqual([['us'], ['eu']])
      expect(replica.getCatalog('browser_grant', token.peerId)).toMatchObject({ regions: ['us'], readOnlyRegions: ['eu'] })
      const scope = grants.scopeOf(token.peerId)!
      const shard = (table: string): string => shardId(table, replica.table(table)!.incarnation, 0)
      const posts = replica.table('posts')!
      const access = (id: string): [boolean, boolean] => [scope.reads(id), scope.writes(id)]
      // eu is read only, us read and written; a table of both is read (all its rows are in them), not written (eu rows).
      expect(['eu_notes', 'us_notes', 'both', 'notes'].map((t) => access(shard(t)))).toEqual([[true, false], [true, true], [true, false], [false, false]])
      expect([access(homeShardId(posts, 'eu')), access(homeShardId(posts, 'us'))]).toEqual([[true, false], [true, true]])
      expect(['eu_notes', 'both', 'posts', 'notes'].map((t) => scope.readsTable(t))).toEqual([true, true, false, false])

      // Moving eu to the read-write list in the catalog breaks the signature: nothing is read or written then.
      const stored = replica.getCatalog('browser_grant', token.peerId) as Record<string, unknown>
      replica.transact((tx) => tx.setCatalog('browser_grant', token.peerId, { ...stored, regions: ['us', 'eu'], readOnlyRegions: [] } as never))
      grants.refresh()
      expect(grants.admits(token.peerId)).toBe(false)
      expect([access(shard('eu_notes')), access(shard('us_notes'))]).toEqual([[false, false], [false, false]])
    } finally {
      await replica.close()
    }
  })
})

describe('browser tokens across the cluster', () => {
  it('a token issued by one member works on another, and a revoked one is refused by both, open sessions included', async () => {
    const aLog = recordingLogger()
    const bLog = recordingLogger()
    const a = await ConcordNode.start({ memory: true, nodeId: 'ga', pgPort: 0, pgPortSearch: false, logger: aLog })
    nodes.push(a)
    await queryNode(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    await queryNode(a, 'CREATE TABLE notes (id INT PRIMARY KEY)')
    await queryNode(a, 'INSERT INTO notes VALUES (1)')
    const b = await ConcordNode.start({ memory: true, nodeId: 'gb', pgPort: 0, pgPortSearch: false, logger: bLog, join: [`127.0.0.1:${a.pgPort}`], joinToken: a.joinToken! })
    nodes.push(b)
    await until(async () => (await ids((s) => queryNode(b, s), 'notes'))?.join() === '1', 'b to sync notes')

    const token = (await queryNode(a, "SELECT concord_browser_token(ARRAY['notes'], 3600) AS t")).rows[0].t as string
    const browserId = decodeBrowserToken(token).peerId
    await until(async () => (await queryNode(b, `SELECT revoked FROM concord_browser_grants WHERE id = '${browserId}'`)).rows.length === 1, 'the grant to reach b')

    // Connected to b only, the browser reads and writes within its token.
    const client = await browserClient('browser-g', b, token)
    await until(async () => (await ids((s) => client.db.query(s), 'notes'))?.join() === '1', 'the browser to read notes from b')
    await client.db.query('INSERT INTO notes VALUES (2)')
    await until(async () => (await ids((s) => queryNode(a, s), 'notes'))?.join() === '1,2', "the browser's note on a, through b")

    // Revoking needs an admin node: b is a plain member.
    expect(await sqlState(b, `SELECT concord_revoke_browser_token('${token}')`)).toBe('42501')
    expect(await sqlState(a, "SELECT concord_revoke_browser_token('12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf')")).toBe('42704')
    expect((await queryNode(a, `SELECT concord_revoke_browser_token('${token}') AS r`)).rows[0].r).toBe(true)
    expect((await queryNode(a, `SELECT concord_revoke_browser_token('${browserId}') AS r`)).rows[0].r).toBe(false)

    // b learns it and closes the open session; nothing the browser writes applies any more.
    await until(() => !b.transport!.connectedPeerIds().includes(browserId), 'b to close the revoked browser session')
    expect((await queryNode(b, `SELECT revoked FROM concord_browser_grants WHERE id = '${browserId}'`)).rows[0].revoked).toBe(true)
    // (Its SQL refuses to write with no holder of notes reachable: a modified client writes below SQL.)
    client.db.replica.transact((tx) => tx.upsert('notes', { id: 3 }))
    // The browser keeps redialing: b (and a, asked directly) refuse the identity.
    client.transport.join(a.p2pAddresses().find((x) => x.includes('/ws'))!)
    await until(() => bLog.lines.some((l) => l.includes(`refused peer ${browserId}`)), 'b to refuse the revoked identity')
    await until(() => aLog.lines.some((l) => l.includes(`refused peer ${browserId}`)), 'a to refuse the revoked identity')
    await queryNode(a, 'INSERT INTO notes VALUES (4)')
    await until(async () => (await ids((s) => queryNode(b, s), 'notes'))?.join() === '1,2,4', "a's later note on b")
    expect(await ids((s) => queryNode(a, s), 'notes')).toEqual([1, 2, 4])
    // The browser keeps its own row; a's later one never reaches it.
    expect([1, 2, 3, 4].map((id) => client.db.replica.get('notes', [id]) !== undefined)).toEqual([true, true, true, false])
  }, 180_000)

  it('a node on disk keeps honouring a token it issued after a restart (the grant is in its catalog)', async () => {
    const dataDir = join(dir, 'node')
    let node = await ConcordNode.start({ dataDir, pgPort: 0, pgPortSearch: false })
    let token: string
    try {
      await queryNode(node, `ALTER SYSTEM ADD NODE '${node.transport!.peerId}'`)
      await queryNode(node, 'CREATE TABLE notes (id INT PRIMARY KEY)')
      await queryNode(node, 'INSERT INTO notes VALUES (1)')
      token = (await queryNode(node, "SELECT concord_browser_token(ARRAY['notes'], 3600) AS t")).rows[0].t as string
    } finally {
      await node.stop()
    }
    node = await ConcordNode.start({ dataDir, pgPort: 0, pgPortSearch: false })
    nodes.push(node)
    const client = await browserClient('browser-r', node, token)
    await until(async () => (await ids((s) => client.db.query(s), 'notes'))?.join() === '1', 'the browser to read notes after the restart')
  }, 120_000)
})
