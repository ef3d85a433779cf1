/**
 * LISTEN / NOTIFY across a cluster of two `concord start` processes on 127.0.0.1: a
 * NOTIFY committed on one node reaches node-postgres listeners on the other (and on its
 * own node), with the sending connection's process id; a rolled-back one reaches nobody.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

/** The process id BackendKeyData gave a node-postgres client (not in its type declarations). */
function pidOf(c: pg.Client): number {
  return (c as unknown as { processID: number }).processID
}

let dir: string
const nodes: ConcordProcess[] = []
const clients: pg.Client[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-notify-'))
  const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'nota' })
  nodes.push(a)
  nodes.push(await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'notb', join: [a.pgAddress] }))
  await until(() => nodes.every((n) => /peer not[ab] up/.test(n.log)), 20_000, 'both nodes connected')
  // Replication flows both ways before anyone listens.
  await a.query('CREATE TABLE ready (id INT PRIMARY KEY)')
  await until(async () => (await nodes[1]!.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'ready'")).rows[0]?.n === 1, 20_000, 'table on node b')
}, 60_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await Promise.all(nodes.map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

async function client(node: ConcordProcess): Promise<pg.Client> {
  const c = await node.client()
  clients.push(c)
  return c
}

describe('NOTIFY across two concord processes', () => {
  it('a NOTIFY committed on node A reaches a LISTEN on node B and on node A, once, with the sender\'s process id', async () => {
    const [a, b] = nodes as [ConcordProcess, ConcordProcess]
    const onB = await client(b)
    const onA = await client(a)
    const gotB: pg.Notification[] = []
    const gotA: pg.Notification[] = []
    onB.on('notification', (n) => gotB.push(n))
    onA.on('notification', (n) => gotA.push(n))
    await onB.query('LISTEN cluster_jobs')
    await onA.query('LISTEN cluster_jobs')
    const sender = await client(a)
    await sender.query('BEGIN')
    await sender.query("NOTIFY cluster_jobs, 'rolled back'")
    await sender.query('ROLLBACK')
    await sender.query('BEGIN')
    await sender.query('INSERT INTO ready VALUES (1)')
    await sender.query("SELECT pg_notify('cluster_jobs', 'job 1')")
    await sender.query('COMMIT')
    await until(() => gotB.length > 0 && gotA.length > 0, 20_000, 'notification on both nodes')
    // Anything else would have come with it: one more round trip on each connection.
    await onB.query('SELECT 1')
    await onA.query('SELECT 1')
    for (const got of [gotA, gotB]) expect(got.map((n) => [n.channel, n.payload, n.processId])).toEqual([['cluster_jobs', 'job 1', pidOf(sender)]])
  })

  it('NOTIFY on node B reaches a listener on node A; UNLISTEN on A stops it', async () => {
    const [a, b] = nodes as [ConcordProcess, ConcordProcess]
    const onA = await client(a)
    const got: string[] = []
    let marked = false
    onA.on('notification', (n) => (n.channel === 'marker' ? (marked = true) : got.push(n.payload ?? '')))
    await onA.query('LISTEN back')
    await b.query("NOTIFY back, 'from b'")
    await until(() => got.length > 0, 20_000, 'notification on node a')
    expect(got).toEqual(['from b'])
    await onA.query('UNLISTEN back')
    await onA.query('LISTEN marker')
    // One sender, one order: when the marker arrives, the unheard one would have too.
    const sender = await client(b)
    await sender.query("NOTIFY back, 'unheard'")
    await sender.query("NOTIFY marker, 'm'")
    await until(() => marked, 20_000, 'marker on node a')
    expect(got).toEqual(['from b'])
  })
})
