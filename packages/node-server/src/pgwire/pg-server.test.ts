import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { PgServer, type PgServerOptions } from './pg-server.js'
import { fakeDatabase, fakeSession, type FakeDatabase } from './fake-sql-session.fixture.js'
import { RawWireSocket, frontend } from './raw-wire-socket.fixture.js'
import { hasOpenssl, TestPki } from '../node/test-pki.fixture.js'

const run = promisify(execFile)
const servers: PgServer[] = []
const clients: pg.Client[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {})
  for (const s of servers.splice(0)) await s.close()
})

async function start(extra: Partial<PgServerOptions> = {}): Promise<{ port: number; db: FakeDatabase; server: PgServer }> {
  const db = fakeDatabase()
  const server = new PgServer({ session: () => fakeSession(db), port: 0, ...extra })
  servers.push(server)
  return { port: await server.listen(), db, server }
}

async function client(port: number, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord', ...extra })
  clients.push(c)
  await c.connect()
  return c
}

async function hasPsql(): Promise<boolean> {
  try {
    await run('psql', ['--version'])
    return true
  } catch {
    return false
  }
}

describe('PgServer with node-postgres', () => {
  it('answers simple and parameterized queries with correct types and tags', async () => {
    const { port } = await start()
    const c = await client(port)
    const one = await c.query('select 1')
    expect(one.rows).toEqual([{ '?column?': 1 }])
    expect(one.fields[0]!.dataTypeID).toBe(23)
    const sum = await c.query('select $1::int + $2::int as sum', [20, 22])
    expect(sum.rows).toEqual([{ sum: 42 }])
    const ins = await c.query('insert into items values ($1, $2)', [1, 'one'])
    expect(ins.command).toBe('INSERT')
    expect(ins.rowCount).toBe(1)
    const types = await c.query('select types')
    expect(types.fields.map((f) => f.dataTypeID)).toEqual([16, 20, 701, 1700, 1184, 3802, 1007, 25, 17])
    expect(types.rows[0]).toEqual({
      b: true,
      i8: '9007199254740993',
      f: 1.5,
      n: '12.30',
      ts: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      j: { a: 1 },
      arr: [1, 2],
      nul: null,
      by: Buffer.from([0xde, 0xad]),
    })
    const text = await c.query('select $1::text as t', ['héllo\u00e9 ✓'])
    expect(text.rows[0].t).toBe('héllo\u00e9 ✓')
  })

  it('named prepared statements run many times', async () => {
    const { port } = await start()
    const c = await client(port)
    for (let i = 0; i < 5; i++) {
      const r = await c.query({ name: 'add', text: 'select $1::int + $2::int as sum', values: [i, 1] })
      expect(r.rows[0].sum).toBe(i + 1)
    }
  })

  it('reports errors with SQLSTATE and keeps serving, in both protocols', async () => {
    const { port } = await start()
    const c = await client(port)
    await expect(c.query('select * from missing')).rejects.toMatchObject({ code: '42P01', message: 'relation "missing" does not exist' })
    await expect(c.query('select 1/0', [])).rejects.toMatchObject({ code: '22012' })
    await expect(c.query({ text: 'select 1/0', values: [1] })).rejects.toMatchObject({ code: '22012' })
    expect((await c.query('select 1')).rows).toEqual([{ '?column?': 1 }])
    expect((await c.query('select $1::text as t', ['x'])).rows).toEqual([{ t: 'x' }])
  })

  it('ReadyForQuery carries the transaction status', async () => {
    const { port } = await start()
    const c = await client(port)
    // node-postgres keeps the last ReadyForQuery status on the connection.
    const status = (): string => (c as unknown as { connection: { _ending: boolean }; _txStatus?: string })._txStatus ?? (c as unknown as { readyForQuery: boolean; activeQuery: unknown } & Record<string, unknown>)['txStatus'] as string
    const seen: string[] = []
    ;(c as unknown as { connection: NodeJS.EventEmitter }).connection.on('readyForQuery', (m: { status: string }) => seen.push(m.status))
    await c.query('begin')
    await expect(c.query('select * from missing')).rejects.toBeDefined()
    await c.query('rollback')
    await c.query('select 1')
    expect(seen).toEqual(['T', 'E', 'I', 'I'])
    void status
  })

  it('2,000 parameterized queries round trip on one connection', async () => {
    const { port } = await start()
    const c = await client(port)
    const t = performance.now()
    for (let i = 0; i < 2000; i++) {
      const r = await c.query('select $1::int + $2::int as sum', [i, i])
      if (r.rows[0].sum !== 2 * i) throw new Error(`wrong sum at ${i}`)
    }
    const ms = performance.now() - t
    console.log(`2,000 parameterized queries: ${ms.toFixed(0)} ms (${((ms * 1000) / 2000).toFixed(0)} µs each)`)
  })

  it('serves many clients at once', async () => {
    const { port, db } = await start()
    const cs = await Promise.all(Array.from({ length: 20 }, () => client(port)))
    await Promise.all(cs.map((c, i) => c.query('insert into items values ($1, $2)', [i, `n${i}`])))
    expect(db.items).toHaveLength(20)
    const r = await cs[0]!.query('select id, name from items order by id')
    expect(r.rows.map((x) => x.id)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('requires the password with SCRAM-SHA-256 when one is set', async () => {
    const { port } = await start({ password: 's3cret' })
    const good = await client(port, { password: 's3cret' })
    expect((await good.query('select 1')).rowCount).toBe(1)
    const bad = new pg.Client({ host: '127.0.0.1', port, user: 'concord', password: 'wrong' })
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/)
    await bad.end().catch(() => {})
  })

  it('drops garbage on the PostgreSQL port and keeps serving', async () => {
    const { port } = await start()
    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0, 0, 0, 8, 0, 0, 0, 0]), Buffer.alloc(64, 0xff)]) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write(garbage))
        s.on('error', () => {})
        s.on('close', () => resolve())
        setTimeout(() => s.destroy(), 2000)
      })
    }
    // After startup, a malformed message ends that connection only.
    const c = await client(port)
    c.on('error', () => {}) // the server's FATAL reply to the broken message
    const raw = (c as unknown as { connection: { stream: NodeJS.WritableStream } }).connection.stream
    raw.write(Buffer.from([0x42, 0, 0, 0, 6, 0xff])) // Bind with a truncated body
    await new Promise((r) => setTimeout(r, 100))
    const other = await client(port)
    expect((await other.query('select 1')).rowCount).toBe(1)
  })
})

