/**
 * Fuzz campaign over the PostgreSQL wire protocol, what any client that reaches the port
 * can send: a real ConcordNode (in memory, no libp2p) on 127.0.0.1 is fed, over raw
 * sockets, mutated startup packets (StartupMessage, SSLRequest, GSSENCRequest,
 * CancelRequest) and, after a valid startup, mutated sequences of simple- and
 * extended-protocol messages (Query, Parse, Bind, Describe, Execute, Sync, Close, Flush,
 * FunctionCall, CopyData/Done/Fail, Terminate), with their length fields kept right or
 * damaged.
 *
 * Properties: nothing escapes as an uncaught error in the node's process (this one);
 * nothing reaches stderr through console.error (pg-gateway printed a stack trace for every
 * malformed startup packet: log flooding by any client); after every batch a normal
 * node-postgres client connects and runs `SELECT 1`; the heap does not grow without bound
 * over the campaign.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import pg from 'pg'
import type { SeededRandom } from '@concord/core'
import { ConcordNode } from '../../packages/node-server/src/index.js'
import { mutate, randomBytes } from './byte-mutator.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

let node: ConcordNode

beforeAll(async () => {
  node = await ConcordNode.start({ memory: true, p2p: false, pgPort: 0, pgPortSearch: false, authenticationTimeoutMs: 2000 })
  const c = await client()
  await c.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT)')
  await c.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')")
  await c.end()
})

afterAll(async () => {
  await node?.stop()
})

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', connectionTimeoutMillis: 20_000 })
  await c.connect()
  return c
}

/** One typed message: type byte, int32 length (itself included), body. */
function message(type: string, body: Uint8Array = new Uint8Array()): Uint8Array {
  const out = Buffer.alloc(5 + body.length)
  out.write(type, 0, 'latin1')
  out.writeInt32BE(4 + body.length, 1)
  out.set(body, 5)
  return out
}

const cstr = (s: string) => Buffer.from(`${s}\0`)
const i16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff])
const i32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** A packet without a type byte: int32 length, int32 code, body. */
function packet(code: number, body: Uint8Array = new Uint8Array()): Uint8Array {
  return Buffer.concat([i32(8 + body.length), i32(code), body])
}

const STARTUP = packet(
  3 << 16,
  Buffer.concat(['user', 'concord', 'database', 'concord', 'application_name', 'fuzz', ''].map(cstr)),
)
const STARTUPS: Uint8Array[] = [
  STARTUP,
  packet(80877103), // SSLRequest
  packet(80877104), // GSSENCRequest
  packet(80877102, Buffer.concat([i32(1234), i32(5678)])), // CancelRequest
  packet(3 << 16, Buffer.concat([cstr('user'), cstr('concord'), cstr('options'), cstr('-c statement_timeout=100'), cstr('')])),
]

/** Message sequences a client sends after startup, as [type, body] pairs. */
const SEQUENCES: Array<Array<[string, Uint8Array]>> = [
  [['Q', cstr('SELECT 1')]],
  [['Q', cstr("SELECT id, v FROM items WHERE v LIKE 'o%'; SELECT count(*) FROM items")]],
  [['Q', cstr("INSERT INTO items VALUES (3, 'three') ON CONFLICT (id) DO NOTHING")]],
  [
    ['P', Buffer.concat([cstr('s1'), cstr('SELECT $1::int + $2::int'), i16(2), i32(23), i32(23)])],
    ['B', Buffer.concat([cstr('p1'), cstr('s1'), i16(1), i16(0), i16(2), i32(1), Buffer.from('4'), i32(2), Buffer.from('38'), i16(1), i16(1)])], // eslint-disable-line @stylistic/max-len
    ['D', Buffer.concat([Buffer.from('P'), cstr('p1')])],
    ['E', Buffer.concat([cstr('p1'), i32(0)])],
    ['S', new Uint8Array()],
  ],
  [
    ['P', Buffer.concat([cstr(''), cstr('SELECT v FROM items WHERE id = $1'), i16(1), i32(0)])],
    ['B', Buffer.concat([cstr(''), cstr(''), i16(1), i16(1), i16(1), i32(4), i32(1), i16(0)])],
    ['D', Buffer.concat([Buffer.from('S'), cstr('')])],
    ['E', Buffer.concat([cstr(''), i32(1)])],
    ['H', new Uint8Array()],
    ['E', Buffer.concat([cstr(''), i32(0)])],
    ['C', Buffer.concat([Buffer.from('S'), cstr('')])],
    ['S', new Uint8Array()],
  ],
  [['F', Buffer.concat([i32(1), i16(0), i16(0), i16(0)])], ['S', new Uint8Array()]],
  [['Q', cstr('COPY items FROM STDIN')], ['d', Buffer.from('9\tnine\n')], ['c', new Uint8Array()]],
  [['Q', cstr('COPY items FROM STDIN')], ['d', Buffer.from('x\n')], ['f', cstr('client gave up')]],
  [['Q', cstr('BEGIN')], ['Q', cstr('SELECT * FROM items FOR UPDATE')], ['Q', cstr('ROLLBACK')], ['X', new Uint8Array()]],
]

