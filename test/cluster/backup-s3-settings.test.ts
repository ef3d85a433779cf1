/**
 * S3 settings and schedules on a real node against a real S3-compatible server (s3rver
 * on 127.0.0.1): a `concord start` node with no S3 environment at all is given endpoint,
 * region, credentials and path style by ALTER SYSTEM, and a short backup_schedule plus
 * backup_target; its scheduled backups land in the bucket (concord_backups, /metrics),
 * SHOW never prints the secret, and `concord restore` brings the rows back. No
 * wall-clock assertion: the test waits (bounded) for the scheduled runs to appear.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import S3rver from 's3rver'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

const CLI = fileURLToPath(new URL('../../packages/node-server/src/cli.ts', import.meta.url))
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)
/** The S3 server's port, picked by the system when it starts (a fixed one in the ephemeral range could be any socket's). */
let port = 0
/** The node gets none of these: its S3 configuration comes from settings only. */
const S3_VARIABLES = new Set([
  'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'CONCORD_S3_FORCE_PATH_STYLE', 'AWS_PROFILE',
])

let dir = ''
let server: S3rver | undefined
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('S3 settings and scheduled backups (s3rver)', () => {
  it('backs up on a schedule to S3 configured by ALTER SYSTEM alone, and restores', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-backup-s3-settings-'))
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'sched', configs: [] }] })
    ;({ port } = (await server.run()) as { port: number })
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !S3_VARIABLES.has(k)) env[k] = v
    const src = await ConcordProcess.start({ dataDir: join(dir, 'src'), nodeId: 'sched-src', extraArgs: ['--no-p2p'], httpPort: true, env })
    procs.push(src)
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
    await src.query("INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 3000) g")
    for (const [name, value] of [
      ['backup_s3_endpoint', `http://127.0.0.1:${port}`],
      ['backup_s3_region', 'us-east-1'],
      ['backup_s3_access_key_id', 'S3RVER'],
      ['backup_s3_secret_access_key', 'S3RVER'],
      ['backup_s3_force_path_style', 'on'],
      ['backup_target', 's3://sched/prod'],
      ['backup_schedule', '2s'],
    ]) await src.query(`ALTER SYSTEM SET ${name} = '${value}'`)
    expect((await src.query('SHOW backup_s3_secret_access_key')).rows).toEqual([{ backup_s3_secret_access_key: '********' }])

    // Bounded wait for two scheduled runs (each a real S3 round trip).
    let ok: Array<{ kind: string }> = []
    for (let i = 0; i < 600 && ok.length < 2; i++) {
      ok = (await src.query<{ kind: string }>("SELECT kind FROM concord_backups WHERE trigger = 'schedule' AND status = 'succeeded' ORDER BY started, id")).rows
      if (ok.length < 2) await new Promise((r) => setTimeout(r, 100))
    }
    expect(ok.slice(0, 2).map((r) => r.kind)).toEqual(['full', 'incremental'])
    const failed = await src.query("SELECT count(*)::int AS n FROM concord_backups WHERE status = 'failed'")
    expect(failed.rows[0]).toEqual({ n: 0 })
    const metrics = await (await fetch(`http://127.0.0.1:${src.httpPort}/metrics`)).text()
    expect(metrics).toMatch(/^concord_backup_last_success_age_seconds \d/m)
    await src.query('ALTER SYSTEM RESET backup_schedule')
    await src.stop()

    const s3Env = { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', CONCORD_S3_FORCE_PATH_STYLE: '1' }
    const { stdout } = await run(process.execPath, ['--no-warnings', '--import', TSX, CLI, 'restore', '--from', 's3://sched/prod', '--data-dir', join(dir, 'dst')], {
      env: { ...env, ...s3Env },
      timeout: 120_000,
    })
    expect(stdout).toMatch(/restored backup/)
    const dst = await ConcordProcess.start({ dataDir: join(dir, 'dst'), nodeId: 'sched-dst', extraArgs: ['--no-p2p'] })
    procs.push(dst)
    const rows = (await dst.query<{ id: number; name: string }>('SELECT id, name FROM items ORDER BY id')).rows
    expect(rows).toHaveLength(3000)
    rows.forEach((r, i) => expect(r).toEqual({ id: i + 1, name: `row ${i + 1}` }))
  })
})