/** The server's messages read from a raw socket: [type, body] pairs, as they arrive. */
class RawClient extends RawWireSocket {
  /** Resolves once `n` ReadyForQuery messages have come (bounded by 10 s). */
  async readyCount(n: number): Promise<void> {
    const ready = () => this.messages.filter(([t]) => t === 'Z').length
    await this.until(() => ready() >= n, () => `only ${ready()} of ${n} ReadyForQuery`)
  }

  /** The CommandComplete tags so far, in order. */
  tags(): string[] {
    return this.messages.filter(([t]) => t === 'C').map(([, b]) => b.subarray(0, b.length - 1).toString())
  }
}

const query = (sql: string): Buffer => frontend('Q', Buffer.from(`${sql}\0`))

describe('PgServer message framing after startup', () => {
  it('answers queries split across reads and several in one read, in order', async () => {
    const { port } = await start()
    const raw = new RawClient(port)
    await new Promise<void>((resolve) => raw.socket.once('connect', () => resolve()))
    const params = Buffer.from('user\0concord\0database\0concord\0\0')
    const startup = Buffer.alloc(8)
    startup.writeInt32BE(8 + params.length, 0)
    startup.writeInt32BE(3 << 16, 4)
    raw.socket.write(Buffer.concat([startup, params]))
    await raw.readyCount(1)
    // Sent at once behind the startup's ReadyForQuery: the first read after the handover.
    raw.socket.write(Buffer.concat([query('select 1'), query('create table items (id int, name text)')]))
    await raw.readyCount(3)
    // One query a byte at a time, then three in one write.
    const split = query("insert into items values (1, 'a')")
    for (let i = 0; i < split.length; i++) {
      raw.socket.write(split.subarray(i, i + 1))
      await new Promise((r) => setTimeout(r, 2))
    }
    await raw.readyCount(4)
    raw.socket.write(Buffer.concat([query("insert into items values (2, 'b')"), query('select id, name from items order by id'), query('select 1/0')]))
    await raw.readyCount(7)
    expect(raw.tags()).toEqual(['SELECT 1', 'CREATE TABLE', 'INSERT 0 1', 'INSERT 0 1', 'SELECT 2'])
    expect(raw.messages.filter(([t]) => t === 'E')).toHaveLength(1)
    const closed = new Promise<void>((resolve) => raw.socket.on('close', () => resolve()))
    raw.socket.write(frontend('X', Buffer.alloc(0)))
    await closed
  })
})

