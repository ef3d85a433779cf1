/**
 * Failure detection and auto-promotion on a SimCluster, in virtual time: a crashed
 * primary is replaced after failover_timeout by the most caught-up standby (ties: lowest
 * node id); phi_accrual detects a regular heartbeat's silence sooner; a partition with a
 * primary on each side loses no write and ends with one primary; a restarted old primary
 * takes no writes until it has heard of the newer term.
 */
import { describe, expect, it } from 'vitest'
import type { NetworkFaults } from '@concord/core'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

const NODES = [{ id: 'node1' }, { id: 'node2' }, { id: 'node3' }]

async function activePassive(seed: number, settings: Record<string, string>, faults?: Partial<NetworkFaults>): Promise<SimCluster> {
  const cluster = await SimCluster.create({ seed, nodes: NODES, ...(faults ? { faults } : {}) })
  const n1 = cluster.node('node1')
  await n1.query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)')
  for (const [name, value] of Object.entries(settings)) await n1.query(`ALTER SYSTEM SET ${name} = '${value}'`)
  await n1.query("SET high_availability_mode = 'active_passive'")
  await cluster.settle()
  return cluster
}

async function primaryAs(cluster: SimCluster, on: string): Promise<{ node_id: string; epoch: string } | undefined> {
  return (await cluster.node(on).query("SELECT node_id, epoch FROM pg_nodes WHERE node_type = 'primary'")).rows[0] as { node_id: string; epoch: string } | undefined
}

