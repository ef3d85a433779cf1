/**
 * A brand-new node joining a region that already holds a table, over real processes on
 * 127.0.0.1: from the moment it knows the table until it has caught up, every count it
 * answers is the whole table's (read from the holder meanwhile; 08001 while its link to
 * the holder is not up yet), never the rows it has received so far; once caught up it
 * answers alone, with the holder killed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

const ROWS = 20_000
let dir: string
const nodes: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('a brand-new node joining a region that holds a table', () => {
  it('never answers from its partial copy, then answers alone once caught up', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-join-catch-up-'))
    const w1 = await ConcordProcess.start({ dataDir: join(dir, 'w1'), nodeId: 'w1', extraArgs: ['--region', 'us-west'] })
    nodes.push(w1)
    await w1.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await w1.query(`INSERT INTO t SELECT g, repeat('v', 200) || g FROM generate_series(1, ${ROWS}) g`)
    const w2 = await ConcordProcess.start({ dataDir: join(dir, 'w2'), nodeId: 'w2', join: [w1.pgAddress], extraArgs: ['--region', 'us-west'] })
    nodes.push(w2)

    const counts: number[] = []
    let sawCatchingUp = false
    let refused = 0
    const started = Date.now()
    for (let i = 0; i < 2_000 && Date.now() - started < 90_000; i++) {
      let k: number
      try {
        k = Number((await w2.query('SELECT count(*)::int AS k FROM t')).rows[0]?.['k'])
      } catch (e) {
        const code = (e as { code?: string }).code
        // Not known here yet (42P01), or known before the link to the holder is up (08001: no
        // holder reachable), or no connection within the client's timeout while the node is
        // busy taking in the table (no SQLSTATE): asked again. A wrong count is never excused.
        if (code === '42P01' || code === '08001' || code === undefined) {
          if (code === '08001') refused++
          continue
        }
        throw e
      }
      counts.push(k)
      const state = (await w2.query("SELECT bool_and(caught_up) AS c, count(*)::int AS n FROM pg_stat_concord_shards WHERE table_name = 't'")).rows[0]
      if (state?.['c'] !== true || state['n'] === 0) sawCatchingUp = true
      else break
    }
    expect(counts.length).toBeGreaterThan(0)
    expect(counts.filter((k) => k !== ROWS)).toEqual([])
    await until(async () => (await w2.query("SELECT bool_and(caught_up) AS c FROM pg_stat_concord_shards WHERE table_name = 't'")).rows[0]?.['c'] === true, 60_000, 'w2 caught up')
    // The holder lost nothing to the join either (a joiner that built a generation before
    // it knew the table's catalog record made the writer drop rows it had acknowledged).
    expect((await w1.query('SELECT count(*)::int AS k FROM t')).rows).toEqual([{ k: ROWS }])
    await w1.kill9()
    expect((await w2.query('SELECT count(*)::int AS k FROM t')).rows).toEqual([{ k: ROWS }])
    // Whether the window was seen depends on timing; the counts above hold either way.
    console.log(`join catch-up over the wire: ${counts.length} counts while joining, ${refused} refused (08001), catching up seen: ${sawCatchingUp}`)
  }, 180_000)
})
