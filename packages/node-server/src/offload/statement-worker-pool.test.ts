import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, runOffloadedStatement, type Database, type OffloadRequest } from '@concord/sql-facade'
import { StatementWorkerPool } from './statement-worker-pool.js'

// The pool with real worker threads (bin/statement-worker.js, the sources under tsx here).

let db: Database
const pools: StatementWorkerPool[] = []

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'pool1', region: 'r1' })
  await db.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
  await db.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g")
})
afterAll(async () => {
  for (const p of pools) await p.close()
  await db.close()
})

/** The request a session sends for `sql` (taken by an offloader that only records it). */
async function requestFor(sql: string, setup: string[] = []): Promise<OffloadRequest> {
  let taken: OffloadRequest | null = null
  const session = db.session({ offloader: { run: async (r) => ((taken = r), { ok: false, error: { code: '57014', message: 'recorded' } }) } })
  for (const s of setup) await session.query(s)
  await session.query("SET offload_after = '1ms'")
  await session.query(sql).catch(() => undefined)
  await session.close()
  if (taken === null) throw new Error(`not offloaded: ${sql}`)
  return taken
}

function pool(options: ConstructorParameters<typeof StatementWorkerPool>[0] = {}): StatementWorkerPool {
  const p = new StatementWorkerPool(options)
  pools.push(p)
  return p
}

const ENDLESS = 'SELECT count(*), max(md5(g::text)) FROM generate_series(1, 3000000) g'