describe('auto-failover', () => {
  it('a standby is promoted once the primary is silent past failover_timeout, not before; ties go to the lowest node id', async () => {
    const cluster = await activePassive(11, { auto_failover: 'on', failover_timeout: '3s' })
    await cluster.node('node1').query("INSERT INTO kv VALUES (1, 'before')")
    await cluster.settle()
    cluster.crash('node1')
    await cluster.advance(2_000)
    expect(await primaryAs(cluster, 'node3')).toEqual({ node_id: 'node1', epoch: '1' })
    expect(await sqlState(cluster.node('node2'), "INSERT INTO kv VALUES (2, 'x')")).toBe('25006')
    await cluster.advance(3_000)
    for (const on of ['node2', 'node3']) expect(await primaryAs(cluster, on)).toEqual({ node_id: 'node2', epoch: '2' })
    expect(await sqlState(cluster.node('node2'), "INSERT INTO kv VALUES (2, 'after')")).toBe(null)
    expect(await sqlState(cluster.node('node3'), "INSERT INTO kv VALUES (3, 'x')")).toBe('25006')
    const status = (await cluster.node('node3').query("SELECT status FROM pg_nodes WHERE node_id = 'node1'")).rows[0]
    expect(status).toEqual({ status: 'unreachable' })
    await cluster.close()
  })

  it('under message loss, duplication and reordering the standbys agree on one new primary, and no acknowledged write is lost', async () => {
    for (const seed of [21, 22, 23]) {
      const cluster = await activePassive(seed, { auto_failover: 'on', failover_timeout: '3s' }, { drop: 0.1, duplicate: 0.05, minDelayMs: 1, maxDelayMs: 200 })
      for (let k = 1; k <= 20; k++) await cluster.node('node1').query(`INSERT INTO kv VALUES (${k}, 'before')`)
      await cluster.advance(100)
      cluster.crash('node1')
      await cluster.advance(10_000)
      const seen = [(await primaryAs(cluster, 'node2'))?.node_id, (await primaryAs(cluster, 'node3'))?.node_id]
      expect([seed, seen[0] === seen[1] && seen[0] !== 'node1']).toEqual([seed, true])
      await cluster.node(seen[0]!).query("INSERT INTO kv VALUES (100, 'after')")
      await cluster.restart('node1')
      await cluster.settle()
      await cluster.advance(2_000)
      for (const on of ['node1', 'node2', 'node3']) {
        expect(await primaryAs(cluster, on)).toEqual({ node_id: seen[0], epoch: '2' })
        expect((await cluster.node(on).query('SELECT count(*)::int AS n FROM kv')).rows[0]).toEqual({ n: 21 })
      }
      await cluster.close()
    }
  })

  it('without auto_failover nothing is promoted however long the primary is silent', async () => {
    const cluster = await activePassive(12, { failover_timeout: '1s' })
    cluster.crash('node1')
    await cluster.advance(10_000)
    expect(await primaryAs(cluster, 'node2')).toEqual({ node_id: 'node1', epoch: '1' })
    await cluster.close()
  })

  it('the most caught-up standby is promoted, though another has a lower node id', async () => {
    const cluster = await activePassive(13, { failover_timeout: '2s' })
    // node2 misses the primary's last writes; node3 holds them.
    cluster.partition(['node1', 'node3'], ['node2'])
    for (let k = 1; k <= 20; k++) await cluster.node('node1').query(`INSERT INTO kv VALUES (${k}, 'v')`)
    await cluster.advance(1_000)
    cluster.crash('node1')
    cluster.heal()
    await cluster.node('node3').query("ALTER SYSTEM SET auto_failover = 'on'")
    await cluster.advance(6_000)
    for (const on of ['node2', 'node3']) expect(await primaryAs(cluster, on)).toEqual({ node_id: 'node3', epoch: '2' })
    await cluster.close()
  })

  it('phi_accrual suspects a regular heartbeat that stops well before failover_timeout', async () => {
    for (const [method, promoted] of [['phi_accrual', 'node2'], ['heartbeat', 'node1']] as const) {
      const cluster = await activePassive(14, { auto_failover: 'on', failover_timeout: '10s', failure_detection_method: method })
      // A steady heartbeat history first.
      await cluster.advance(10_000)
      cluster.crash('node1')
      await cluster.advance(4_000)
      expect([method, (await primaryAs(cluster, 'node3'))?.node_id]).toEqual([method, promoted])
      await cluster.close()
    }
  })

  it('a partition with a primary on each side: both sides keep their writes, the older epoch demotes at heal', async () => {
    const cluster = await activePassive(15, { auto_failover: 'on', failover_timeout: '3s' })
    await cluster.node('node1').query("INSERT INTO kv VALUES (0, 'shared')")
    await cluster.settle()
    cluster.partition(['node1'], ['node2', 'node3'])
    await cluster.advance(6_000)
    expect(await primaryAs(cluster, 'node1')).toEqual({ node_id: 'node1', epoch: '1' })
    expect(await primaryAs(cluster, 'node3')).toEqual({ node_id: 'node2', epoch: '2' })
    for (let k = 1; k <= 5; k++) await cluster.node('node1').query(`INSERT INTO kv VALUES (${k}, 'old side')`)
    for (let k = 11; k <= 15; k++) await cluster.node('node2').query(`INSERT INTO kv VALUES (${k}, 'new side')`)
    await cluster.node('node1').query("UPDATE kv SET v = 'old side' WHERE k = 0")
    await cluster.node('node2').query("UPDATE kv SET v = 'new side' WHERE k = 0")
    cluster.heal()
    await cluster.settle()
    await cluster.advance(2_000)
    for (const on of ['node1', 'node2', 'node3']) {
      expect(await primaryAs(cluster, on)).toEqual({ node_id: 'node2', epoch: '2' })
      const keys = (await cluster.node(on).query('SELECT k FROM kv ORDER BY k')).rows.map((r) => r.k)
      expect(keys).toEqual([0, 1, 2, 3, 4, 5, 11, 12, 13, 14, 15])
    }
    expect(await sqlState(cluster.node('node1'), "INSERT INTO kv VALUES (99, 'x')")).toBe('25006')
    const merged = (await cluster.node('node1').query("SELECT count(*)::int AS n FROM concord_conflicts WHERE table_name = 'kv'")).rows[0]
    expect(merged).toEqual({ n: 1 })
    await cluster.close()
  })

  it('a restarted old primary takes no writes until it hears of the newer term, then is a standby', async () => {
    const cluster = await activePassive(16, { auto_failover: 'on', failover_timeout: '3s' })
    cluster.crash('node1')
    await cluster.advance(6_000)
    expect(await primaryAs(cluster, 'node2')).toEqual({ node_id: 'node2', epoch: '2' })
    const back = await cluster.restart('node1')
    // Its own catalog still names it primary (epoch 1): fenced until it has synced.
    expect(await sqlState(back, "INSERT INTO kv VALUES (1, 'stale primary')")).toBe('25006')
    expect((await back.query('SELECT pg_is_in_recovery() AS r')).rows[0]).toEqual({ r: true })
    await cluster.settle()
    await cluster.advance(1_000)
    expect(await primaryAs(cluster, 'node1')).toEqual({ node_id: 'node2', epoch: '2' })
    expect(await sqlState(back, "INSERT INTO kv VALUES (1, 'x')")).toBe('25006')
    await cluster.close()
  })

  it('a primary restarted with no failover takes writes again once its catalog matched a peer', async () => {
    const cluster = await activePassive(17, { failover_timeout: '30s' })
    cluster.crash('node1')
    await cluster.advance(1_000)
    const back = await cluster.restart('node1')
    expect(await sqlState(back, "INSERT INTO kv VALUES (1, 'x')")).toBe('25006')
    await cluster.settle()
    await cluster.advance(2_000)
    expect(await sqlState(back, "INSERT INTO kv VALUES (1, 'x')")).toBe(null)
    await cluster.close()
  })
})
