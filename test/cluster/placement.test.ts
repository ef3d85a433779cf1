/**
 * Placement over real processes on 127.0.0.1: a table held only in us-west is read on an
 * ap-southeast node through a federated read over libp2p (answers equal the holder's),
 * writes there are forwarded to the holder and acknowledged once durable there, and with
 * the holder killed reads and writes fail (08001) instead of answering short or being
 * kept where they would replicate nowhere.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
let west: ConcordProcess
let east: ConcordProcess

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-placement-'))
  west = await ConcordProcess.start({ dataDir: join(dir, 'west'), nodeId: 'west', extraArgs: ['--region', 'us-west'] })
  east = await ConcordProcess.start({ dataDir: join(dir, 'east'), nodeId: 'east', join: [west.pgAddress], extraArgs: ['--region', 'ap-southeast'] })
  await until(() => /peer west up/.test(east.log), 30_000, 'east sees west')
}, 120_000)

afterAll(async () => {
  await Promise.all([west, east].filter((n) => n !== undefined).map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('a table held in another region, over the wire', () => {
  it('is read through the holder, written through it, and fails loudly once the holder is gone', async () => {
    await west.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await west.query("INSERT INTO t SELECT g, CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END FROM generate_series(1, 50) g")
    await west.query('CREATE TABLE u (id INT PRIMARY KEY, w TEXT)')
    await west.query("INSERT INTO u VALUES (2, 'two'), (3, 'three')")
    // Once u's rows are on east, so is the catalog that names t.
    await until(async () => (await east.query('SELECT count(*)::int AS k FROM u')).rows[0]?.['k'] === 2, 30_000, 'u on east')

    for (const sql of ['SELECT * FROM t ORDER BY id', 'SELECT v, count(*) FROM t GROUP BY v ORDER BY v', 'SELECT u.w, t.v FROM u JOIN t ON t.id = u.id ORDER BY u.id']) {
      expect((await east.query(sql)).rows).toEqual((await west.query(sql)).rows)
    }
    const forwarded = await east.query("INSERT INTO t VALUES (100, 'from east')")
    expect(forwarded.rowCount).toBe(1)
    expect((await west.query('SELECT v FROM t WHERE id = 100')).rows).toEqual([{ v: 'from east' }])
    expect(await codeOf(east.query("INSERT INTO t VALUES (101, 'x') RETURNING id"))).toBe('0A000')

    await west.kill9()
    expect(await codeOf(east.query('SELECT count(*) FROM t'))).toBe('08001')
    // 08001 once east knows west is gone (nothing sent); 08007 if the call left before it knew.
    expect(['08001', '08007']).toContain(await codeOf(east.query("INSERT INTO t VALUES (102, 'lost?')")))
    // A table held everywhere is still served.
    expect((await east.query('SELECT count(*)::int AS k FROM u')).rows).toEqual([{ k: 2 }])
  }, 120_000)
})
