/**
 * A DO block's loops pause for a turn of the event loop, other sessions served meanwhile
 * (docs/decisions/0039-pausable-plpgsql.md): before, `DO $$ BEGIN LOOP END LOOP; END $$`
 * held every client of the node until statement_timeout, or for ever without one, and a
 * cancel request could not even be read. The block stays one transaction: others see its
 * writes only once it ends, an error or a cancel keeps none of them, and a row it wrote
 * is locked until then.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import type { Session } from './session.js'

/** A lock owner no session is: whether anyone holds a row lock. */
const NOBODY = { pid: -1 }

let db: Database
afterEach(async () => {
  await db?.close()
})

/** A database whose DO blocks pause every 2 ms of running, and two of its sessions. */
async function twoSessions(nodeId: string): Promise<{ a: Session; b: Session }> {
  db = await openDatabase({ nodeId })
  db.pauseRunsAfterMs = 2
  const a = db.session()
  const b = db.session()
  await a.query('CREATE TABLE flag (id int PRIMARY KEY)')
  await a.query('CREATE TABLE log (id int PRIMARY KEY, v int)')
  return { a, b }
}

/** A loop that ends only when another session's row appears in `flag` (bounded, so a failure cannot hang). */
const WAIT_FOR_FLAG = `DO $$ DECLARE n int := 0; BEGIN
  INSERT INTO log VALUES (1, 0);
  FOR i IN 1..20000000 LOOP
    n := i;
    EXIT WHEN i % 100 = 0 AND EXISTS (SELECT 1 FROM flag);
  END LOOP;
  UPDATE log SET v = n WHERE id = 1;
END $$`

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string; message: string }
  }
  throw new Error('succeeded')
}

describe('DO blocks that pause', () => {
  it('serve another session while the loop runs; it sees the other\'s commit, and its own writes show only at its end', async () => {
    const { a, b } = await twoSessions('pdo1')
    let ended = false
    const run = a.query(WAIT_FOR_FLAG).then((r) => {
      ended = true
      return r
    })
    // Answered while the block runs: its row is not shown yet.
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
    expect(ended).toBe(false)
    await b.query('INSERT INTO flag VALUES (1)')
    expect((await run).commandTag).toBe('DO')
    const [[v]] = (await b.query('SELECT v FROM log WHERE id = 1')).rowArrays as [[number]]
    // It stopped because of the other session's row, long before its bound.
    expect(v).toBeGreaterThan(0)
    expect(v).toBeLessThan(20_000_000)
  })

  it('stops at a cancel request with 57014, keeps none of its writes, and the session goes on', async () => {
    const { a, b } = await twoSessions('pdo2')
    const run = failure(a.query(`DO $$ BEGIN INSERT INTO log VALUES (1, 1); LOOP END LOOP; END $$`))
    expect((await b.query('SELECT 1')).rowArrays).toEqual([[1]])
    a.cancel()
    expect(await run).toMatchObject({ code: '57014', message: 'canceling statement due to user request' })
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
    expect((await a.query('SELECT 2')).rowArrays).toEqual([[2]])
    // Not in a failed transaction: the implicit block ended.
    await a.query('INSERT INTO log VALUES (2, 2)')
    expect((await b.query('SELECT id FROM log')).rowArrays).toEqual([[2]])
  })

  it('ends at statement_timeout; an error after its writes keeps none of them', async () => {
    const { a, b } = await twoSessions('pdo3')
    await a.query("SET statement_timeout = '50ms'")
    expect(await failure(a.query('DO $$ BEGIN LOOP END LOOP; END $$'))).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' })
    await a.query('SET statement_timeout = 0')
    const err = await failure(a.query(`DO $$ BEGIN INSERT INTO log VALUES (1, 1); FOR i IN 1..100000 LOOP END LOOP; PERFORM 1 / 0; END $$`))
    expect(err.code).toBe('22012')
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
  })

  it('holds the row it wrote: another session\'s UPDATE of it waits for the block\'s end, then adds to its value', async () => {
    const { a, b } = await twoSessions('pdo4')
    await a.query('INSERT INTO log VALUES (1, 0)')
    const run = a.query(`DO $$ BEGIN UPDATE log SET v = 1 WHERE id = 1;
      FOR i IN 1..20000000 LOOP EXIT WHEN i % 100 = 0 AND EXISTS (SELECT 1 FROM flag); END LOOP; END $$`)
    const order: string[] = []
    void run.then(() => order.push('DO'))
    // Once the block holds its row (bounded turns of the event loop).
    for (let i = 0; i < 10_000 && !db.rowLocks.othersHold(NOBODY); i++) await new Promise((r) => setImmediate(r))
    const write = b.query('UPDATE log SET v = v + 10 WHERE id = 1').then((r) => {
      order.push('UPDATE')
      return r
    })
    // A third session is served, and ends the loop; the waiting UPDATE goes on only after the block committed.
    const c = db.session()
    expect((await c.query('SELECT v FROM log')).rowArrays).toEqual([[0]])
    expect(order).toEqual([])
    await c.query('INSERT INTO flag VALUES (1)')
    expect((await run).commandTag).toBe('DO')
    expect((await write).commandTag).toBe('UPDATE 1')
    // It read the block's 1 (had it gone first, the block's write would have left 1).
    expect((await c.query('SELECT v FROM log')).rowArrays).toEqual([[11]])
  })

  it('SELECT f(..) of a PL/pgSQL function pauses the same way and answers its value once; f called per row does not pause', async () => {
    const { a, b } = await twoSessions('pdo6')
    await a.query(`CREATE FUNCTION wait_flag(tag int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE n int := 0; BEGIN
      INSERT INTO log VALUES (tag, 0);
      FOR i IN 1..20000000 LOOP n := i; EXIT WHEN i % 100 = 0 AND EXISTS (SELECT 1 FROM flag); END LOOP;
      RAISE NOTICE 'looped';
      RETURN n; END $$`)
    let ended = false
    const run = a.query('SELECT wait_flag(7) AS n').then((r) => {
      ended = true
      return r
    })
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
    expect(ended).toBe(false)
    await b.query('INSERT INTO flag VALUES (1)')
    const r = await run
    expect(r.fields.map((f) => f.name)).toEqual(['n'])
    const [[n]] = r.rowArrays as [[number]]
    expect(n).toBeGreaterThan(0)
    // Its body ran once: one row, one notice.
    expect(r.notices).toEqual(['looped'])
    expect((await b.query('SELECT id FROM log')).rowArrays).toEqual([[7]])
    // Called per row it runs to its end (the flag is set: one pass of its loop).
    expect((await a.query('SELECT wait_flag(id + 10) > 0 FROM flag')).rowArrays).toEqual([[true]])
    expect((await b.query('SELECT id FROM log ORDER BY id')).rowArrays).toEqual([[7], [11]])
  })

  it('inside a transaction block, pauses too and commits with the block', async () => {
    const { a, b } = await twoSessions('pdo5')
    await a.query('BEGIN')
    await a.query('INSERT INTO log VALUES (1, 0)')
    const run = a.query(WAIT_FOR_FLAG.replace('INSERT INTO log VALUES (1, 0);', ''))
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
    await b.query('INSERT INTO flag VALUES (1)')
    expect((await run).commandTag).toBe('DO')
    expect((await b.query('SELECT count(*)::int FROM log')).rowArrays).toEqual([[0]])
    await a.query('COMMIT')
    expect((await b.query('SELECT count(*)::int FROM log WHERE v > 0')).rowArrays).toEqual([[1]])
  })
})
