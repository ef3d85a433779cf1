import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

describe('roles replicate through the catalog', () => {
  it('a role and its grants created on one node apply on the other after sync', async () => {
    const cluster = await SimCluster.create({ seed: 151, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    await a.query("CREATE ROLE alice LOGIN PASSWORD 'pw'")
    await a.query('GRANT SELECT ON t TO alice')
    await cluster.settle()
    expect((await b.query("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'alice'")).rows).toEqual([{ rolname: 'alice', rolcanlogin: true }])
    expect(b.roles().role('alice')?.password).toBe(a.roles().role('alice')?.password)
    const alice = b.session({ user: 'alice' })
    expect((await alice.query('SELECT v FROM t')).rows).toEqual([{ v: 'one' }])
    expect(await sqlState(alice, "INSERT INTO t VALUES (2, 'two')")).toBe('42501')
    // Once a LOGIN role reached b, b refuses unknown roles too.
    expect(await sqlState(b.session({ user: 'mallory' }), 'SELECT 1')).toBe('28000')
    await cluster.close()
  })

  it('keeps both of two grants made concurrently on partitioned nodes', async () => {
    const cluster = await SimCluster.create({ seed: 152, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await a.query('CREATE ROLE alice LOGIN')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query('GRANT SELECT ON t TO alice')
    await b.query('GRANT INSERT ON t TO alice')
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      const r = await db.query("SELECT has_table_privilege('alice', 't', 'SELECT') AS s, has_table_privilege('alice', 't', 'INSERT') AS i")
      expect(r.rows).toEqual([{ s: true, i: true }])
    }
    await cluster.close()
  })

  it('shows a role only the conflicts of tables it may read', async () => {
    const cluster = await SimCluster.create({ seed: 153, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE TABLE secret (k TEXT PRIMARY KEY, v TEXT); INSERT INTO secret VALUES ('x', 'init')")
    await a.query('CREATE ROLE alice LOGIN')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("UPDATE secret SET v = 'from a' WHERE k = 'x'")
    await cluster.advance(20)
    await b.query("UPDATE secret SET v = 'from b' WHERE k = 'x'")
    cluster.heal()
    await cluster.settle()
    const count = 'SELECT count(*)::int AS n FROM concord_conflicts'
    expect((await a.query(count)).rows).toEqual([{ n: 1 }])
    expect((await a.session({ user: 'alice' }).query(count)).rows).toEqual([{ n: 0 }])
    await a.query('GRANT SELECT ON secret TO alice')
    expect((await a.session({ user: 'alice' }).query(count)).rows).toEqual([{ n: 1 }])
    await cluster.close()
  })
})
