import { describe, expect, it } from 'vitest'
import type { PreparedQuery, QueryResult, SqlSession } from './sql-session.js'
import { WireSession, type WireReply } from './wire-session.js'
import { cstr, frontend, int16, int32 } from './raw-wire-socket.fixture.js'

const parse = (sql: string) => frontend('P', cstr(''), cstr(sql), int16(0))
const bind = (param: string) => frontend('B', cstr(''), cstr(''), int16(0), int16(1), int32(param.length), Buffer.from(param), int16(0))
const describePortal = () => frontend('D', Buffer.from('P'), cstr(''))
const execute = (portal = '') => frontend('E', cstr(portal), int32(0))
const sync = () => frontend('S')

/** The backend message types in a reply, in order. */
function types(reply: WireReply): string {
  const b = reply.bytes ?? new Uint8Array(0)
  let out = ''
  for (let i = 0; i < b.length; ) {
    out += String.fromCharCode(b[i]!)
    i += 1 + ((b[i + 1]! << 24) | (b[i + 2]! << 16) | (b[i + 3]! << 8) | b[i + 4]!)
  }
  return out
}

/** A session whose statements answer one row with the bound parameter; counts what it ran. */
function session(): SqlSession & { executed: number } {
  const s = {
    executed: 0,
    query: async (): Promise<QueryResult[]> => [],
    prepare: async (): Promise<PreparedQuery> => ({ paramTypes: [23] }),
    describe: async () => [{ name: 'v', type: 'integer' }],
    execute: async (_q: PreparedQuery, params: unknown[]): Promise<QueryResult | null> => {
      s.executed++
      return { commandTag: 'SELECT 1', fields: [{ name: 'v', type: 'integer' }], rows: [[params[0]]] }
    },
    transactionState: () => 'idle' as const,
  }
  return s
}

describe('WireSession: messages that wait for nothing are answered synchronously', () => {
  it('Bind, an Execute of a portal Describe ran, and Sync return replies, not promises; the answer is what the async path gave', async () => {
    const sql = session()
    const w = new WireSession(sql)
    // Parse waits for the session.
    const parsed = w.handle(parse('SELECT $1::int AS v'))
    expect(parsed).toBeInstanceOf(Promise)
    await parsed
    await w.handle(parse('SELECT $1::int AS v'))
    const bound = w.handle(bind('7'))
    expect(bound).not.toBeInstanceOf(Promise)
    // Describe of the portal runs it (a wait on the session) ..
    const described = w.handle(describePortal())
    expect(described).toBeInstanceOf(Promise)
    await described
    // .. so its Execute sends the rows kept, at once, and runs nothing again.
    const executed = w.handle(execute())
    expect(executed).not.toBeInstanceOf(Promise)
    const synced = w.handle(sync()) as WireReply
    expect(synced).not.toBeInstanceOf(Promise)
    expect(sql.executed).toBe(1)
    // ParseComplete x2, BindComplete, RowDescription, DataRow, CommandComplete, ReadyForQuery.
    expect(types(synced)).toBe('1' + '1' + '2' + 'T' + 'D' + 'C' + 'Z')
  })

  it('Parse is answered in the same turn when the session can prepare without waiting, and waits when it cannot', async () => {
    const sql = session()
    let ready = true
    sql.prepareNow = () => (ready ? { paramTypes: [23] } : null)
    const w = new WireSession(sql)
    expect(w.handle(parse('SELECT $1::int AS v'))).toEqual({})
    ready = false
    const waited = w.handle(parse('SELECT $1::int AS v'))
    expect(waited).toBeInstanceOf(Promise)
    await waited
    // A statement the session refuses at once: the error is the reply's, up to Sync.
    sql.prepareNow = () => {
      throw Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })
    }
    expect(w.handle(parse('SELEC 1'))).toEqual({})
    expect(types(w.handle(sync()) as WireReply)).toBe('11EZ')
  })

  it('an Execute of a portal not yet run waits for the session; one of a missing portal fails at once and skips to Sync', async () => {
    const sql = session()
    const w = new WireSession(sql)
    await w.handle(parse('SELECT $1::int AS v'))
    expect(w.handle(bind('8'))).toEqual({})
    const ran = w.handle(execute())
    expect(ran).toBeInstanceOf(Promise)
    expect(await ran).toEqual({})
    expect(types(w.handle(sync()) as WireReply)).toBe('12DCZ')
    // A missing portal: the error is answered synchronously, the rest up to Sync skipped.
    expect(w.handle(execute('nope'))).toEqual({})
    expect(w.handle(bind('9'))).toEqual({})
    expect(types(w.handle(sync()) as WireReply)).toBe('EZ')
    expect(sql.executed).toBe(1)
  })

  it('a session that fails answers an ErrorResponse, synchronously or not, and the connection goes on', async () => {
    const sql = session()
    sql.execute = async () => {
      throw Object.assign(new Error('boom'), { code: '22012' })
    }
    const w = new WireSession(sql)
    await w.handle(parse('SELECT 1/0'))
    expect(w.handle(bind('1'))).toEqual({})
    expect(await w.handle(execute())).toEqual({})
    expect(types(w.handle(sync()) as WireReply)).toBe('12EZ')
  })
})
