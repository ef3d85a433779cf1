/**
 * A real full disk: a `concord start` process whose data directory is on a small tmpfs.
 * Writes fill it; the statement that hits the wall fails with SQLSTATE 53100, later writes
 * are refused with 53100, reads keep working and the process keeps running. Once the
 * file system has room again (remounted larger), writes succeed, and after a restart
 * every row the node held is there, the one written as the disk filled included.
 *
 * Needs permission to mount a tmpfs (root with CAP_SYS_ADMIN); skipped, saying so, without.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const dir = mkdtempSync(join(tmpdir(), 'concord-full-'))
const mounted = tryMount(dir)
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (mounted) execFileSync('umount', [dir], { stdio: 'ignore' })
  rmSync(dir, { recursive: true, force: true })
})

const count = async (p: ConcordProcess) => Number((await p.query<{ c: string }>('SELECT count(*) AS c FROM big')).rows[0]!.c)

describe('a full disk on a real node', () => {
  if (!mounted) it.skip('skipped: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)', () => {})
  else it('fails writes with 53100, keeps serving reads, and loses nothing once there is room', async () => {
    const node = await ConcordProcess.start({ dataDir: join(dir, 'data'), nodeId: 'full-disk' })
    procs.push(node)
    await node.query('CREATE TABLE big (id INT PRIMARY KEY, v TEXT)')
    let hit: { code?: string; message?: string } | null = null
    let batch = 0
    // Bounded: 6 MiB fills within a few dozen batches of 600 KB.
    for (; batch < 60 && hit === null; batch++) {
      try {
        await node.query(`INSERT INTO big SELECT g + ${batch * 1000}, repeat('x', 2000) FROM generate_series(1, 300) g`)
      } catch (err) {
        hit = err as { code?: string; message?: string }
      }
    }
    expect(hit).toMatchObject({ code: '53100' })
    await expect(node.query("INSERT INTO big VALUES (-1, 'refused')")).rejects.toMatchObject({ code: '53100' })
    const held = await count(node)
    expect(held).toBe(batch * 300)
    expect(node.running).toBe(true)

    execFileSync('mount', ['-o', 'remount,size=64m', dir])
    await until(
      async () => {
        try {
          await node.query("INSERT INTO big VALUES (-2, 'after')")
          return true
        } catch {
          return false
        }
      },
      20_000,
      'writes accepted again',
      200,
    )
    expect(await node.stop()).toBe(0)
    const again = await ConcordProcess.start({ dataDir: join(dir, 'data'), nodeId: 'full-disk' })
    procs.push(again)
    expect(await count(again)).toBe(held + 1)
  }, 120_000)
})
