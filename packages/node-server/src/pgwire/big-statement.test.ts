import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'

// Statements past the parser's limits, over the wire: PostgreSQL answers 54001 for an
// expression nested this deep; Concord must too, store nothing, and keep serving.

const run = promisify(execFile)
let engine: SqlEngine
let server: PgServer
let port: number
let dir: string
const clients: pg.Client[] = []

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'big1', region: 'r1' })
  server = new PgServer({ session: () => engine.session(), port: 0 })
  port = await server.listen()
  dir = mkdtempSync(join(tmpdir(), 'concord-big-'))
})
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await server.close()
  await engine.close()
  rmSync(dir, { recursive: true, force: true })
})

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
  clients.push(c)
  await c.connect()
  return c
}

async function failure(c: pg.Client, sql: string): Promise<{ code?: string; message: string }> {
  try {
    const r = await c.query(sql)
    return { message: `no error: ${JSON.stringify({ command: r.command, rowCount: r.rowCount })}` }
  } catch (e) {
    return e as { code?: string; message: string }
  }
}

function chain(terms: number): string {
  return 'SELECT ' + new Array<string>(terms).fill('1').join('+')
}

async function hasPsql(): Promise<boolean> {
  try {
    await run('psql', ['--version'])
    return true
  } catch {
    return false
  }
}

describe('statements past the parser limits over the wire', () => {
  it('a 3-million-term expression is 54001, stores nothing, and the connection keeps serving', async () => {
    const c = await client()
    await c.query('CREATE TABLE big_t (id int PRIMARY KEY, v int)')
    expect(await failure(c, chain(3_000_000))).toMatchObject({ code: '54001', message: 'stack depth limit exceeded' })
    const insert = 'INSERT INTO big_t VALUES (1, ' + new Array<string>(3_000_000).fill('1').join('+') + ')'
    expect(await failure(c, insert)).toMatchObject({ code: '54001' })
    expect((await c.query('SELECT count(*)::int AS n FROM big_t')).rows).toEqual([{ n: 0 }])
    expect((await c.query('SELECT 1 + 1 AS two')).rows).toEqual([{ two: 2 }])
  })

  it('deeply nested parentheses and subqueries are 54001; an expression within the limit is computed', async () => {
    const c = await client()
    expect(await failure(c, 'SELECT ' + '('.repeat(100_000) + '1' + ')'.repeat(100_000))).toMatchObject({ code: '54001' })
    expect(await failure(c, 'SELECT ' + '(SELECT '.repeat(10_000) + '1' + ')'.repeat(10_000))).toMatchObject({ code: '54001' })
    expect((await c.query(chain(900) + ' AS n')).rows).toEqual([{ n: 900 }])
    expect((await c.query('SELECT ' + '(SELECT '.repeat(200) + '7' + ')'.repeat(200) + ' AS n')).rows).toEqual([{ n: 7 }])
  })

  it('a long IN list is computed', async () => {
    const c = await client()
    const list = Array.from({ length: 100_000 }, (_, i) => i * 2).join(',')
    expect((await c.query(`SELECT 4242 IN (${list}) AS hit, 4243 IN (${list}) AS miss`)).rows).toEqual([{ hit: true, miss: false }])
  })

  it('repeated oversized statements leave the parser working on a new connection', async () => {
    const c = await client()
    for (let i = 0; i < 4; i++) expect(await failure(c, chain(2_000_000))).toMatchObject({ code: '54001' })
    expect(await failure(c, "SELECT '" + 'x'.repeat(9 * 1024 * 1024) + "'")).toMatchObject({ code: '54000' })
    const other = await client()
    const values = Array.from({ length: 20_000 }, (_, i) => `(${i})`).join(',')
    expect((await other.query(`SELECT count(*)::int AS n FROM (VALUES ${values}) AS v(x)`)).rows).toEqual([{ n: 20_000 }])
  })

  it('psql sending the 3-million-term expression gets the error, not an empty response', async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const file = join(dir, 'big.sql')
    writeFileSync(file, chain(3_000_000) + ';\n')
    const base = ['-h', '127.0.0.1', '-p', String(port), '-U', 'concord', '-d', 'concord', '-X', '-A', '-t']
    const env = { ...process.env, PGCONNECT_TIMEOUT: '5' }
    const r = await run('psql', [...base, '-v', 'ON_ERROR_STOP=1', '-f', file], { env, timeout: 60_000, maxBuffer: 1 << 20 }).catch((e: { stdout: string; stderr: string; code: number }) => e)
    expect(r.stderr).toContain('ERROR:  stack depth limit exceeded')
    expect(r.stdout).not.toContain('EMPTY')
    const after = await run('psql', [...base, '-c', 'select 41 + 1'], { env, timeout: 10_000 })
    expect(after.stdout.trim()).toBe('42')
  })
})
