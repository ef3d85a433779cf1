import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'
import { UniqueWatch } from './unique-watch.js'

async function pair(seed: number) {
  const cluster = await SimCluster.create({ seed, nodes: [{ id: 'a' }, { id: 'b' }] })
  return { cluster, a: cluster.node('a'), b: cluster.node('b') }
}

describe('UniqueWatch', () => {
  it('looks for a table\'s UNIQUE constraints once, not per change from another node, when it has none', async () => {
    const { cluster, a, b } = await pair(41)
    const watch = new UniqueWatch(b.replica, () => {})
    const off = b.replica.on('change', (changes) => watch.onChanges(changes))
    await a.query('CREATE TABLE plain (id INT PRIMARY KEY, v TEXT)')
    await cluster.settle()
    for (let i = 1; i <= 20; i++) await a.query(`INSERT INTO plain VALUES (${i}, 'v${i}')`)
    await cluster.settle()
    expect((await b.query('SELECT count(*)::int AS n FROM plain')).rows).toEqual([{ n: 20 }])
    expect(watch.builds).toBe(1)
    off()
    await cluster.close()
  })

  it('a UNIQUE index created after a table\'s remote changes were seen still reports duplicates', async () => {
    const { cluster, a, b } = await pair(42)
    await a.query('CREATE TABLE users (id INT PRIMARY KEY, email TEXT)')
    await cluster.settle()
    await a.query("INSERT INTO users VALUES (1, 'first@example.com')")
    await cluster.settle()
    await a.query('CREATE UNIQUE INDEX users_email ON users (email)')
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("INSERT INTO users VALUES (2, 'x@example.com')")
    await b.query("INSERT INTO users VALUES (3, 'x@example.com')")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) {
      const rows = (await db.query("SELECT key, kind, losing_values FROM concord_conflicts WHERE kind = 'unique'")).rows
      expect(rows).toEqual([{ key: '(2)', kind: 'unique', losing_values: '{(3)}' }])
    }
    await cluster.close()
  })
})