describe('PgServer with psql', () => {
  it('runs statements, shows errors, and records the catalog queries of \\dt and \\d', async (ctx) => {
    if (!(await hasPsql())) ctx.skip()
    const { port, db } = await start()
    const env = { ...process.env, PGCONNECT_TIMEOUT: '5' }
    const base = ['-h', '127.0.0.1', '-p', String(port), '-U', 'concord', '-d', 'concord', '-X', '-A', '-t']
    const r1 = await run('psql', [...base, '-c', 'select 1'], { env, timeout: 10_000 })
    expect(r1.stdout.trim()).toBe('1')
    await run('psql', [...base, '-c', "insert into items values (7, 'seven')"], { env, timeout: 10_000 })
    const r2 = await run('psql', [...base, '-F', ',', '-c', 'select id, name from items order by id'], { env, timeout: 10_000 })
    expect(r2.stdout.trim()).toBe('7,seven')
    const r3 = await run('psql', [...base, '-c', 'select * from missing'], { env, timeout: 10_000 }).catch((e: { stderr: string; code: number }) => e)
    expect((r3 as { stderr: string }).stderr).toContain('relation "missing" does not exist')
    for (const cmd of ['\\dt', '\\d items']) await run('psql', [...base, '-E', '-c', cmd], { env, timeout: 10_000 }).catch(() => {})
    expect(db.catalogQueries.length).toBeGreaterThan(0)
    console.log(`psql catalog queries:\n${db.catalogQueries.map((q) => '---\n' + q).join('\n')}`)
  })
})

describe('PgServer TLS reload (reloadTls, SIGHUP)', () => {
  it('takes new material with the parts it started with, and keeps what it has when the new one does not load', async (ctx) => {
    if (!(await hasOpenssl())) return ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-pg-tls-'))
    try {
      const pki = await TestPki.create(dir, [])
      const file = (name: string): Buffer => readFileSync(pki.path(name))
      const pair = { cert: file('server.crt'), key: file('server.key') }
      const crl = [readFileSync(await pki.crl('inter'), 'utf8'), readFileSync(await pki.crl('root'), 'utf8')]
      const { port, server } = await start({ tls: { ...pair, clientCa: file('bundle.crt'), crl } })
      expect(() => server.reloadTls(pair)).toThrow(/keeps its parts/)
      expect(() => server.reloadTls({ ...pair, clientCa: file('bundle.crt') })).toThrow(/keeps its parts/)
      expect(() => server.reloadTls({ ...pair, clientCa: file('bundle.crt'), crl: ['not a CRL'] })).toThrow(/CRL/)
      server.reloadTls({ ...pair, clientCa: file('bundle.crt'), crl })
      const c = await client(port, { ssl: { ca: file('root.crt'), servername: 'localhost' } })
      expect((await c.query('SELECT 1')).rowCount).toBe(1)
      expect(() => new PgServer({ session: () => fakeSession(fakeDatabase()), tls: { ...pair, crl } })).toThrow(/CRLs are checked with the client CA/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
