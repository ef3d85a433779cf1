/**
 * Node ids bound to libp2p identities (issue 15, "Authenticated peers"): a rogue node
 * started with another node's `--node-id` is not accepted as that node. Before, it was:
 * each of its HELLOs replaced the real node's session on the member it dialed (connection
 * flaps), and its writes, gossiped under the real node's id, applied everywhere. Now the
 * member list binds every member's node id to its PeerId; the impostor (admitted as a
 * member in its own right, so only the binding stands in its way) is refused and logged,
 * the real node's session stays up, and nothing the impostor writes reaches a member.
 * Real processes on 127.0.0.1.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const { dir, started } = useNodeProcesses('concord-identity-')

/** The join token a node printed at start, or the fresh one it logged after the last use. */
function latestToken(p: ConcordProcess): string {
  const all = [...`${p.out}\n${p.log}`.matchAll(/(?:--join-token |the next one is )([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!)
  const logged = [...p.log.matchAll(/the next one is ([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!)
  const token = logged.at(-1) ?? all[0]
  if (token === undefined) throw new Error(`no join token in the output:\n${p.out}`)
  return token
}

const peerIdOf = (p: ConcordProcess): string => p.p2pAddress.split('/p2p/')[1]!

async function ids(p: ConcordProcess, table: string): Promise<number[] | null> {
  try {
    return (await p.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id)
  } catch {
    return null
  }
}

describe('node ids bound to peer ids', () => {
  it('a member started with another node\'s --node-id is refused as that node; its writes never apply', async () => {
    const alpha = await started(ConcordProcess.start({ dataDir: join(dir, 'alpha'), nodeId: 'alpha' }))
    await alpha.query('CREATE TABLE t (id INT PRIMARY KEY)')
    await alpha.query('INSERT INTO t VALUES (1)')
    const beta = await started(ConcordProcess.start({ dataDir: join(dir, 'beta'), nodeId: 'beta', join: [alpha.pgAddress], extraArgs: ['--join-token', latestToken(alpha)] }))
    await until(async () => (await ids(beta, 't'))?.length === 1, 60_000, 'the row on beta')
    // Both bound: every member's entry names the node id it speaks as.
    await until(async () => {
      const rows = (await alpha.query<{ peer_id: string; node_id: string | null }>('SELECT peer_id, node_id FROM concord_cluster_members ORDER BY node_id')).rows
      return JSON.stringify(rows) === JSON.stringify([{ peer_id: peerIdOf(alpha), node_id: 'alpha' }, { peer_id: peerIdOf(beta), node_id: 'beta' }])
    }, 30_000, 'alpha and beta bound in the member list')

    // The impostor: a member by its own join token, but claiming beta's node id.
    const impostor = await started(ConcordProcess.start({ dataDir: join(dir, 'impostor'), nodeId: 'beta', join: [alpha.pgAddress], extraArgs: ['--join-token', latestToken(alpha)] }))
    const impostorId = peerIdOf(impostor)
    await until(() => impostor.log.includes('admitted to the cluster\'s member list'), 30_000, 'the impostor admitted as a member')
    await impostor.query('CREATE TABLE planted (id INT PRIMARY KEY)')
    await impostor.query('INSERT INTO planted VALUES (1)')
    await until(() => alpha.log.includes(`refused peer ${impostorId}: its HELLO names node id beta, but node id beta is bound to member ${peerIdOf(beta)}`), 60_000, 'alpha to refuse the impostor')

    // Replication between the real nodes goes on, and the impostor's redials (several, with
    // backoff) never take beta's place.
    await new Promise((r) => setTimeout(r, 5000))
    await alpha.query('INSERT INTO t VALUES (2)')
    await beta.query('INSERT INTO t VALUES (3)')
    await until(async () => (await ids(beta, 't'))?.length === 3 && (await ids(alpha, 't'))?.length === 3, 30_000, 'rows both ways')
    expect(await ids(alpha, 't')).toEqual([1, 2, 3])
    expect(await ids(beta, 't')).toEqual([1, 2, 3])
    expect(await ids(alpha, 'planted')).toBeNull()
    expect(await ids(beta, 'planted')).toBeNull()
    expect(alpha.log).not.toMatch(/peer beta down/)
    // The impostor stays unbound: nobody took its claim.
    const entry = (await alpha.query<{ node_id: string | null; member: boolean }>(`SELECT node_id, member FROM concord_cluster_members WHERE peer_id = '${impostorId}'`)).rows
    expect(entry).toEqual([{ node_id: null, member: true }])
  }, 300_000)
})
