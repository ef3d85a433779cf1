/**
 * Backups to s3:// against a real S3-compatible server (s3rver, started here on
 * 127.0.0.1): a `concord start` node holding 45,000 rows takes a full backup while
 * 5,000 more are written, and an incremental one after more writes; the node is
 * destroyed; `concord restore` writes the chain into a new data directory, a node started
 * on it has every acknowledged row (checked row by row), and the first backup alone
 * (--as-of) has every row acknowledged before it began; a corrupted object in the bucket
 * fails the restore with the object's name.
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
/** The S3 server's port, picked by the system when it starts (a fixed one in the ephemeral range could be any socket's). */
let port = 0
/** Rows acknowledged before the first backup starts; up to DURING written while it runs; up to TOTAL before the second. */
const ACKED = 45_000
const DURING = 50_000
const TOTAL = 50_100
const S3_ENV = {
  get AWS_ENDPOINT_URL_S3() {
    return `http://127.0.0.1:${port}`
  },
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
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'backups', configs: [] }] })
    ;({ port } = (await server.run()) as { port: number })
    const url = 's3://backups/prod'
    const src = await ConcordProcess.start({ dataDir: join(dir, 'src'), nodeId: 's3-src', extraArgs: ['--no-p2p'], env: S3_ENV })
    procs.push(src)
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
    await src.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(0, ${ACKED - 1}) g`)
    // Writes acknowledged while the backup runs (on another connection) are in it or in the next one, never half.
    const c = await src.client()
    const during = (async () => {
      for (let k = ACKED; k < DURING; k += 250) {
        const values = Array.from({ length: 250 }, (_, i) => `(${k + i}, 'row ${k + i}')`).join(', ')
        await c.query(`INSERT INTO items VALUES ${values}`)
      }
    })()
    await src.query(`BACKUP DATABASE TO '${url}'`)
    await during
    await c.end()
    await src.query(`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(${DURING}, ${TOTAL - 1}) g`)
    await src.query(`BACKUP DATABASE TO '${url}'`)
    const hist = await src.query<{ id: string; kind: string; status: string; bytes: string }>('SELECT id, kind, status, bytes FROM concord_backups ORDER BY started, id')
    expect(hist.rows.map((r) => [r.kind, r.status])).toEqual([['full', 'succeeded'], ['incremental', 'succeeded']])
    expect(Number(hist.rows[1]!.bytes)).toBeLessThan(Number(hist.rows[0]!.bytes))
    await src.stop()

    expect(await concord(['restore', '--from', url, '--data-dir', join(dir, 'dst')])).toMatch(/\(2 in its chain/)
    const dst = await ConcordProcess.start({ dataDir: join(dir, 'dst'), nodeId: 's3-dst', extraArgs: ['--no-p2p'] })
    procs.push(dst)
    const rows = new Map((await dst.query<{ id: number; name: string }>('SELECT id, name FROM items')).rows.map((r) => [r.id, r.name]))
    expect(rows.size).toBe(TOTAL)
    for (let k = 0; k < TOTAL; k++) expect(rows.get(k), `row ${k}`).toBe(`row ${k}`)

    // The first backup alone: every row acknowledged before it began, and of the writes during it only whole statements.
    await concord(['restore', '--from', url, '--data-dir', join(dir, 'first'), '--as-of', hist.rows[0]!.id])
    const first = await ConcordProcess.start({ dataDir: join(dir, 'first'), nodeId: 's3-first', extraArgs: ['--no-p2p'] })
    procs.push(first)
    const firstRows = new Map((await first.query<{ id: number; name: string }>('SELECT id, name FROM items')).rows.map((r) => [r.id, r.name]))
    for (let k = 0; k < ACKED; k++) expect(firstRows.get(k), `row ${k}`).toBe(`row ${k}`)
    for (const [k, name] of firstRows) expect(name, `row ${k}`).toBe(`row ${k}`)
    expect(firstRows.size % 250, 'whole statements of the writes during the backup').toBe(0)
    expect(firstRows.size).toBeLessThanOrEqual(DURING)
    await first.stop()

    // Corrupt the largest stored object in the bucket (s3rver keeps objects as files).
    const objects = filesUnder(join(dir, 's3')).filter((f) => f.includes('.ydoc') && f.endsWith('._S3rver_object'))
    expect(objects.length).toBeGreaterThan(0)
    const biggest = objects.sort((a, b) => statSync(b).size - statSync(a).size)[0]!
    writeFileSync(biggest, 'not what was stored')
    const name = /(backups\/[^/]+\/shard-[^/]+\.ydoc)/.exec(biggest)![1]!
    await expect(concord(['restore', '--from', url, '--data-dir', join(dir, 'dst2')])).rejects.toMatchObject({ stderr: expect.stringContaining(`${url}/${name}`) })
    // Checked before anything was written: no data directory was created.
    expect(existsSync(join(dir, 'dst2'))).toBe(false)
  }, 600_000)
})
