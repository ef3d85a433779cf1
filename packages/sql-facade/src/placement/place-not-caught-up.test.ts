/**
 * Placing a partition on a node that has not caught up on its table is refused (55000),
 * and works once it has. Before, the placement was taken: the former holders handed their
 * copies over to that node once it held every update of them, after which no node listed
 * the shard, no exchange could prove the node caught up, and reads of the table failed
 * (08001) on every node for good.
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

describe('shard_location on a node not caught up on the table', () => {
  it('is refused until the node has caught up, then placed and read everywhere', async () => {
    const cluster = await SimCluster.create({ seed: 31, nodes: [{ id: 'a', region: 'default' }, { id: 'b', region: 'default' }] })
    try {
      await cluster.settle()
      const a = cluster.node('a')
      // The table is made before c's joined record reaches a (c joins while cut off from
      // a and b): its creation marks a and b caught up on it, not c.
      await cluster.addNode({ id: 'c', region: 'default' })
      cluster.partition(['c'], ['a', 'b'])
      await cluster.run(a.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT) PARTITION BY HASH (id)'))
      cluster.heal()
      // a learns of c (its member and joined records) before c has caught up on the table;
      // then c is cut off again, so it stays behind (a repair ending under another catalog
      // asks for a digest at once: c is caught up moments after the heal otherwise).
      for (let i = 0; i < 1000 && a.replica.listCatalog('joined').every(([n]) => n !== 'c'); i++) await cluster.advance(1)
      cluster.partition(['c'], ['a', 'b'])
      for (let r = 0; r < 2; r++) await cluster.run(a.query(`CREATE TABLE items_${r} PARTITION OF items FOR VALUES WITH (MODULUS 2, REMAINDER ${r})`))
      await cluster.run(a.query("INSERT INTO items SELECT g, 'seed' FROM generate_series(1, 20) g"))
      const caughtUp = (): boolean => cluster.node('a').replica.nodeCaughtUp('c', 'default', cluster.node('a').replica.table('items')!)
      expect(caughtUp()).toBe(false)
      const refused = await cluster.run(a.query("ALTER TABLE items_1 SET (shard_location = 'c')")).then(() => null, (e: { code?: string; message: string }) => e)
      expect(refused).toMatchObject({ code: SqlState.objectNotInPrerequisiteState, message: 'cannot place "items_1" on node c yet: it has not caught up on "items"' })
      cluster.heal()
      for (let i = 0; i < 60 && !caughtUp(); i++) await cluster.advance(500)
      expect(caughtUp()).toBe(true)
      await cluster.run(a.query("ALTER TABLE items_1 SET (shard_location = 'c')"))
      await cluster.settle()
      for (const n of ['a', 'b', 'c']) {
        expect((await cluster.run(cluster.node(n).query('SELECT count(*)::int AS k FROM items'))).rows, n).toEqual([{ k: 20 }])
      }
    } finally {
      await cluster.close()
    }
  }, 120_000)
})
