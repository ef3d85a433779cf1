import { afterEach, describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

let cluster: SimCluster | null = null
afterEach(async () => {
  await cluster?.close()
  cluster = null
})

describe('UNIQUE checks on UPDATE', () => {
  it('only a unique key the UPDATE moves is looked up: a duplicate two partitioned nodes accepted does not block other columns', async () => {
    cluster = await SimCluster.create({ seed: 7, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE, note text)')
    await cluster.settle()

    cluster.partition(['a'], ['b'])
    await a.query("INSERT INTO t VALUES (1, 'x', null)")
    await b.query("INSERT INTO t VALUES (2, 'x', null)") // each node checked against its own rows
    cluster.heal()
    await cluster.settle()
    expect((await a.query('SELECT id, code FROM t ORDER BY id')).rows).toEqual([{ id: 1, code: 'x' }, { id: 2, code: 'x' }])

    // The key stays where it was: nothing new collides, the row can be changed (as a broken foreign key's child can).
    await a.query("UPDATE t SET note = 'seen' WHERE id = 1")
    await a.query("UPDATE t SET code = 'x', note = 'again' WHERE id = 2") // assigned, but to the same value
    expect((await a.query('SELECT id, note FROM t ORDER BY id')).rows).toEqual([{ id: 1, note: 'seen' }, { id: 2, note: 'again' }])

    // A key that moves is checked as before.
    await a.query("INSERT INTO t VALUES (3, 'y', null)")
    await expect(a.query("UPDATE t SET code = 'x' WHERE id = 3")).rejects.toMatchObject({ code: '23505' })
    await expect(a.query("UPDATE t SET code = 'y' WHERE id = 1")).rejects.toMatchObject({ code: '23505' })
    await expect(a.query('UPDATE t SET code = NULL WHERE id = 1')).resolves.toBeDefined()
    // NULL -> 'x' moves the key too, onto a taken value.
    await expect(a.query("UPDATE t SET code = 'x' WHERE id = 1")).rejects.toMatchObject({ code: '23505' })
  })
})
