/**
 * Large commits are applied in slices with other clients served between them
 * (docs/decisions/0038-sliced-commits.md): before, a 100,000-row UPDATE left every other
 * client unanswered for its whole commit (docs/security.md). Other sessions read none of
 * such a commit until all of it is in; a write waits for it, then reads its rows.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from './session.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

const ROWS = 20_000

/** Turns of the event loop until a sliced commit is applying (bounded). */
async function untilCommitting(d: Database, done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !d.replica.isCommitting && !done(); i++) await new Promise((r) => setImmediate(r))
}

/** A database slicing commits of 1,000 rows or more, and two of its sessions. */
async function twoSessions(nodeId: string): Promise<{ a: Session; b: Session }> {
  db = await openDatabase({ nodeId })
  db.sliceCommitRows = 1_000
  return { a: db.session(), b: db.session() }
}

describe('sliced commits over SQL', () => {
  it('answers a reader while a large UPDATE commits, showing none of it; a concurrent write waits and loses nothing', async () => {
    const { a, b } = await twoSessions('slc1')
    await a.query('CREATE TABLE big (id int PRIMARY KEY, v int)')
    await a.query(`INSERT INTO big SELECT g, 0 FROM generate_series(1, ${ROWS}) g`)
    expect((await b.query('SELECT count(*)::int, sum(v)::int FROM big')).rowArrays).toEqual([[ROWS, 0]])

    let answered = false
    const update = a.query('UPDATE big SET v = v + 1').then((r) => {
      answered = true
      return r
    })
    await untilCommitting(db, () => answered)
    expect(db.replica.isCommitting).toBe(true)
    // Served while the commit applies, and shown none of it.
    expect((await b.query('SELECT count(*)::int, sum(v)::int FROM big WHERE v = 1')).rowArrays).toEqual([[0, null]])
    expect(answered).toBe(false)
    // A write of one of its rows waits for it, then adds to it (v = 1 + 10).
    const write = b.query('UPDATE big SET v = v + 10 WHERE id = 7')
    expect((await update).commandTag).toBe('UPDATE 20000')
    expect((await write).commandTag).toBe('UPDATE 1')
    expect((await b.query('SELECT v FROM big WHERE id = 7')).rowArrays).toEqual([[11]])
    expect((await b.query('SELECT sum(v)::int FROM big')).rowArrays).toEqual([[ROWS + 10]])
  })

  it('applies a transaction block\'s COMMIT and COPY-sized inserts in slices too, all or nothing to others', async () => {
    const { a, b } = await twoSessions('slc2')
    await a.query('CREATE TABLE t (id int PRIMARY KEY, s text)')
    await a.query('BEGIN')
    await a.query(`INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g`)
    let committed = false
    const commit = a.query('COMMIT').then(() => (committed = true))
    await untilCommitting(db, () => committed)
    expect(db.replica.isCommitting).toBe(true)
    expect((await b.query('SELECT count(*)::int FROM t')).rowArrays).toEqual([[0]])
    await commit
    expect((await b.query('SELECT count(*)::int, max(s) FROM t')).rowArrays).toEqual([[ROWS, 'row 9999']])
  })
})
