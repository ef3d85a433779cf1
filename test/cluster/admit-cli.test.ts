/**
 * `concord admit` (issue 15, "Authenticated peers"): the command line puts a node on the
 * cluster's member list through a member's PostgreSQL port, either by redeeming a join
 * token the member printed for a data directory (so the node is a member before its first
 * start, and may join by a libp2p multiaddr, which `--join-token` cannot), or as an
 * administrator by the PeerId a refused joiner printed. Real processes on 127.0.0.1.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const CLI = fileURLToPath(new URL('../../packages/node-server/src/cli.ts', import.meta.url))
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)

/** `concord <args>`: its exit code and output. */
async function concord(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--no-warnings=ExperimentalWarning', '--import', TSX, CLI, ...args], { timeout: 120_000 })
    return { code: 0, out: stdout + stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

const { dir, started } = useNodeProcesses('concord-admit-')

const printedToken = (p: ConcordProcess): string => /--join-token ([A-Za-z0-9_-]{43})/.exec(p.out)![1]!
const printedPeerId = (p: ConcordProcess): string => /peer id: +(\S+)/.exec(p.out)![1]!

async function rows(p: ConcordProcess): Promise<number> {
  try {
    return (await p.query('SELECT id FROM t')).rows.length
  } catch {
    return -1
  }
}

describe('concord admit', () => {
  it('redeems a join token for a data directory, and adds a node by its peer id', async () => {
    const first = await started(ConcordProcess.start({ dataDir: join(dir, 'first'), nodeId: 'first' }))
    // The member list on: the first node lists itself.
    await first.query(`ALTER SYSTEM ADD NODE '${printedPeerId(first)}'`)
    await first.query('CREATE TABLE t (id INT PRIMARY KEY)')
    await first.query('INSERT INTO t VALUES (1)')
    const token = printedToken(first)

    // The joiner's side, before its node ever started: the token admits the identity of its data directory.
    const admitted = await concord(['admit', token, '--data-dir', join(dir, 'second'), '--pg-port', String(first.pgPort)])
    expect(admitted.code, admitted.out).toBe(0)
    expect(admitted.out).toMatch(/^admitted (\S+) to the cluster's member list \(on 127\.0\.0\.1:\d+\)/)
    const secondId = /^admitted (\S+)/.exec(admitted.out)![1]!
    // Then it joins by the libp2p multiaddr, no token on its command line.
    const second = await started(ConcordProcess.start({ dataDir: join(dir, 'second'), nodeId: 'second', join: [first.p2pAddress] }))
    expect(printedPeerId(second)).toBe(secondId)
    await until(async () => (await rows(second)) === 1, 60_000, 'the row on the admitted node')

    // A token is used once.
    const again = await concord(['admit', token, '--data-dir', join(dir, 'third'), '--pg-port', String(first.pgPort)])
    expect(again.code).toBe(1)
    expect(again.out).toMatch(/refused to admit .*invalid join token .*\(28000\)/)

    // A node that is not a member is refused until an administrator admits its peer id.
    const third = await started(ConcordProcess.start({ dataDir: join(dir, 'third'), nodeId: 'third', join: [first.p2pAddress] }))
    const thirdId = printedPeerId(third)
    await until(() => first.log.includes(`refused peer ${thirdId}`), 60_000, 'the first node to refuse the third')
    expect(await rows(third)).toBe(-1)
    const byAdmin = await concord(['admit', thirdId, '--pg-port', String(first.pgPort)])
    expect(byAdmin.code, byAdmin.out).toBe(0)
    await until(async () => (await rows(third)) === 1, 90_000, 'the row on the node the administrator admitted')

    // What it refuses up front.
    const bad = await concord(['admit', 'not-a-token'])
    expect(bad.code).toBe(2)
    expect(bad.out).toMatch(/neither a join token .* nor a libp2p peer id/)
    expect((await concord(['admit', token])).out).toMatch(/give --data-dir/)
  }, 300_000)
})