describe('statement worker pool', () => {
  it('a worker answers as the same request run on this thread', async () => {
    const request = await requestFor('SELECT t.v, count(*) FROM t, generate_series(1, 300) g WHERE t.id < 20 GROUP BY t.v ORDER BY 1')
    const p = pool()
    const there = await p.run(structuredClone(request), new AbortController().signal)
    expect(there).toEqual(await runOffloadedStatement(request, () => false))
    expect(there).toMatchObject({ ok: true })
    expect(p.stats).toMatchObject({ started: 1, offloaded: 1 })
  })

  it('a cancel stops the statement in its worker (57014), and the worker takes the next one', async () => {
    const p = pool()
    const warm = await p.run(await requestFor('SELECT count(*) FROM generate_series(1, 100000)'), new AbortController().signal)
    expect(warm).toMatchObject({ ok: true })
    const abort = new AbortController()
    const running = p.run(await requestFor(ENDLESS), abort.signal)
    // Cancelled while it runs in the worker (the worker has started; the request is posted).
    await new Promise((resolve) => setTimeout(resolve, 200))
    abort.abort()
    expect(await running).toEqual({ ok: false, error: { code: '57014', message: 'canceling statement due to user request' } })
    expect(p.stats).toMatchObject({ started: 1, terminated: 0 })
    expect(await p.run(await requestFor('SELECT count(*) FROM generate_series(1, 100000)'), new AbortController().signal)).toMatchObject({ ok: true })
  })

  it('a worker that does not stop within the grace is terminated, and a fresh one takes the next request', async () => {
    // A worker that answers its first statement and never the second (a match that cannot be interrupted, say).
    const stuck = [
      "import { parentPort } from 'node:worker_threads'",
      'let n = 0',
      "parentPort.on('message', (m) => { if (++n > 1) for (;;) {} ; parentPort.postMessage({ kind: 'reply', id: m.id, reply: { ok: true, result: { n } } }) })",
      "parentPort.postMessage({ kind: 'ready' })",
    ].join('\n')
    const p = pool({ graceMs: 50, script: new URL(`data:text/javascript,${encodeURIComponent(stuck)}`) })
    const taken = await requestFor('SELECT count(*) FROM generate_series(1, 100000)')
    // A request's shard states move to the worker: each run gets its own copy.
    const request = () => structuredClone(taken)
    expect(await p.run(request(), new AbortController().signal)).toMatchObject({ ok: true })
    const abort = new AbortController()
    const running = p.run(request(), abort.signal)
    abort.abort()
    expect(await running).toEqual({ ok: false, error: { code: '57014', message: 'canceling statement due to user request' } })
    expect(p.stats).toMatchObject({ terminated: 1, started: 1 })
    // Past its deadline and the grace, likewise (statement_timeout).
    expect(await p.run(request(), new AbortController().signal)).toMatchObject({ ok: true })
    expect(await p.run({ ...request(), timeoutMs: 20 }, new AbortController().signal)).toEqual({ ok: false, error: { code: '57014', message: 'canceling statement due to statement timeout' } })
    expect(p.stats).toMatchObject({ terminated: 2, started: 2 })
    expect(await p.run(request(), new AbortController().signal)).toMatchObject({ ok: true })
    expect(p.stats).toMatchObject({ started: 3 })
  })

  it('past its queue bound, or once closed, the pool declines (the statement runs on the event loop)', async () => {
    const request = await requestFor('SELECT count(*) FROM generate_series(1, 100000)')
    const one = pool({ maxQueued: 0 })
    const abort = new AbortController()
    const running = one.run(await requestFor(ENDLESS), abort.signal)
    // Its one worker is busy and nothing may wait.
    expect(await one.run(structuredClone(request), new AbortController().signal)).toBeNull()
    abort.abort()
    expect(await running).toMatchObject({ ok: false, error: { code: '57014' } })
    expect(await one.run(structuredClone(request), new AbortController().signal)).toMatchObject({ ok: true })
    const p = pool()
    await p.close()
    expect(await p.run(request, new AbortController().signal)).toBeNull()
  })

  it('a worker keeps its engine: a later statement sends only what changed, and answers as on the event loop', async () => {
    await db.query('CREATE TABLE kept (id INT PRIMARY KEY, v INT)')
    await db.query('INSERT INTO kept SELECT g, g % 7 FROM generate_series(1, 5000) g')
    const p = pool()
    const session = db.session({ offloader: p })
    await session.query("SET offload_after = '1ms'")
    const q = "SELECT count(*), sum(v) FROM kept, generate_series(1, 20) g WHERE md5(v::text || g) <> ''"
    const answer = async () => (await db.query(q)).rowArrays
    expect((await session.query(q)).rowArrays).toEqual(await answer())
    expect(p.stats).toMatchObject({ offloaded: 1, keptEngine: 0 })
    const whole = p.stats.stateBytes
    await db.query('UPDATE kept SET v = v + 1 WHERE id < 100')
    await db.query('DELETE FROM kept WHERE id > 4900')
    expect((await session.query(q)).rowArrays).toEqual(await answer())
    expect(p.stats).toMatchObject({ offloaded: 2, keptEngine: 1, started: 1 })
    expect(p.stats.stateBytes - whole).toBeLessThan(whole / 10)
    await session.close()
  })

  it('a request for an engine whose worker ended, or that its worker does not hold, runs on the event loop, and the next starts it afresh', async () => {
    const p = pool()
    const request = await requestFor('SELECT count(*) FROM generate_series(1, 100000)')
    const engine = p.engine()!
    const stale = (id: number): OffloadRequest => ({ ...structuredClone(request), shards: [], engine: { id, fresh: false, states: [], bytes: 0 } })
    expect(await p.run(stale(engine.id + 1000), new AbortController().signal)).toBeNull()
    // Its own engine, which the worker never opened (as if a request had been lost on the way).
    expect(await p.run(stale(engine.id), new AbortController().signal)).toBeNull()
    const next = p.engine()!
    expect(next.id).not.toBe(engine.id)
    expect(next.held.size).toBe(0)
    expect(await p.run({ ...structuredClone(request), engine: { id: next.id, fresh: true, states: [], bytes: 0 } }, new AbortController().signal)).toMatchObject({ ok: true })
  })
  // A node that ran one long query kept a copy of its tables in the worker's engine for
  // good; an unused worker now ends after idleMs, and the next statement starts a fresh one.
  it('ends a worker unused for idleMs (not one that is running, or whose engine was just handed out), and starts a fresh one after', async () => {
    const p = pool({ idleMs: 150 })
    const until = async (done: () => boolean): Promise<boolean> => {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      return done()
    }
    // A statement running longer than idleMs is not cut off.
    const long = await p.run(await requestFor('SELECT count(*), max(md5(g::text)) FROM generate_series(1, 200000) g'), new AbortController().signal)
    expect(long).toMatchObject({ ok: true })
    expect(p.stats).toMatchObject({ started: 1, idleEnded: 0 })
    // Handed out and used at once: the worker stays while a session builds on its engine.
    for (let i = 0; i < 4; i++) {
      expect(p.engine()).not.toBeNull()
      await new Promise((resolve) => setTimeout(resolve, 60))
    }
    expect(p.workers).toBe(1)
    expect(p.stats.idleEnded).toBe(0)
    expect(await until(() => p.workers === 0)).toBe(true)
    expect(p.stats).toMatchObject({ started: 1, idleEnded: 1 })
    const next = await requestFor('SELECT count(*) FROM t, generate_series(1, 300) g')
    const again = await p.run(structuredClone(next), new AbortController().signal)
    expect(again).toMatchObject({ ok: true })
    expect(again).toEqual(await runOffloadedStatement(next, () => false))
    expect(p.stats).toMatchObject({ started: 2, offloaded: 2 })
  })

  it('keeps an unused worker when idleMs is 0', async () => {
    const p = pool()
    expect(await p.run(await requestFor('SELECT count(*) FROM t, generate_series(1, 300) g'), new AbortController().signal)).toMatchObject({ ok: true })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(p.workers).toBe(1)
    expect(p.stats.idleEnded).toBe(0)
  })
})
