import { connect, type Socket } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import { cstr, frontend, int16, int32 } from './raw-wire-socket.fixture.js'
import { wireServer } from './wire-server.fixture.js'

// Parse and Describe of a statement over the real SQL engine, with a minimal protocol
// client (node-postgres describes portals only): the SQL layer tells the parameters and
// the row shape, learnt by planning; nothing is run.

const wire = wireServer('describe-wire', 'local')

beforeAll(async () => {
  await wire.engine.database.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
})

interface Message {
  type: string
  body: Buffer
}

/** Sends `messages` after the startup and returns every backend message up to the second ReadyForQuery. */
async function exchange(messages: Buffer[]): Promise<Message[]> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(wire.port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
  })
  const params = Buffer.concat([cstr('user'), cstr('concord'), cstr('database'), cstr('concord'), Buffer.alloc(1)])
  socket.write(Buffer.concat([int32(params.length + 8), int32(196608), params]))
  const out: Message[] = []
  let buf = Buffer.alloc(0)
  let ready = 0
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 5 && buf.length >= buf.readInt32BE(1) + 1) {
        const len = buf.readInt32BE(1)
        const m = { type: String.fromCharCode(buf[0]!), body: buf.subarray(5, len + 1) }
        buf = buf.subarray(len + 1)
        if (m.type === 'Z' && ++ready === 1) socket.write(Buffer.concat(messages))
        else if (ready >= 1) out.push(m)
        if (ready === 2) resolve()
      }
    })
  })
  socket.end()
  return out
}

const parse = (sql: string, types: number[]): Buffer => frontend('P', Buffer.concat([cstr(''), cstr(sql), int16(types.length), ...types.map(int32)]))
const describeStatement = frontend('D', Buffer.concat([Buffer.from('S'), cstr('')]))
const sync = frontend('S', Buffer.alloc(0))

function fieldNames(t: Message): Array<[string, number]> {
  const out: Array<[string, number]> = []
  let at = 2
  for (let i = 0; i < t.body.readInt16BE(0); i++) {
    const end = t.body.indexOf(0, at)
    out.push([t.body.toString('utf8', at, end), t.body.readInt32BE(end + 7)])
    at = end + 19
  }
  return out
}

describe('Describe of a prepared statement', () => {
  it('reports its parameter types and row shape from the SQL layer', async () => {
    const m = await exchange([parse('SELECT id, name FROM items WHERE id = $1 AND name <> $2', [23]), describeStatement, sync])
    expect(m.map((x) => x.type)).toEqual(['1', 't', 'T', 'Z'])
    const t = m.find((x) => x.type === 't')!
    // $1 as declared; $2, unspecified, takes the type of the column it is compared with.
    expect([t.body.readInt16BE(0), t.body.readInt32BE(2), t.body.readInt32BE(6)]).toEqual([2, 23, 1043])
    expect(fieldNames(m.find((x) => x.type === 'T')!)).toEqual([['id', 23], ['name', 1043]])
  })

  it('describes the rows of a write .. RETURNING, NoData for a write without, and runs nothing', async () => {
    const m = await exchange([parse("INSERT INTO items VALUES (1, 'x') RETURNING id", []), describeStatement, sync])
    expect(m.map((x) => x.type)).toEqual(['1', 't', 'T', 'Z'])
    expect(fieldNames(m.find((x) => x.type === 'T')!)).toEqual([['id', 23]])
    const u = await exchange([parse('UPDATE items SET name = $1', []), describeStatement, sync])
    expect(u.map((x) => x.type)).toEqual(['1', 't', 'n', 'Z'])
    expect((await wire.engine.database.query('SELECT count(*)::int AS n FROM items')).rows[0]!.n).toBe(0)
  })

  it('refuses two statements at Parse, as PostgreSQL does', async () => {
    const m = await exchange([parse('SELECT 1; SELECT 2', []), describeStatement, sync])
    expect(m.map((x) => x.type)).toEqual(['E', 'Z'])
    expect(m[0]!.body.toString('utf8')).toContain('C42601')
  })
})
