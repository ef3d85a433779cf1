import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'
import { writeClusterKey } from '../transport/cluster-key.js'

const run = promisify(execFile)
const nodes: ConcordNode[] = []
const dirs: string[] = []
const clients: pg.Client[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {})
  for (const n of nodes.splice(0)) await n.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function start(options: Partial<ConcordNodeOptions>): Promise<ConcordNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-roles-'))
  dirs.push(dataDir)
  const n = await ConcordNode.start({ dataDir, pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', ...options })
  nodes.push(n)
  return n
}

async function connect(node: ConcordNode, user: string, password?: string, database = 'concord'): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user, database, ...(password !== undefined ? { password } : {}) })
  await c.connect()
  clients.push(c)
  return c
}

/** The error a connection attempt ends with (code and message). */
async function refusal(node: ConcordNode, user: string, password?: string, database = 'concord'): Promise<{ code?: string; message: string }> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user, database, ...(password !== undefined ? { password } : {}) })
  try {
    await c.connect()
    await c.end()
    return { message: 'connected' }
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message }
  }
}

async function hasPsql(): Promise<boolean> {
  return run('psql', ['--version']).then(() => true, () => false)
}

describe('roles over the PostgreSQL wire', () => {
  it('authenticates each role by its own password and enforces its grants', async () => {
    const a = await start({ nodeId: 'roles-a' })
    const admin = await connect(a, 'concord')
    await admin.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    // Before any LOGIN role exists, any name is accepted as before.
    expect((await refusal(a, 'anyone', undefined, 'anything')).message).toBe('connected')
    await admin.query("CREATE ROLE alice WITH LOGIN PASSWORD 's3cret'")
    await admin.query('GRANT SELECT ON t TO alice')

    const alice = await connect(a, 'alice', 's3cret')
    expect((await alice.query('SELECT v, current_user AS u FROM t')).rows).toEqual([{ v: 'one', u: 'alice' }])
    await expect(alice.query("INSERT INTO t VALUES (2, 'two')")).rejects.toMatchObject({ code: '42501', message: 'permission denied for table t' })

    expect((await refusal(a, 'alice', 'wrong')).message).toMatch(/password authentication failed for user "alice"/)
    expect(await refusal(a, 'mallory')).toMatchObject({ code: '28000', message: 'role "mallory" does not exist' })
    expect(await refusal(a, 'alice', 's3cret', 'nothere')).toMatchObject({ code: '3D000', message: 'database "nothere" does not exist' })
    expect((await refusal(a, 'concord', undefined, 'postgres')).message).toBe('connected')
    expect((await refusal(a, 'postgres', undefined, 'postgres')).message).toBe('connected')
    await admin.query('ALTER ROLE alice NOLOGIN')
    expect(await refusal(a, 'alice', 's3cret')).toMatchObject({ code: '28000', message: 'role "alice" is not permitted to log in' })
  }, 60_000)

  it('lists roles in psql \\du and grants in \\dp', async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const a = await start({ nodeId: 'roles-psql' })
    const admin = await connect(a, 'concord')
    await admin.query('CREATE TABLE t (id INT PRIMARY KEY)')
    await admin.query("CREATE ROLE alice LOGIN PASSWORD 'pw' CREATEDB")
    await admin.query('GRANT SELECT, INSERT ON t TO alice')
    await admin.query('GRANT pg_read_all_data TO alice')
    const base = ['-X', '-h', '127.0.0.1', '-p', String(a.pgPort), '-U', 'concord', '-d', 'concord']
    const env = { ...process.env, PGCONNECT_TIMEOUT: '5' }
    const du = (await run('psql', [...base, '-c', '\\du'], { env, timeout: 10_000 })).stdout
    expect(du).toMatch(/^\s*alice\s*\|\s*Create DB\s*\|\s*\{pg_read_all_data\}/m)
    expect(du).toMatch(/^\s*concord\s*\|\s*Superuser, Create role, Create DB/m)
    const dp = (await run('psql', [...base, '-c', '\\dp t'], { env, timeout: 10_000 })).stdout
    expect(dp).toContain('alice=ar/concord')
    // psql authenticates alice with SCRAM-SHA-256 against her verifier.
    const who = await run('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(a.pgPort), '-U', 'alice', '-d', 'concord', '-c', 'SELECT current_user'], { env: { ...env, PGPASSWORD: 'pw' }, timeout: 10_000 })
    expect(who.stdout.trim()).toBe('alice')
  }, 60_000)

  it('answers information_schema.column_privileges to a logged-in role with its own grants only', async () => {
    const a = await start({ nodeId: 'roles-colpriv' })
    const admin = await connect(a, 'concord')
    await admin.query('CREATE TABLE staff (id INT PRIMARY KEY, name TEXT, salary INT)')
    await admin.query("CREATE ROLE alice LOGIN PASSWORD 'a1'")
    await admin.query("CREATE ROLE bob LOGIN PASSWORD 'b1'")
    await admin.query('GRANT SELECT (id, name) ON staff TO alice WITH GRANT OPTION')
    await admin.query('GRANT UPDATE ON staff TO bob')
    const alice = await connect(a, 'alice', 'a1')
    const r = await alice.query(`SELECT grantor, grantee, table_catalog, table_schema, table_name, column_name, privilege_type, is_grantable
      FROM information_schema.column_privileges ORDER BY column_name`)
    expect(r.fields.map((f) => f.name)).toEqual(['grantor', 'grantee', 'table_catalog', 'table_schema', 'table_name', 'column_name', 'privilege_type', 'is_grantable'])
    expect(r.rows).toEqual([
      { grantor: 'concord', grantee: 'alice', table_catalog: 'concord', table_schema: 'public', table_name: 'staff', column_name: 'id', privilege_type: 'SELECT', is_grantable: 'YES' },
      { grantor: 'concord', grantee: 'alice', table_catalog: 'concord', table_schema: 'public', table_name: 'staff', column_name: 'name', privilege_type: 'SELECT', is_grantable: 'YES' },
    ])
    const all = await admin.query(`SELECT count(*)::int AS n FROM information_schema.column_privileges WHERE grantee = 'bob'`)
    expect(all.rows).toEqual([{ n: 3 }])
  }, 30_000)

  it('keeps --password for the bootstrap superuser and requires a password of every role then', async () => {
    const a = await start({ nodeId: 'roles-pw', password: 'node-secret' })
    expect((await refusal(a, 'concord')).message).not.toBe('connected')
    const admin = await connect(a, 'concord', 'node-secret')
    await admin.query('CREATE ROLE nopass LOGIN')
    await admin.query("CREATE ROLE bob LOGIN PASSWORD 'b0b'")
    expect((await refusal(a, 'nopass', 'node-secret')).message).toMatch(/password authentication failed/)
    expect((await refusal(a, 'bob', 'node-secret')).message).toMatch(/password authentication failed/)
    const bob = await connect(a, 'bob', 'b0b')
    expect((await bob.query('SELECT session_user AS s')).rows).toEqual([{ s: 'bob' }])
  }, 60_000)

  it('replicates roles: a role created on one node logs in on another after sync', async () => {
    // Roles close an unkeyed peer port (roles-peer-port.ts): the two nodes share a cluster key.
    const keyDir = mkdtempSync(join(tmpdir(), 'concord-roles-key-'))
    dirs.push(keyDir)
    const clusterKeyFile = join(keyDir, 'cluster.key')
    writeClusterKey(clusterKeyFile)
    const a = await start({ nodeId: 'roles-r1', clusterKeyFile })
    const b = await start({ nodeId: 'roles-r2', clusterKeyFile, join: [`127.0.0.1:${a.pgPort}`] })
    const admin = await connect(a, 'concord')
    await admin.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')")
    await admin.query("CREATE ROLE carol LOGIN PASSWORD 'c4rol'")
    await admin.query('GRANT SELECT ON t TO carol')
    // Bounded wait for the catalog and the row to reach b.
    let carol: pg.Client | undefined
    for (let i = 0; i < 300 && carol === undefined; i++) {
      const c = new pg.Client({ host: '127.0.0.1', port: b.pgPort, user: 'carol', password: 'c4rol', database: 'concord' })
      try {
        await c.connect()
        if ((await c.query('SELECT count(*)::int AS n FROM t')).rows[0].n === 1) {
          carol = c
          clients.push(c)
          break
        }
      } catch {
        // not there yet: the role (28000) or the table (42P01)
      }
      await c.end().catch(() => {})
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(carol).toBeDefined()
    expect((await carol!.query('SELECT v FROM t')).rows).toEqual([{ v: 'one' }])
    await expect(carol!.query('DELETE FROM t')).rejects.toMatchObject({ code: '42501' })
  }, 90_000)
})
