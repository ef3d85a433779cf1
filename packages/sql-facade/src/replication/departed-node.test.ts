import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

describe('pg_nodes and departed members', () => {
  it('a node silent past the horizon shows as departed, and online again once it is back', async () => {
    const options = { compaction: { departAfterMs: 20_000 } }
    const cluster = await SimCluster.create({
      seed: 5,
      nodes: [
        { id: 'a', options },
        { id: 'b', options },
        { id: 'c', options },
      ],
    })
    await cluster.node('a').query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT)')
    await cluster.settle()
    cluster.crash('c')
    await cluster.advance(30_000)
    const status = async (on: string) => (await cluster.node(on).query("SELECT node_id, status FROM pg_nodes WHERE node_id = 'c'")).rows[0]?.status
    expect(await status('a')).toBe('departed')
    expect(await status('b')).toBe('departed')
    await cluster.restart('c')
    await cluster.settle()
    await cluster.advance(2_000)
    expect(await status('a')).toBe('online')
    await cluster.close()
  })
})
