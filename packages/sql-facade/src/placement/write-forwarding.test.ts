/**
 * Write forwarding: a write on a node outside a table's regions runs on a holder and is
 * acknowledged once durable there; an unreachable holder is passed over for another; a
 * holder that stays silent after the write was sent ends it with 08007 (it may have run
 * there), never a second try elsewhere. A write with RETURNING gets the holder's rows
 * back as a local statement would; rows past the reply limit fail it with 54000 before it
 * commits there; a malformed reply is 08007.
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'
import { FORWARD_TOPIC } from './write-forwarding.js'

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

  it('returns the rows of RETURNING as the holder wrote them, with the columns and values a local statement gives', async () => {
    const cluster = await SimCluster.create({ seed: 1682, nodes: [{ id: 'w1', region: 'us-west' }, { id: 'x', region: 'ap-southeast' }] })
    const [w1, x] = ['w1', 'x'].map((id) => cluster.node(id))
    const create = (name: string, regions: string) =>
      `CREATE TABLE ${name} (id SERIAL PRIMARY KEY, big BIGINT, ok BOOLEAN, f FLOAT8, b BYTEA, n NUMERIC(6,2), at TIMESTAMPTZ, tags TEXT[], v VARCHAR(8)) WITH (replication_regions = '${regions}')`
    await w1!.query(create('t', 'us-west'))
    await w1!.query(create('here', 'us-west,ap-southeast'))
    await cluster.settle()
    const insert = (name: string) =>
      `INSERT INTO ${name} (big, ok, f, b, n, at, tags, v) VALUES (9007199254740993, true, 0.1, '\\x00ff', 1.5, '2026-12-01 12:00:00+00', '{a,"b c"}', 'v'), (NULL, false, -2.5e-7, NULL, NULL, NULL, NULL, NULL) RETURNING *`
    const there = await cluster.run(x!.query(insert('t')))
    const local = await cluster.run(x!.query(insert('here')))
    expect([there.commandTag, there.returnsRows]).toEqual(['INSERT 0 2', true])
    expect(there.fields).toEqual(local.fields)
    // The same values, but for the serial ids (each node draws from ranges of its own).
    const noId = (rows: Array<Record<string, unknown>>) => rows.map(({ id: _id, ...rest }) => rest)
    expect(noId(there.rows)).toEqual(noId(local.rows))
    // The holder's serial values: what it stored.
    expect((await w1!.query('SELECT id FROM t ORDER BY id')).rows).toEqual(there.rows.map((r) => ({ id: r['id'] })))

    const u = await cluster.run(x!.query("UPDATE t SET v = 'w' WHERE ok RETURNING id, v AS renamed, f * 2 AS twice"))
    expect([u.commandTag, u.fields.map((f) => [f.name, f.oid]), u.rows]).toEqual(['UPDATE 1', [['id', 23], ['renamed', 1043], ['twice', 701]], [{ id: there.rows[0]!['id'], renamed: 'w', twice: 0.2 }]])
    // None matched: the columns, no rows.
    const none = await cluster.run(x!.query('DELETE FROM t WHERE id < 0 RETURNING id'))
    expect([none.commandTag, none.returnsRows, none.fields.map((f) => f.name), none.rows]).toEqual(['DELETE 0', true, ['id'], []])
    // The extended protocol: described here, run there, with text parameters.
    const s = x!.session()
    const prepared = await s.prepare('INSERT INTO t (v) VALUES ($1) RETURNING id, v')
    expect((await s.describe(prepared))?.map((f) => f.name)).toEqual(['id', 'v'])
    const e = await cluster.run(s.execute(prepared, ['p']))
    expect([e.commandTag, e.rows]).toEqual(['INSERT 0 1', [{ id: there.rows[1]!['id'] as number + 1, v: 'p' }]])
    await s.close()
    await cluster.close()
  })

  it('fails with 54000 before committing there when the returned rows pass the reply limit; a malformed reply is 08007', async () => {
    const cluster = await SimCluster.create({ seed: 1683, nodes: [{ id: 'w1', region: 'us-west' }, { id: 'x', region: 'ap-southeast' }] })
    const [w1, x] = ['w1', 'x'].map((id) => cluster.node(id))
    await w1!.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await cluster.settle()
    w1!.forwardReturningMaxChars = 200
    const big = await failure(cluster.run(x!.query("INSERT INTO t SELECT g, repeat('x', 20) FROM generate_series(1, 20) g RETURNING v")))
    expect(big?.code).toBe(SqlState.programLimitExceeded)
    expect(big?.message).toMatch(/exceed 200 characters.*nothing was written/)
    expect(await w1!.replica.rowCount('t')).toBe(0)
    // Within the limit, or without RETURNING: written.
    expect((await cluster.run(x!.query('INSERT INTO t VALUES (1) RETURNING id'))).rows).toEqual([{ id: 1 }])
    expect((await cluster.run(x!.query("INSERT INTO t SELECT g, repeat('x', 20) FROM generate_series(2, 20) g"))).rowCount).toBe(19)

    // A holder answering garbage: an error naming it, and the node goes on.
    w1!.replica.handleCalls(FORWARD_TOPIC, async () => new TextEncoder().encode('{"ok":{"command":"INSERT","rowCount":1,"columns":[{"name":"id"}],"rows":[["1"]]}}'))
    const bad = await failure(cluster.run(x!.query('INSERT INTO t VALUES (21) RETURNING id')))
    expect(bad?.code).toBe(SqlState.transactionResolutionUnknown)
    expect(bad?.message).toMatch(/node w1 sent a malformed reply/)
    expect((await cluster.run(x!.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: 20 }])
    await cluster.close()
  })
})
