/**
 * A keyed cluster (libp2p private network): a node started with the key joins and
 * replicates; a node started without it cannot connect and sees none of the data.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

const run = promisify(execFile)
let dir: string
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function health(p: ConcordProcess): Promise<{ peers: string[] }> {
  return (await (await fetch(`http://127.0.0.1:${p.httpPort}/health`)).json()) as { peers: string[] }
}

describe('cluster key', () => {
  it('a node without the key cannot join a keyed cluster; one with the key can', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-key-'))
    const key = join(dir, 'cluster.key')
    const cli = new URL('../../packages/node-server/bin/concord.js', import.meta.url).pathname
    await run(process.execPath, [cli, 'gen-cluster-key', key], { timeout: 30_000 })

    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'key-a', clusterKey: key, httpPort: true })
    procs.push(a)
    const [member, stranger] = await Promise.all([
      ConcordProcess.start({ dataDir: join(dir, 'm'), nodeId: 'key-member', clusterKey: key, join: [a.pgAddress], httpPort: true }),
      ConcordProcess.start({ dataDir: join(dir, 's'), nodeId: 'key-stranger', join: [a.pgAddress, a.p2pAddress], httpPort: true }),
    ])
    procs.push(member, stranger)
    await until(async () => (await health(a)).peers.includes('key-member'), 20_000, 'member joined')
    await a.query('CREATE TABLE secrets (id INT PRIMARY KEY, v TEXT)')
    await a.query("INSERT INTO secrets VALUES (1, 'only for members')")
    await until(async () => (await member.query('SELECT v FROM secrets')).rows.length === 1, 20_000, 'row on the member')

    // Give the stranger time to try (its dials fail; it retries with backoff).
    await new Promise((r) => setTimeout(r, 1500))
    expect((await health(a)).peers).toEqual(['key-member'])
    expect((await health(stranger)).peers).toEqual([])
    await expect(stranger.query('SELECT v FROM secrets')).rejects.toMatchObject({ code: '42P01' })
    // Its dials fail (quickly, or at the 10 s handshake timeout) and are retried with backoff;
    // the outcome that matters is above: no peer, no data.
  }, 90_000)
})
