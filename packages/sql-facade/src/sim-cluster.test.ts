import { describe, expect, it } from 'vitest'
import { SimCluster } from './sim-cluster.js'

describe('SimCluster', () => {
  it('partitioned updates of one price resolve to the larger with the custom resolver on both nodes', async () => {
    const cluster = await SimCluster.create({ seed: 7, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'eu-central' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT, price DECIMAL(10,2))')
    await a.query("INSERT INTO products (name, price) VALUES ('Widget', 99.99)")
    await a.query("SET conflict_resolution_policy = 'custom_function'")
    await a.query(`CREATE FUNCTION resolve_conflict(v1 ANY, v2 ANY) RETURNS ANY
      AS $$ SELECT CASE WHEN v1 > v2 THEN v1 ELSE v2 END; $$ LANGUAGE SQL`)
    await cluster.settle()
    expect((await b.query("SELECT price FROM products WHERE name = 'Widget'")).rows).toEqual([{ price: '99.99' }])
    expect((await b.query('SHOW conflict_resolution_policy')).rows[0]).toEqual({ conflict_resolution_policy: 'custom_function' })

    cluster.partition(['a'], ['b'])
    await a.query("UPDATE products SET price = 120.50 WHERE name = 'Widget'")
    await cluster.advance(10)
    // b writes later in real time: last-write-wins would pick 105.00.
    await b.query("UPDATE products SET price = 105.00 WHERE name = 'Widget'")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      expect((await db.query("SELECT price FROM products WHERE name = 'Widget'")).rows).toEqual([{ price: '120.50' }])
    }
    await cluster.close()
  })

  it('last_write_wins keeps the later write after a partition heals', async () => {
    const cluster = await SimCluster.create({ seed: 3, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT)')
    await a.query("INSERT INTO kv VALUES ('x', 1)")
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("UPDATE kv SET v = 100 WHERE k = 'x'")
    await cluster.advance(50)
    await b.query("UPDATE kv SET v = 2 WHERE k = 'x'")
    cluster.heal()
    await cluster.settle()
    expect((await a.query('SELECT v FROM kv')).rows).toEqual([{ v: 2 }])
    expect((await b.query('SELECT v FROM kv')).rows).toEqual([{ v: 2 }])
    await cluster.close()
  })

  it('a restarted node serves its own durable rows and catches up', async () => {
    const cluster = await SimCluster.create({ seed: 11, nodes: [{ id: 'a' }, { id: 'b' }] })
    await cluster.node('a').query('CREATE TABLE t (id BIGSERIAL PRIMARY KEY, note TEXT)')
    await cluster.settle()
    await cluster.node('b').query("INSERT INTO t (note) VALUES ('from b')")
    await cluster.settle()
    cluster.crash('b')
    await cluster.node('a').query("INSERT INTO t (note) VALUES ('while b was down')")
    const b = await cluster.restart('b')
    await cluster.settle()
    const rows = (await b.query('SELECT note FROM t ORDER BY note')).rows
    expect(rows).toEqual([{ note: 'from b' }, { note: 'while b was down' }])
    await cluster.close()
  })
})
