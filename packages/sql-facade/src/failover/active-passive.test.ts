/**
 * Active-passive mode on a SimCluster (virtual time): one writable primary recorded in
 * the replicated catalog, read-only standbys (25006), pg_promote() and the old primary's
 * demotion, and multi_master as the default where every node is a master.
 */
import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

const NODES = [{ id: 'node1' }, { id: 'node2' }, { id: 'node3' }]

async function types(cluster: SimCluster, on: string): Promise<Record<string, string>> {
  const rows = (await cluster.node(on).query('SELECT node_id, node_type FROM pg_nodes ORDER BY node_id')).rows
  return Object.fromEntries(rows.map((r) => [r.node_id as string, r.node_type as string]))
}

async function one(cluster: SimCluster, on: string, sql: string): Promise<unknown> {
  const row = (await cluster.node(on).query(sql)).rows[0]!
  return Object.values(row)[0]
}

describe('high_availability_mode', () => {
  it('multi_master (the default): every node is a writable master, pg_promote() fails with 55000', async () => {
    const cluster = await SimCluster.create({ seed: 1, nodes: NODES })
    expect(await one(cluster, 'node2', 'SHOW high_availability_mode')).toBe('multi_master')
    expect(await types(cluster, 'node2')).toEqual({ node1: 'master', node2: 'master', node3: 'master' })
    expect(await one(cluster, 'node2', 'SELECT pg_is_in_recovery()')).toBe(false)
    expect(await one(cluster, 'node2', 'SHOW transaction_read_only')).toBe('off')
    expect(await sqlState(cluster.node('node2'), 'SELECT pg_promote()')).toBe('55000')
    // transaction_read_only still follows READ ONLY blocks on a writable node.
    const s = cluster.node('node2').session()
    await s.query('BEGIN READ ONLY')
    expect((await s.query('SHOW transaction_read_only')).rows[0]).toEqual({ transaction_read_only: 'on' })
    await s.query('COMMIT')
    expect((await s.query('SHOW transaction_read_only')).rows[0]).toEqual({ transaction_read_only: 'off' })
    await cluster.close()
  })

  it('active_passive: the node that set it is primary; standbys serve reads and reject writes and DDL with 25006', async () => {
    const cluster = await SimCluster.create({ seed: 2, nodes: NODES })
    await cluster.node('node1').query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)')
    await cluster.node('node1').query('CREATE SEQUENCE seq')
    await cluster.node('node2').query("SET high_availability_mode = 'active_passive'")
    await cluster.settle()
    for (const on of ['node1', 'node2', 'node3']) {
      expect(await types(cluster, on)).toEqual({ node1: 'standby', node2: 'primary', node3: 'standby' })
      expect((await cluster.node(on).query('SELECT epoch FROM pg_nodes LIMIT 1')).rows[0]).toEqual({ epoch: '1' })
    }
    await cluster.node('node2').query("INSERT INTO kv VALUES (1, 'one')")
    await cluster.settle()
    const standby = cluster.node('node3')
    expect((await standby.query('SELECT v FROM kv')).rows).toEqual([{ v: 'one' }])
    expect(await sqlState(standby, "INSERT INTO kv VALUES (2, 'two')")).toBe('25006')
    expect(await sqlState(standby, "UPDATE kv SET v = 'x'")).toBe('25006')
    expect(await sqlState(standby, 'DELETE FROM kv')).toBe('25006')
    expect(await sqlState(standby, 'CREATE TABLE other (k INT PRIMARY KEY)')).toBe('25006')
    expect(await sqlState(standby, 'WITH d AS (DELETE FROM kv RETURNING k) SELECT * FROM d')).toBe('25006')
    expect(await sqlState(standby, 'COPY kv FROM STDIN')).toBe('25006')
    expect(await sqlState(standby, "SELECT nextval('seq')")).toBe('25006')
    expect(await sqlState(cluster.node('node2'), "SELECT nextval('seq')")).toBe(null)
    expect(await sqlState(standby, "CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1' PUBLICATION p")).toBe('25006')
    expect(await one(cluster, 'node3', 'SELECT pg_is_in_recovery()')).toBe(true)
    expect(await one(cluster, 'node3', 'SHOW transaction_read_only')).toBe('on')
    expect(await one(cluster, 'node3', 'SHOW in_hot_standby')).toBe('on')
    expect(await one(cluster, 'node2', 'SELECT pg_is_in_recovery()')).toBe(false)
    expect(await one(cluster, 'node2', 'SHOW transaction_read_only')).toBe('off')
    // The primary already is one: PostgreSQL's answer on a primary.
    expect(await sqlState(cluster.node('node2'), 'SELECT pg_promote()')).toBe('55000')
    // Back to multi_master: every node writable again.
    await cluster.node('node3').query("SET high_availability_mode = 'multi_master'")
    await cluster.settle()
    await cluster.node('node3').query("INSERT INTO kv VALUES (3, 'three')")
    expect(await types(cluster, 'node1')).toEqual({ node1: 'master', node2: 'master', node3: 'master' })
    await cluster.close()
  })

  it('pg_promote() on a standby makes it primary with a higher epoch; the old primary demotes itself', async () => {
    const cluster = await SimCluster.create({ seed: 3, nodes: NODES })
    await cluster.node('node1').query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)')
    await cluster.node('node1').query("SET high_availability_mode = 'active_passive'")
    await cluster.settle()
    expect(await one(cluster, 'node3', 'SELECT pg_promote()')).toBe(true)
    await cluster.settle()
    for (const on of ['node1', 'node2', 'node3']) {
      expect(await types(cluster, on)).toEqual({ node1: 'standby', node2: 'standby', node3: 'primary' })
      expect((await cluster.node(on).query("SELECT epoch FROM pg_nodes WHERE node_id = 'node3'")).rows[0]).toEqual({ epoch: '2' })
    }
    expect((await cluster.node('node2').query('SELECT epoch, node_id, reason, current FROM concord_failover_history')).rows).toEqual([
      { epoch: '2', node_id: 'node3', reason: 'promote', current: true },
      { epoch: '1', node_id: 'node1', reason: 'mode', current: false },
    ])
    expect(await sqlState(cluster.node('node1'), "INSERT INTO kv VALUES (1, 'old primary')")).toBe('25006')
    expect(await sqlState(cluster.node('node3'), "INSERT INTO kv VALUES (1, 'new primary')")).toBe(null)
    await cluster.close()
  })

  it('a node of a region without the PRIMARY role never becomes primary', async () => {
    const cluster = await SimCluster.create({ seed: 4, nodes: [{ id: 'node1', region: 'east' }, { id: 'node2', region: 'west' }] })
    await cluster.node('node1').query("CREATE REGION 'east' WITH (PRIMARY, REPLICA)")
    await cluster.node('node1').query("CREATE REGION 'west' WITH (REPLICA)")
    await cluster.settle()
    expect(await sqlState(cluster.node('node2'), "SET high_availability_mode = 'active_passive'")).toBe('55000')
    await cluster.node('node1').query("SET high_availability_mode = 'active_passive'")
    await cluster.settle()
    expect(await sqlState(cluster.node('node2'), 'SELECT pg_promote()')).toBe('55000')
    await cluster.node('node2').query("ALTER SYSTEM SET failover_timeout = '1s'")
    await cluster.node('node2').query('ALTER SYSTEM SET auto_failover = on')
    await cluster.settle()
    cluster.crash('node1')
    await cluster.advance(10_000)
    expect(await types(cluster, 'node2')).toEqual({ node1: 'primary', node2: 'standby' })
    await cluster.close()
  })
})
