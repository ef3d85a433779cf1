import { afterEach, describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

let cluster: SimCluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

const count = async (c: SimCluster, node: string, table: string): Promise<number> =>
  Number((await c.node(node).query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!['n'])

describe('ATTACH / DETACH PARTITION across masters', () => {
  it('keeps a row written through the parent on one node while another detaches its partition', async () => {
    cluster = await SimCluster.create({ seed: 5, nodes: [{ id: 'a' }, { id: 'b' }] })
    for (const s of [
      'CREATE TABLE parted (id int PRIMARY KEY, a int) PARTITION BY RANGE (a)',
      'CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)',
      'INSERT INTO parted VALUES (1, 1), (2, 2)',
    ]) await cluster.node('a').query(s)
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await cluster.node('a').query('ALTER TABLE parted DETACH PARTITION parted_1')
    await cluster.node('b').query('INSERT INTO parted VALUES (3, 3)')
    cluster.heal()
    await cluster.settle()
    for (const n of ['a', 'b']) {
      // The detached rows are the standalone table's; the concurrent row stays in the parent.
      expect(await count(cluster, n, 'parted_1')).toBe(2)
      expect((await cluster.node(n).query('SELECT id FROM parted')).rows).toEqual([{ id: 3 }])
    }
  })

  it('keeps a row written into a table on one node while another attaches it, readable once detached again', async () => {
    cluster = await SimCluster.create({ seed: 6, nodes: [{ id: 'a' }, { id: 'b' }] })
    for (const s of [
      'CREATE TABLE parted (id int PRIMARY KEY, a int) PARTITION BY RANGE (a)',
      'CREATE TABLE standalone (id int PRIMARY KEY, a int)',
      'INSERT INTO standalone VALUES (1, 1)',
    ]) await cluster.node('a').query(s)
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await cluster.node('a').query('ALTER TABLE parted ATTACH PARTITION standalone FOR VALUES FROM (0) TO (10)')
    await cluster.node('b').query('INSERT INTO standalone VALUES (2, 2)')
    cluster.heal()
    await cluster.settle()
    expect(await count(cluster, 'a', 'parted')).toBe(1)
    expect(await count(cluster, 'b', 'parted')).toBe(1)
    await cluster.node('b').query('ALTER TABLE parted DETACH PARTITION standalone')
    await cluster.settle()
    for (const n of ['a', 'b']) expect((await cluster.node(n).query('SELECT id FROM standalone ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }])
  })
})
