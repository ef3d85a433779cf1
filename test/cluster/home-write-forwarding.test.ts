/**
 * Writes of rows homed in another region, over real processes on 127.0.0.1 (one node in
 * us-west, one in eu-central): a write issued in us-west of a row homed in eu-central is
 * forwarded over libp2p and lands on the eu-central node, is absent from the us-west
 * node's storage, and is acknowledged only once durable there (the eu-central node is
 * killed right after the acknowledgement and still has it when it comes back); with the
 * eu-central node killed, such a write fails with a class-08 error naming the region and
 * nothing of it is applied anywhere. An INSERT .. RETURNING forwarded there returns the
 * eu-central node's generated id (simple and extended protocol, and knex's
 * `insert().returning()`); an UPDATE by primary key alone of a row homed there is located
 * and runs there; one matching rows of both regions is 0A000 and changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import knexFactory from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const nodes: Record<string, ConcordProcess> = {}

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

const start = (id: string, region: string, join_: string[]) => ConcordProcess.start({ dataDir: join(dir, id), nodeId: id, join: join_, extraArgs: ['--region', region] })

/** The partitions of `customers` a node stores, as it reports them. */
async function partitions(node: ConcordProcess): Promise<number[]> {
  const r = await node.query("SELECT partition FROM pg_stat_concord_shards WHERE table_name = 'customers' ORDER BY partition")
  return r.rows.map((x) => x['partition'] as number)
}

/** The rows homed in eu-central as the eu-central node holds them (its own rows: no network). */
async function euRows(e1: ConcordProcess): Promise<unknown[]> {
  return (await e1.query('SELECT id, name FROM customers WHERE region = current_region() ORDER BY id')).rows
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-home-write-'))
  nodes['u1'] = await start('u1', 'us-west', [])
  nodes['e1'] = await start('e1', 'eu-central', [nodes['u1'].pgAddress])
  await until(async () => {
    for (const n of Object.values(nodes)) if ((await n.query('SELECT count(*)::int AS k FROM pg_nodes')).rows[0]?.['k'] !== 2) return false
    return true
  }, 120_000, 'both nodes know each other')
}, 300_000)

