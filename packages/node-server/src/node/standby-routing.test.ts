/**
 * What a client learns at connection start in active_passive mode: the primary reports
 * in_hot_standby and default_transaction_read_only off, a standby on (ParameterStatus, as
 * PostgreSQL 14+), so libpq's target_session_attrs routes without a query; /metrics
 * shows the epoch and the standby.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode } from './concord-node.js'

const nodes: ConcordNode[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function start(nodeId: string, join: string[] = []): Promise<ConcordNode> {
  const d = mkdtempSync(`${tmpdir()}/concord-standby-`)
  dirs.push(d)
  const n = await ConcordNode.start({ dataDir: d, nodeId, pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', join })
  nodes.push(n)
  return n
}

/** The ParameterStatus values a new connection receives, and the client. */
async function connect(node: ConcordNode): Promise<{ client: pg.Client; params: Record<string, string> }> {
  const client = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
  const params: Record<string, string> = {}
  const conn = (client as unknown as { connection: { on(e: 'parameterStatus', fn: (m: { parameterName: string; parameterValue: string }) => void): void } }).connection
  conn.on('parameterStatus', (m) => {
    params[m.parameterName] = m.parameterValue
  })
  await client.connect()
  return { client, params }
}

async function eventually(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  for (let i = 0; i < 10_000; i++) {
    if (await cond()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('standby routing over the wire', () => {
  it('a standby reports in_hot_standby and default_transaction_read_only on at startup, the primary off, and open sessions hear of a promotion', async () => {
    const a = await start('sr-a')
    const b = await start('sr-b', [`127.0.0.1:${a.pgPort}`])
    const before = await connect(b)
    expect([before.params['in_hot_standby'], before.params['default_transaction_read_only']]).toEqual(['off', 'off'])
    await before.client.end()

    const { client: ca } = await connect(a)
    await ca.query("SET high_availability_mode = 'active_passive'")
    await ca.end()
    await eventually(async () => {
      const { client } = await connect(b)
      try {
        return (await client.query('SELECT pg_is_in_recovery() AS r')).rows[0]?.r === true
      } finally {
        await client.end()
      }
    }, 30_000, 'sr-b a standby')

    const primary = await connect(a)
    const standby = await connect(b)
    expect([primary.params['in_hot_standby'], primary.params['default_transaction_read_only']]).toEqual(['off', 'off'])
    expect([standby.params['in_hot_standby'], standby.params['default_transaction_read_only']]).toEqual(['on', 'on'])
    await expect(standby.client.query('CREATE TABLE t (k INT PRIMARY KEY)')).rejects.toMatchObject({ code: '25006' })

    // Open sessions hear of a role change before their next ReadyForQuery, as PostgreSQL 14+ reports in_hot_standby.
    expect((await standby.client.query('SELECT pg_promote() AS p')).rows[0]?.p).toBe(true)
    expect([standby.params['in_hot_standby'], standby.params['default_transaction_read_only']]).toEqual(['off', 'off'])
    await eventually(async () => {
      await primary.client.query('SELECT 1')
      return primary.params['in_hot_standby'] === 'on'
    }, 30_000, 'sr-a told of its demotion')
    expect(primary.params['default_transaction_read_only']).toBe('on')
    await primary.client.end()
    await standby.client.end()
    const metric = (n: ConcordNode, name: string) => n.metrics().find((m) => m.name === name)?.value
    expect([metric(b, 'concord_standby'), metric(b, 'concord_failover_epoch')]).toEqual([0, 2])
    expect([metric(a, 'concord_standby'), metric(a, 'concord_failover_epoch')]).toEqual([1, 2])
  })
})
