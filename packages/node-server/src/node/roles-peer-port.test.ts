/**
 * A node whose clients log in as roles (no --password) does not leave its peer port open
 * (issue 15, roles-peer-port.ts). Before this, creating a LOGIN role on a loopback node
 * without --password left an unkeyed peer port, and any local process joining it as a
 * peer read and wrote everything, bypassing every role. Real nodes on 127.0.0.1.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { caughtUpOn, queryNode } from './node-query.fixture.js'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'

const nodes: ConcordNode[] = []
let dir: string

afterAll(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function start(options: Partial<ConcordNodeOptions>): Promise<ConcordNode> {
  const n = await ConcordNode.start({ pgPort: 0, pgPortSearch: false, ...options })
  nodes.push(n)
  return n
}

const query = queryNode

async function rows(node: ConcordNode, table: string): Promise<number | null> {
  try {
    return (await query(node, `SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number
  } catch {
    return null // not there (42P01)
  }
}

async function until(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('LOGIN roles on a node without a cluster key', () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-roles-port-'))

  it('close its peer port at once, create a key for the next start, and a restart opens the port keyed', async () => {
    const dataDir = join(dir, 'a')
    const a = await start({ dataDir, nodeId: 'a' })
    expect(a.peerPortKey.key).toBeUndefined()
    await query(a, 'CREATE TABLE t (id INT PRIMARY KEY)')
    await query(a, 'INSERT INTO t VALUES (1)')
    // Before roles: a loopback node without a password has an open peer port (by design: every
    // local user is already superuser on its PostgreSQL port). A local process joins and reads.
    const early = await start({ memory: true, nodeId: 'early', join: [a.p2pAddresses()[0]!] })
    // It reads through `a` until it has caught up; then it answers from its own copy.
    await until(async () => (await rows(early, 't')) === 1 && (await caughtUpOn(early, 't')), 'the row on the early joiner, caught up')

    await query(a, "CREATE ROLE alice LOGIN PASSWORD 'al1ce'")
    await query(a, 'GRANT SELECT ON t TO alice')
    await until(async () => a.peerPortClosed, 'the peer port to close')
    const key = join(dataDir, 'cluster.key')
    expect(existsSync(key)).toBe(true)
    expect(statSync(key).mode & 0o777).toBe(0o600)
    expect(a.p2pAddresses()).toEqual([])
    // Nothing crosses any more, either way.
    await query(a, 'INSERT INTO t VALUES (2)')
    await query(early, 'INSERT INTO t VALUES (3)')
    // Roles still work on the PostgreSQL port.
    expect((await query(a, 'SELECT count(*)::int AS n FROM t', 'alice', 'al1ce')).rows[0].n).toBe(2)
    await a.stop()
    nodes.splice(nodes.indexOf(a), 1)

    // The next start opens the peer port with the key it created: a joiner without it gets
    // nothing, one with it (the control) gets the rows.
    const again = await start({ dataDir, nodeId: 'a' })
    expect(again.peerPortKey.key).toBeDefined()
    expect(again.peerPortKey.file).toBe(key)
    expect(again.peerPortClosed).toBe(false)
    const intruder = await start({ memory: true, nodeId: 'intruder', join: [again.p2pAddresses()[0]!] })
    await query(intruder, 'CREATE TABLE planted (id INT PRIMARY KEY)')
    const member = await start({ memory: true, nodeId: 'member', clusterKeyFile: key, join: [again.p2pAddresses()[0]!] })
    await until(async () => (await rows(member, 't')) === 2, 'the rows on the member')
    expect(await rows(intruder, 't')).toBeNull()
    expect(await rows(again, 'planted')).toBeNull()
    expect(await rows(again, 't')).toBe(2)
    expect(await rows(early, 't')).toBe(2) // 1, and its own 3: nothing of a's after the roles
  }, 120_000)
})
