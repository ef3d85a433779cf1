/**
 * The cluster's member list on the peer port (issue 15, "Authenticated peers"): beyond the
 * cluster key, only admitted libp2p identities connect and have their data applied. Before
 * it, any process holding the key was a full member: it read every table and its writes
 * applied everywhere, and nothing short of a new key for every node could cut it off.
 * Real nodes on 127.0.0.1, all holding the same cluster key.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { caughtUpOn, queryNode } from './node-query.fixture.js'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'
import { writeClusterKey } from '../transport/cluster-key.js'
import type { Logger } from '../log/logger.js'

const nodes: ConcordNode[] = []
const dir = mkdtempSync(join(tmpdir(), 'concord-membership-'))
const keyFile = join(dir, 'cluster.key')
writeClusterKey(keyFile)

afterAll(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** A logger keeping warnings, so a test can wait for the node to have refused a peer. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

async function start(options: Partial<ConcordNodeOptions>): Promise<ConcordNode> {
  const n = await ConcordNode.start({ memory: true, pgPort: 0, pgPortSearch: false, clusterKeyFile: keyFile, ...options })
  nodes.push(n)
  return n
}

const query = queryNode

async function sqlState(node: ConcordNode, sql: string, user = 'concord', password?: string): Promise<string | undefined> {
  try {
    await query(node, sql, user, password)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

/** The ids in a table, or null when the table is not there (42P01). */
async function ids(node: ConcordNode, table: string): Promise<number[] | null> {
  try {
    return (await query(node, `SELECT id FROM ${table} ORDER BY id`)).rows.map((r: { id: number }) => r.id)
  } catch {
    return null
  }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const pgAddr = (n: ConcordNode): string => `127.0.0.1:${n.pgPort}`

describe('the cluster member list on the peer port', () => {
  it('admits a joiner by join token or ALTER SYSTEM ADD NODE, refuses one with only the key, and cuts off a removed member', async () => {
    const aLog = recordingLogger()
    const a = await start({ nodeId: 'a', logger: aLog })
    await query(a, 'CREATE TABLE t (id INT PRIMARY KEY)')
    await query(a, 'INSERT INTO t VALUES (1)')
    const token = a.joinToken!
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)

    // A joiner with the key and a's join token is admitted (the member list now holds a and
    // it) and syncs; the token is used up.
    const member = await start({ nodeId: 'member', join: [pgAddr(a)], joinToken: token })
    await until(async () => (await ids(member, 't'))?.length === 1, 'the row on the admitted joiner')
    expect(a.joinToken).not.toBe(token)
    const listed = (await query(a, 'SELECT peer_id, member, this_node FROM concord_cluster_members ORDER BY this_node DESC')).rows
    expect(listed).toEqual([
      { peer_id: a.transport!.peerId, member: true, this_node: true },
      { peer_id: member.transport!.peerId, member: true, this_node: false },
    ])

    // A joiner holding the cluster key but never admitted: refused after the Noise handshake.
    // It reads nothing, and what it writes never reaches a member.
    const intruder = await start({ nodeId: 'intruder', join: [a.p2pAddresses()[0]!] })
    const intruderId = intruder.transport!.peerId
    await query(intruder, 'CREATE TABLE planted (id INT PRIMARY KEY)')
    await query(intruder, 'INSERT INTO planted VALUES (7)')
    await until(() => aLog.lines.some((l) => l.includes(`refused peer ${intruderId}`)), 'a to refuse the intruder')
    await query(a, 'INSERT INTO t VALUES (2)')
    await until(async () => (await ids(member, 't'))?.length === 2, 'the second row on the member')
    expect(await ids(intruder, 't')).toBeNull()
    expect(await ids(a, 'planted')).toBeNull()
    expect(await ids(member, 'planted')).toBeNull()
    expect(a.transport!.connectedPeerIds()).not.toContain(intruderId)
    // Its own join token is no way in either: a used token is refused (28000).
    expect(await sqlState(a, `ALTER SYSTEM ADD NODE '${intruderId}' WITH JOIN TOKEN '${token}'`)).toBe('28000')

    // An administrator admits it: it syncs, and its writes now apply.
    await query(a, `ALTER SYSTEM ADD NODE '${intruderId}'`)
    // It reads through a until it has caught up; cut off later, it answers from its own copy.
    await until(async () => (await ids(intruder, 't'))?.length === 2 && (await caughtUpOn(intruder, 't')), 'the rows on the admitted node, caught up')
    await until(async () => (await ids(a, 'planted'))?.length === 1, "the admitted node's table on a")

    // Removed: every member closes its connections and refuses it from then on.
    await query(a, `ALTER SYSTEM REMOVE NODE '${intruderId}'`)
    expect((await query(a, `SELECT member FROM concord_cluster_members WHERE peer_id = '${intruderId}'`)).rows).toEqual([{ member: false }])
    await until(
      () => !a.transport!.connectedPeerIds().includes(intruderId) && !member.transport!.connectedPeerIds().includes(intruderId),
      'the members to cut the removed node off',
    )
    await query(intruder, 'INSERT INTO t VALUES (99)')
    await query(a, 'INSERT INTO t VALUES (3)')
    await until(async () => (await ids(member, 't'))?.length === 3, 'the third row on the member')
    expect(await ids(intruder, 't')).toEqual([1, 2, 99])
    expect(await ids(a, 't')).toEqual([1, 2, 3])
    expect(await ids(member, 't')).toEqual([1, 2, 3])
  }, 240_000)

  it('lets only superusers change the list without a token, and checks peer ids', async () => {
    const a = await start({ nodeId: 'solo' })
    await query(a, "CREATE ROLE bob LOGIN PASSWORD 'b0b'")
    const someone = '12D3KooWGRUVh8MAxJEb1Lnr8yLzrq1PyAVhqKpWMpVntStnmZkN'
    expect(await sqlState(a, `ALTER SYSTEM ADD NODE '${someone}'`, 'bob', 'b0b')).toBe('42501')
    expect(await sqlState(a, "ALTER SYSTEM ADD NODE 'not a peer id'")).toBe('22023')
    expect(await sqlState(a, `ALTER SYSTEM REMOVE NODE '${someone}'`)).toBe('42704')
    expect(await sqlState(a, `ALTER SYSTEM REMOVE NODE '${a.transport!.peerId}'`)).toBe('55000')
    expect(await sqlState(a, `BEGIN; ALTER SYSTEM ADD NODE '${someone}'`)).toBe('25001')
    // A valid token admits even for a role that is not a superuser (how a joiner admits itself).
    await query(a, `ALTER SYSTEM ADD NODE '${someone}' WITH JOIN TOKEN '${a.joinToken!}'`, 'bob', 'b0b')
    await query(a, `ALTER SYSTEM REMOVE NODE '${someone}'`)
  }, 60_000)
})
