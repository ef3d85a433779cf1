import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqlEngine, type SqlEngine } from '../node/sql-engine.js'
import { PgServer } from './pg-server.js'
import { rowBytes } from './portal-rows.js'
import { RawWireSocket, cstr, frontend, int16, int32 } from './raw-wire-socket.fixture.js'

// Execute with a row limit leaves a portal suspended holding the rest of its result; one
// connection could keep many. The rows suspended portals keep are bounded per connection.

const BOUND = 64 * 1024
let engine: SqlEngine
let server: PgServer
let port: number

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'portal1', region: 'r1' })
  const s = engine.session()
  // 2,000 rows of about 170 bytes each: one portal over them keeps about 5 times the bound.
  await s.query('CREATE TABLE big (id INT PRIMARY KEY, v TEXT)')
  await s.query(`INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g`)
  await s.query('CREATE TABLE small (id INT PRIMARY KEY)')
  await s.query('INSERT INTO small SELECT g FROM generate_series(1, 20) g')
  server = new PgServer({ session: () => engine.session(), port: 0, maxPortalRowBytes: BOUND })
  port = await server.listen()
}, 30_000)
afterAll(async () => {
  await server.close()
  await engine.close()
})

const message = frontend
const parse = (name: string, sql: string): Buffer => message('P', cstr(name), cstr(sql), int16(0))
const bind = (portal: string, statement: string): Buffer => message('B', cstr(portal), cstr(statement), int16(0), int16(0), int16(0))
const execute = (portal: string, maxRows: number): Buffer => message('E', cstr(portal), int32(maxRows))
const closePortal = (portal: string): Buffer => message('C', Buffer.from('P'), cstr(portal))
const sync = (): Buffer => message('S')

/** One connection speaking the extended protocol by hand; `round` sends messages and reads up to ReadyForQuery. */
class ExtendedClient extends RawWireSocket {
  constructor() {
    super(port)
  }

  async start(): Promise<void> {
    await this.connected
    const params = Buffer.from('user\0concord\0database\0concord\0\0')
    this.socket.write(Buffer.concat([int32(8 + params.length), int32(3 << 16), params]))
    await this.untilReady()
  }

  /** Sends `msgs` and a Sync; the messages answered, in a short form: D (a row), s (suspended), C:tag, E:code, Z. */
  async round(...msgs: Buffer[]): Promise<string[]> {
    this.socket.write(Buffer.concat([...msgs, sync()]))
    return (await this.untilReady()).map(([t, b]) => {
      if (t === 'C') return `C:${b.subarray(0, b.length - 1).toString()}`
      if (t === 'E') return `E:${errorField(b, 'C')}:${errorField(b, 'D')}`
      return t
    }).filter((t) => t !== '1' && t !== '2' && t !== '3')
  }

  private async untilReady(): Promise<Array<[string, Buffer]>> {
    await this.until(() => this.messages.some(([t]) => t === 'Z'), () => 'no ReadyForQuery within 10 s')
    const z = this.messages.findIndex(([t]) => t === 'Z')
    return this.messages.splice(0, z + 1).filter(([t]) => t !== 'S' && t !== 'K' && t !== 'R')
  }

  end(): void {
    this.socket.end(message('X'))
  }
}

function errorField(body: Buffer, field: string): string {
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const end = body.indexOf(0, i + 1)
    if (String.fromCharCode(body[i]!) === field) return body.subarray(i + 1, end).toString()
    i = end + 1
  }
  return ''
}

const rows = (n: number): string[] => new Array<string>(n).fill('D')

describe('rows kept by suspended portals, per connection', () => {
  it('one portal may keep more than the bound; a second suspended beside it is 53200 and dropped, the first still fetches', async () => {
    expect(rowBytes(Array.from({ length: 2000 }, (_, i) => [String(i + 1), 'x'.repeat(100)]))).toBeGreaterThan(4 * BOUND)
    const c = new ExtendedClient()
    await c.start()
    try {
      expect(await c.round(parse('q', 'SELECT id, v FROM big ORDER BY id'), bind('c1', 'q'), execute('c1', 10))).toEqual([...rows(10), 's', 'Z'])
      const refused = await c.round(bind('c2', 'q'), execute('c2', 10))
      expect(refused).toHaveLength(2)
      expect(refused[0]).toMatch(/^E:53200:Suspended portals of this connection would keep \d+ bytes of rows, more than 65536\.$/)
      // Refused before any row went out, and the portal is gone.
      expect(await c.round(execute('c2', 10))).toEqual(['E:34000:', 'Z'])
      // The first portal goes on where it stopped.
      expect(await c.round(execute('c1', 5))).toEqual([...rows(5), 's', 'Z'])
      // Closed, it keeps nothing: another portal may be suspended.
      expect(await c.round(closePortal('c1'), bind('c2', 'q'), execute('c2', 10))).toEqual([...rows(10), 's', 'Z'])
      // A portal that sent every row keeps none either.
      const rest = await c.round(execute('c2', 0))
      expect(rest.slice(0, 1990)).toEqual(rows(1990))
      expect(rest.slice(1990)).toEqual([expect.stringMatching(/^C:SELECT /), 'Z'])
      // Beside a suspended portal, even a small one, a portal past the bound is refused; alone it is not.
      const beside = await c.round(parse('s', 'SELECT id FROM small ORDER BY id'), bind('c3', 's'), execute('c3', 5), bind('c4', 'q'), execute('c4', 1))
      expect(beside.slice(0, 6)).toEqual([...rows(5), 's'])
      expect(beside.slice(6)).toEqual([expect.stringMatching(/^E:53200:/), 'Z'])
      expect(await c.round(closePortal('c3'), bind('c4', 'q'), execute('c4', 1))).toEqual(['D', 's', 'Z'])
    } finally {
      c.end()
    }
  })

  it('portals of other connections do not count, and small portals fit beside one another', async () => {
    const a = new ExtendedClient()
    const b = new ExtendedClient()
    await a.start()
    await b.start()
    try {
      expect(await a.round(parse('q', 'SELECT id, v FROM big ORDER BY id'), bind('p', 'q'), execute('p', 1))).toEqual(['D', 's', 'Z'])
      expect(await b.round(parse('q', 'SELECT id, v FROM big ORDER BY id'), bind('p', 'q'), execute('p', 1))).toEqual(['D', 's', 'Z'])
      const names = ['s1', 's2', 's3', 's4', 's5']
      expect(await b.round(closePortal('p'), parse('s', 'SELECT id FROM small ORDER BY id'), ...names.flatMap((n) => [bind(n, 's'), execute(n, 1)])))
        .toEqual(names.flatMap(() => ['D', 's']).concat('Z'))
    } finally {
      a.end()
      b.end()
    }
  })
})
