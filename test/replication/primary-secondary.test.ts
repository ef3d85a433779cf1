/**
 * The seed's section 1 run literally against two `concord` processes: a publication on
 * the primary, a subscription on the secondary by the primary's PostgreSQL address, rows
 * flowing primary -> secondary, pg_stat_replication and pg_replication_slots on the
 * primary with measured positions and lags, one-way direction (a write on the secondary
 * stays there) and two-way once the primary subscribes back; bad statements fail with
 * PostgreSQL's SQLSTATEs and change nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from '../cluster/concord-process.js'
import { hasPsql, psql } from './psql.js'

let dir: string
let primary: ConcordProcess
let secondary: ConcordProcess
let withPsql = false

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-pubsub-'))
  withPsql = await hasPsql()
  ;[primary, secondary] = await Promise.all([
    ConcordProcess.start({ dataDir: join(dir, 'primary'), nodeId: 'primary' }),
    ConcordProcess.start({ dataDir: join(dir, 'secondary'), nodeId: 'secondary' }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([primary?.kill9(), secondary?.kill9()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function sqlState(node: ConcordProcess, sql: string): Promise<string> {
  try {
    await node.query(sql)
    return 'ok'
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

describe('primary-secondary (seed section 1)', () => {
  it('replicates the primary to the secondary and reports positions and lags', async () => {
    await primary.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT, price DECIMAL(10,2))')
    await primary.query("INSERT INTO products (name, price) VALUES ('Widget', 99.99)")
    const primarySql = ['CREATE PUBLICATION main_pub FOR ALL TABLES;']
    const secondarySql = [`CREATE SUBSCRIPTION main_sub
CONNECTION 'postgresql://127.0.0.1:${primary.pgPort}/database'
PUBLICATION main_pub;`]
    if (withPsql) {
      await psql(primary, ...primarySql)
      await psql(secondary, ...secondarySql)
    } else {
      await primary.query(primarySql[0]!)
      await secondary.query(secondarySql[0]!)
    }
    // Initial copy, then streaming.
    await until(async () => (await secondary.query('SELECT name FROM products')).rows.length === 1, 20_000, 'initial copy')
    await primary.query("INSERT INTO products (name, price) VALUES ('Gadget', 19.50)")
    await until(async () => (await secondary.query("SELECT 1 FROM products WHERE name = 'Gadget'")).rows.length === 1, 20_000, 'a fresh row to reach the secondary')

    // Verify replication (seed): the primary shows the secondary with measured lags.
    let rep: Record<string, unknown>[] = []
    await until(async () => {
      rep = (await primary.query('SELECT * FROM pg_stat_replication')).rows
      return rep.some((r) => r.application_name === 'secondary' && r.replay_lag !== null && r.flush_lsn !== '0/0')
    }, 20_000, 'pg_stat_replication to show the secondary with lags')
    const row = rep.find((r) => r.application_name === 'secondary')!
    console.log(`pg_stat_replication on the primary: state ${String(row.state)}, flush_lsn ${String(row.flush_lsn)}, replay_lag ${JSON.stringify(row.replay_lag)}`)
    expect(row.state).toBe('streaming')
    expect(row.client_addr).toBe('127.0.0.1')
    expect(String(row.sent_lsn)).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/)
    expect(row.write_lag).not.toBeNull()
    expect(row.flush_lag).not.toBeNull()
    if (withPsql) {
      const out = await psql(primary, 'SELECT usename, application_name, write_lag, flush_lag, replay_lag FROM pg_stat_replication;')
      expect(out).toMatch(/concord\|secondary\|[\d:.]+\|[\d:.]+\|[\d:.]+/)
    }

    // Slots report advancing positions.
    const slot = async () => (await primary.query("SELECT slot_name, slot_type, active, restart_lsn, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'main_sub'")).rows[0]
    const lsnOf = (t: unknown) => {
      const [hi, lo] = String(t).split('/')
      return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16)
    }
    const before = await slot()
    expect(before).toMatchObject({ slot_name: 'main_sub', slot_type: 'logical', active: true })
    await primary.query("INSERT INTO products (name, price) VALUES ('Doohickey', 5.00), ('Thingamajig', 7.25)")
    await until(async () => lsnOf((await slot())!.confirmed_flush_lsn) > lsnOf(before!.confirmed_flush_lsn), 20_000, 'the slot position to advance')

    // The follower's replay timestamp is recent while the publisher writes.
    const lag = await secondary.query<{ replication_lag_seconds: string }>('SELECT EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) as replication_lag_seconds')
    expect(Number(lag.rows[0]!.replication_lag_seconds)).toBeLessThan(10)
    expect((await secondary.query('SELECT subname, subenabled, subpublisher FROM pg_subscription')).rows).toEqual([{ subname: 'main_sub', subenabled: true, subpublisher: 'primary' }])
  })

  it('is one-way: a write on the secondary stays there until the primary subscribes back', async () => {
    await secondary.query("INSERT INTO products (name, price) VALUES ('LocalOnly', 1.00)")
    await primary.query("INSERT INTO products (name, price) VALUES ('AfterLocal', 2.00)")
    await until(async () => (await secondary.query("SELECT 1 FROM products WHERE name = 'AfterLocal'")).rows.length === 1, 20_000, 'primary write after the local one')
    await new Promise((r) => setTimeout(r, 2500)) // two anti-entropy rounds
    expect((await primary.query("SELECT 1 FROM products WHERE name = 'LocalOnly'")).rows).toEqual([])

    // Two-way: the primary subscribes to a publication of the secondary.
    await secondary.query('CREATE PUBLICATION back_pub FOR TABLE products')
    await primary.query(`CREATE SUBSCRIPTION back_sub CONNECTION 'host=127.0.0.1 port=${secondary.pgPort} dbname=concord' PUBLICATION back_pub`)
    await until(async () => (await primary.query("SELECT 1 FROM products WHERE name = 'LocalOnly'")).rows.length === 1, 20_000, 'the secondary write to flow back')
    await primary.query('DROP SUBSCRIPTION back_sub')
  })

  it('ALTER SUBSCRIPTION DISABLE stops applying changes and ENABLE catches up', async () => {
    await secondary.query('ALTER SUBSCRIPTION main_sub DISABLE')
    await primary.query("INSERT INTO products (name, price) VALUES ('WhileDisabled', 3.00)")
    await new Promise((r) => setTimeout(r, 1500))
    expect((await secondary.query("SELECT 1 FROM products WHERE name = 'WhileDisabled'")).rows).toEqual([])
    expect((await primary.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'main_sub'")).rows).toEqual([{ active: false }])
    await secondary.query('ALTER SUBSCRIPTION main_sub ENABLE')
    await until(async () => (await secondary.query("SELECT 1 FROM products WHERE name = 'WhileDisabled'")).rows.length === 1, 20_000, 'catch-up after ENABLE')
  })

  it('bad statements get PostgreSQL errors and change nothing', async () => {
    const subsBefore = (await secondary.query('SELECT subname FROM pg_subscription ORDER BY 1')).rows
    const pubsBefore = (await primary.query('SELECT pubname FROM pg_publication ORDER BY 1')).rows
    expect(await sqlState(secondary, `CREATE SUBSCRIPTION s2 CONNECTION 'postgresql://127.0.0.1:${primary.pgPort}/db' PUBLICATION no_such_pub`)).toBe('42704')
    expect(await sqlState(secondary, "CREATE SUBSCRIPTION s3 CONNECTION 'postgresql://127.0.0.1:1/db' PUBLICATION main_pub")).toBe('08006')
    expect(await sqlState(secondary, "CREATE SUBSCRIPTION s4 CONNECTION 'host=127.0.0.1 bogus' PUBLICATION main_pub")).toBe('42601')
    expect(await sqlState(secondary, `CREATE SUBSCRIPTION main_sub CONNECTION 'postgresql://127.0.0.1:${primary.pgPort}/db' PUBLICATION main_pub`)).toBe('42710')
    expect(await sqlState(secondary, `CREATE SUBSCRIPTION s5 CONNECTION 'postgresql://127.0.0.1:${primary.pgPort}/db' PUBLICATION main_pub WITH (frobnicate = true)`)).toBe('42601')
    expect(await sqlState(secondary, 'ALTER SUBSCRIPTION nope DISABLE')).toBe('42704')
    expect(await sqlState(secondary, 'DROP SUBSCRIPTION nope')).toBe('42704')
    expect(await sqlState(primary, 'CREATE PUBLICATION main_pub FOR ALL TABLES')).toBe('42710')
    expect(await sqlState(primary, 'CREATE PUBLICATION p2 FOR TABLE no_such_table')).toBe('42P01')
    expect(await sqlState(primary, 'ALTER PUBLICATION main_pub ADD TABLE products')).toBe('55000')
    expect(await sqlState(primary, 'DROP PUBLICATION nope')).toBe('42704')
    expect(await sqlState(secondary, "SET master_nodes = 'not a host:port'")).toBe('22023')
    expect(await sqlState(secondary, "SET wal_keep_size = 'lots'")).toBe('22023')
    expect(await sqlState(secondary, "SET multi_master_enabled = 'perhaps'")).toBe('22023')
    expect((await secondary.query('SELECT subname FROM pg_subscription ORDER BY 1')).rows).toEqual(subsBefore)
    expect((await primary.query('SELECT pubname FROM pg_publication ORDER BY 1')).rows).toEqual(pubsBefore)
    expect((await secondary.query('SHOW master_nodes')).rows).toEqual([{ master_nodes: '' }])
  })
})
