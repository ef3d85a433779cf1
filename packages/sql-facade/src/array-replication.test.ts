import { describe, expect, it } from 'vitest'
import { SimCluster } from './sim-cluster.js'

describe('array columns across nodes', () => {
  it('replicate with their shape, bounds and NULLs, survive a restart, and merge concurrent writes per column', async () => {
    const cluster = await SimCluster.create({ seed: 5, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query('CREATE TABLE docs (id INT PRIMARY KEY, tags TEXT[], grid INT[][], amounts NUMERIC(8,2)[])')
    await a.query(`INSERT INTO docs VALUES (1, '{red,"dark blue",NULL}', '[0:1][1:2]={{1,2},{3,4}}', '{1.5,NULL}')`)
    await cluster.settle()
    const expected = [{ id: 1, tags: '{red,"dark blue",NULL}', grid: '[0:1][1:2]={{1,2},{3,4}}', amounts: '{1.50,NULL}' }]
    expect((await cluster.node('b').query('SELECT * FROM docs')).rows).toEqual(expected)
    expect((await cluster.node('b').query(`SELECT id FROM docs WHERE 'dark blue' = ANY(tags) AND grid[0][2] = 2`)).rows).toEqual([{ id: 1 }])

    cluster.partition(['a'], ['b'])
    await a.query(`UPDATE docs SET tags[4] = 'green' WHERE id = 1`)
    await cluster.node('b').query('UPDATE docs SET grid[1][1] = 30 WHERE id = 1')
    cluster.heal()
    await cluster.settle()
    const merged = [{ tags: '{red,"dark blue",NULL,green}', grid: '[0:1][1:2]={{1,2},{30,4}}' }]
    for (const id of ['a', 'b']) expect((await cluster.node(id).query('SELECT tags, grid FROM docs')).rows).toEqual(merged)

    cluster.crash('b')
    const b = await cluster.restart('b')
    await cluster.settle()
    expect((await b.query('SELECT tags, grid FROM docs')).rows).toEqual(merged)
    await cluster.close()
  })
})
