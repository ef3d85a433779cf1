/**
 * `concord backup --to URL` against a running `concord start` node (over the PostgreSQL
 * wire), then `concord restore --from URL --data-dir DIR` offline, and a node started on
 * the restored directory serves every row (or, with --as-of, the rows of a named backup); the node logs the backup's progress and
 * /metrics shows the age of its last good backup.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

const CLI = fileURLToPath(new URL('../../packages/node-server/src/cli.ts', import.meta.url))
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)

async function concord(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, ['--no-warnings=ExperimentalWarning', '--import', TSX, CLI, ...args], { env: { ...process.env, ...env }, timeout: 120_000 })
  return stdout
}

let dir = ''
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('concord backup and concord restore', () => {
  it('round-trips a running node through a backup into a new data directory', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-backup-cli-'))
    const url = pathToFileURL(join(dir, 'store')).href
    const src = await ConcordProcess.start({ dataDir: join(dir, 'src'), nodeId: 'backup-src', extraArgs: ['--no-p2p'], httpPort: true })
    procs.push(src)
    await src.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await src.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 2000) g")
    const full = await concord(['backup', '--to', url, '--pg-port', String(src.pgPort)])
    expect(full).toMatch(/backup \S+ \(full, \d+ bytes\)/)
    const fullId = /backup (\S+) \(full/.exec(full)![1]!
    await src.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(2001, 2100) g")
    const inc = await concord(['backup', '--to', url, '--pg-port', String(src.pgPort)])
    expect(inc).toMatch(/backup \S+ \(incremental, \d+ bytes\)/)
    expect(src.log).toMatch(/backup \S+ done: incremental/)
    const metrics = await (await fetch(`http://127.0.0.1:${src.httpPort}/metrics`)).text()
    expect(metrics).toMatch(/^concord_backup_last_success_age_seconds \d/m)
    await src.stop()

    const restored = await concord(['restore', '--from', url, '--data-dir', join(dir, 'dst')])
    expect(restored).toMatch(/restored backup \S+ \(2 in its chain/)
    const dst = await ConcordProcess.start({ dataDir: join(dir, 'dst'), nodeId: 'backup-dst', extraArgs: ['--no-p2p'] })
    procs.push(dst)
    const r = await dst.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id')
    expect(r.rows.length).toBe(2100)
    r.rows.forEach((row, i) => expect(row).toEqual({ id: i + 1, v: `v${i + 1}` }))

    // Point in time: the chain up to the full backup only.
    const asOf = await concord(['restore', '--from', url, '--data-dir', join(dir, 'first'), '--as-of', fullId])
    expect(asOf).toMatch(new RegExp(`restored backup ${fullId} \\(1 in its chain`))
    const first = await ConcordProcess.start({ dataDir: join(dir, 'first'), nodeId: 'backup-first', extraArgs: ['--no-p2p'] })
    procs.push(first)
    expect((await first.query<{ n: number }>('SELECT count(*)::int AS n, max(id) AS m FROM t')).rows).toEqual([{ n: 2000, m: 2000 }])

    // The directory of a running node is refused (data-dir-lock.ts); once it stopped, a directory holding data still is.
    await expect(concord(['restore', '--from', url, '--data-dir', join(dir, 'dst')])).rejects.toMatchObject({ stderr: expect.stringMatching(/is in use by another process/) })
    await dst.stop()
    await expect(concord(['restore', '--from', url, '--data-dir', join(dir, 'dst')])).rejects.toMatchObject({ stderr: expect.stringMatching(/holds data/) })
  })
})
