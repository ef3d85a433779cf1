/**
 * ALTER TABLE .. REBALANCE SHARDS: the plan (concord_rebalance_plan) evens the placed
 * shards' bytes over the nodes allowed to hold them; the statement moves them online
 * (copy, catch up, switch, drop the old copy) as a background job shown in
 * pg_stat_concord_rebalance; no acknowledged write is lost or duplicated while shards
 * move under writes, with the node receiving a shard killed and restarted mid-move.
 */
import { parseShardId } from '@concord/core'
import { describe, expect, it } from 'vitest'
import type { Database } from '../database.js'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

const ROWS = 400

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

/** Partitions of `table` a node stores on disk and in memory. */
async function storedPartitions(db: Database, table: string): Promise<{ disk: number[]; memory: number[] }> {
  const of = (ids: Iterable<string>) =>
    [...ids].map((id) => parseShardId(id)).filter((p) => p !== null && p.table === table).map((p) => p!.partition).sort()
  return { disk: of(await db.replica.storage.shards()), memory: of(db.replica.shards.keys()) }
}

/** Three nodes of us-west; orders in four hash partitions, all placed on u1. */
async function ordersOnU1(seed: number): Promise<SimCluster> {
  const cluster = await SimCluster.create({
    seed,
    nodes: [{ id: 'u1', region: 'us-west' }, { id: 'u2', region: 'us-west' }, { id: 'u3', region: 'us-west' }],
  })
  const u1 = cluster.node('u1')
  await u1.query('CREATE TABLE orders (id INT PRIMARY KEY, note TEXT) PARTITION BY HASH (id)')
  for (let r = 0; r < 4; r++) {
    await u1.query(`CREATE TABLE orders_shard_${r} PARTITION OF orders FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`)
    await u1.query(`ALTER TABLE orders_shard_${r} SET (shard_location = 'u1')`)
  }
  await u1.query(`INSERT INTO orders SELECT g, repeat('x', 100) || g FROM generate_series(1, ${ROWS}) g`)
  await cluster.settle()
  return cluster
}