/**
 * Inputs that once broke the node, sent before every campaign. Four to seven zero bytes
 * (an initial packet of length 0) sent pg-gateway into an endless loop that froze the
 * whole process; frame-guard.ts now refuses the length on its first four bytes.
 */
const REGRESSIONS: Uint8Array[] = [new Uint8Array(7), new Uint8Array(4), Uint8Array.from([0, 0, 0, 3, 0, 0, 0])]

/** What one connection sends: a damaged startup, or a valid startup and a damaged message sequence. */
function attack(rng: SeededRandom): Uint8Array {
  if (rng.chance(0.3)) {
    const base = rng.pick(STARTUPS)
    return rng.chance(0.1) ? randomBytes(rng, 64) : mutate(rng, base, { maxLength: 512 })
  }
  const seq = rng.pick(SEQUENCES)
  let stream: Uint8Array
  if (rng.chance(0.6)) {
    // Damage bodies and type bytes but keep every length right: reaches the message parsers.
    stream = Buffer.concat(
      seq.map(([type, body]) => {
        const t = rng.chance(0.1) ? String.fromCharCode(rng.int(0x20, 0x7e)) : type
        return message(t, rng.chance(0.5) ? mutate(rng, body, { maxLength: 512 }) : body)
      }),
    )
  } else {
    stream = mutate(rng, Buffer.concat(seq.map(([type, body]) => message(type, body))), { maxLength: 2048 })
  }
  return Buffer.concat([STARTUP, stream])
}

/** Sends bytes on a fresh connection, half-closes it, and waits (bounded) for the server to close it. */
function send(port: number, bytes: Uint8Array): Promise<'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(bytes)
      s.end()
    })
    s.on('error', () => {})
    s.resume()
    const t = setTimeout(() => {
      s.destroy()
      resolve('timeout')
    }, 10_000)
    s.on('close', () => {
      clearTimeout(t)
      resolve('closed')
    })
  })
}

describe('fuzz: PostgreSQL wire protocol', () => {
  it('a node fed damaged startup packets and message sequences keeps answering SELECT 1 with bounded memory', async () => {
    const { seeds, iterations } = fuzzBudget(900)
    const batch = 25
    const heapAtStart = process.memoryUsage().heapUsed
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'pg-wire')
      for (let done = 0; done < iterations; done += batch) {
        const attacks = Array.from({ length: Math.min(batch, iterations - done) }, () => attack(rng))
        if (done === 0) attacks.push(...REGRESSIONS)
        const outcomes = await Promise.all(attacks.map((bytes) => send(node.pgPort, bytes)))
        // Every connection ends: the client half-closed, so the server must close its end too.
        const stuck = attacks.filter((_, k) => outcomes[k] === 'timeout')
        expect(stuck.map((b) => Buffer.from(b).toString('hex')), `seed ${seed}: connections left open`).toEqual([])
        const c = await client()
        try {
          expect((await c.query('SELECT 1 AS one')).rows, `seed ${seed} after ${done + attacks.length} connections`).toEqual([{ one: 1 }])
        } finally {
          await c.end()
        }
      }
    }
    const c = await client()
    expect((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBeGreaterThanOrEqual(2)
    await c.end()
    const traces = printed.mock.calls.map((args) => args.map(String).join(' '))
    printed.mockRestore()
    expect(traces.slice(0, 3), `${traces.length} console.error calls`).toEqual([])
    // Bounded memory: a few hundred damaged sessions must not leave the heap much larger.
    expect(process.memoryUsage().heapUsed - heapAtStart).toBeLessThan(256 * 1024 * 1024)
  })
})
