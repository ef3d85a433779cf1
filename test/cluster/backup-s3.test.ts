/**
 * Backups to s3:// against a real S3-compatible server (s3rver, started here on
 * 127.0.0.1): a `concord start` node takes a full backup while writes run and an
 * incremental one after more writes; `concord restore` writes the chain into a new data
 * directory, a node started on it has every acknowledged row (checked row by row); a
 * corrupted object in the bucket fails the restore with the object's name.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
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
const PORT = 58032
const S3_ENV = {
  AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${PORT}`,
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  CONCORD_S3_FORCE_PATH_STYLE: '1',
}

async function concord(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--no-warnings', '--import', TSX, CLI, ...args], { env: { ...process.env, ...S3_ENV }, timeout: 120_000 })
  return stdout
}

let dir = ''
let server: S3rver | undefined
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function filesUnder(d: string): string[] {
  return (readdirSync(d, { recursive: true }) as string[]).map((f) => join(d, f)).filter((f) => statSync(f).isFile())
}

describe('backups to S3 (s3rver)', () => {
  it('backs up a running node online and incrementally, restores the chain row by row, and detects a corrupted object', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-backup-s3-'))
    server = new S3rver({ address: '127.0.0.1', port: PORT, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'backups', configs: [] }] })
    await server.run()
    const url = 's3://backups/prod'
    const src = await ConcordProcess.start({ dataDir: join(dir, 'src'), nodeId: 's3-src', extraArgs: ['--no-p2p'], env: S3_ENV })
    procs.push(src)
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
    await src.query("INSERT INTO items SELECT g, 'row ' || g FROM generate_series(0, 4999) g")
    // Writes acknowledged while the backup runs are in it or in the next one.
    const writer = src.client()
    const c = await writer
    const during = (async () => {
      for (let k = 5000; k < 5200; k++) await c.query('INSERT INTO items VALUES ($1, $2)', [k, `row ${k}`])
    })()
    await src.query(`BACKUP DATABASE TO '${url}'`)
    await during
    await c.end()
    await src.query("INSERT INTO items SELECT g, 'row ' || g FROM generate_series(5200, 5299) g")
    await src.query(`BACKUP DATABASE TO '${url}'`)
    const hist = await src.query<{ kind: string; status: string; bytes: string }>('SELECT kind, status, bytes FROM concord_backups ORDER BY started, id')
    expect(hist.rows.map((r) => [r.kind, r.status])).toEqual([['full', 'succeeded'], ['incremental', 'succeeded']])
    expect(Number(hist.rows[1]!.bytes)).toBeLessThan(Number(hist.rows[0]!.bytes))
    await src.stop()

    expect(await concord(['restore', '--from', url, '--data-dir', join(dir, 'dst')])).toMatch(/\(2 in its chain/)
    const dst = await ConcordProcess.start({ dataDir: join(dir, 'dst'), nodeId: 's3-dst', extraArgs: ['--no-p2p'] })
    procs.push(dst)
    const rows = new Map((await dst.query<{ id: number; name: string }>('SELECT id, name FROM items')).rows.map((r) => [r.id, r.name]))
    expect(rows.size).toBe(5300)
    for (let k = 0; k < 5300; k++) expect(rows.get(k), `row ${k}`).toBe(`row ${k}`)

    // Corrupt the largest stored object in the bucket (s3rver keeps objects as files).
    const objects = filesUnder(join(dir, 's3')).filter((f) => f.includes('.ydoc') && f.endsWith('._S3rver_object'))
    expect(objects.length).toBeGreaterThan(0)
    const biggest = objects.sort((a, b) => statSync(b).size - statSync(a).size)[0]!
    writeFileSync(biggest, 'not what was stored')
    const name = /(backups\/[^/]+\/shard-[^/]+\.ydoc)/.exec(biggest)![1]!
    await expect(concord(['restore', '--from', url, '--data-dir', join(dir, 'dst2')])).rejects.toMatchObject({ stderr: expect.stringContaining(`${url}/${name}`) })
    // Checked before anything was written: no data directory was created.
    expect(existsSync(join(dir, 'dst2'))).toBe(false)
  })
})
