/**
 * The PostgreSQL port's connection limits over the wire (node-postgres and raw sockets
 * on 127.0.0.1): max_connections (53300), the authentication timeout, connections that
 * never start, and the idle-session timeout.
 */
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { PgServer, type PgServerOptions } from './pg-server.js'
import { fakeDatabase, fakeSession } from './fake-sql-session.fixture.js'

const servers: PgServer[] = []
const clients: pg.Client[] = []
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  for (const c of clients.splice(0)) await c.end().catch(() => {})
  for (const s of servers.splice(0)) await s.close()
})

async function start(extra: Partial<PgServerOptions>): Promise<{ port: number; server: PgServer }> {
  const db = fakeDatabase()
  const server = new PgServer({ session: () => fakeSession(db), port: 0, ...extra })
  servers.push(server)
  return { port: await server.listen(), server }
}

function client(port: number): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord', connectionTimeoutMillis: 10_000 })
  clients.push(c)
  return c
}

/** A connection that sends nothing; resolves once connected, `closed` once the server closes it. */
async function silent(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  return { socket, closed }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  for (let i = 0; !cond(); i++) {
    if (Date.now() > deadline || i > ms / 20) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('PgServer connection limits', () => {
  it('refuses the connection past max_connections with 53300 and admits one again when a session ends', async () => {
    const { port, server } = await start({ maxConnections: 3 })
    const three = [client(port), client(port), client(port)]
    for (const c of three) await c.connect()
    const fourth = client(port)
    await expect(fourth.connect()).rejects.toMatchObject({ code: '53300', message: 'sorry, too many clients already' })
    expect(server.stats().admitted).toBe(3)
    for (const c of three) expect((await c.query('select 1')).rowCount).toBe(1)
    await three[0]!.end()
    await until(() => server.stats().admitted === 2, 10_000, 'the ended session to be released')
    const again = client(port)
    await again.connect()
    expect((await again.query('select 1')).rowCount).toBe(1)
  })

  it('250 connections that never send a startup packet do not lock out a real client, and are closed at the authentication timeout', async () => {
    const { port, server } = await start({ maxConnections: 20, authenticationTimeoutMs: 1500 })
    const idle: Array<{ closed: Promise<void> }> = []
    for (let i = 0; i < 250; i++) idle.push(await silent(port))
    // At most max_connections of them are still starting: the longest-waiting went first.
    await until(() => server.stats().starting <= 20, 10_000, 'starting connections bounded')
    const real = client(port)
    await real.connect()
    expect((await real.query('select 1')).rowCount).toBe(1)
    // Every silent one is closed: evicted, or at the authentication timeout.
    await Promise.race([Promise.all(idle.map((s) => s.closed)), new Promise((_, reject) => setTimeout(() => reject(new Error('silent connections still open')), 20_000))])
    expect(server.stats()).toMatchObject({ starting: 0, admitted: 1 })
    expect((await real.query('select 1')).rowCount).toBe(1)
  })

  it('a client that sends its startup packet a byte at a time is closed at the authentication timeout', async () => {
    const { port } = await start({ authenticationTimeoutMs: 1000 })
    const { socket, closed } = await silent(port)
    // A valid startup packet (protocol 3.0, user concord), one byte every 100 ms: 4 s in all.
    const body = Buffer.from('\0\x03\0\0user\0concord\0\0', 'latin1')
    const packet = Buffer.concat([Buffer.from([0, 0, 0, body.length + 4]), body])
    let sent = 0
    const drip = setInterval(() => {
      if (sent < packet.length && !socket.destroyed) socket.write(packet.subarray(sent, ++sent))
    }, 100)
    try {
      const t = Date.now()
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('still open')), 15_000))])
      expect(sent).toBeLessThan(packet.length)
      expect(Date.now() - t).toBeGreaterThanOrEqual(900)
    } finally {
      clearInterval(drip)
    }
  })

  it('closes a session idle past the idle-session timeout with 57P05, or 25P03 inside a transaction block', async () => {
    const { port } = await start({ idleSessionTimeoutMs: 500 })
    const errors: Array<{ code?: string; message: string }> = []
    const outside = client(port)
    const inside = client(port)
    outside.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }))
    inside.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }))
    await outside.connect()
    await inside.connect()
    await inside.query('begin')
    // Busy sessions are not idle: queries 200 ms apart keep one open past the timeout.
    const busy = client(port)
    busy.on('error', () => {}) // closed in turn once the test stops using it
    await busy.connect()
    for (let i = 0; i < 6; i++) {
      await busy.query('select 1')
      await new Promise((r) => setTimeout(r, 200))
    }
    expect((await busy.query('select 1')).rowCount).toBe(1)
    const codes = (): string[] => [...new Set(errors.map((e) => e.code).filter((c) => c !== undefined))].sort()
    await until(() => codes().length === 2, 10_000, 'both idle sessions closed')
    expect(codes()).toEqual(['25P03', '57P05'])
    expect(errors.find((e) => e.code === '57P05')!.message).toBe('terminating connection due to idle-session timeout')
    expect(errors.find((e) => e.code === '25P03')!.message).toBe('terminating connection due to idle-in-transaction timeout')
  })
})
