import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import pg from 'pg'
import { wireServer } from './wire-server.fixture.js'

/** The process id BackendKeyData gave a node-postgres client (not in its type declarations). */
function pidOf(c: pg.Client): number {
  return (c as unknown as { processID: number }).processID
}

// LISTEN / NOTIFY over the wire: NotificationResponse messages to node-postgres
// (`client.on('notification')`) and psql, with the sending connection's process id.

const run = promisify(execFile)
const wire = wireServer('notify1')
const client = (): Promise<pg.Client> => wire.client()

/** Waits (bounded) until `list` holds `n` entries. */
async function waitFor<T>(list: T[], n: number): Promise<T[]> {
  for (let i = 0; i < 400 && list.length < n; i++) await new Promise((r) => setTimeout(r, 25))
  return list
}

describe('LISTEN / NOTIFY over the wire', () => {
  it('an idle listening client gets NotificationResponse for another connection\'s NOTIFY and pg_notify, with its process id', async () => {
    const listener = await client()
    const sender = await client()
    const got: pg.Notification[] = []
    listener.on('notification', (n) => got.push(n))
    await listener.query('LISTEN "Orders"')
    await sender.query(`NOTIFY "Orders", 'one'`)
    await sender.query("SELECT pg_notify('Orders', $1)", ['two'])
    await waitFor(got, 2)
    expect(got.map((n) => [n.channel, n.payload, n.processId])).toEqual([
      ['Orders', 'one', pidOf(sender)],
      ['Orders', 'two', pidOf(sender)],
    ])
    expect((await sender.query('SELECT pg_backend_pid() AS pid')).rows).toEqual([{ pid: pidOf(sender) }])
  })

  it('a block\'s NOTIFYs arrive after its COMMIT, once each; a rolled-back block sends none', async () => {
    const listener = await client()
    const sender = await client()
    const got: string[] = []
    listener.on('notification', (n) => got.push(n.payload ?? ''))
    await listener.query('LISTEN events')
    await sender.query('BEGIN')
    await sender.query("NOTIFY events, 'x'")
    await sender.query("NOTIFY events, 'x'")
    await sender.query("NOTIFY events, 'y'")
    await new Promise((r) => setTimeout(r, 100))
    expect(got).toEqual([])
    await sender.query('COMMIT')
    await sender.query('BEGIN')
    await sender.query("NOTIFY events, 'rolled back'")
    await sender.query('ROLLBACK')
    await sender.query("NOTIFY events, 'z'")
    await waitFor(got, 3)
    expect(got).toEqual(['x', 'y', 'z'])
  })

  it('a client notifying its own channel gets it with the reply of its statement, and 22023 past 7999 bytes', async () => {
    const c = await client()
    const got: string[] = []
    c.on('notification', (n) => got.push(`${n.channel}:${n.payload}`))
    await c.query('LISTEN me')
    await c.query("NOTIFY me, 'hello'")
    expect(got).toEqual(['me:hello'])
    await expect(c.query(`NOTIFY me, '${'x'.repeat(8000)}'`)).rejects.toMatchObject({ code: '22023' })
    await c.query('UNLISTEN *')
    await c.query("NOTIFY me, 'unheard'")
    expect(got).toEqual(['me:hello'])
  })

  it('psql prints an asynchronous notification from the server process that sent it', async (ctx) => {
    try {
      await run('psql', ['--version'])
    } catch {
      ctx.skip()
    }
    const args = ['-X', '-A', '-t', '-h', '127.0.0.1', '-p', String(wire.port), '-U', 'concord', '-d', 'concord']
    const commands = ['-c', 'LISTEN psql_chan', '-c', "NOTIFY psql_chan, 'from psql'", '-c', 'SELECT pg_backend_pid()']
    const { stdout } = await run('psql', [...args, ...commands], { timeout: 15_000 })
    const pid = stdout.trim().split('\n').pop()
    expect(stdout).toContain(`Asynchronous notification "psql_chan" with payload "from psql" received from server process with PID ${pid}.`)
  })
})
