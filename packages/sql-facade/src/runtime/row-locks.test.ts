/**
 * Row locks between sessions of one node, through two `Session`s on one `Database`:
 * PostgreSQL's READ COMMITTED behaviour (a second writer of a row waits, then re-reads
 * the row's latest committed version and re-tests its WHERE), SELECT .. FOR UPDATE with
 * NOWAIT and SKIP LOCKED, deadlocks (40P01 to one), lock_timeout (55P03).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from '../session/session.js'
import { codeOf, pending } from './lock-wait.fixture.js'
import { RowLocks, type LockOwner } from './row-locks.js'

const dbs: Database[] = []
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close()
})

async function setup(): Promise<{ a: Session; b: Session }> {
  const db = await openDatabase({ nodeId: 'n1' })
  dbs.push(db)
  await db.query('CREATE TABLE t (id int PRIMARY KEY, b int NOT NULL)')
  await db.query('INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)')
  return { a: db.session(), b: db.session() }
}


async function valueOf(s: Session, id: number): Promise<unknown> {
  return (await s.query(`SELECT b FROM t WHERE id = ${id}`)).rows[0]?.['b']
}

describe('the lock table', () => {
  it('a refused request leaves its owner holding nothing, so the holder alone holds locks once the other was refused', () => {
    const locks = new RowLocks()
    const a: LockOwner = { pid: 1 }
    const b: LockOwner = { pid: 2 }
    const key = RowLocks.keyOf('t', [1])
    expect(locks.tryLock(a, key, 'noKeyUpdate')).toEqual([])
    expect(locks.tryLock(b, key, 'update')).toEqual([a])
    expect(locks.holds(b)).toBe(false)
    expect(locks.othersHold(a)).toBe(false)
    expect(locks.othersHold(b)).toBe(true)
    locks.release(a)
    expect(locks.othersHold(b)).toBe(false)
    expect(locks.tryLock(b, key, 'update')).toEqual([])
    expect(locks.list()).toEqual([{ table: 't', owner: b, mode: 'update' }])
  })
})

describe('row locks between sessions of one node', () => {
  it('two blocks incrementing one row lose neither increment: the second waits and adds to the first commit', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await b.query('BEGIN')
    await a.query('UPDATE t SET b = b + 10 WHERE id = 1')
    const second = b.query('UPDATE t SET b = b + 100 WHERE id = 1')
    expect(await pending(second)).toBe(true)
    await a.query('COMMIT')
    expect((await second).rowCount).toBe(1)
    await b.query('COMMIT')
    expect(await valueOf(a, 1)).toBe(120)
  })

  it('a statement outside a block waits for the block that locked its row', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = b + 1 WHERE id = 2')
    const second = b.query('UPDATE t SET b = b * 2 WHERE id = 2')
    expect(await pending(second)).toBe(true)
    await a.query('COMMIT')
    await second
    expect(await valueOf(a, 2)).toBe(42)
  })

  it('a waiter re-tests its WHERE against the new version: UPDATE .. WHERE b = 10 after b became 11 updates nothing', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = b + 1 WHERE id = 1')
    const second = b.query('UPDATE t SET b = 99 WHERE b = 10')
    expect(await pending(second)).toBe(true)
    await a.query('COMMIT')
    expect((await second).rowCount).toBe(0)
    expect(await valueOf(a, 1)).toBe(11)
  })

  it('a row deleted while a writer waited for it is skipped', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('DELETE FROM t WHERE id = 3')
    const second = b.query('UPDATE t SET b = b + 1 WHERE id >= 2')
    expect(await pending(second)).toBe(true)
    await a.query('COMMIT')
    expect((await second).rowCount).toBe(1)
    expect((await a.query('SELECT id, b FROM t ORDER BY id')).rows).toEqual([{ id: 1, b: 10 }, { id: 2, b: 21 }])
  })

  it('ROLLBACK releases the locks and the waiter applies its change to the old value', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = 0 WHERE id = 1')
    const second = b.query('UPDATE t SET b = b + 5 WHERE id = 1')
    expect(await pending(second)).toBe(true)
    await a.query('ROLLBACK')
    await second
    expect(await valueOf(a, 1)).toBe(15)
  })

  it('SELECT .. FOR UPDATE blocks a second FOR UPDATE of the row until COMMIT', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await b.query('BEGIN')
    expect((await a.query('SELECT b FROM t WHERE id = 1 FOR UPDATE')).rows).toEqual([{ b: 10 }])
    const second = b.query('SELECT b FROM t WHERE id = 1 FOR UPDATE')
    expect(await pending(second)).toBe(true)
    await a.query('UPDATE t SET b = 11 WHERE id = 1')
    await a.query('COMMIT')
    expect((await second).rows).toEqual([{ b: 11 }])
    await b.query('COMMIT')
  })

  it('FOR SHARE locks do not block each other but block an UPDATE', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await b.query('BEGIN')
    await a.query('SELECT * FROM t WHERE id = 1 FOR SHARE')
    expect((await b.query('SELECT b FROM t WHERE id = 1 FOR KEY SHARE')).rows).toEqual([{ b: 10 }])
    await b.query('COMMIT')
    const upd = b.query('UPDATE t SET b = 1 WHERE id = 1')
    expect(await pending(upd)).toBe(true)
    await a.query('COMMIT')
    await upd
    expect(await valueOf(a, 1)).toBe(1)
  })

  it('a row two blocks hold FOR SHARE stays locked until both end; pg_locks lists each holder, and the one left strengthens its lock', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query('CREATE TABLE t (id int PRIMARY KEY, b int NOT NULL)')
    await db.query('INSERT INTO t VALUES (1, 10)')
    const [a, b, c, watch] = [db.session(), db.session(), db.session(), db.session()]
    const modes = async () => (await watch.query("SELECT mode FROM pg_locks WHERE locktype = 'tuple' ORDER BY mode")).rows.map((r) => r['mode'])
    await a.query('BEGIN')
    await b.query('BEGIN')
    await a.query('SELECT * FROM t WHERE id = 1 FOR SHARE')
    await b.query('SELECT * FROM t WHERE id = 1 FOR KEY SHARE')
    await b.query('SELECT * FROM t WHERE id = 1 FOR SHARE')
    expect(await modes()).toEqual(['RowShareLock', 'RowShareLock'])
    const upd = c.query('UPDATE t SET b = 1 WHERE id = 1')
    expect(await pending(upd)).toBe(true)
    await a.query('COMMIT')
    // b still holds it.
    expect(await pending(upd)).toBe(true)
    expect(await modes()).toEqual(['RowShareLock'])
    // The one holder left strengthens its lock, as it may alone.
    await b.query('SELECT * FROM t WHERE id = 1 FOR UPDATE')
    expect(await modes()).toEqual(['AccessExclusiveLock'])
    await b.query('COMMIT')
    await upd
    expect(await modes()).toEqual([])
    expect(await valueOf(a, 1)).toBe(1)
  })

  it('FOR UPDATE NOWAIT on a locked row fails with 55P03', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('SELECT * FROM t WHERE id = 1 FOR UPDATE')
    expect(await codeOf(b.query('SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT'))).toBe('55P03')
    expect((await b.query('SELECT b FROM t WHERE id = 2 FOR UPDATE NOWAIT')).rows).toEqual([{ b: 20 }])
    await a.query('COMMIT')
  })

  it('FOR UPDATE SKIP LOCKED skips the locked rows (a job queue)', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    expect((await a.query('SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED')).rows).toEqual([{ id: 1 }])
    await b.query('BEGIN')
    expect((await b.query('SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED')).rows).toEqual([{ id: 2 }])
    expect((await b.query('SELECT id FROM t ORDER BY id FOR UPDATE SKIP LOCKED')).rows).toEqual([{ id: 2 }, { id: 3 }])
    await a.query('COMMIT')
    await b.query('COMMIT')
  })

  it('a deadlock fails exactly one of the two transactions with 40P01, and the other goes on', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await b.query('BEGIN')
    await a.query('UPDATE t SET b = b + 1 WHERE id = 1')
    await b.query('UPDATE t SET b = b + 1 WHERE id = 2')
    const first = a.query('UPDATE t SET b = b + 1 WHERE id = 2')
    expect(await pending(first)).toBe(true)
    const second = b.query('UPDATE t SET b = b + 1 WHERE id = 1')
    const codes = await Promise.all([codeOf(first), codeOf(second)])
    expect(codes.filter((c) => c === '40P01')).toHaveLength(1)
    expect(codes.filter((c) => c === undefined)).toHaveLength(1)
    await a.query('COMMIT')
    await b.query('COMMIT')
    // The winner's two increments count; the victim's were rolled back.
    expect((await a.query('SELECT sum(b) AS s FROM t')).rows).toEqual([{ s: '62' }])
  })

  it('lock_timeout ends a wait with 55P03 and aborts the block', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = 0 WHERE id = 1')
    await b.query("SET lock_timeout = '30ms'")
    await b.query('BEGIN')
    expect(await codeOf(b.query('UPDATE t SET b = 5 WHERE id = 1'))).toBe('55P03')
    expect(await codeOf(b.query('SELECT 1'))).toBe('25P02')
    await b.query('ROLLBACK')
    await a.query('COMMIT')
  })

  it('statement_timeout and cancel end a wait with 57014', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = 0 WHERE id = 1')
    await b.query("SET statement_timeout = '30ms'")
    expect(await codeOf(b.query('UPDATE t SET b = 5 WHERE id = 1'))).toBe('57014')
    await b.query('SET statement_timeout = 0')
    const waiting = b.query('UPDATE t SET b = 5 WHERE id = 1')
    expect(await pending(waiting)).toBe(true)
    b.cancel()
    expect(await codeOf(waiting)).toBe('57014')
    await a.query('COMMIT')
  })

  it('FOR UPDATE anywhere but the top-level SELECT fails with 0A000 instead of locking nothing', async () => {
    const { a } = await setup()
    for (const sql of [
      'SELECT * FROM (SELECT * FROM t WHERE id = 1 FOR UPDATE) s',
      'WITH l AS (SELECT * FROM t WHERE id = 1 FOR UPDATE) SELECT * FROM l',
      'UPDATE t SET b = b + 1 WHERE id IN (SELECT id FROM t WHERE id = 1 FOR UPDATE)',
      'INSERT INTO t SELECT id + 10, b FROM t WHERE id = 1 FOR SHARE',
      'SELECT (SELECT b FROM t WHERE id = 1 FOR UPDATE)',
    ]) {
      expect(await codeOf(a.query(sql)), sql).toBe('0A000')
    }
    expect((await a.query('SELECT b FROM t WHERE id = 1 FOR UPDATE')).rows).toEqual([{ b: 10 }])
    expect(await valueOf(a, 11)).toBeUndefined()
  })

  it('a closed session releases its locks', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = 0 WHERE id = 1')
    const second = b.query('UPDATE t SET b = b + 1 WHERE id = 1')
    expect(await pending(second)).toBe(true)
    await a.close()
    await second
    expect(await valueOf(b, 1)).toBe(11)
  })

  it('two blocks inserting one key: the second waits, then fails with 23505 or updates ON CONFLICT', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    await a.query('INSERT INTO t VALUES (7, 1)')
    const dup = b.query('INSERT INTO t VALUES (7, 2)')
    const upsert = a.query('SELECT 1') // a's block goes on while b waits
    await upsert
    expect(await pending(dup)).toBe(true)
    await a.query('COMMIT')
    expect(await codeOf(dup)).toBe('23505')
    await a.query('BEGIN')
    await a.query('UPDATE t SET b = b + 1 WHERE id = 7')
    const on = b.query('INSERT INTO t VALUES (7, 0) ON CONFLICT (id) DO UPDATE SET b = t.b + 10')
    expect(await pending(on)).toBe(true)
    await a.query('COMMIT')
    await on
    expect(await valueOf(a, 7)).toBe(12)
  })

  // An INSERT looks its key up once (Transaction.insertNew), writing before it locks: a key
  // a committed row holds fails at once, whoever holds that row's lock, as PostgreSQL's
  // unique check does for a row locked FOR UPDATE; it does not wait for the lock.
  it('an INSERT of a key a committed row holds fails with 23505 at once, also while another block has the row locked', async () => {
    const { a, b } = await setup()
    await a.query('BEGIN')
    expect((await a.query('SELECT b FROM t WHERE id = 1 FOR UPDATE')).rows).toEqual([{ b: 10 }])
    const dup = b.query('INSERT INTO t VALUES (1, 99)')
    expect(await pending(dup)).toBe(false)
    expect(await codeOf(dup)).toBe('23505')
    // In a block of its own too, and the block is then failed (25P02), as for any error.
    await b.query('BEGIN')
    expect(await codeOf(b.query('INSERT INTO t VALUES (2, 99), (1, 99)'))).toBe('23505')
    expect(await codeOf(b.query('SELECT 1'))).toBe('25P02')
    await b.query('ROLLBACK')
    await a.query('COMMIT')
    expect(await valueOf(b, 1)).toBe(10)
    expect(await valueOf(b, 2)).toBe(20)
  })
})
