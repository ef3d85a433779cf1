/**
 * `concord start --memory` and `--no-p2p`, the way in for test harnesses, through the
 * CLI: a memory node writes no data directory (given or default) and forgets its data at
 * exit; a node without libp2p listens on the PostgreSQL (and HTTP) port only and still
 * answers SQL.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'
import { listeningPorts } from './listening-ports.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'concord-harness-'))
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  rmSync(dir, { recursive: true, force: true })
})

async function start(options: Parameters<typeof ConcordProcess.start>[0]): Promise<ConcordProcess> {
  const p = await ConcordProcess.start(options)
  procs.push(p)
  return p
}

describe('concord start --memory', () => {
  it('creates no data directory, given or default, and its data is gone after a restart', async () => {
    const given = join(dir, 'given')
    const first = await start({ dataDir: given, extraArgs: ['--memory'] })
    await first.query('CREATE TABLE kept (id int PRIMARY KEY, v text)')
    await first.query(`INSERT INTO kept VALUES (1, 'one'), (2, 'two')`)
    expect((await first.query('SELECT count(*)::int AS n FROM kept')).rows[0]).toEqual({ n: 2 })
    expect(existsSync(given)).toBe(false)
    expect(await first.stop()).toBe(0)
    expect(existsSync(given)).toBe(false)

    const again = await start({ dataDir: given, extraArgs: ['--memory'] })
    await expect(again.query('SELECT * FROM kept')).rejects.toThrow(/kept/)
    await again.stop()

    // Without --data-dir the default is ./data under the working directory: not created either.
    const cwd = join(dir, 'cwd')
    rmSync(cwd, { recursive: true, force: true })
    await run('mkdir', ['-p', cwd])
    const defaulted = await start({ cwd, extraArgs: ['--memory'] })
    await defaulted.query('CREATE TABLE t (id int PRIMARY KEY)')
    await defaulted.stop()
    expect(readdirSync(cwd)).toEqual([])
  })
})

describe('concord start --no-p2p', () => {
  it('opens no libp2p port, reports none, and answers SQL', async () => {
    const p = await start({ dataDir: join(dir, 'solo'), httpPort: true, extraArgs: ['--memory', '--no-p2p'] })
    expect(p.p2pAddress).toBe('off')
    const health = (await (await fetch(`http://127.0.0.1:${p.httpPort}/health`)).json()) as Record<string, unknown>
    expect(health).toMatchObject({ status: 'ok', storage: 'memory', p2p: false, p2pAddresses: [], peers: [] })
    expect((await p.query('SHOW concord.p2p_addresses')).rows).toEqual([])

    const ports = listeningPorts(p.child.pid!)
    if (ports === undefined) console.warn('no /proc here: cannot list the listening ports of the node')
    else expect(ports).toEqual([p.pgPort, p.httpPort!].sort((a, b) => a - b))

    await p.query('CREATE TABLE solo (id int PRIMARY KEY, v text)')
    await p.query(`INSERT INTO solo VALUES (1, 'alone')`)
    expect((await p.query('SELECT v FROM solo WHERE id = 1')).rows).toEqual([{ v: 'alone' }])
  })

  it('a node with libp2p listens on more ports than PostgreSQL and HTTP (the check above can fail)', async () => {
    const p = await start({ dataDir: join(dir, 'with-p2p'), httpPort: true, extraArgs: ['--memory'] })
    const ports = listeningPorts(p.child.pid!)
    if (ports === undefined) return
    expect(ports.length).toBeGreaterThan(2)
    expect(p.p2pAddress).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
  })

  it('refuses --join with --no-p2p as a usage error', async () => {
    const cli = new URL('../../packages/node-server/bin/concord.js', import.meta.url).pathname
    const failed = await run(process.execPath, [cli, 'start', '--memory', '--no-p2p', '--join', '127.0.0.1:5432'], { timeout: 30_000 }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    )
    expect(failed?.code).toBe(2)
    expect(failed?.stderr).toMatch(/--join needs libp2p/)
  })
})
