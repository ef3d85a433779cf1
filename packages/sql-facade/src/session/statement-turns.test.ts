/**
 * What a statement that waits for nothing costs in turns of the microtask queue: each
 * async frame between the call and the run, and each `await` of something already there,
 * is a promise and a turn (docs/benchmarks.md, "A statement's async frames"). The runs
 * that wait (a locked row, SERIAL ids, a sliced commit, a statement moved off the loop)
 * go on as before: their own tests (runtime/row-locks, sequences/serial, sliced-commit,
 * statement-offload and write-offload).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from './session.js'
import type { StatementOffloader } from './statement-offload.js'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'turns' })
  await db.query('CREATE TABLE t (id int PRIMARY KEY, v int)')
  await db.query('INSERT INTO t VALUES (1, 1), (2, 2)')
})
afterAll(async () => {
  await db.close()
})

/** Turns of the microtask queue from the call until `sql`'s answer is there, and the answer. */
async function turns(session: Session, sql: string): Promise<{ turns: number; rows: unknown[] }> {
  let rows: unknown[] | null = null
  const answered = session.queryAll(sql).then((r) => (rows = r[r.length - 1]!.rows))
  let n = 0
  while (rows === null && n < 1000) {
    await Promise.resolve()
    n++
  }
  await answered
  return { turns: n, rows: rows! }
}

/** Never asked: every statement here ends long before its offload point. */
const idleOffloader: StatementOffloader = {
  run: () => Promise.reject(new Error('no statement should move')),
}

describe('a statement that waits for nothing', () => {
  // 13 turns each before the runs were made in the turn of their call, then 6, then 3 once
  // runStatement, runEach and runScript answered without a promise (2026-12-06).
  it('is answered within 3 turns: a point SELECT, BEGIN, an UPDATE in a block; its COMMIT, which waits for storage, within 6', async () => {
    const s = db.session()
    expect(await turns(s, 'SELECT v FROM t WHERE id = 1')).toEqual({ turns: expect.any(Number), rows: [{ v: 1 }] })
    for (const sql of ['SELECT v FROM t WHERE id = 1', 'BEGIN', 'UPDATE t SET v = v + 10 WHERE id = 2']) {
      expect((await turns(s, sql)).turns, sql).toBeLessThanOrEqual(3)
    }
    expect((await turns(s, 'COMMIT')).turns).toBeLessThanOrEqual(6)
    expect((await turns(s, 'SELECT v FROM t WHERE id = 2')).rows).toEqual([{ v: 12 }])
    await s.close()
  })

  it('is answered as soon where it could move off the loop (an offload point it never reaches)', async () => {
    const s = db.session({ offloader: idleOffloader })
    await s.query("SET offload_after = '10s'")
    const read = await turns(s, 'SELECT v FROM t WHERE id = 1')
    expect(read.rows).toEqual([{ v: 1 }])
    expect(read.turns).toBeLessThanOrEqual(3)
    // A write of its own waits for storage (durable() here resolves at once).
    expect((await turns(s, 'UPDATE t SET v = v + 1 WHERE id = 1')).turns).toBeLessThanOrEqual(6)
    expect((await turns(s, 'SELECT v FROM t WHERE id = 1')).rows).toEqual([{ v: 2 }])
    await s.close()
  })

  it('still waits when it must: an UPDATE of a row another block locked answers after that COMMIT, with its value', async () => {
    const holder = db.session()
    const waiter = db.session()
    await holder.query('BEGIN')
    await holder.query('UPDATE t SET v = 100 WHERE id = 2')
    let done = false
    const waiting = waiter.query('UPDATE t SET v = v + 1 WHERE id = 2').then(() => (done = true))
    for (let i = 0; i < 50; i++) await Promise.resolve()
    expect(done).toBe(false)
    await holder.query('COMMIT')
    await waiting
    expect((await waiter.query('SELECT v FROM t WHERE id = 2')).rows).toEqual([{ v: 101 }])
    await holder.close()
    await waiter.close()
  })

  it('is answered in the turn of the call by queryAllNow and executeNow; one that waits gives a promise', async () => {
    const s = db.session()
    const now = s.queryAllNow('SELECT v FROM t WHERE id = 1')
    expect(now).not.toBeInstanceOf(Promise)
    expect((now as Awaited<typeof now>).map((r) => r.rows)).toEqual([[{ v: expect.any(Number) }]])
    // A query string of several statements is answered too, in a later turn.
    expect((await s.queryAllNow('SELECT 1 AS one; SELECT 2 AS two')).map((r) => r.rows)).toEqual([[{ one: 1 }], [{ two: 2 }]])
    const p = await s.prepare('SELECT v FROM t WHERE id = $1')
    const ran = s.executeNow(p, ['2'])
    expect(ran).not.toBeInstanceOf(Promise)
    expect((ran as Awaited<typeof ran>).rows).toEqual([{ v: expect.any(Number) }])
    // A commit waits for storage: a promise, whose answer is the statement's.
    expect(s.queryAllNow('BEGIN')).not.toBeInstanceOf(Promise)
    expect(s.queryAllNow('UPDATE t SET v = v WHERE id = 1')).not.toBeInstanceOf(Promise)
    const commit = s.queryAllNow('COMMIT')
    expect(commit).toBeInstanceOf(Promise)
    expect((await commit)[0]!.command).toBe('COMMIT')
    await s.close()
  })

  it('fails with its SQLSTATE, thrown or rejected, and leaves no request open for a cancel to hit', async () => {
    const s = db.session()
    const failed = async (run: () => unknown): Promise<unknown> => {
      try {
        await run()
      } catch (e) {
        return (e as { code?: unknown }).code
      }
      return null
    }
    expect(await failed(() => s.queryAllNow('SELECT 1 / 0'))).toBe('22012')
    const p = await s.prepare('SELECT v / $1 FROM t WHERE id = 1')
    expect(await failed(() => s.executeNow(p, ['0']))).toBe('22012')
    expect(await failed(() => s.executeNow(p, ['x']))).toBe('22P02')
    // A cancel between requests does nothing (as in PostgreSQL): the next statement runs.
    s.cancel()
    expect((s.queryAllNow('SELECT 3 AS three') as Array<{ rows: unknown[] }>)[0]!.rows).toEqual([{ three: 3 }])
    expect((await s.execute(p, ['1'])).rows).toEqual([{ '?column?': expect.any(Number) }])
    await s.close()
  })
})
