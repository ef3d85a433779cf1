/**
 * Writes of rows homed in another region (home_region_column) are forwarded to a node of
 * that region, which runs the same statement and answers once it is durable there; the
 * row is never stored on the writing node. An UPDATE or DELETE not pinned to one region is
 * located first and runs where its rows are. What cannot be forwarded whole (rows of several
 * regions, a transaction block) is refused with 0A000
 * and leaves nothing behind; no node of the region reachable is 08001 naming it; a holder
 * gone silent after the write was sent is 08007, never a second try. Two regions of two
 * nodes each, in the simulator.
 */
import { homePartition, parseShardId } from '@concord/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string; hint?: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message, hint: (e as { hint?: string }).hint }
  }
}

/** Whether a node stores rows homed in `region` of customers, on disk or in memory. */
async function storesHome(db: Database, region: string): Promise<boolean> {
  const ids = [...(await db.replica.storage.shards()), ...db.replica.shards.keys()]
  return ids.some((id) => {
    const p = parseShardId(id)
    return p !== null && p.table === 'customers' && p.partition === homePartition(region)
  })
}

const CREATE = "CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, region TEXT, spend INT) WITH (home_region_column = 'region')"

describe('a write of rows homed in another region', () => {
  let cluster: SimCluster
  const q = (id: string, sql: string) => cluster.run(cluster.node(id).query(sql))
  /** The rows homed in eu-central as its nodes hold them (no network: pinned to their own region). */
  const euRows = async (id: string) => (await q(id, "SELECT id, name, spend FROM customers WHERE region = current_region() ORDER BY id")).rows

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1691,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'u2', region: 'us-west' },
        { id: 'e1', region: 'eu-central' },
        { id: 'e2', region: 'eu-central' },
      ],
    })
    await cluster.node('u1').query(CREATE)
    await cluster.settle()
    await q('u1', "INSERT INTO customers VALUES (1, 'u', 'us-west', 10)")
    await q('e1', "INSERT INTO customers VALUES (101, 'e', 'eu-central', 20)")
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('is forwarded to a node of its home region: durable there when acknowledged, never stored here', async () => {
    const r = await q('u1', "INSERT INTO customers VALUES (102, 'from-u1', 'eu-central', 30), (103, 'from-u1', 'eu-central', 31)")
    expect([r.command, r.rowCount]).toEqual(['INSERT', 2])
    // Durable on the node that ran it when acknowledged: there before any settling.
    const there = await Promise.all(['e1', 'e2'].map(async (id) => (await euRows(id)).filter((row) => row['name'] === 'from-u1').length))
    expect(there).toContain(2)
    await cluster.settle()
    for (const id of ['e1', 'e2']) expect((await euRows(id)).map((row) => row['id'])).toEqual([101, 102, 103])
    // Not stored in us-west, in memory or on disk; read back from there by federation.
    for (const id of ['u1', 'u2']) expect(await storesHome(cluster.node(id), 'eu-central')).toBe(false)
    expect((await q('u2', 'SELECT id FROM customers WHERE id > 100 ORDER BY id')).rows).toEqual([{ id: 101 }, { id: 102 }, { id: 103 }])
  })

  it('forwards an UPDATE or DELETE pinned to the home region, and brings the holder’s errors back with their SQLSTATE', async () => {
    const u = await q('u2', "UPDATE customers SET spend = spend + 1 WHERE region = 'eu-central' AND id >= 102")
    expect([u.command, u.rowCount]).toEqual(['UPDATE', 2])
    const d = await q('u2', "DELETE FROM customers c WHERE c.region IN ('eu-central') AND c.id = 103")
    expect([d.command, d.rowCount]).toEqual(['DELETE', 1])
    await cluster.settle()
    expect(await euRows('e2')).toEqual([
      { id: 101, name: 'e', spend: 20 },
      { id: 102, name: 'from-u1', spend: 31 },
    ])
    // Run there, failed there: its code comes back, nothing changed.
    const f = await failure(q('u1', "UPDATE customers SET spend = spend / 0 WHERE region = 'eu-central'"))
    expect(f?.code).toBe(SqlState.divisionByZero)
    expect(f?.message).toMatch(/on node e[12], the write forwarded there/)
    // A duplicate key there is 23505 (checked here first: every region's keys are read).
    expect((await failure(q('u1', "INSERT INTO customers VALUES (102, 'dup', 'eu-central', 0)")))?.code).toBe(SqlState.uniqueViolation)
    await cluster.settle()
    expect((await euRows('e1')).map((row) => row['spend'])).toEqual([20, 31])
  })

  it('refuses what cannot go to one region whole (0A000), leaving nothing behind', async () => {
    // Rows of two regions in one statement.
    const two = await failure(q('u1', "INSERT INTO customers VALUES (2, 'x', 'us-west', 0), (104, 'x', 'eu-central', 0)"))
    expect(two?.code).toBe(SqlState.featureNotSupported)
    expect(two?.hint).toMatch(/one statement per region/)
    // An UPDATE that reaches rows of two regions without naming them: located, refused, naming both.
    const unpinned = await failure(q('u1', 'UPDATE customers SET spend = 0 WHERE id IN (1, 101)'))
    expect(unpinned?.code).toBe(SqlState.featureNotSupported)
    expect(unpinned?.message).toMatch(/homed in regions eu-central, us-west in one statement/)
    // current_region() would name the other region there.
    const cr = await failure(q('u1', "UPDATE customers SET name = current_region() WHERE region = 'eu-central'"))
    expect(cr?.code).toBe(SqlState.featureNotSupported)
    expect(cr?.message).toMatch(/current_region\(\)/)
    // Unless the session prints dates in another style than the holder's (RETURNING comes back as its text).
    const style = cluster.node('u1').session()
    await cluster.run(style.query("SET DateStyle = 'SQL, MDY'"))
    expect((await failure(cluster.run(style.query("INSERT INTO customers VALUES (105, 'x', 'eu-central', 0) RETURNING id"))))?.code).toBe(SqlState.featureNotSupported)
    await cluster.run(style.query("SET DateStyle = 'ISO, MDY'"))
    await cluster.run(style.query("SET IntervalStyle = 'iso_8601'"))
    expect((await failure(cluster.run(style.query("INSERT INTO customers VALUES (105, 'x', 'eu-central', 0) RETURNING id"))))?.code).toBe(SqlState.featureNotSupported)
    await style.close()
    // Inside a transaction block: the block fails at COMMIT, its own region's row with it.
    const s = cluster.node('u1').session()
    await cluster.run(s.query('BEGIN'))
    await cluster.run(s.query("INSERT INTO customers VALUES (3, 'block', 'us-west', 0)"))
    await cluster.run(s.query("INSERT INTO customers VALUES (106, 'block', 'eu-central', 0)"))
    const commit = await failure(cluster.run(s.query('COMMIT')))
    expect(commit?.code).toBe(SqlState.featureNotSupported)
    expect(commit?.hint).toMatch(/outside a transaction block/)
    await s.close()
    await cluster.settle()
    expect((await q('e1', "SELECT id FROM customers WHERE region IN ('us-west', 'eu-central') ORDER BY id")).rows).toEqual([{ id: 1 }, { id: 101 }, { id: 102 }])
    // Pinned to this node's own region, or to a region no node is in: runs here as any write.
    expect((await q('u1', "UPDATE customers SET spend = 11 WHERE region = 'us-west'")).rowCount).toBe(1)
    expect((await q('u1', "DELETE FROM customers WHERE region = 'mars'")).rowCount).toBe(0)
  })

  it('fails with 08001 naming the region when none of its nodes is reachable, and 08007 when the holder goes silent after the write was sent', async () => {
    cluster.partition(['u1', 'u2'], ['e1', 'e2'])
    await cluster.advance(20_000)
    const cut = await failure(q('u1', "UPDATE customers SET spend = 0 WHERE region = 'eu-central'"))
    expect(cut?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    expect(cut?.message).toMatch(/no node of region eu-central/)
    // An INSERT's key check reads every region first: the same class-08 refusal, before anything is written.
    expect((await failure(q('u1', "INSERT INTO customers VALUES (107, 'cut', 'eu-central', 0)")))?.code).toMatch(/^08/)
    cluster.heal()
    await cluster.settle()

    cluster.sim.setFaults({ drop: 1 })
    const lost = await failure(cluster.run(cluster.node('u1').query("DELETE FROM customers WHERE region = 'eu-central' AND id = 101"), 120_000))
    cluster.sim.setFaults({ drop: 0 })
    expect(lost?.code).toBe(SqlState.transactionResolutionUnknown)
    await cluster.settle()
    expect((await euRows('e1')).map((row) => row['id'])).toEqual([101, 102])
    for (const id of ['u1', 'u2']) expect(await storesHome(cluster.node(id), 'eu-central')).toBe(false)
  })
})

