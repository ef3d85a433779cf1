import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode } from './concord-node.js'

const run = promisify(execFile)

async function hasPsql(): Promise<boolean> {
  try {
    await run('psql', ['--version'])
    return true
  } catch {
    return false
  }
}

let node: ConcordNode
let dir: string
let client: pg.Client

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-pgcatalog-'))
  node = await ConcordNode.start({ dataDir: dir, nodeId: 'cat', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1' })
  client = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
  await client.connect()
  await client.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2) DEFAULT 0 CHECK (price >= 0), sku VARCHAR(20) UNIQUE)')
  await client.query('CREATE INDEX products_name_idx ON products (name)')
  await client.query('CREATE TABLE orders (id SERIAL, customer_id INT, PRIMARY KEY (id, customer_id)) PARTITION BY HASH (customer_id)')
  await client.query('CREATE TABLE orders_p0 PARTITION OF orders FOR VALUES WITH (MODULUS 2, REMAINDER 0)')
}, 30_000)

afterAll(async () => {
  await client?.end().catch(() => {})
  await node?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('pg_catalog answers for psql', () => {
  it('reports type OIDs, modifiers and text formats from the SQL layer', async () => {
    await client.query("INSERT INTO products (name, price, sku) VALUES ('Widget', 99.99, 'W-1')")
    const r = await client.query('SELECT name, price, sku, 1e20::float8 AS big, 1.5::float8 AS big FROM products')
    expect(r.fields.map((f) => f.dataTypeID)).toEqual([25, 1700, 1043, 701, 701])
    expect(r.fields[2]!.dataTypeModifier).toBe(24) // varchar(20): 20 + 4, as PostgreSQL sends it
    const raw = await client.query({ text: 'SELECT price, 1e20::float8 AS a, 1.5::float8 AS a FROM products', rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })
    expect(raw.rows[0]).toEqual(['99.99', '1e+20', '1.5'])
  })

  it('answers SELECT version() and SHOW server_version as sent at startup', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord' })
    const startup: Record<string, string> = {}
    ;(c as unknown as { connection: NodeJS.EventEmitter }).connection.on('parameterStatus', (m: { parameterName: string; parameterValue: string }) => (startup[m.parameterName] = m.parameterValue))
    await c.connect()
    const v = (await c.query('SHOW server_version')).rows[0].server_version as string
    await c.end()
    expect(v).toMatch(/^\d+\.\d+/)
    expect(startup['server_version']).toBe(v)
    expect((await client.query('SELECT version()')).rows[0].version).toMatch(/^PostgreSQL \d+/)
  })

  it('psql \\dt and \\d table print what PostgreSQL would', async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const env = { ...process.env, PGCONNECT_TIMEOUT: '5' }
    const base = ['-X', '-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', '-d', 'concord']
    const dt = (await run('psql', [...base, '-c', '\\dt'], { env, timeout: 10_000 })).stdout
    expect(dt).toMatch(/public \| orders\s+\| partitioned table \| concord/)
    expect(dt).toMatch(/public \| products\s+\| table\s+\| concord/)
    const d = (await run('psql', [...base, '-c', '\\d products'], { env, timeout: 10_000 })).stdout
    expect(d).toContain('Table "public.products"')
    expect(d).toMatch(/ name\s+\| text\s+\|\s+\| not null \|/)
    expect(d).toMatch(/ sku\s+\| character varying\(20\)/)
    expect(d).toContain('"products_pkey" PRIMARY KEY, btree (id)')
    expect(d).toContain('"products_sku_key" UNIQUE CONSTRAINT, btree (sku)')
    expect(d).toContain('"products_name_idx" btree (name)')
    expect(d).toContain('"products_price_check" CHECK (price >= 0)')
    const part = (await run('psql', [...base, '-c', '\\d orders', '-c', '\\d orders_p0'], { env, timeout: 10_000 })).stdout
    expect(part).toContain('Partition key: HASH (customer_id)')
    expect(part).toContain('Number of partitions: 1')
    expect(part).toContain('Partition of: orders FOR VALUES WITH (modulus 2, remainder 0)')
    const missing = await run('psql', [...base, '-c', '\\d nothing'], { env, timeout: 10_000 }).catch((e: { stderr: string }) => e)
    expect(missing.stderr).toContain('Did not find any relation named "nothing"')
  }, 30_000)
})
