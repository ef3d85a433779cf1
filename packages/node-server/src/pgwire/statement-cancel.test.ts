import { describe, expect, it } from 'vitest'
import pg from 'pg'
import { wireServer } from './wire-server.fixture.js'
import { sendCancelRequest } from './raw-wire-socket.fixture.js'

// statement_timeout and CancelRequest over the wire, with node-postgres against a real
// engine. Each long statement below runs for minutes (or exhausts memory) unless it is
// cancelled, so a pass means it was; bounds on time are generous on purpose.

const wire = wireServer('cancel1')
const client = (extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> => wire.client(extra)

const timedOut = { code: '57014', message: 'canceling statement due to statement timeout' }

describe('statement_timeout over the wire', () => {
  it('SET statement_timeout cancels a long generate_series and a big cross join with 57014; another client is answered', async () => {
    const a = await client()
    const b = await client()
    await a.query("SET statement_timeout = '300ms'")
    const started = Date.now()
    // A billion-row series ends at the row bound (53200, functions/memory-bounds.test.ts) if
    // the timeout has not come first: the long statement crosses two series within the bound.
    const long = a.query('SELECT sum(x) FROM generate_series(1, 10000000) x, generate_series(1, 1000) y')
    const other = b.query('SELECT 1 AS one')
    await expect(long).rejects.toMatchObject(timedOut)
    expect((await other).rows).toEqual([{ one: 1 }])
    await expect(a.query('SELECT count(*) FROM generate_series(1, 100000) x, generate_series(1, 100000) y')).rejects.toMatchObject(timedOut)
    expect(Date.now() - started).toBeLessThan(60_000)
    // The connection keeps working.
    expect((await a.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
  })

  it('the statement_timeout connection option and options=-c set it for the session', async () => {
    const byParam = await client({ statement_timeout: 250 })
    expect((await byParam.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '250' }])
    await expect(byParam.query('SELECT count(*) FROM generate_series(1, 10000000) x, generate_series(1, 1000) y')).rejects.toMatchObject(timedOut)
    const byOptions = await client({ options: '-c statement_timeout=200ms' })
    expect((await byOptions.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '200ms' }])
    await expect(byOptions.query('SELECT count(*) FROM generate_series(1, 10000000) x, generate_series(1, 1000) y')).rejects.toMatchObject(timedOut)
  })

  it('a bad statement_timeout at startup refuses the connection with 22023', async () => {
    const c = wire.unconnected({ options: '-c statement_timeout=soon' })
    c.on('error', () => {}) // the server closes the connection after the refusal
    // The refusal comes as the first reply after authentication.
    const refused = await c.connect().then(() => c.query('SELECT 1')).then(() => null, (e: unknown) => e)
    expect(refused).toMatchObject({ code: '22023' })
  })
})

describe('CancelRequest over the wire', () => {
  it('each connection gets its own random BackendKeyData', async () => {
    const cs = await Promise.all([client(), client(), client()])
    const keys = cs.map((c) => (c as unknown as { processID: number; secretKey: number }))
    expect(new Set(keys.map((k) => k.processID)).size).toBe(3)
    expect(new Set(keys.map((k) => k.secretKey)).size).toBe(3)
    for (const k of keys) expect(k.processID).toBeGreaterThan(0)
  })

  it("a cancel with the connection's key fails its running query string with 57014 (user request), after one with a wrong secret", async () => {
    const victim = await client()
    const keys = victim as unknown as { processID: number; secretKey: number }
    // Each statement takes a while; the query string yields between them, where the cancel is seen.
    const script = Array.from({ length: 200 }, () => 'SELECT count(*) FROM generate_series(1, 300000)').join('; ')
    const started = Date.now()
    const running = victim.query(script).then(() => null, (e: unknown) => e)
    // A wrong secret is ignored: the script would run on.
    await sendCancel(keys.processID, keys.secretKey ^ 1)
    await sendCancel(keys.processID, keys.secretKey)
    expect(await running).toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    expect(Date.now() - started).toBeLessThan(60_000)
    expect((await victim.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })
})

const sendCancel = (pid: number, secret: number): Promise<void> => sendCancelRequest(wire.port, pid, secret)
