/**
 * One node per data directory (packages/node-server/src/node/data-dir-lock.ts): a second
 * `concord start` on a directory a running node holds is refused before it touches it.
 * Before the lock, the second node started (on the next free port) and the first then
 * found its own storage "damaged" and refused every write. A node killed with -9 leaves a
 * stale lock that the next start takes over.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

let dir: string | undefined
const procs: ConcordProcess[] = []

async function start(dataDir: string, nodeId: string): Promise<ConcordProcess> {
  const p = await ConcordProcess.start({ dataDir, nodeId })
  procs.push(p)
  return p
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('data directory lock', () => {
  it('refuses a second node on a directory in use; the first keeps its data and takes writes; a stop or a kill -9 frees it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-dirlock-'))
    const dataDir = join(dir, 'data')
    const a = await start(dataDir, 'lock-a')
    await a.query('CREATE TABLE t (id int PRIMARY KEY, v text)')
    await a.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 200) g")

    const second = await ConcordProcess.start({ dataDir, nodeId: 'lock-a' }).then(
      (p) => {
        procs.push(p)
        return null
      },
      (e: unknown) => String(e),
    )
    expect(second).toMatch(/exited with 1 before it was ready/)
    expect(second).toMatch(new RegExp(`data directory ${dataDir} is in use by another process \\(pid ${a.child.pid}\\)`))

    // The first node's storage is intact: it takes writes and serves them.
    await a.query("INSERT INTO t VALUES (201, 'after the refused start')")
    await a.query("UPDATE t SET v = 'changed' WHERE id <= 10")
    expect((await a.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 201 }])
    await a.stop()

    const b = await start(dataDir, 'lock-a')
    expect((await b.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE v = $1)::int AS changed FROM t', ['changed'])).rows).toEqual([{ n: 201, changed: 10 }])
    await b.query("INSERT INTO t VALUES (202, 'before the crash')")
    await b.kill9()

    // The lock file names a process that is gone: taken over.
    const c = await start(dataDir, 'lock-a')
    expect((await c.query('SELECT v FROM t WHERE id = 202')).rows).toEqual([{ v: 'before the crash' }])
  })
})
