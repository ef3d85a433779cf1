import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'

describe('numeric NaN and infinities', () => {
  it('are stored, indexed, replicated and read back after a restart, sorted as PostgreSQL sorts them', async () => {
    const cluster = await SimCluster.create({ seed: 11, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query('CREATE TABLE m (k numeric PRIMARY KEY, v numeric(6,2))')
    await a.query('CREATE INDEX m_v ON m (v)')
    await a.query("INSERT INTO m VALUES ('NaN', 'NaN'), ('Infinity', 1.5), ('-inf', -2), (0, NULL)")
    expect(await a.query("INSERT INTO m VALUES (1, 'Infinity')").catch((e: { code: string }) => e.code)).toBe('22003')
    await cluster.settle()
    cluster.crash('b')
    await cluster.restart('b')
    const b = cluster.node('b')
    const rows = (await b.query('SELECT k, v FROM m ORDER BY k')).rows
    expect(rows).toEqual([
      { k: '-Infinity', v: '-2.00' },
      { k: '0', v: null },
      { k: 'Infinity', v: '1.50' },
      { k: 'NaN', v: 'NaN' },
    ])
    expect((await b.query("SELECT k FROM m WHERE v = 'NaN'")).rows).toEqual([{ k: 'NaN' }])
    expect((await b.query("SELECT sum(k)::text AS s, max(k)::text AS mx FROM m WHERE k <> 'NaN'")).rows).toEqual([{ s: 'NaN', mx: 'Infinity' }])
    await cluster.close()
  })
})
