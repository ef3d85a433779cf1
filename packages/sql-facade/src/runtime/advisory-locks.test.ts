/**
 * Advisory locks between sessions of one node (runtime/advisory-locks.ts), through
 * `Session`s on one `Database`. Before, every pg_advisory_* function was 42883, so Prisma
 * Migrate, Flyway and Rails could not take their migration lock. Answers as PostgreSQL 15
 * gives them.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from '../session/session.js'
import { codeOf, pending } from './lock-wait.fixture.js'

const dbs: Database[] = []
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close()
})

async function open(): Promise<Database> {
  const db = await openDatabase({ nodeId: 'adv1' })
  dbs.push(db)
  return db
}


async function one(s: Session, sql: string): Promise<unknown> {
  return (await s.query(sql)).rowArrays[0]?.[0]
}

describe('advisory locks', () => {
  it('a session-level lock makes another session wait until it is unlocked as often as taken', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await a.query('SELECT pg_advisory_lock(42)')
    await a.query('SELECT pg_advisory_lock(42)')
    expect(await one(b, 'SELECT pg_try_advisory_lock(42)')).toBe(false)
    const waiting = b.query('SELECT pg_advisory_lock(42)')
    expect(await pending(waiting)).toBe(true)
    expect(await one(a, 'SELECT pg_advisory_unlock(42)')).toBe(true)
    expect(await pending(waiting)).toBe(true)
    expect(await one(a, 'SELECT pg_advisory_unlock(42)')).toBe(true)
    await waiting
    // a holds nothing now: its unlock answers false with PostgreSQL's warning.
    const r = await a.query('SELECT pg_advisory_unlock(42)')
    expect(r.rowArrays).toEqual([[false]])
    expect(r.notices).toEqual(["you don't own a lock of type ExclusiveLock"])
    expect(await one(b, 'SELECT pg_advisory_unlock(42)')).toBe(true)
  })

  it('survives COMMIT and ROLLBACK; goes with unlock_all, DISCARD ALL and the session', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await a.query('BEGIN')
    await a.query('SELECT pg_advisory_lock(1)')
    await a.query('ROLLBACK')
    expect(await one(b, 'SELECT pg_try_advisory_lock(1)')).toBe(false)
    await a.query('SELECT pg_advisory_unlock_all()')
    expect(await one(b, 'SELECT pg_try_advisory_lock(1)')).toBe(true)
    await b.query('DISCARD ALL')
    expect(await one(a, 'SELECT pg_try_advisory_lock(1)')).toBe(true)
    await a.close()
    expect(await one(b, 'SELECT pg_try_advisory_lock(1)')).toBe(true)
  })

  it('a transaction-level lock is held until the block ends', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await a.query('BEGIN')
    await a.query('SELECT pg_advisory_xact_lock(7)')
    expect(await one(b, 'SELECT pg_try_advisory_xact_lock(7)')).toBe(false)
    expect(await one(b, 'SELECT pg_try_advisory_lock(7)')).toBe(false)
    const waiting = b.query('SELECT pg_advisory_xact_lock(7)')
    expect(await pending(waiting)).toBe(true)
    await a.query('COMMIT')
    await waiting
    // Outside a block b's lock ended with its statement.
    expect(await one(a, 'SELECT pg_try_advisory_lock(7)')).toBe(true)
  })

  it('shared locks go together and keep out an exclusive one; one bigint key is not two integer keys', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await a.query('SELECT pg_advisory_lock_shared(5)')
    expect(await one(b, 'SELECT pg_try_advisory_lock_shared(5)')).toBe(true)
    expect(await one(b, 'SELECT pg_try_advisory_lock(5)')).toBe(false)
    expect(await one(b, 'SELECT pg_try_advisory_lock(0, 5)')).toBe(true)
    const locks = await b.query("SELECT classid::text, objid::text, objsubid, mode FROM pg_locks WHERE locktype = 'advisory' ORDER BY objsubid, mode")
    expect(locks.rowArrays).toEqual([['0', '5', 1, 'ShareLock'], ['0', '5', 1, 'ShareLock'], ['0', '5', 2, 'ExclusiveLock']])
    expect(await one(a, 'SELECT pg_advisory_unlock(5)')).toBe(false)
    expect(await one(a, 'SELECT pg_advisory_unlock_shared(5)')).toBe(true)
  })

  it('a statement that waited and ran again does not take its earlier locks twice', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await b.query('SELECT pg_advisory_lock(2)')
    const both = a.query('SELECT pg_advisory_lock(1), pg_advisory_lock(2)')
    expect(await pending(both)).toBe(true)
    // a took nothing while it waits: 1 is free.
    expect(await one(b, 'SELECT pg_try_advisory_xact_lock(1)')).toBe(true)
    await b.query('SELECT pg_advisory_unlock(2)')
    await both
    expect(await one(a, 'SELECT pg_advisory_unlock(1)')).toBe(true)
    expect(await one(a, 'SELECT pg_advisory_unlock(1)')).toBe(false)
  })

  it('deadlock: exactly one waiter fails with 40P01; lock_timeout ends a wait with 55P03', async () => {
    const db = await open()
    const [a, b] = [db.session(), db.session()]
    await a.query('SELECT pg_advisory_lock(10)')
    await b.query('SELECT pg_advisory_lock(11)')
    const first = codeOf(a.query('SELECT pg_advisory_lock(11)'))
    expect(await pending(first)).toBe(true)
    const second = codeOf(b.query('SELECT pg_advisory_lock(10)'))
    expect(await second).toBe('40P01')
    await b.query('SELECT pg_advisory_unlock(11)')
    expect(await first).toBeUndefined()
    await b.query("SET lock_timeout = '30ms'")
    expect(await codeOf(b.query('SELECT pg_advisory_lock(10)'))).toBe('55P03')
  })
})
