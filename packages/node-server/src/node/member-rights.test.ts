/**
 * Per-member write rights (issue 15, "Data from a peer is applied only if that peer may
 * write it"): once the member list is on, only an admin member may change the member
 * list, roles, grants and cluster settings. Before, every admitted member could: a joiner
 * admitted by a join token added members, created roles and changed the cluster-wide
 * conflict policy on every node.
 *
 * Two kinds of member: a node (its SQL is refused with 42501), and a modified one that
 * speaks the node protocol with a database of its own that writes whatever it likes (its
 * catalog updates are refused by every admin-checked node, and its ordinary data still
 * applies). Real nodes on 127.0.0.1 (loopback, no cluster key) with the member list on.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryStorage } from '@concord/core'
import { openDatabase, type Database } from '@concord/sql-facade'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'
import { queryNode } from './node-query.fixture.js'
import { Libp2pTransport } from '../transport/libp2p-transport.js'
import { newPeerKey } from '../transport/peer-key.js'
import type { Logger } from '../log/logger.js'

const nodes: ConcordNode[] = []
const clients: Database[] = []

afterAll(async () => {
  for (const c of clients.splice(0)) await c.close()
  for (const n of nodes.splice(0)) await n.stop()
})

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

async function start(options: Partial<ConcordNodeOptions>): Promise<ConcordNode> {
  const n = await ConcordNode.start({ memory: true, pgPort: 0, pgPortSearch: false, ...options })
  nodes.push(n)
  return n
}

const query = queryNode

async function sqlState(node: ConcordNode, sql: string): Promise<string | undefined> {
  try {
    await query(node, sql)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
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

async function members(node: ConcordNode): Promise<Record<string, string>> {
  const rows = (await query(node, 'SELECT peer_id, role FROM concord_cluster_members WHERE member')).rows as Array<{ peer_id: string; role: string }>
  return Object.fromEntries(rows.map((r) => [r.peer_id, r.role]))
}

const policy = async (node: ConcordNode): Promise<string> => (await query(node, 'SHOW conflict_resolution_policy')).rows[0].conflict_resolution_policy as string
const pgAddr = (n: ConcordNode): string => `127.0.0.1:${n.pgPort}`
const SOMEONE = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

describe('member rights', () => {
  it('refuse a member node\'s changes to the member list, roles and cluster settings, until an admin makes it one', async () => {
    const a = await start({ nodeId: 'a' })
    await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    await query(a, 'CREATE TABLE t (id INT PRIMARY KEY)')
    const b = await start({ nodeId: 'b', join: [pgAddr(a)], joinToken: a.joinToken! })
    const bId = b.transport!.peerId
    await until(async () => (await members(b))[bId] === 'member' && (await ids((s) => query(b, s), 't')) !== null, 'b to be a member and sync')
    expect(await members(a)).toEqual({ [a.transport!.peerId]: 'admin', [bId]: 'member' })

    // A plain member writes data and ordinary DDL...
    await query(b, 'CREATE TABLE u (id INT PRIMARY KEY)')
    await query(b, 'INSERT INTO u VALUES (1)')
    await until(async () => (await ids((s) => query(a, s), 'u'))?.join() === '1', "b's table and row on a")
    // ...and nothing that governs the cluster.
    expect(await sqlState(b, `ALTER SYSTEM ADD NODE '${SOMEONE}'`)).toBe('42501')
    expect(await sqlState(b, `ALTER SYSTEM REMOVE NODE '${a.transport!.peerId}'`)).toBe('42501')
    expect(await sqlState(b, "ALTER SYSTEM SET conflict_resolution_policy = 'first_write_wins'")).toBe('42501')
    expect(await sqlState(b, "CREATE ROLE mallory LOGIN PASSWORD 'x'")).toBe('42501')
    expect(await sqlState(b, "SELECT concord_browser_token(ARRAY['t'], 60)")).toBe('42501')
    expect(await sqlState(b, `ALTER SYSTEM ADD NODE '${SOMEONE}' WITH JOIN TOKEN '${b.joinToken!}'`)).toBe('42501')
    expect(await members(a)).toEqual({ [a.transport!.peerId]: 'admin', [bId]: 'member' })
    expect(await policy(b)).not.toBe('first_write_wins')

    // The last admin keeps its right; bad roles are 22023.
    expect(await sqlState(a, `ALTER SYSTEM ALTER NODE '${a.transport!.peerId}' WITH (ROLE = member)`)).toBe('55000')
    expect(await sqlState(a, `ALTER SYSTEM ALTER NODE '${bId}' WITH (ROLE = owner)`)).toBe('22023')
    expect(await sqlState(a, `ALTER SYSTEM ALTER NODE '${SOMEONE}' WITH (ROLE = admin)`)).toBe('42704')

    // An admin makes b one: then its change applies everywhere.
    await query(a, `ALTER SYSTEM ALTER NODE '${bId}' WITH (ROLE = admin)`)
    await until(async () => (await sqlState(b, "ALTER SYSTEM SET conflict_resolution_policy = 'first_write_wins'")) === undefined, 'b to learn it is an admin')
    await until(async () => (await policy(a)) === 'first_write_wins', "b's setting on a")
  }, 180_000)

  it('never apply a modified member\'s catalog writes it may not make, and keep taking its data', async () => {
    const log = recordingLogger()
    const a = await start({ nodeId: 'a2', logger: log })
    await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    await query(a, 'CREATE TABLE t (id INT PRIMARY KEY)')
    await query(a, "CREATE ROLE alice LOGIN PASSWORD 'alice secret'")
    const verifier = async (): Promise<unknown> => (await query(a, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")).rows[0].rolpassword
    const alice = await verifier()
    const key = await newPeerKey()
    await query(a, `ALTER SYSTEM ADD NODE '${key.publicKey.toString()}'`)

    // A member speaking the node protocol with a database of its own: no rights checked on its side.
    const transport = new Libp2pTransport({ nodeId: 'rogue', listen: [], privateKey: key })
    const rogue = await openDatabase({ nodeId: 'rogue', storage: new MemoryStorage(), transport, serialWaitMs: 0 })
    clients.push(rogue)
    transport.join(a.p2pAddresses().find((x) => x.includes('/tcp/') && !x.includes('/ws'))!)
    await until(async () => (await ids((s) => rogue.query(s), 't')) !== null && rogue.roles().role('alice') !== undefined, 'the rogue member to sync')

    await rogue.query("ALTER SYSTEM SET conflict_resolution_policy = 'first_write_wins'")
    await rogue.query("CREATE ROLE mallory SUPERUSER LOGIN PASSWORD 'x'")
    // Verifiers live in the secrets shard: a member may write none of it.
    await rogue.query("ALTER ROLE alice PASSWORD 'chosen by the rogue'")
    rogue.replica.transact((tx) => tx.setCatalog('peer_member', SOMEONE, { removed: false, by: 'rogue', at: Date.now(), right: 'admin' }))
    await rogue.query('CREATE TABLE planted (id INT PRIMARY KEY)')
    await rogue.query('INSERT INTO t VALUES (7)')

    await until(() => log.lines.some((l) => l.includes('refused an update of catalog from rogue')), 'a to refuse the catalog update')
    await until(() => log.lines.some((l) => l.includes('refused an update of secrets from rogue')), 'a to refuse the secrets update')
    // Its data still applies (rows of t travel in t's shard).
    await until(async () => (await ids((s) => query(a, s), 't'))?.join() === '7', "the rogue member's row on a")
    const refused = (await fetchMetric(a, 'concord_writes_refused_total'))
    expect(refused).toBeGreaterThan(0)
    expect(await policy(a)).not.toBe('first_write_wins')
    expect((await query(a, "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'mallory'")).rows[0].n).toBe(0)
    expect(Object.keys(await members(a))).not.toContain(SOMEONE)
    expect(await verifier()).toBe(alice)
    // Anti-entropy does not ask it for the refused catalog state round after round.
    const before = (await fetchMetric(a, 'concord_writes_refused_total'))
    await new Promise((r) => setTimeout(r, 5000))
    expect((await fetchMetric(a, 'concord_writes_refused_total')) - before).toBeLessThanOrEqual(2)
    await rogue.query('INSERT INTO t VALUES (8)')
    await until(async () => (await ids((s) => query(a, s), 't'))?.join() === '7,8', 'a later row of the rogue member on a')
  }, 180_000)
})

async function fetchMetric(node: ConcordNode, name: string): Promise<number> {
  const m = node.metrics().find((x) => x.name === name)
  return m === undefined ? Number.NaN : Number(m.value)
}