describe('an UPDATE or DELETE of a homed table not pinned to one region', () => {
  let cluster: SimCluster
  const q = (id: string, sql: string, params?: unknown[]) => cluster.run(cluster.node(id).query(sql, params))
  const euRows = async (id: string) => (await q(id, 'SELECT id, name, spend FROM customers WHERE region = current_region() ORDER BY id')).rows
  /** Reads of customers a node made in the last 2 s and kept (placement/result-cache.ts), but those of its own region's rows. */
  const kept = async (id: string) =>
    (await q(id, "SELECT query FROM query_result_cache WHERE relation = 'customers' AND age < interval '2 seconds' AND query NOT LIKE '%rows homed in eu-central'")).rows

  beforeAll(async () => {
    cluster = await SimCluster.create({
      seed: 1692,
      nodes: [
        { id: 'u1', region: 'us-west' },
        { id: 'e1', region: 'eu-central' },
        { id: 'e2', region: 'eu-central' },
      ],
    })
    await cluster.node('u1').query(CREATE)
    await cluster.settle()
    await q('u1', "INSERT INTO customers VALUES (1, 'u', 'us-west', 10), (2, 'u', 'us-west', 11)")
    await q('e1', "INSERT INTO customers VALUES (101, 'e', 'eu-central', 20), (102, 'e', 'eu-central', 21)")
    await cluster.settle()
  })
  afterAll(async () => {
    await cluster.close()
  })

  it('runs on the one region holding every row it matches, pinned there: the holder reads only its own rows', async () => {
    await cluster.advance(5_000)
    const u = await q('u1', 'UPDATE customers SET spend = spend + 100 WHERE id = $1', ['101'])
    expect([u.command, u.rowCount]).toEqual(['UPDATE', 1])
    // Durable there when acknowledged.
    expect((await Promise.all(['e1', 'e2'].map(async (id) => (await euRows(id)).find((r) => r['id'] === 101)?.['spend'])))).toContain(120)
    // The holder read nothing of other regions (no federated read of customers kept there).
    for (const id of ['e1', 'e2']) expect(await kept(id)).toEqual([])
    const d = await q('u1', "DELETE FROM customers WHERE name = 'e' AND spend < 100 RETURNING id, region")
    expect([d.commandTag, d.rows]).toEqual(['DELETE 1', [{ id: 102, region: 'eu-central' }]])
    await cluster.settle()
    expect(await euRows('e2')).toEqual([{ id: 101, name: 'e', spend: 120 }])
    // Never stored here.
    expect(await storesHome(cluster.node('u1'), 'eu-central')).toBe(false)
  })

  it('runs here when its rows are all homed here, and writes nothing when it matches none', async () => {
    const here = await q('u1', "UPDATE customers SET name = 'here' WHERE spend < 20 RETURNING id")
    expect([here.commandTag, here.rows]).toEqual(['UPDATE 2', [{ id: 1 }, { id: 2 }]])
    const lsn = cluster.node('u1').replica.lsn
    const none = await q('u1', 'UPDATE customers SET spend = 0 WHERE id = 999 RETURNING id')
    expect([none.commandTag, none.fields.map((f) => f.name), none.rows]).toEqual(['UPDATE 0', ['id'], []])
    expect((await q('u1', 'DELETE FROM customers WHERE id > 1000')).commandTag).toBe('DELETE 0')
    expect(cluster.node('u1').replica.lsn).toBe(lsn)
  })

  it('locates afresh, whatever result a session may answer reads from (query_result_cache_ttl)', async () => {
    const s = cluster.node('u1').session()
    await cluster.run(s.query("SET query_result_cache_ttl = '1h'"))
    expect((await cluster.run(s.query('SELECT region FROM customers WHERE id = 103'))).rows).toEqual([])
    await q('e1', "INSERT INTO customers VALUES (103, 'new', 'eu-central', 30)")
    // The same read answers from what it kept; the write finds the new row.
    expect((await cluster.run(s.query('SELECT region FROM customers WHERE id = 103'))).rows).toEqual([])
    expect((await cluster.run(s.query('DELETE FROM customers WHERE id = 103'))).rowCount).toBe(1)
    await s.close()
    await cluster.settle()
    expect((await euRows('e1')).map((r) => r['id'])).toEqual([101])
  })

  it('refuses rows of several regions (0A000, naming them) and fails with 08001 naming a region it cannot reach, writing nothing', async () => {
    const two = await failure(q('u1', 'DELETE FROM customers WHERE id IN (1, 101)'))
    expect(two?.code).toBe(SqlState.featureNotSupported)
    expect(two?.message).toMatch(/regions eu-central, us-west/)
    expect(two?.hint).toMatch(/one statement per region/)
    // Not located when another reader of the table in it would see only the located region's rows: 0A000 as before.
    const self = await failure(q('u1', 'UPDATE customers SET spend = 0 WHERE spend = (SELECT max(spend) FROM customers)'))
    expect(self?.code).toBe(SqlState.featureNotSupported)
    const keyed = await failure(q('u1', 'UPDATE customers SET id = 100 WHERE id = 101'))
    expect(keyed?.code).toBe(SqlState.featureNotSupported)
    cluster.partition(['u1'], ['e1', 'e2'])
    await cluster.advance(20_000)
    const cut = await failure(q('u1', 'UPDATE customers SET spend = 0 WHERE id = 1'))
    expect(cut?.code).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    expect(cut?.message).toMatch(/eu-central/)
    cluster.heal()
    await cluster.settle()
    expect((await q('u1', 'SELECT id, spend FROM customers ORDER BY id')).rows).toEqual([
      { id: 1, spend: 10 },
      { id: 2, spend: 11 },
      { id: 101, spend: 120 },
    ])
  })
})
