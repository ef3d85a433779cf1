/**
 * Large commits apply in slices (decision 0038) on a real node: while a 60,000-row UPDATE
 * commits, another client is answered and sees none of it (pg_stat_concord_shards shows
 * the shard `committing`); a kill -9 then, between slices, leaves none of it after the
 * restart, and a commit left to end keeps all of it, on the node and on its peer.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string | undefined
const procs: ConcordProcess[] = []

async function start(options: Parameters<typeof ConcordProcess.start>[0]): Promise<ConcordProcess> {
  const p = await ConcordProcess.start(options)
  procs.push(p)
  return p
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ROWS = 60_000

async function versions(p: ConcordProcess): Promise<Array<[number, number]>> {
  return (await p.query<{ v: number; n: number }>('SELECT v, count(*)::int AS n FROM big GROUP BY v ORDER BY v')).rows.map((r) => [r.v, r.n])
}

describe('sliced commits on a real node', () => {
  it('a kill -9 between the slices of a large UPDATE keeps none of it; one left to end keeps all of it, on its peer too', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-sliced-'))
    const victimDir = join(dir, 'v')
    const victim = await start({ dataDir: victimDir, nodeId: 'slice-v', extraArgs: ['--no-p2p'] })
    await victim.query('CREATE TABLE big (id INT PRIMARY KEY, v INT, s TEXT)')
    await victim.query(`INSERT INTO big SELECT g, 0, 'row ' || g FROM generate_series(1, ${ROWS}) g`)
    expect(await versions(victim)).toEqual([[0, ROWS]])

    const writer = await victim.client()
    const reader = await victim.client()
    let answered = false
    const update = writer.query('UPDATE big SET v = v + 1').then(
      () => (answered = true),
      () => false,
    )
    // The reader is answered while the commit applies, and sees none of it.
    let seen = false
    for (let i = 0; i < 10_000 && !answered && !seen; i++) {
      const r = (await reader.query<{ c: boolean | null }>("SELECT bool_or(committing) AS c FROM pg_stat_concord_shards WHERE table_name = 'big'")).rows[0]
      if (r?.c !== true) continue
      seen = true
      expect((await reader.query<{ n: number }>('SELECT count(*)::int AS n FROM big WHERE v = 1')).rows[0]!.n).toBe(0)
    }
    expect(seen).toBe(true)
    expect(answered).toBe(false)
    await victim.kill9()
    await update
    await writer.end().catch(() => {})
    await reader.end().catch(() => {})
    expect(answered).toBe(false)

    // None of it after the restart: every row as before.
    const back = await start({ dataDir: victimDir, nodeId: 'slice-v', extraArgs: ['--no-p2p'] })
    expect(await versions(back)).toEqual([[0, ROWS]])
    expect(await back.stop()).toBe(0)

    // Left to end, with a peer: all of it, there and on the peer, and after a kill -9.
    const again = await start({ dataDir: victimDir, nodeId: 'slice-v' })
    const peer = await start({ dataDir: join(dir, 'p'), nodeId: 'slice-p', join: [again.pgAddress] })
    const count = (p: ConcordProcess): Promise<number> => p.query<{ n: number }>('SELECT count(*)::int AS n FROM big').then((x) => x.rows[0]!.n, () => -1)
    await until(async () => (await count(peer)) === ROWS, 120_000, 'the peer caught up')
    const r = await again.query('UPDATE big SET v = v + 1')
    expect(r.rowCount).toBe(ROWS)
    expect(await versions(again)).toEqual([[1, ROWS]])
    await until(async () => JSON.stringify(await versions(peer).catch(() => [])) === JSON.stringify([[1, ROWS]]), 120_000, 'the update on the peer')
    await again.kill9()
    const last = await start({ dataDir: victimDir, nodeId: 'slice-v', extraArgs: ['--no-p2p'] })
    expect(await versions(last)).toEqual([[1, ROWS]])
  }, 300_000)
})