afterAll(async () => {
  await Promise.all(Object.values(nodes).map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('a write of a row homed in another region, over the wire', () => {
  it('lands on its home region’s node, durable there when acknowledged, never stored here; with that node gone it fails whole', async () => {
    const u1 = nodes['u1']!
    await u1.query("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT, region TEXT) WITH (home_region_column = 'region')")
    await until(async () => (await nodes['e1']!.query("SELECT count(*)::int AS k FROM pg_class WHERE relname = 'customers'")).rows[0]?.['k'] === 1, 60_000, 'the table on e1')
    await nodes['e1']!.query("INSERT INTO customers VALUES (101, 'e', 'eu-central')")
    await until(async () => (await failure(u1.query('SELECT count(*) FROM customers'))) === null, 60_000, 'u1 reads eu-central')

    // Forwarded from us-west; e1 is killed at once after the acknowledgement and keeps the row.
    const r = await u1.query("INSERT INTO customers VALUES (102, 'from-us-west', 'eu-central')")
    expect([r.command, r.rowCount]).toEqual(['INSERT', 1])
    await nodes['e1']!.kill9()
    nodes['e1'] = await start('e1', 'eu-central', [u1.pgAddress])
    expect(await euRows(nodes['e1'])).toEqual([
      { id: 101, name: 'e' },
      { id: 102, name: 'from-us-west' },
    ])
    // Not stored in us-west (its own home shard only), yet read from there.
    const eu = (await nodes['e1'].query("SELECT partition FROM pg_stat_concord_shards WHERE table_name = 'customers' AND partition > 0 AND held_here")).rows.map((x) => x['partition'])
    expect(eu).toHaveLength(1)
    expect(await partitions(u1)).not.toContain(eu[0])
    await until(async () => (await failure(u1.query('SELECT 1 FROM customers WHERE id = 102'))) === null, 60_000, 'u1 reads eu-central again')
    expect((await u1.query("SELECT name FROM customers WHERE region = 'eu-central' AND id = 102")).rows).toEqual([{ name: 'from-us-west' }])

    // An UPDATE pinned to eu-central runs there too.
    expect((await u1.query("UPDATE customers SET name = 'renamed' WHERE region = 'eu-central' AND id = 102")).rowCount).toBe(1)
    expect(await euRows(nodes['e1'])).toContainEqual({ id: 102, name: 'renamed' })

    // eu-central gone: a clear class-08 error naming it; nothing applied anywhere.
    await nodes['e1'].kill9()
    await until(async () => (await failure(u1.query("UPDATE customers SET name = 'lost' WHERE region = 'eu-central' AND id = 102"))) !== null, 60_000, 'u1 sees eu-central gone')
    const upd = await failure(u1.query("UPDATE customers SET name = 'lost' WHERE region = 'eu-central' AND id = 102"))
    expect(upd?.code).toBe('08001')
    expect(upd?.message).toContain('region eu-central')
    const ins = await failure(u1.query("INSERT INTO customers VALUES (103, 'lost', 'eu-central')"))
    expect(ins?.code).toMatch(/^08/)
    expect(ins?.message).toContain('eu-central')
    expect(await partitions(u1)).not.toContain(eu[0])
    nodes['e1'] = await start('e1', 'eu-central', [u1.pgAddress])
    expect(await euRows(nodes['e1'])).toEqual([
      { id: 101, name: 'e' },
      { id: 102, name: 'renamed' },
    ])
  }, 400_000)

  it('returns the rows of INSERT .. RETURNING from the home region, and locates an UPDATE by primary key', async () => {
    const [u1, e1] = [nodes['u1']!, nodes['e1']!]
    await u1.query("CREATE TABLE accounts (id SERIAL PRIMARY KEY, name TEXT, region TEXT, balance INT DEFAULT 0) WITH (home_region_column = 'region')")
    await until(async () => (await failure(e1.query("INSERT INTO accounts (name) VALUES ('e') RETURNING id"))) === null, 60_000, 'e1 writes accounts')
    await until(async () => (await failure(u1.query('SELECT count(*) FROM accounts'))) === null, 60_000, 'u1 reads eu-central')
    const euAccounts = async () => (await e1.query('SELECT id, name, balance FROM accounts WHERE region = current_region() ORDER BY id')).rows

    // Simple and extended protocol: the id e1 generated comes back through u1, with its RowDescription.
    const simple = await u1.query("INSERT INTO accounts (name, region) VALUES ('simple', 'eu-central') RETURNING id, name")
    expect([simple.command, simple.rowCount, simple.fields.map((f) => [f.name, f.dataTypeID])]).toEqual(['INSERT', 1, [['id', 23], ['name', 25]]])
    const extended = await u1.query('INSERT INTO accounts (name, region) VALUES ($1, $2) RETURNING *', ['extended', 'eu-central'])
    expect(extended.rows).toEqual([{ id: expect.any(Number), name: 'extended', region: 'eu-central', balance: 0 }])
    const knex = knexFactory({ client: 'pg', connection: { host: '127.0.0.1', port: u1.pgPort, user: 'concord', database: 'concord' }, pool: { min: 0, max: 1 } })
    let viaKnex: Array<{ id: number }>
    try {
      viaKnex = await knex('accounts').insert({ name: 'knex', region: 'eu-central' }).returning('id')
    } finally {
      await knex.destroy()
    }
    // An unpinned DELETE by key of a row homed there, with RETURNING: located in eu-central, run there.
    const doomed = await u1.query('INSERT INTO accounts (name, region, balance) VALUES ($1, $2, $3) RETURNING id', ['doomed', 'eu-central', 5])
    const deleted = await u1.query('DELETE FROM accounts WHERE id = $1 RETURNING name, balance', [doomed.rows[0]!['id']])
    expect([deleted.rowCount, deleted.rows]).toEqual([1, [{ name: 'doomed', balance: 5 }]])
    const held = await euAccounts()
    expect(held.filter((r) => r['name'] !== 'e')).toEqual([
      { id: simple.rows[0]!['id'], name: 'simple', balance: 0 },
      { id: extended.rows[0]!['id'], name: 'extended', balance: 0 },
      { id: viaKnex[0]!.id, name: 'knex', balance: 0 },
    ])

    // An UPDATE by primary key alone: located in eu-central and run there.
    // Id 0: no node's SERIAL range holds it (a node whose range starts at 1 gave 1 above: 23505 in CI once).
    await u1.query("INSERT INTO accounts (id, name, region) VALUES (0, 'west', 'us-west')")
    const target = simple.rows[0]!['id'] as number
    const u = await u1.query('UPDATE accounts SET balance = balance + $1 WHERE id = $2', [50, target])
    expect([u.command, u.rowCount]).toEqual(['UPDATE', 1])
    expect((await euAccounts()).find((r) => r['id'] === target)).toEqual({ id: target, name: 'simple', balance: 50 })
    expect((await u1.query('UPDATE accounts SET balance = 7 WHERE id = -1')).rowCount).toBe(0)

    // Rows of both regions: refused whole, naming them; nothing changed in either.
    const both = await failure(u1.query('UPDATE accounts SET balance = 999 WHERE id IN (0, $1)', [target]))
    expect(both?.code).toBe('0A000')
    expect(both?.message).toContain('eu-central, us-west')
    expect((await u1.query("SELECT balance FROM accounts WHERE region = 'us-west'")).rows).toEqual([{ balance: 0 }])
    expect((await euAccounts()).map((r) => r['balance'])).not.toContain(999)
  }, 300_000)
})
