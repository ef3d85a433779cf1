import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { OffloadSignal, StatementBudget } from './statement-budget.js'

// Each statement below runs for minutes (or exhausts memory) unless the budget stops it;
// the timeouts are small so a working check ends them within seconds.
describe('statement_timeout cancels a long statement with 57014', () => {
  let db: Database
  beforeEach(async () => {
    db = await openDatabase({ nodeId: 'st' })
  })
  afterEach(async () => {
    await db.close()
  })

  const timedOut = { code: '57014', message: 'canceling statement due to statement timeout' }

  it('cancels generate_series, a cross join, a sort, an aggregate and a recursive CTE', async () => {
    const s = db.session()
    await s.query("SET statement_timeout = '200ms'")
    expect((await s.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '200ms' }])
    await expect(s.query('SELECT count(*) FROM generate_series(1, 1000000000)')).rejects.toMatchObject(timedOut)
    await expect(s.query('SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b')).rejects.toMatchObject(timedOut)
    await expect(s.query('SELECT count(*) FROM generate_series(1, 1000000000) g WHERE g % 7 = 0')).rejects.toMatchObject(timedOut)
    await expect(s.query("SELECT string_agg(g::text, ',') FROM generate_series(1, 1000000000) g")).rejects.toMatchObject(timedOut)
    await expect(s.query('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r'))
      .rejects.toMatchObject({ code: expect.stringMatching(/^(57014|54001)$/) })
    // The session keeps working, and a short statement is not affected.
    expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('cancels a sort and a window over many rows of a table', async () => {
    const s = db.session()
    await s.query('CREATE TABLE big (id int PRIMARY KEY, v int)')
    await s.query('INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, 20000) g')
    await s.query("SET statement_timeout = '100ms'")
    await expect(s.query('SELECT a.id FROM big a, big b ORDER BY a.v, b.v LIMIT 1')).rejects.toMatchObject(timedOut)
    await expect(s.query('SELECT sum(a.v) OVER (ORDER BY a.id ROWS BETWEEN 10000 PRECEDING AND 10000 FOLLOWING) FROM big a'))
      .rejects.toMatchObject(timedOut)
  })

  it('undoes the writes of a statement it cancels; inside a block the block is aborted', async () => {
    const s = db.session()
    await s.query('CREATE TABLE t (id int PRIMARY KEY)')
    await s.query("SET statement_timeout = '200ms'")
    await expect(s.query('INSERT INTO t SELECT g FROM generate_series(1, 100000000) g')).rejects.toMatchObject(timedOut)
    expect((await s.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
    await s.query('BEGIN')
    await s.query('INSERT INTO t VALUES (1)')
    await expect(s.query('INSERT INTO t SELECT g FROM generate_series(2, 100000000) g')).rejects.toMatchObject(timedOut)
    await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' })
    await s.query('ROLLBACK')
    expect((await s.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
  })

  it('0 turns it off; ALTER SYSTEM sets the node default every new session starts with', async () => {
    const s = db.session()
    await s.query("SET statement_timeout = '50ms'")
    await s.query('SET statement_timeout = 0')
    expect((await s.query('SELECT count(*)::int AS n FROM generate_series(1, 300000)')).rows).toEqual([{ n: 300000 }])
    await s.query("ALTER SYSTEM SET statement_timeout = '150ms'")
    const fresh = db.session()
    expect((await fresh.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '150ms' }])
    await expect(fresh.query('SELECT count(*) FROM generate_series(1, 1000000000)')).rejects.toMatchObject(timedOut)
    await s.query('ALTER SYSTEM RESET statement_timeout')
  })
})

describe('Session.cancel cancels the running query string with 57014', () => {
  it('a cancel while a query string runs fails it at its next check; the next query string is not affected', async () => {
    const db = await openDatabase({ nodeId: 'cancel' })
    const s = db.session()
    await s.query('CREATE TABLE t (id int PRIMARY KEY)')
    // The request is under way from the call on; the cancel lands before its first statement ends.
    const running = s.queryAll('INSERT INTO t VALUES (1); SELECT count(*) FROM generate_series(1, 1000000000)')
    s.cancel()
    await expect(running).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    expect((await s.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
    expect((await s.query('SELECT count(*)::int AS n FROM generate_series(1, 100000)')).rows).toEqual([{ n: 100000 }])
    await db.close()
  })

  it('a cancel with nothing running does nothing', async () => {
    const db = await openDatabase({ nodeId: 'idle' })
    const s = db.session()
    s.cancel()
    expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await db.close()
  })
})

describe('the offload point of a budget', () => {
  it('past the point a check throws OffloadSignal (no SQLSTATE), records it, and keeps throwing', () => {
    let now = 0
    const point = { at: 10, fired: false, movable: () => true }
    const budget = new StatementBudget(100, { now: () => now, canceled: () => false }, Infinity, point)
    budget.check()
    now = 10
    expect(() => budget.check()).toThrow(OffloadSignal)
    expect(point.fired).toBe(true)
    expect(() => budget.check()).toThrow(OffloadSignal)
    // The signal is no SqlError: nothing maps it to a client's SQLSTATE.
    expect((new OffloadSignal() as { code?: string }).code).toBeUndefined()
  })

  it('a cancel request and the deadline come before the point', () => {
    let canceled = false
    const point = { at: 0, fired: false, movable: () => true }
    const budget = new StatementBudget(5, { now: () => 10, canceled: () => canceled }, Infinity, point)
    expect(() => budget.check()).toThrow('canceling statement due to statement timeout')
    canceled = true
    expect(() => budget.check()).toThrow('canceling statement due to user request')
    expect(point.fired).toBe(false)
  })

  it('a statement found not movable at the point runs on: the point is disarmed, asked once', () => {
    let asked = 0
    const point = { at: 0, fired: false, movable: () => (asked++, false) }
    const budget = new StatementBudget(Infinity, { now: () => 10, canceled: () => false }, Infinity, point)
    budget.check()
    budget.check()
    expect(asked).toBe(1)
    expect(point.fired).toBe(false)
  })
})
