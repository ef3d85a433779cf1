import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

/**
 * Two masters insert the same key while partitioned, each naming different columns: the
 * columns an INSERT did not name take their defaults, but a default never overwrites a
 * value the other node wrote (issue 11, "partial inserts").
 */
describe('concurrent inserts of one key naming different columns', () => {
  it('keep both named values after the partition heals, whichever insert came later', async () => {
    for (const later of ['a', 'b']) {
      const cluster = await SimCluster.create({ seed: 21, nodes: [{ id: 'a' }, { id: 'b' }] })
      const a = cluster.node('a')
      const b = cluster.node('b')
      await a.query('CREATE TABLE t (id INT PRIMARY KEY, x INT, y TEXT, z INT DEFAULT 5)')
      await cluster.settle()
      cluster.partition(['a'], ['b'])
      const first = later === 'a' ? b : a
      const second = later === 'a' ? a : b
      await (first === a ? a.query('INSERT INTO t (id, x) VALUES (1, 10)') : b.query("INSERT INTO t (id, y) VALUES (1, 'from b')"))
      await cluster.advance(50)
      await (second === a ? a.query('INSERT INTO t (id, x) VALUES (1, 10)') : b.query("INSERT INTO t (id, y) VALUES (1, 'from b')"))
      cluster.heal()
      await cluster.settle()
      for (const db of [a, b]) expect((await db.query('SELECT id, x, y, z FROM t')).rows).toEqual([{ id: 1, x: 10, y: 'from b', z: 5 }])
      await cluster.close()
    }
  })

  it('an explicit value beats a concurrent non-null default, and explicit values still follow the policy', async () => {
    const cluster = await SimCluster.create({ seed: 22, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE TABLE inv (id INT PRIMARY KEY, qty INT NOT NULL DEFAULT 100, location TEXT NOT NULL DEFAULT 'dock')")
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("INSERT INTO inv (id, location) VALUES (1, 'shelf')")
    await cluster.advance(50)
    // later in time, but qty comes from its default and location is named
    await b.query("INSERT INTO inv (id, qty, location) VALUES (1, 3, 'bin')")
    cluster.heal()
    await cluster.settle()
    // qty: b named it (3) against a's default (100); location: both named, last write wins
    for (const db of [a, b]) expect((await db.query('SELECT id, qty, location FROM inv')).rows).toEqual([{ id: 1, qty: 3, location: 'bin' }])
    await cluster.close()
  })

  it('a later update of a defaulted column is an ordinary write', async () => {
    const cluster = await SimCluster.create({ seed: 23, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE t (id INT PRIMARY KEY, x INT DEFAULT 1)')
    await a.query('INSERT INTO t (id) VALUES (1)')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await b.query('UPDATE t SET x = 2 WHERE id = 1')
    await cluster.advance(50)
    await a.query('UPDATE t SET x = 3 WHERE id = 1')
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) expect((await db.query('SELECT x FROM t')).rows).toEqual([{ x: 3 }])
    await cluster.close()
  })
})
