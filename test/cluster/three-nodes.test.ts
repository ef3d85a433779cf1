/**
 * Three `concord` processes on 127.0.0.1: psql writes on one node, node-postgres on
 * another, on different rows and on the same rows; every node converges to the same
 * table, and the seed's multi-master example works over the wire.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

const run = promisify(execFile)
let dir: string
const nodes: ConcordProcess[] = []

async function psql(node: ConcordProcess, ...commands: string[]): Promise<string> {
  const args = ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', '-d', 'concord']
  for (const c of commands) args.push('-c', c)
  const { stdout } = await run('psql', args, { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 15_000 })
  return stdout
}

async function hasPsql(): Promise<boolean> {
  try {
    await run('psql', ['--version'])
    return true
  } catch {
    return false
  }
}

async function rows(node: ConcordProcess, sql: string): Promise<string> {
  return JSON.stringify((await node.query(sql)).rows)
}

/** All nodes answer `sql` identically and `check` accepts the answer. */
async function converged(sql: string, check: (rows: unknown[]) => boolean, what: string): Promise<unknown[]> {
  let last: unknown[] = []
  await until(
    async () => {
      const answers = await Promise.all(nodes.map((n) => rows(n, sql)))
      last = JSON.parse(answers[0]!) as unknown[]
      return answers.every((a) => a === answers[0]) && check(last)
    },
    20_000,
    what,
    150,
  )
  return last
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-three-'))
  const first = await ConcordProcess.start({ dataDir: join(dir, 'n1'), nodeId: 'node1' })
  nodes.push(first)
  nodes.push(...(await Promise.all(['node2', 'node3'].map((id) => ConcordProcess.start({ dataDir: join(dir, id), nodeId: id, join: [first.pgAddress] })))))
  await until(() => nodes.every((n) => (n.log.match(/peer node\d up/g) ?? []).length >= 2), 20_000, 'full mesh')
}, 60_000)

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

describe('three concord processes', () => {
  it('psql on one node and node-postgres on another write different and the same rows; all converge', async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const [a, b] = nodes as [ConcordProcess, ConcordProcess, ConcordProcess]
    await psql(a, 'CREATE TABLE kv (k INT PRIMARY KEY, v TEXT, n INT)')
    await converged("SELECT count(*)::int AS c FROM kv", () => true, 'table kv on every node')

    // Different rows: psql writes 1..20 on node1 while node-postgres writes 101..120 on node2.
    const client = await b.client()
    try {
      const viaPg = (async () => {
        for (let i = 101; i <= 120; i++) await client.query('INSERT INTO kv (k, v, n) VALUES ($1, $2, $3)', [i, `pg${i}`, i])
      })()
      const inserts = Array.from({ length: 20 }, (_, i) => `INSERT INTO kv (k, v, n) VALUES (${i + 1}, 'psql${i + 1}', ${i + 1})`)
      await Promise.all([psql(a, ...inserts), viaPg])

      // Same rows: both clients update the same keys at once, then one more write each.
      await Promise.all([
        psql(a, "UPDATE kv SET v = 'from-psql' WHERE k <= 5", "UPDATE kv SET n = -1 WHERE k = 101"),
        (async () => {
          await client.query("UPDATE kv SET v = 'from-pg' WHERE k <= 5")
          await client.query('UPDATE kv SET n = -2 WHERE k = 101')
        })(),
      ])
    } finally {
      await client.end()
    }
    const final = (await converged('SELECT k, v, n FROM kv ORDER BY k', (r) => r.length === 40, '40 rows identical on every node')) as Array<{ k: number; v: string; n: number }>
    expect(final.map((r) => r.k)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 20 }, (_, i) => i + 101)])
    for (const r of final.filter((r) => r.k <= 5)) expect(['from-psql', 'from-pg']).toContain(r.v)
    expect(new Set(final.filter((r) => r.k <= 5).map((r) => r.v)).size).toBe(1) // one winner for all five: the later UPDATE
    expect([-1, -2]).toContain(final.find((r) => r.k === 101)!.n)
    expect(final.find((r) => r.k === 120)).toEqual({ k: 120, v: 'pg120', n: 120 })
  })

  it("the seed's multi-master example works over the wire and the row appears on every node", async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const [a, , c] = nodes as [ConcordProcess, ConcordProcess, ConcordProcess]
    await psql(c, 'CREATE TABLE products (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL, price DECIMAL(10,2))')
    await converged('SELECT count(*)::int AS c FROM products', () => true, 'table products on every node')
    const out = await psql(
      a,
      'SET multi_master_enabled = true',
      'SET node_id = 1',
      "SET master_nodes = 'node2:5432,node3:5432'",
      "INSERT INTO products (name, price) VALUES ('Widget', 99.99)",
    )
    expect(out).toContain('INSERT 0 1')
    const got = await converged('SELECT name, price FROM products', (r) => r.length === 1, 'Widget on every node')
    expect(got).toEqual([{ name: 'Widget', price: '99.99' }])
    // node 2 writes too: every listed node is a master.
    await psql(nodes[1]!, "INSERT INTO products (name, price) VALUES ('Gadget', 5)")
    await converged('SELECT name FROM products ORDER BY name', (r) => r.length === 2, 'Gadget on every node')
    expect((await nodes[2]!.query('SHOW multi_master_enabled')).rows[0]).toEqual({ multi_master_enabled: 'on' })
  })
})
