/**
 * Idle shards keep their rows, not their CRDT document (core rows/shard-hibernation.ts,
 * decision 37), on real nodes: `concord start --hibernate-after 1s` puts a table's shard
 * away once nobody writes it; reads answer from the rows, a write on either node wakes it
 * and replicates, and a node killed with -9 while its shard sleeps restarts with the rows.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string | undefined
const procs: ConcordProcess[] = []

async function start(options: Parameters<typeof ConcordProcess.start>[0]): Promise<ConcordProcess> {
  const p = await ConcordProcess.start({ ...options, extraArgs: ['--hibernate-after', '1s'] })
  procs.push(p)
  return p
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ROWS = 3000

async function hibernated(p: ConcordProcess): Promise<boolean> {
  const r = await p.query<{ h: boolean | null }>("SELECT bool_and(hibernated) AS h FROM pg_stat_concord_shards WHERE table_name = 'items'")
  return r.rows[0]?.h === true
}

async function summary(p: ConcordProcess): Promise<{ c: number; s: string }> {
  return (await p.query<{ c: number; s: string }>('SELECT count(*)::int AS c, sum(n)::text AS s FROM items')).rows[0]!
}

describe('hibernation on real nodes', () => {
  it('an idle shard is put away on both nodes; reads, writes on either side and a kill -9 keep every row', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-hibernate-'))
    const a = await start({ dataDir: join(dir, 'a'), nodeId: 'hib-a' })
    const b = await start({ dataDir: join(dir, 'b'), nodeId: 'hib-b', join: [a.pgAddress] })
    await until(() => /peer hib-b up/.test(a.log) && /peer hib-a up/.test(b.log), 20_000, 'peers up')
    await a.query('CREATE TABLE items (id INT PRIMARY KEY, label TEXT, n INT)')
    await a.query(`INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, ${ROWS}) g`)
    const expected = { c: ROWS, s: String((ROWS * (ROWS + 1)) / 2) }
    await until(async () => (await summary(b)).c === ROWS, 30_000, 'the rows on b')

    await until(() => hibernated(a), 30_000, 'the shard put away on a')
    await until(() => hibernated(b), 30_000, 'the shard put away on b')
    expect(a.log).toMatch(/put away the documents of 1 idle shards \(\d+ entries\); their rows stay/)
    expect(await summary(a)).toEqual(expected)
    expect((await b.query('SELECT label FROM items WHERE id = 42')).rows).toEqual([{ label: 'item 42' }])
    expect(await hibernated(a)).toBe(true)

    // A write on b wakes b's shard, and a's when it arrives.
    await b.query("UPDATE items SET label = 'from b', n = n + 1 WHERE id <= 10")
    await until(async () => (await a.query<{ c: number }>("SELECT count(*)::int AS c FROM items WHERE label = 'from b'")).rows[0]!.c === 10, 30_000, "b's update on a")
    // Asleep again, then written on a.
    await until(() => hibernated(a), 30_000, 'the shard put away on a again')
    await a.query("INSERT INTO items VALUES (100000, 'from a', 0)")
    await until(async () => (await b.query('SELECT 1 FROM items WHERE id = 100000')).rowCount === 1, 30_000, "a's insert on b")
    const after = { c: ROWS + 1, s: String((ROWS * (ROWS + 1)) / 2 + 10) }
    expect(await summary(a)).toEqual(after)
    expect(await summary(b)).toEqual(after)

    // Killed while asleep: the rows come back from its data directory.
    await until(() => hibernated(a), 30_000, 'the shard put away on a before the kill')
    await a.kill9()
    const again = await start({ dataDir: join(dir, 'a'), nodeId: 'hib-a', join: [b.pgAddress] })
    expect(await summary(again)).toEqual(after)
    expect((await again.query("SELECT id FROM items WHERE label = 'from a'")).rows).toEqual([{ id: 100000 }])
  }, 180_000)
})
