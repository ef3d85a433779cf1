/**
 * The seed's section 2 run literally on three `concord` processes (with real ports in
 * master_nodes): every node joins the masters it lists, an insert on each node appears
 * on all, pg_nodes shows three writable masters; ALTER SYSTEM SET master_nodes persists
 * across a restart and the node rejoins and catches up.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from '../cluster/concord-process.js'
import { hasPsql, psql } from './psql.js'

let dir: string
const nodes: ConcordProcess[] = []
let withPsql = false

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-mm-'))
  withPsql = await hasPsql()
  nodes.push(...(await Promise.all(['node1', 'node2', 'node3'].map((id) => ConcordProcess.start({ dataDir: join(dir, id), nodeId: id })))))
}, 60_000)

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function run(node: ConcordProcess, statements: string[]): Promise<void> {
  if (withPsql) await psql(node, ...statements)
  else for (const s of statements) await node.query(s)
}

const names = async (n: ConcordProcess) => (await n.query<{ name: string }>('SELECT name FROM products ORDER BY name')).rows.map((r) => r.name).join(',')

describe('multi-master (seed section 2)', () => {
  it('joins the listed masters and propagates inserts made on every node', async () => {
    const addr = (i: number) => `127.0.0.1:${nodes[i]!.pgPort}`
    // -- Node 1: Enable multi-master
    await run(nodes[0]!, ['SET multi_master_enabled = true;', 'SET node_id = 1;', `SET master_nodes = '${addr(1)},${addr(2)}';`])
    // -- Node 2: Same configuration
    await run(nodes[1]!, ['SET multi_master_enabled = true;', 'SET node_id = 2;', `SET master_nodes = '${addr(0)},${addr(2)}';`])
    // Node 3 persists its configuration (ALTER SYSTEM), checked after a restart below.
    await run(nodes[2]!, ['ALTER SYSTEM SET multi_master_enabled = true;', 'ALTER SYSTEM SET node_id = 3;', `ALTER SYSTEM SET master_nodes = '${addr(0)},${addr(1)}';`])
    await until(async () => (await Promise.all(nodes.map((n) => n.query('SELECT 1 FROM pg_stat_replication')))).every((r) => r.rows.length === 2), 20_000, 'a full mesh')

    await nodes[0]!.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT, price DECIMAL(10,2))')
    await until(async () => (await Promise.all(nodes.map((n) => n.query("SELECT 1 FROM pg_tables WHERE tablename = 'products'")))).every((r) => r.rows.length === 1), 20_000, 'the table everywhere')
    // -- Write on either node
    for (const [i, name] of [[0, 'Widget'], [1, 'Gadget'], [2, 'Gizmo']] as const) {
      await run(nodes[i]!, [`INSERT INTO products (name, price) VALUES ('${name}', 99.99);`])
    }
    // -- Changes propagate automatically
    await until(async () => (await Promise.all(nodes.map(names))).every((v) => v === 'Gadget,Gizmo,Widget'), 20_000, 'every insert on every node')

    const pgNodes = (await nodes[1]!.query('SELECT node_id, node_name, node_type, status FROM pg_nodes ORDER BY node_id')).rows
    expect(pgNodes).toEqual([
      { node_id: 'node1', node_name: '1', node_type: 'master', status: 'online' },
      { node_id: 'node2', node_name: '2', node_type: 'master', status: 'online' },
      { node_id: 'node3', node_name: '3', node_type: 'master', status: 'online' },
    ])
    const health = (await nodes[0]!.query('SELECT node_name, status, last_heartbeat, lag_bytes FROM pg_cluster_health')).rows
    expect(health.map((h) => h.status)).toEqual(['healthy', 'healthy', 'healthy'])
    expect(health.every((h) => h.last_heartbeat !== null)).toBe(true)
  })

  it('ALTER SYSTEM SET master_nodes survives a restart: the node rejoins and catches up', async () => {
    const n3 = nodes[2]!
    await n3.stop()
    await nodes[0]!.query("INSERT INTO products (name, price) VALUES ('WhileAway', 1.00)")
    const again = await ConcordProcess.start({ dataDir: n3.options.dataDir, nodeId: 'node3' })
    nodes[2] = again
    expect((await again.query('SHOW master_nodes')).rows[0]!.master_nodes).toBe(`127.0.0.1:${nodes[0]!.pgPort},127.0.0.1:${nodes[1]!.pgPort}`)
    expect((await again.query('SHOW node_id')).rows).toEqual([{ node_id: '3' }])
    await until(async () => (await names(again)).includes('WhileAway'), 20_000, 'the restarted master to catch up')
    await again.query("INSERT INTO products (name, price) VALUES ('FromRestarted', 2.00)")
    await until(async () => (await names(nodes[1]!)).includes('FromRestarted'), 20_000, 'a write on the restarted master to propagate')
  })
})
