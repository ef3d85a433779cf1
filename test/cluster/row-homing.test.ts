/**
 * Row homing over real processes on 127.0.0.1, three regions of two nodes each: a row
 * homed in eu-central is absent from the us-west nodes' storage yet returned by a query
 * issued in us-west (read from eu-central over libp2p), whole-table answers equal a
 * table held everywhere with the same rows, the seed's use case 4 (`WHERE region =
 * current_region()`) is answered on each node from its region's rows, and with
 * eu-central gone a whole-table read fails (08001) naming it, never short.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const nodes: Record<string, ConcordProcess> = {}
const REGIONS: Record<string, string> = { u: 'us-west', e: 'eu-central', a: 'ap-southeast' }

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

/** The partitions of `customers` a node stores, as it reports them. */
async function partitions(node: ConcordProcess): Promise<number[]> {
  const r = await node.query("SELECT partition FROM pg_stat_concord_shards WHERE table_name = 'customers' ORDER BY partition")
  return r.rows.map((x) => x['partition'] as number)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-row-homing-'))
  const start = (id: string, join_: string[]) =>
    ConcordProcess.start({ dataDir: join(dir, id), nodeId: id, join: join_, extraArgs: ['--region', REGIONS[id[0]!]!] })
  nodes['u1'] = await start('u1', [])
  // Two at a time: starting five at once on a loaded machine runs past the start timeout.
  for (const pair of [['u2', 'e1'], ['e2', 'a1'], ['a2']]) {
    const started = await Promise.all(pair.map((id) => start(id, [nodes['u1']!.pgAddress])))
    started.forEach((n, i) => (nodes[pair[i]!] = n))
  }
  await until(async () => {
    for (const n of Object.values(nodes)) if ((await n.query('SELECT count(*)::int AS k FROM pg_nodes')).rows[0]?.['k'] !== 6) return false
    return true
  }, 120_000, 'every node knows all six')
}, 600_000)

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('rows homed by region, over the wire', () => {
  it('are stored only in their home region, read whole from every region, and never answered short', async () => {
    const { u1, u2, e1, a1 } = nodes as Record<string, ConcordProcess>
    await u1!.query("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, region TEXT) WITH (home_region_column = 'region')")
    // The same rows in a table every node holds: the answer a node holding everything gives.
    await u1!.query('CREATE TABLE customers_all (id INT PRIMARY KEY, name TEXT, region TEXT)')
    await until(async () => {
      for (const n of Object.values(nodes)) if ((await n.query("SELECT count(*)::int AS k FROM pg_class WHERE relname = 'customers'")).rows[0]?.['k'] !== 1) return false
      return true
    }, 60_000, 'the table everywhere')
    for (const [p, base] of [['u', 0], ['e', 100], ['a', 200]] as const) {
      const writer = nodes[`${p}1`]!
      for (let i = 1; i <= 5; i++) {
        // Half of them name no region: homed where they are written (current_region()).
        if (i % 2 === 0) await writer.query('INSERT INTO customers (id, name) VALUES ($1, $2)', [base + i, `${p}${i}`])
        else await writer.query('INSERT INTO customers VALUES ($1, $2, $3)', [base + i, `${p}${i}`, REGIONS[p]])
        await writer.query('INSERT INTO customers_all VALUES ($1, $2, $3)', [base + i, `${p}${i}`, REGIONS[p]])
      }
    }
    await until(async () => (await u2!.query('SELECT count(*)::int AS k FROM customers_all')).rows[0]?.['k'] === 15, 60_000, 'copies everywhere')
    const euRows = (await u1!.query("SELECT * FROM customers_all WHERE region = 'eu-central' ORDER BY id")).rows
    await until(async () => (await failure(u2!.query("SELECT * FROM customers WHERE region = 'eu-central'"))) === null, 60_000, 'u2 reads eu-central')
    await until(async () => (await u2!.query("SELECT * FROM customers WHERE region = 'eu-central' ORDER BY id")).rows.length === 5, 60_000, 'eu rows durable on a holder')

    // Stored: eu-central's home shard on its nodes only.
    const eu = (await e1!.query("SELECT partition FROM pg_stat_concord_shards WHERE table_name = 'customers' AND partition > 0 AND held_here")).rows.map((r) => r['partition'])
    expect(eu).toHaveLength(1)
    for (const id of ['u1', 'u2', 'a1', 'a2']) expect(await partitions(nodes[id]!)).not.toContain(eu[0])
    expect(await partitions(nodes['e2']!)).toContain(eu[0])

    // Returned to a query issued in us-west; whole-table answers as the table held everywhere.
    expect((await u1!.query("SELECT * FROM customers WHERE region = 'eu-central' ORDER BY id")).rows).toEqual(euRows)
    for (const sql of ['SELECT * FROM % ORDER BY id', 'SELECT region, count(*) FROM % GROUP BY region ORDER BY region', 'SELECT name FROM % WHERE id > 3 ORDER BY name']) {
      const expected = (await u1!.query(sql.replace('%', 'customers_all'))).rows
      for (const n of [u1!, e1!, a1!]) expect((await n.query(sql.replace('%', 'customers'))).rows).toEqual(expected)
    }
    // The seed's use case 4, on each region.
    for (const [id, region] of [['u2', 'us-west'], ['e1', 'eu-central'], ['a1', 'ap-southeast']]) {
      const mine = (await nodes[id]!.query('SELECT * FROM customers WHERE region = current_region() ORDER BY id')).rows
      expect(mine).toEqual((await u1!.query('SELECT * FROM customers_all WHERE region = $1 ORDER BY id', [region])).rows)
    }
    // Rows of two regions in one statement: refused here, with the reason (one other region's
    // rows alone are forwarded there: home-write-forwarding.test.ts).
    expect((await failure(u1!.query("INSERT INTO customers VALUES (90, 'x', 'eu-central'), (92, 'y', 'us-west')")))?.code).toBe('0A000')
    expect((await failure(u1!.query("INSERT INTO customers VALUES (91, 'x', 'nowhere')")))?.code).toBe('22023')

    // eu-central gone: its rows cannot be read, so a whole-table read fails; us-west's own still answer.
    await Promise.all([nodes['e1']!.kill9(), nodes['e2']!.kill9()])
    await until(async () => (await failure(u1!.query('SELECT count(*) FROM customers'))) !== null, 60_000, 'u1 sees eu-central gone')
    const f = await failure(u1!.query('SELECT count(*) FROM customers'))
    expect(f?.code).toBe('08001')
    expect(f?.message).toContain('homed in region eu-central')
    expect((await u1!.query('SELECT count(*)::int AS k FROM customers WHERE region = current_region()')).rows).toEqual([{ k: 5 }])
  }, 400_000)
})
