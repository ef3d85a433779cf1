/**
 * Generation compaction on real nodes: two `concord start` processes with a short
 * departure horizon. Updates and deletes make the shard's history outweigh its live rows,
 * so a generation is built and adopted on both, and the deleted rows' tombstones are
 * dropped once stable (seen in /metrics); a node killed and kept
 * down past the horizon shows as departed in pg_nodes; restarted, it rejoins with the
 * rows it had plus what it missed.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function metric(p: ConcordProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text)
  return m === null ? NaN : Number(m[1])
}

async function nodeStatus(p: ConcordProcess, id: string): Promise<string | undefined> {
  const rows = (await p.query<{ node_id: string; status: string }>('SELECT node_id, status FROM pg_nodes')).rows
  return rows.find((r) => r.node_id === id)?.status
}

describe('generation compaction on real nodes', () => {
  it('compacts after many updates, declares a silent node departed, and takes it back with its rows', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-gen-'))
    const flags = ['--depart-after', '4s']
    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'gen-a', httpPort: true, extraArgs: flags })
    procs.push(a)
    let b = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'gen-b', httpPort: true, join: [a.pgAddress], extraArgs: flags })
    procs.push(b)
    await a.query('CREATE TABLE hot (id INT PRIMARY KEY, n INT, note TEXT)')
    await a.query("INSERT INTO hot SELECT g, 0, 'row ' || g FROM generate_series(1, 300) g")
    await until(async () => (await b.query('SELECT count(*)::int AS c FROM hot').catch(() => ({ rows: [{ c: 0 }] }))).rows[0]?.c === 300, 20_000, 'b has the table')
    for (let u = 1; u <= 12; u++) await (u % 2 === 0 ? a : b).query('UPDATE hot SET n = $1', [u])
    await a.query('DELETE FROM hot WHERE id > 200')
    await until(async () => (await b.query('SELECT count(*)::int AS c FROM hot WHERE n = 12')).rows[0]?.c === 200, 20_000, 'b has every update')
    await until(async () => (await metric(a, 'concord_generations_total')) > 0 && (await metric(b, 'concord_generations_total')) > 0, 30_000, 'a generation on both nodes')
    // More history after the deletes: a generation built once both nodes have reported
    // holding the deletes drops their tombstones. Bounded: at most 150 rounds of updates
    // (a loaded machine needs more than an idle one).
    const dropped = async () => (await metric(a, 'concord_tombstones_dropped_total')) + (await metric(b, 'concord_tombstones_dropped_total'))
    let u = 13
    for (; u < 163 && (await dropped()) < 100; u++) {
      await (u % 2 === 0 ? a : b).query('UPDATE hot SET n = $1', [u])
      await new Promise((r) => setTimeout(r, 400))
    }
    expect(await dropped()).toBeGreaterThanOrEqual(100)
    // the same seen from SQL, on the node that builds
    const shard = (await a.query<{ generation: string; overlays: number; builder: string; live_rows: string }>("SELECT generation, overlays, builder, live_rows FROM pg_stat_concord_shards WHERE table_name = 'hot'")).rows[0]!
    expect(Number(shard.generation)).toBeGreaterThan(0)
    expect(shard.builder).toBe('gen-a')
    expect(Number(shard.live_rows)).toBe(200)
    const last = u - 1
    await a.query('UPDATE hot SET n = $1', [last])
    await until(async () => (await b.query('SELECT count(*)::int AS c FROM hot WHERE n = $1', [last])).rows[0]?.c === 200, 20_000, 'b has every update')
    const expected = (await a.query('SELECT id, n, note FROM hot ORDER BY id')).rows
    expect(expected).toHaveLength(200)
    expect((await b.query('SELECT id, n, note FROM hot ORDER BY id')).rows).toEqual(expected)

    await b.kill9()
    await a.query('UPDATE hot SET n = 99 WHERE id <= 10')
    await until(async () => (await nodeStatus(a, 'gen-b')) === 'departed', 30_000, 'b declared departed')

    b = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'gen-b', httpPort: true, join: [a.pgAddress], extraArgs: flags })
    procs.push(b)
    await until(async () => (await nodeStatus(a, 'gen-b')) === 'online', 30_000, 'b back online')
    await until(async () => (await b.query('SELECT count(*)::int AS c FROM hot WHERE n = 99')).rows[0]?.c === 10, 30_000, 'b caught up')
    const now = (await a.query('SELECT id, n, note FROM hot ORDER BY id')).rows
    expect((await b.query('SELECT id, n, note FROM hot ORDER BY id')).rows).toEqual(now)
    expect(now).toHaveLength(200)
  }, 150_000)
})
