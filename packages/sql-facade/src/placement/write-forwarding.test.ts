/**
 * Write forwarding: a write on a node outside a table's regions runs on a holder and is
 * acknowledged once durable there; an unreachable holder is passed over for another; a
 * holder that stays silent after the write was sent ends it with 08007 (it may have run
 * there), never a second try elsewhere.
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await work
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code ?? 'no code', message: (e as Error).message }
  }
}

describe('a write forwarded to a holder', () => {
  it('runs on a reachable holder, durable there when acknowledged; with the outcome unknown it fails with 08007', async () => {
    const cluster = await SimCluster.create({
      seed: 1681,
      nodes: [
        { id: 'w1', region: 'us-west' },
        { id: 'w2', region: 'us-west' },
        { id: 'x', region: 'ap-southeast' },
      ],
    })
    const [w1, w2, x] = ['w1', 'w2', 'x'].map((id) => cluster.node(id))
    await w1!.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await cluster.settle()

    const r = await cluster.run(x!.query("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5) g"))
    expect([r.command, r.rowCount]).toEqual(['INSERT', 5])
    // Durable on the holder that ran it when acknowledged: it is there before any settling.
    const on = await Promise.all([w1!, w2!].map(async (db) => db.replica.rowCount('t')))
    expect(on).toContain(5)
    await cluster.settle()

    // The nearest holder is cut off: the other one takes the write.
    cluster.partition(['w1'], ['w2', 'x'])
    await cluster.advance(20_000)
    expect((await cluster.run(x!.query("UPDATE t SET v = 'y' WHERE id <= 2"))).rowCount).toBe(2)
    expect((await w2!.query("SELECT count(*)::int AS k FROM t WHERE v = 'y'")).rows).toEqual([{ k: 2 }])
    cluster.heal()
    await cluster.settle()

    // Every message lost: the write was sent, no answer came. Not tried on another holder.
    cluster.sim.setFaults({ drop: 1 })
    const f = await failure(cluster.run(x!.query("INSERT INTO t VALUES (6, 'lost')"), 120_000))
    cluster.sim.setFaults({ drop: 0 })
    expect(f?.code).toBe(SqlState.transactionResolutionUnknown)
    expect(f?.message).toMatch(/node w[12] did not answer/)
    await cluster.settle()
    expect((await w1!.query('SELECT count(*)::int AS k FROM t WHERE id = 6')).rows).toEqual([{ k: 0 }])
    await cluster.close()
  })

  it('refuses a forwarded call that is not a write of rows (a peer sending DDL or role changes as superuser)', async () => {
    const cluster = await SimCluster.create({ seed: 7, nodes: [{ id: 'w1', region: 'us-west' }, { id: 'x', region: 'ap-southeast' }] })
    const [w1, x] = ['w1', 'x'].map((id) => cluster.node(id))
    await cluster.settle()
    const body = new TextEncoder().encode(JSON.stringify({ sql: 'CREATE ROLE mallory SUPERUSER LOGIN', params: [], user: 'concord' }))
    const reply = JSON.parse(new TextDecoder().decode(await cluster.run(x!.replica.call('w1', 'sql/forward', body, 30_000)))) as { error?: { code: string } }
    expect(reply.error?.code).toBe(SqlState.insufficientPrivilege)
    expect((await w1!.query("SELECT count(*)::int AS k FROM pg_roles WHERE rolname = 'mallory'")).rows).toEqual([{ k: 0 }])
    await cluster.close()
  })
})
