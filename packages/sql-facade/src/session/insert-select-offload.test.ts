import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { ROWS, failure, fill, offloader, run, slow } from './offload-test.fixture.js'
import type { OffloadReply, StatementOffloader } from './statement-offload.js'

const rowsOf = async (db: Pick<Database, 'query'>, sql: string) => (await db.query(sql)).rowArrays

/** How many rows the worker answered with, per request (-1: it answered none). */
const rowsAnswered = (off: { replies: OffloadReply[] }) => off.replies.map((r) => (r.ok && r.rows !== undefined ? r.rows.rows.length : -1))

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await fill(db, 'src')
})
afterAll(async () => {
  await db.close()
})

describe('INSERT .. SELECT whose SELECT runs off the main thread', () => {
  it('rows inserted, defaults, triggers, RETURNING and ON CONFLICT are as with offload off', async () => {
    await db.query("CREATE FUNCTION mark_tag() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.tag := coalesce(NEW.tag, '') || '#'; RETURN NEW; END $$")
    for (const s of ['on', 'off']) {
      // A serial and a now() default: drawn on the event loop when the row is inserted.
      await db.query(`CREATE TABLE dst_${s} (n SERIAL, id INT PRIMARY KEY, k INT NOT NULL, tag TEXT, amount NUMERIC(10, 2), span INTERVAL, tags TEXT[], at TIMESTAMPTZ DEFAULT now())`)
      // A BEFORE ROW trigger changes each row as it is inserted (on the event loop).
      await db.query(`CREATE TRIGGER mark_${s} BEFORE INSERT ON dst_${s} FOR EACH ROW EXECUTE FUNCTION mark_tag()`)
    }
    const statements = [
      `INSERT INTO dst_{s} (id, k, tag, amount, span, tags) SELECT id, k, upper(note), id / 7.0, make_interval(days => k), ARRAY[note, 'a'] FROM src WHERE ${slow("note LIKE '%7x'")} ORDER BY id RETURNING n, id, k, tag, amount, span, tags`,
      `INSERT INTO dst_{s} (id, k) SELECT id, -k FROM src WHERE ${slow("note LIKE '%17x'")} ON CONFLICT (id) DO UPDATE SET k = excluded.k * 10, tag = dst_{s}.tag || '!' RETURNING n, id, k, tag`,
      `INSERT INTO dst_{s} (id, k) SELECT id, k FROM src WHERE ${slow("note LIKE '%3x'")} ON CONFLICT DO NOTHING`,
    ]
    const off = offloader()
    const counts: number[] = []
    for (const sql of statements) {
      const moved = await run(db, sql.replaceAll('{s}', 'on'), off)
      const here = await run(db, sql.replaceAll('{s}', 'off'), undefined)
      expect(moved).toEqual(here)
      counts.push(moved.rowCount ?? -1)
    }
    expect(counts).toEqual([2000, 200, 2000])
    // Each SELECT ran on the worker, which answered with every source row (ON CONFLICT's are judged here).
    expect(off.requests.map((r) => r.insertRows?.table)).toEqual(['dst_on', 'dst_on', 'dst_on'])
    expect(rowsAnswered(off)).toEqual([2000, 200, 2000])
    // The serial drew no value in the run thrown away at the offload point: the same numbers.
    const contents = (s: string) => rowsOf(db, `SELECT n, id, k, tag, amount, span, tags FROM dst_${s} ORDER BY id`)
    expect(await contents('on')).toEqual(await contents('off'))
    // now() of a default is one value per statement, as on the event loop.
    expect(await rowsOf(db, 'SELECT count(DISTINCT at) FROM dst_on')).toEqual([['2']])
  })

  it('an INSERT with a WITH of its own moves, its SELECT reading the WITH\'s queries, as with offload off', async () => {
    for (const s of ['on', 'off']) await db.query(`CREATE TABLE with_dst_${s} (id INT PRIMARY KEY, k INT)`)
    const sql = `WITH picked AS (SELECT id, k FROM src WHERE ${slow("note LIKE '%9x'")}) INSERT INTO with_dst_{s} SELECT id, k * 2 FROM picked WHERE k < 500 RETURNING id, k`
    const off = offloader()
    const moved = await run(db, sql.replaceAll('{s}', 'on'), off)
    const here = await run(db, sql.replaceAll('{s}', 'off'), undefined)
    expect(moved).toEqual(here)
    expect(moved.rowCount).toBe(1000)
    expect(off.requests.map((r) => r.insertRows?.table)).toEqual(['with_dst_on'])
    expect(await rowsOf(db, 'SELECT count(*), sum(k) FROM with_dst_on')).toEqual(await rowsOf(db, 'SELECT count(*), sum(k) FROM with_dst_off'))
  })

  it('INSERT INTO t SELECT .. FROM t inserts each row of the statement\'s snapshot once', async () => {
    await db.query('CREATE TABLE twice (id INT PRIMARY KEY, note TEXT)')
    await db.query(`INSERT INTO twice SELECT g, 'x' || g || 'x' FROM generate_series(1, ${ROWS}) g`)
    const off = offloader()
    const r = await run(db, `INSERT INTO twice SELECT id + ${ROWS}, note FROM twice WHERE ${slow('true')}`, off)
    expect(r.rowCount).toBe(ROWS)
    expect(rowsAnswered(off)).toEqual([ROWS])
    expect(await rowsOf(db, 'SELECT count(*), min(id), max(id), count(DISTINCT note) FROM twice')).toEqual([[String(2 * ROWS), 1, 2 * ROWS, String(ROWS)]])
  })

  it('rows another session commits while the worker runs are not read; a conflict with one is found when inserting', async () => {
    await db.query('CREATE TABLE racing_dst (id INT PRIMARY KEY, note TEXT)')
    const other = db.session()
    const off = offloader(async () => {
      // Matches the SELECT, committed after its snapshot: not read.
      await other.query(`INSERT INTO src VALUES (${ROWS + 7}, 7, 0, 'late7x')`)
      // A row the SELECT gives, already in the target: ON CONFLICT judges it on the event loop.
      await other.query("INSERT INTO racing_dst VALUES (7, 'theirs')")
    })
    const r = await run(db, `INSERT INTO racing_dst SELECT id, note FROM src WHERE ${slow("note LIKE '%7x'")} ON CONFLICT (id) DO NOTHING`, off)
    expect(rowsAnswered(off)).toEqual([2000])
    expect(r.rowCount).toBe(1999)
    expect(await rowsOf(db, `SELECT id, note FROM racing_dst WHERE id IN (7, 17, ${ROWS + 7}) ORDER BY id`)).toEqual([[7, 'theirs'], [17, 'x17x']])
    await other.query(`DELETE FROM src WHERE id = ${ROWS + 7}`)
    await other.close()
  })

  it('a unique, NOT NULL or CHECK violation in a row the worker produced fails as with offload off and inserts nothing', async () => {
    for (const s of ['on', 'off']) {
      await db.query(`CREATE TABLE strict_${s} (id INT PRIMARY KEY, k INT NOT NULL, u INT UNIQUE, c INT CHECK (c < 999))`)
      await db.query(`INSERT INTO strict_${s} VALUES (-1, 0, 17, 0)`)
    }
    const statements = [
      // u = 17 is taken; the row giving it comes late in the SELECT's rows.
      `INSERT INTO strict_{s} SELECT id, k, id, 0 FROM src WHERE ${slow("note LIKE '%7x'")} ORDER BY id`,
      `INSERT INTO strict_{s} (id, k) SELECT id, nullif(k, 77) FROM src WHERE ${slow("note LIKE '%7x'")}`,
      `INSERT INTO strict_{s} (id, k, c) SELECT id, k, k FROM src WHERE ${slow("note LIKE '%9x'")}`,
    ]
    const off = offloader()
    const codes: Array<string | undefined> = []
    for (const sql of statements) {
      const moved = await failure(run(db, sql.replaceAll('{s}', 'on'), off))
      const here = await failure(run(db, sql.replaceAll('{s}', 'off'), undefined))
      const named = (e: { message?: string }, s: string) => e.message?.replaceAll(`strict_${s}`, 'strict_{s}')
      expect({ code: moved.code, message: named(moved, 'on') }).toEqual({ code: here.code, message: named(here, 'off') })
      codes.push(moved.code)
    }
    expect(codes).toEqual(['23505', '23502', '23514'])
    // The worker produced the rows; the violation was found inserting them here.
    expect(rowsAnswered(off)).toEqual([2000, 2000, 2000])
    expect(await rowsOf(db, 'SELECT count(*) FROM strict_on')).toEqual([['1']])
  })

  it('a cancel request while the worker runs ends the statement with 57014 and inserts nothing', async () => {
    await db.query('CREATE TABLE canceled_dst (id INT PRIMARY KEY)')
    const off = offloader(async () => {
      session.cancel()
    })
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    const e = await failure(session.query(`INSERT INTO canceled_dst SELECT id FROM src WHERE ${slow('k = 3')}`))
    expect(off.requests).toHaveLength(1)
    expect(e.code).toBe('57014')
    expect(await rowsOf(db, 'SELECT count(*) FROM canceled_dst')).toEqual([['0']])
    await session.close()
  })

  it('statement_timeout passing while the worker runs ends the statement with 57014 and inserts nothing', async () => {
    await db.query('CREATE TABLE timed_dst (id INT PRIMARY KEY)')
    const off = offloader(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400))
    })
    const e = await failure(run(db, `INSERT INTO timed_dst SELECT id FROM src WHERE ${slow('k = 3')}`, off, ["SET statement_timeout = '300ms'"]))
    expect(off.requests).toHaveLength(1)
    expect(e.code).toBe('57014')
    expect(await rowsOf(db, 'SELECT count(*) FROM timed_dst')).toEqual([['0']])
  })

  it('another session is served while the worker runs and sees none of the rows until they are inserted', async () => {
    await db.query('CREATE TABLE served_dst (id INT PRIMARY KEY)')
    const other = db.session()
    const seen: unknown[] = []
    const off = offloader(async () => {
      seen.push((await other.query('SELECT 1')).rowArrays, (await other.query('SELECT count(*) FROM served_dst')).rowArrays)
    })
    const r = await run(db, `INSERT INTO served_dst SELECT id FROM src WHERE ${slow('k = 3')}`, off)
    expect(seen).toEqual([[[1]], [['0']]])
    expect(r.rowCount).toBe(20)
    expect(await rowsOf(db, 'SELECT count(*) FROM served_dst')).toEqual([['20']])
    await other.close()
  })

  it('an offloader that declines, a worker that fails or answers more rows than its bound, and a catalog changed meanwhile leave the SELECT to run here', async () => {
    await db.query('CREATE TABLE fallback_dst (id INT PRIMARY KEY, k INT)')
    const sql = (k: number) => `INSERT INTO fallback_dst SELECT id, k FROM src WHERE ${slow(`k = ${k}`)}`
    let asked = 0
    const declining: StatementOffloader = {
      run: async () => {
        asked++
        return null
      },
    }
    const failing: StatementOffloader = {
      run: async () => {
        asked++
        return { ok: false, error: { code: 'XX000', message: 'worker broke' } }
      },
    }
    expect((await run(db, sql(1), declining)).rowCount).toBe(20)
    expect((await run(db, sql(2), failing)).rowCount).toBe(20)
    expect(asked).toBe(2)
    // Bounded to 5 rows: the worker fails (54000) and the statement runs here whole.
    const bounded = offloader()
    const narrow: StatementOffloader = { run: (request, signal) => bounded.run({ ...request, insertRows: { ...request.insertRows!, limit: 5 } }, signal) }
    expect((await run(db, sql(3), narrow)).rowCount).toBe(20)
    expect(bounded.replies.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['54000'])
    // A column added while the worker ran: its rows were made for the old catalog; the
    // SELECT runs again here, and reads the matching row committed meanwhile too.
    const other = db.session()
    const altering = offloader(async () => {
      await other.query('ALTER TABLE fallback_dst ADD COLUMN extra INT DEFAULT 5')
      await other.query(`INSERT INTO src VALUES (${ROWS + 4}, 4, 0, 'late')`)
    })
    expect((await run(db, sql(4), altering)).rowCount).toBe(21)
    expect(rowsAnswered(altering)).toEqual([20])
    expect(await rowsOf(db, 'SELECT k, extra, count(*) FROM fallback_dst GROUP BY k, extra ORDER BY k')).toEqual([[1, 5, '20'], [2, 5, '20'], [3, 5, '20'], [4, 5, '21']])
    await other.query(`DELETE FROM src WHERE id = ${ROWS + 4}`)
    await other.close()
  })

  it('once its rows are in hand the statement stays: a long insert after a quick SELECT does not move, and its serial draws no value twice', async () => {
    // Each row's CHECK costs far more than producing it.
    await db.query("CREATE TABLE heavy (n SERIAL, id INT PRIMARY KEY, note TEXT CHECK (length(md5(repeat(note, 20000))) = 32))")
    const off = offloader()
    const r = await run(db, "INSERT INTO heavy (id, note) SELECT g, 'x' || g FROM generate_series(1, 2000) g", off, ["SET offload_after = '200ms'"])
    expect(r.rowCount).toBe(2000)
    expect(off.requests).toEqual([])
    expect(await rowsOf(db, 'SELECT min(n), max(n), count(*) FROM heavy')).toEqual([[1, 2000, '2000']])
  })

  it('INSERT .. SELECTs that may not move run here: nextval or random() in the SELECT, INSERT .. VALUES', async () => {
    await db.query('CREATE TABLE stays_dst (id INT PRIMARY KEY, v FLOAT8)')
    await db.query('CREATE SEQUENCE stays_seq')
    const off = offloader()
    await run(db, `INSERT INTO stays_dst SELECT id, nextval('stays_seq') FROM src WHERE ${slow('k = 1')}`, off)
    await run(db, `INSERT INTO stays_dst SELECT id, random() FROM src WHERE ${slow('k = 2')}`, off)
    await run(db, 'INSERT INTO stays_dst VALUES (-1, 0), (-2, 0)', off)
    expect(off.requests).toEqual([])
    expect(await rowsOf(db, 'SELECT count(*) FROM stays_dst')).toEqual([['42']])
    // Without what kept them here, the same statement moves.
    expect((await run(db, `INSERT INTO stays_dst SELECT id, 0 FROM src WHERE ${slow('k = 4')}`, off)).rowCount).toBe(20)
    expect(off.requests.map((r) => r.insertRows?.table)).toEqual(['stays_dst'])
  })

  it('in a transaction block it moves, its SELECT reading the block\'s own writes, and the rows stay the block\'s until COMMIT or ROLLBACK', async () => {
    await db.query('CREATE TABLE block_dst (id INT PRIMARY KEY, v FLOAT8)')
    const off = offloader()
    const session = db.session({ offloader: off })
    const other = db.session()
    await session.query("SET offload_after = '1ms'")
    for (const end of ['ROLLBACK', 'COMMIT']) {
      await session.query('BEGIN')
      // The block's own rows of the source: one new match, one match taken away.
      await session.query('INSERT INTO src VALUES (-5, 5, 0, \'x-5x\')')
      await session.query('UPDATE src SET k = 6 WHERE id = 5')
      const r = await session.query(`INSERT INTO block_dst SELECT id, k FROM src WHERE ${slow('k = 5')}`)
      expect(r.rowCount).toBe(20)
      // Not visible to others before COMMIT.
      expect(await rowsOf(other, 'SELECT count(*) FROM block_dst')).toEqual([['0']])
      expect(await rowsOf(session, 'SELECT count(*) FROM block_dst WHERE id = -5')).toEqual([['1']])
      await session.query(end)
    }
    expect(off.requests.map((r) => [r.insertRows?.table, r.carried !== undefined])).toEqual([['block_dst', true], ['block_dst', true]])
    expect(await rowsOf(db, 'SELECT count(*), min(id), bool_and(v = 5) FROM block_dst')).toEqual([['20', -5, true]])
    expect(await rowsOf(db, 'SELECT count(*) FROM block_dst WHERE id = 5')).toEqual([['0']])
    await db.query('DELETE FROM src WHERE id = -5')
    await db.query('UPDATE src SET k = 5 WHERE id = 5')
    await other.close()
    await session.close()
  })
})
