/**
 * A hostile client's malformed startup and authentication messages (issue 15): each
 * connection is dropped with one line in the node's log, nothing reaches stderr through
 * console.error (pg-gateway printed a stack trace for each: log flooding), and real
 * clients keep connecting. A node with a password, so SCRAM messages are read too.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import { ConcordNode } from '../node/concord-node.js'

let node: ConcordNode
const lines: string[] = []

beforeAll(async () => {
  const log = (m: string): void => void lines.push(m)
  node = await ConcordNode.start({ memory: true, p2p: false, pgPort: 0, pgPortSearch: false, password: 's3cret', logger: { info: log, warn: log, error: log } })
})

afterAll(async () => {
  await node?.stop()
})

function int32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}
const cstr = (s: string): number[] => [...Buffer.from(s), 0]

/** A StartupMessage of protocol `version` whose body (after the version) is `body`. */
function startup(body: number[], version = 3 << 16): Uint8Array {
  return Uint8Array.from([...int32(8 + body.length), ...int32(version), ...body])
}
const goodStartup = startup([...cstr('user'), ...cstr('concord'), ...cstr('database'), ...cstr('concord'), 0])
/** A message of type `type` with body `body`. */
function message(type: string, body: number[]): Uint8Array {
  return Uint8Array.from([type.charCodeAt(0), ...int32(4 + body.length), ...body])
}

/** Sends `parts` (one write each, after the server answered the previous one) and resolves when the server closes. */
async function send(port: number, parts: Uint8Array[]): Promise<'closed'> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let next = 0
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('the server did not close the connection'))
    }, 20_000)
    const write = (): void => {
      if (next < parts.length) socket.write(parts[next++]!)
    }
    socket.on('connect', write)
    socket.on('data', write)
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve('closed')
    })
  })
}

describe('malformed startup and authentication messages', () => {
  it('are each dropped with one log line and no stack trace on stderr; real clients still connect', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    const scramFirst = [...cstr('SCRAM-SHA-256')]
    const clientFirst = [...Buffer.from('n,,n=,r=abcdefghijklmnop')]
    const attacks: Array<[string, Uint8Array[]]> = [
      ['no terminator', [startup([...cstr('user'), ...cstr('concord')])]],
      ['value without NUL', [startup([...cstr('user'), ...Buffer.from('conc')])]],
      ['bytes after the terminator', [startup([...cstr('user'), ...cstr('concord'), 0, 7, 7])]],
      ['protocol 3.5', [startup([...cstr('user'), ...cstr('concord'), 0], (3 << 16) | 5)]],
      ['SSLRequest of 12 bytes', [Uint8Array.from([...int32(12), ...int32(80877103), 0, 0, 0, 0])]],
      ['a query instead of a password', [goodStartup, message('Q', cstr('SELECT 1'))]],
      ['SASL data length too long', [goodStartup, message('p', [...scramFirst, ...int32(clientFirst.length + 40), ...clientFirst])]],
      ['SASL data length -1', [goodStartup, message('p', [...scramFirst, ...int32(-1)])]],
      ['SASL without a mechanism', [goodStartup, message('p', [1, 2, 3])]],
    ]
    for (const [what, parts] of attacks) {
      const before = lines.length
      await expect(send(node.pgPort, parts), what).resolves.toBe('closed')
      const dropped = lines.slice(before).filter((l) => l.startsWith('dropping client'))
      expect(dropped, what).toHaveLength(1)
    }
    expect(printed.mock.calls.map((args) => args.map(String).join(' '))).toEqual([])
    printed.mockRestore()

    const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', password: 's3cret' })
    await c.connect()
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await c.end()
  })
})