describe('ALTER TABLE .. REBALANCE SHARDS', () => {
  it('plans moves that even the bytes over the region’s nodes, then moves the shards and drops the old copies', async () => {
    const cluster = await ordersOnU1(1681)
    const u3 = cluster.node('u3')
    const plan = (await cluster.run(u3.query("SELECT shard, partition, rows, from_nodes, to_nodes, action FROM concord_rebalance_plan('orders') ORDER BY partition"))).rows
    expect(plan).toHaveLength(4)
    expect(plan.reduce((n, r) => n + Number(r['rows']), 0)).toBe(ROWS)
    for (const r of plan) expect(r['from_nodes']).toBe('u1')
    const after = new Map<string, number>()
    for (const r of plan) for (const n of String(r['to_nodes']).split(',')) after.set(n, (after.get(n) ?? 0) + 1)
    expect([...after.values()].sort()).toEqual([1, 1, 2])
    expect(plan.filter((r) => r['action'] === 'move')).toHaveLength(2)

    await cluster.run(u3.query('ALTER TABLE orders REBALANCE SHARDS'))
    const states = async () => (await cluster.run(cluster.node('u1').query('SELECT shard, from_nodes, to_nodes, bytes_total, bytes_done, state FROM pg_stat_concord_rebalance ORDER BY shard'))).rows
    expect((await states()).map((r) => r['state'])).toEqual(['copying', 'copying'])
    // While the new holders catch up, every node answers whole (they read from u1 meanwhile).
    for (const id of ['u1', 'u2', 'u3']) expect((await cluster.run(cluster.node(id).query('SELECT count(*)::int AS k FROM orders'))).rows).toEqual([{ k: ROWS }])
    for (let i = 0; i < 120 && (await states()).some((r) => r['state'] !== 'done'); i++) await cluster.advance(1000)
    const done = await states()
    expect(done.map((r) => r['state'])).toEqual(['done', 'done'])
    for (const r of done) expect(r['bytes_done']).toBe(r['bytes_total'])
    // The plan is balanced now: nothing more to move.
    expect((await cluster.run(u3.query("SELECT count(*)::int AS k FROM concord_rebalance_plan('orders') WHERE action = 'move'"))).rows).toEqual([{ k: 0 }])

    // Old copies dropped, on disk too, once the new holders have them all.
    const moved = done.map((r) => ({ partition: Number(String(r['shard']).slice('orders_shard_'.length)), to: String(r['to_nodes']) }))
    for (let i = 0; i < 120; i++) {
      const u1 = await storedPartitions(cluster.node('u1'), 'orders')
      if (u1.disk.length === 2 && u1.memory.length === 2) break
      await cluster.advance(1000)
    }
    const kept = [0, 1, 2, 3].filter((p) => !moved.some((m) => m.partition === p))
    expect(await storedPartitions(cluster.node('u1'), 'orders')).toEqual({ disk: kept, memory: kept })
    for (const m of moved) expect((await storedPartitions(cluster.node(m.to), 'orders')).disk).toEqual([m.partition])
    for (const id of ['u1', 'u2', 'u3']) {
      expect((await cluster.run(cluster.node(id).query('SELECT count(*)::int AS k, count(DISTINCT id)::int AS d FROM orders'))).rows).toEqual([{ k: ROWS, d: ROWS }])
    }
    const session = u3.session()
    await session.query('BEGIN')
    expect(await codeOf(cluster.run(session.query('ALTER TABLE orders REBALANCE SHARDS')))).toBe(SqlState.activeSqlTransaction)
    await session.query('ROLLBACK')
    await cluster.close()
  })

  it('loses and duplicates no acknowledged write while shards move under writes and the receiving node is killed mid-move', async () => {
    const cluster = await ordersOnU1(1682)
    const acked = new Set<number>()
    const attempted = new Set<number>()
    let next = ROWS + 1
    /** Inserts one row on the first node that takes it (a row routed to a shard held elsewhere is refused there: 0A000). */
    const write = async (nodes: string[]) => {
      const id = next++
      attempted.add(id)
      for (const n of nodes) {
        try {
          await cluster.run(cluster.node(n).query(`INSERT INTO orders VALUES (${id}, 'w${id}')`), 30_000)
          acked.add(id)
          return
        } catch {
          // Refused or unreachable here: the next node is tried.
        }
      }
    }
    await cluster.run(cluster.node('u3').query('ALTER TABLE orders REBALANCE SHARDS'))
    // The plan reaches u1 by gossip: in the run's steps, or a few virtual ms after it ended
    // (a statement answered in fewer microtask turns ends the run sooner: 2026-12-06).
    const copying = async () => (await cluster.node('u1').query("SELECT to_nodes FROM pg_stat_concord_rebalance WHERE state = 'copying'")).rows.map((r) => String(r['to_nodes']))
    let runners = await copying()
    for (let i = 0; i < 100 && runners.length < 2; i++) {
      await cluster.advance(5)
      runners = await copying()
    }
    expect(runners.length).toBe(2)
    const victim = runners[0]!
    for (let i = 0; i < 3; i++) await write(['u1', 'u2', 'u3'])
    // Mid-move: the victim's shard is still being copied to it.
    expect((await cluster.node('u1').query(`SELECT state FROM pg_stat_concord_rebalance WHERE to_nodes = '${victim}'`)).rows).toEqual([{ state: 'copying' }])
    cluster.crash(victim)
    for (let i = 0; i < 60; i++) await write(['u1', 'u2', 'u3'].filter((n) => n !== victim))
    await cluster.restart(victim)
    for (let i = 0; i < 60; i++) await write(['u1', 'u2', 'u3'])
    const states = async () => (await cluster.run(cluster.node('u1').query('SELECT state FROM pg_stat_concord_rebalance'))).rows.map((r) => r['state'])
    for (let i = 0; i < 120 && (await states()).some((s) => s !== 'done'); i++) await cluster.advance(1000)
    expect(await states()).toEqual(['done', 'done'])
    for (let i = 0; i < 60; i++) await write(['u1', 'u2', 'u3'])
    await cluster.settle()
    expect(acked.size).toBeGreaterThan(150)
    for (const id of ['u1', 'u2', 'u3']) {
      const ids = (await cluster.run(cluster.node(id).query(`SELECT id FROM orders WHERE id > ${ROWS} ORDER BY id`))).rows.map((r) => Number(r['id']))
      expect(new Set(ids).size).toBe(ids.length)
      for (const a of acked) expect(ids).toContain(a)
      for (const x of ids) expect(attempted.has(x)).toBe(true)
      expect((await cluster.run(cluster.node(id).query(`SELECT count(*)::int AS k FROM orders WHERE id <= ${ROWS}`))).rows).toEqual([{ k: ROWS }])
    }
    await cluster.close()
  })
})
