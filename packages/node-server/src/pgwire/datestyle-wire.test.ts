/**
 * DateStyle and IntervalStyle over the wire: a client hears their values at startup and
 * a ParameterStatus when the session changes them (as PostgreSQL reports them), and the
 * rows it reads are printed in them (binary results of dates need ISO, else 0A000).
 */
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode } from '../node/concord-node.js'

const nodes: ConcordNode[] = []
/** A query whose results come in binary format (node-postgres reads `binary`, its types do not list it). */
const binaryQuery = (text: string, values: unknown[]): pg.QueryConfig => ({ text, values, binary: true }) as pg.QueryConfig
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
})

describe('DateStyle over the wire', () => {
  it('is reported at startup and on change, and prints the rows the client reads', async () => {
    const node = await ConcordNode.start({ memory: true, p2p: false, nodeId: 'ds-a', pgPort: 0, pgPortSearch: false })
    nodes.push(node)
    const client = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
    const params: Record<string, string> = {}
    const conn = (client as unknown as { connection: { on(e: 'parameterStatus', fn: (m: { parameterName: string; parameterValue: string }) => void): void } }).connection
    conn.on('parameterStatus', (m) => {
      params[m.parameterName] = m.parameterValue
    })
    // Read dates as the text the server sends.
    const text = { getTypeParser: () => (v: string) => v }
    await client.connect()
    try {
      expect([params['DateStyle'], params['IntervalStyle']]).toEqual(['ISO, MDY', 'postgres'])
      await client.query("SET DateStyle = 'German'")
      await client.query('SET IntervalStyle = iso_8601')
      expect([params['DateStyle'], params['IntervalStyle']]).toEqual(['German, DMY', 'iso_8601'])
      const r = await client.query({ text: "SELECT '1997-02-10'::date AS d, interval '1 day 2 hours' AS i", types: text })
      expect(r.rows).toEqual([{ d: '10.02.1997', i: 'P1DT2H' }])
      // The binary format is made from ISO text: in another style it is refused, not misread.
      await expect(client.query(binaryQuery('SELECT $1::date AS d', ['1997-02-10']))).rejects.toMatchObject({ code: '0A000' })
      await client.query("SET DateStyle = 'ISO'")
      const b = await client.query(binaryQuery('SELECT $1::date AS d', ['1997-02-10']))
      expect(b.rowCount).toBe(1)
    } finally {
      await client.end()
    }
  })
})
