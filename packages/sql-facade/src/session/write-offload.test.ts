import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import type { QueryResult } from '../result-format.js'
import { ROWS, failure, fill, offloader, run, slow } from './offload-test.fixture.js'
import type { StatementOffloader } from './statement-offload.js'

const contents = async (db: Database, table: string) => (await db.query(`SELECT id, k, v, note FROM ${table} ORDER BY id`)).rowArrays

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})
afterAll(async () => {
  await db.close()
})

describe('UPDATE and DELETE whose WHERE is evaluated off the main thread', () => {
  it('an UPDATE and a DELETE give the row counts, RETURNING rows and table as with offload off', async () => {
    await fill(db, 'same_on')
    await fill(db, 'same_off')
    const statements = [
      `UPDATE {t} SET v = v + id, note = upper(note) WHERE ${slow("(k = 7 OR note LIKE '%x123%')")} RETURNING id, v, note`,
      `UPDATE {t} SET v = v - 1 WHERE ${slow("k BETWEEN 10 AND 12")}`,
      `DELETE FROM {t} WHERE ${slow("note LIKE '%77x'")} RETURNING *`,
      `DELETE FROM {t} WHERE ${slow("k = 999")}`,
    ]
    const off = offloader()
    const counts: number[] = []
    for (const sql of statements) {
      const moved = await run(db, sql.replace('{t}', 'same_on'), off)
      const here = await run(db, sql.replace('{t}', 'same_off'), undefined)
      expect(moved).toEqual(here)
      counts.push(moved.rowCount ?? -1)
    }
    // Each moved, and the worker found exactly the rows that were written.
    expect(off.requests.map((r) => r.targetKeys?.table)).toEqual(['same_on', 'same_on', 'same_on', 'same_on'])
    expect(off.replies.map((r) => (r.ok ? r.keys?.length : -1))).toEqual(counts)
    expect(counts).toEqual([131, 60, 199, 20])
    expect(await contents(db, 'same_on')).toEqual(await contents(db, 'same_off'))
  })

  it('rows other sessions change while the worker runs: a row that starts matching is written, one that stops is not, a deleted one stays deleted, an inserted match is written', async () => {
    await fill(db, 'racing')
    const other = db.session()
    const off = offloader(async () => {
      await other.query('UPDATE racing SET k = 7 WHERE id = 8') // starts matching
      await other.query('UPDATE racing SET k = 8 WHERE id = 1007') // stops matching
      await other.query('DELETE FROM racing WHERE id = 2007') // deleted meanwhile
      await other.query("INSERT INTO racing VALUES (30007, 7, 0, 'new')") // inserted, matching
      await other.query("INSERT INTO racing VALUES (30008, 8, 0, 'new')") // inserted, not matching
    })
    const r = await run(db, `UPDATE racing SET v = v + 1 WHERE ${slow("k = 7")} RETURNING id`, off)
    expect(off.requests).toHaveLength(1)
    // The worker saw the snapshot: the 20 rows with k = 7 then.
    expect(off.replies[0]!.ok && off.replies[0]!.keys!.length).toBe(20)
    const expected = [...Array.from({ length: 20 }, (_, i) => i * 1000 + 7).filter((id) => id !== 1007 && id !== 2007), 8, 30007].sort((a, b) => a - b)
    expect(r.rowArrays.map((x) => Number(x[0])).sort((a, b) => a - b)).toEqual(expected)
    expect(r.rowCount).toBe(expected.length)
    const written = (await db.query('SELECT id FROM racing WHERE v = 1 ORDER BY id')).rowArrays.map((x) => Number(x[0]))
    expect(written).toEqual(expected)
    expect((await db.query('SELECT count(*) FROM racing WHERE id = 2007')).rowArrays).toEqual([['0']])
    await other.close()
  })

  it('now() is the statement\'s start on the event loop as where the WHERE ran: a row stamped by another session meanwhile is not written', async () => {
    await db.query('CREATE TABLE stamped (id INT PRIMARY KEY, at TIMESTAMPTZ, v INT, note TEXT)')
    await db.query(`INSERT INTO stamped SELECT g, TIMESTAMPTZ '2020-01-01 00:00:00+00', 0, 'x' || g || 'x' FROM generate_series(1, ${ROWS}) g`)
    const other = db.session()
    const off = offloader(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      await other.query("INSERT INTO stamped VALUES (30001, now(), 0, 'late')")
    })
    const r = await run(db, `UPDATE stamped SET v = 1 WHERE ${slow('at < now()')}`, off)
    expect(off.requests).toHaveLength(1)
    expect(r.rowCount).toBe(ROWS)
    expect((await db.query('SELECT v FROM stamped WHERE id = 30001')).rowArrays).toEqual([[0]])
    await other.close()
  })

  it('a DELETE while other sessions write: a row deleted meanwhile is not brought back, a row that stopped matching survives', async () => {
    await fill(db, 'racing_delete')
    const other = db.session()
    const off = offloader(async () => {
      await other.query("UPDATE racing_delete SET note = 'kept' WHERE id = 5") // x5x stopped matching '%5x'
      await other.query('DELETE FROM racing_delete WHERE id = 15')
      await other.query("UPDATE racing_delete SET note = 'now 5x' WHERE id = 16") // starts matching
    })
    const r = await run(db, `DELETE FROM racing_delete WHERE ${slow("note LIKE '%5x'")}`, off)
    expect(off.requests).toHaveLength(1)
    // Of the 2,000 ids ending in 5: 5 kept, 15 deleted before; 16 added.
    expect(r.rowCount).toBe(2000 - 2 + 1)
    expect((await db.query("SELECT id FROM racing_delete WHERE id IN (5, 15, 16, 25) ORDER BY id")).rowArrays).toEqual([[5]])
    await other.close()
  })

  it('a unique violation found on the event loop aborts the statement as with offload off, against rows outside the worker\'s matches', async () => {
    await fill(db, 'uniq', ', u INT UNIQUE')
    await db.query('UPDATE uniq SET u = id')
    const off = offloader()
    const moved = await failure(run(db, `UPDATE uniq SET u = 1 WHERE ${slow("note LIKE '%x17x%'")}`, off))
    const here = await failure(run(db, `UPDATE uniq SET u = 1 WHERE ${slow("note LIKE '%x17x%'")}`, undefined))
    expect(off.requests).toHaveLength(1)
    expect({ code: moved.code, message: moved.message }).toEqual({ code: here.code, message: here.message })
    expect(moved.code).toBe('23505')
    expect((await db.query('SELECT u FROM uniq WHERE id = 17')).rowArrays).toEqual([[17]])
  })

  it('a cancel request while the worker runs ends the statement with 57014 and writes nothing', async () => {
    await fill(db, 'canceled')
    const session = db.session({
      offloader: offloader(async () => {
        session.cancel()
      }),
    })
    await session.query("SET offload_after = '1ms'")
    const e = await failure(session.query(`UPDATE canceled SET v = 1 WHERE ${slow("k = 3")}`))
    expect(e.code).toBe('57014')
    expect((await db.query('SELECT count(*) FROM canceled WHERE v = 1')).rowArrays).toEqual([['0']])
    await session.close()
  })

  it('statement_timeout passing while the worker runs ends the statement with 57014 and writes nothing', async () => {
    await fill(db, 'timed')
    const off = offloader(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400))
    })
    const e = await failure(run(db, `DELETE FROM timed WHERE ${slow("k = 3")}`, off, ["SET statement_timeout = '300ms'"]))
    expect(off.requests).toHaveLength(1)
    expect(e.code).toBe('57014')
    expect((await db.query('SELECT count(*) FROM timed')).rowArrays).toEqual([[String(ROWS)]])
  })

  it('an offloader that declines, or a worker that fails, leaves the write to run here whole', async () => {
    await fill(db, 'declined')
    let asked = 0
    const r = await run(db, `UPDATE declined SET v = 2 WHERE ${slow("k = 4")}`, {
      run: async () => {
        asked++
        return null
      },
    })
    expect(r.rowCount).toBe(20)
    const failing: StatementOffloader = {
      run: async () => {
        asked++
        return { ok: false, error: { code: 'XX000', message: 'worker broke' } }
      },
    }
    const d = await run(db, `DELETE FROM declined WHERE ${slow("k = 4")}`, failing)
    expect(d.rowCount).toBe(20)
    expect(asked).toBe(2)
  })

  it('the run here reads only the rows the worker found and the rows changed since the snapshot', async () => {
    await fill(db, 'narrowed')
    const other = db.session()
    const inner = offloader(async () => {
      await other.query('UPDATE narrowed SET k = 7 WHERE id = 8')
    })
    // A worker that (wrongly) reports one match of the twenty: only it and the changed row are written.
    const lying: StatementOffloader = {
      run: async (request, signal) => {
        const reply = await inner.run(request, signal)
        return reply && reply.ok ? { ...reply, keys: reply.keys!.filter((k) => k[0] === 7) } : reply
      },
    }
    const r = await run(db, `UPDATE narrowed SET v = 1 WHERE ${slow("k = 7")} RETURNING id`, lying)
    expect(r.rowArrays.map((x) => Number(x[0])).sort((a, b) => a - b)).toEqual([7, 8])
    await other.close()
  })

  it('writes that may not move run here: VOLATILE user functions or nextval, a data-modifying WITH', async () => {
    await fill(db, 'stays')
    await db.query('CREATE SEQUENCE stays_seq')
    await db.query('CREATE FUNCTION seven_volatile() RETURNS INT LANGUAGE sql AS $$ SELECT 7 $$')
    const off = offloader()
    for (const sql of [
      `UPDATE stays SET v = 1 WHERE ${slow('k = seven_volatile()')}`,
      "UPDATE stays SET v = nextval('stays_seq') WHERE k = 7",
      `WITH d AS (DELETE FROM stays WHERE id = -1 RETURNING k) UPDATE stays SET v = 1 WHERE ${slow('k IN (SELECT k FROM d)')}`,
      `UPDATE stays SET v = 1 WHERE ${slow('random() < 2 AND k = 9')}`,
    ]) {
      await run(db, sql, off)
    }
    expect(off.requests).toEqual([])
    // Without what kept them here, the same write moves.
    expect((await run(db, `UPDATE stays SET v = -4 WHERE ${slow('k = 11')}`, off)).rowCount).toBe(20)
    expect(off.requests.map((r) => r.targetKeys?.table)).toEqual(['stays'])
  })
})

describe('UPDATE and DELETE moved off the main thread: tables with triggers', () => {
  it('row and statement triggers fire once, on the event loop, as with offload off', async () => {
    await db.query("CREATE FUNCTION bump_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := NEW.note || '+'; RETURN NEW; END $$")
    await db.query('CREATE SEQUENCE trig_seq')
    for (const side of ['on', 'off']) {
      await fill(db, `trig_${side}`)
      await db.query(`CREATE TABLE trig_log_${side} (n INT, op TEXT, id INT)`)
      // AFTER triggers log each row and each statement, drawing a sequence value: a trigger
      // that fired in a discarded run as well would leave more rows and skip numbers.
      await db.query(`CREATE FUNCTION log_${side}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO trig_log_${side} VALUES (nextval('trig_seq'), TG_OP, coalesce(OLD.id, -1)); RETURN NULL; END $$`)
      await db.query(`CREATE TRIGGER bump_${side} BEFORE UPDATE ON trig_${side} FOR EACH ROW EXECUTE FUNCTION bump_note()`)
      await db.query(`CREATE TRIGGER log_row_${side} AFTER UPDATE OR DELETE ON trig_${side} FOR EACH ROW EXECUTE FUNCTION log_${side}()`)
      await db.query(`CREATE TRIGGER log_stmt_${side} AFTER DELETE ON trig_${side} FOR EACH STATEMENT EXECUTE FUNCTION log_${side}()`)
    }
    const off = offloader()
    for (const sql of [`UPDATE trig_{s} SET v = 1 WHERE ${slow('k = 7')} RETURNING id, note`, `DELETE FROM trig_{s} WHERE ${slow("note LIKE '%8x'")}`]) {
      const moved = await run(db, sql.replaceAll('{s}', 'on'), off)
      const here = await run(db, sql.replaceAll('{s}', 'off'), undefined)
      const sorted = (r: QueryResult) => ({ ...r, rowArrays: [...r.rowArrays].sort(), rows: [] })
      expect(sorted(moved)).toEqual(sorted(here))
    }
    expect(off.requests.map((r) => r.targetKeys?.table)).toEqual(['trig_on', 'trig_on'])
    expect(await contents(db, 'trig_on')).toEqual(await contents(db, 'trig_off'))
    const log = async (side: string) => (await db.query(`SELECT op, count(*)::int, count(DISTINCT n)::int FROM trig_log_${side} GROUP BY op ORDER BY op`)).rowArrays
    expect(await log('on')).toEqual([['DELETE', 2001, 2001], ['UPDATE', 20, 20]])
    expect(await log('on')).toEqual(await log('off'))
  })
})

describe('UPDATE and DELETE moved off the main thread in a transaction block', () => {
  /** The block both sides run: its own writes, then the moved statements, then `end`. */
  const block = (t: string, end: string) => [
    'BEGIN',
    `INSERT INTO ${t} VALUES (-7, 7, 0, 'x-7x'), (-8, 8, 0, 'x-8x')`,
    `UPDATE ${t} SET k = 7 WHERE id = 8`,
    `DELETE FROM ${t} WHERE id = 1007`,
    `UPDATE ${t} SET v = v + 1, note = note || '!' WHERE ${slow('k = 7')} RETURNING id, v, note`,
    `DELETE FROM ${t} WHERE ${slow("note LIKE '%8x'")} RETURNING id`,
    `SELECT count(*), sum(v) FROM ${t}`,
    end,
  ]

  it('they move, see the block\'s own writes, and answer and leave the table as with offload off, at COMMIT and at ROLLBACK', async () => {
    for (const end of ['COMMIT', 'ROLLBACK']) {
      const answers: Record<string, unknown[]> = {}
      const off = offloader()
      for (const side of ['on', 'off']) {
        const t = `blocked_${end.toLowerCase()}_${side}`
        await fill(db, t)
        const session = db.session(side === 'on' ? { offloader: off } : {})
        await session.query(`SET offload_after = '${side === 'on' ? '1ms' : '0'}'`)
        const results: unknown[] = []
        for (const sql of block(t, end)) {
          const r = await session.query(sql)
          results.push({ count: r.rowCount, rows: [...r.rowArrays].map((x) => JSON.stringify(x)).sort() })
        }
        await session.close()
        results.push((await contents(db, t)).map((x) => JSON.stringify(x)))
        answers[side] = results
      }
      expect(answers['on']).toEqual(answers['off'])
      // Both moved, each carrying the block's writes of the table.
      const writes = off.requests.filter((r) => r.targetKeys !== undefined)
      expect(writes.map((r) => [r.targetKeys?.table, r.carried !== undefined])).toEqual([[`blocked_${end.toLowerCase()}_on`, true], [`blocked_${end.toLowerCase()}_on`, true]])
      // The block's inserted row -7 and updated row 8 were among the worker's matches.
      expect(off.replies[0]!.ok && off.replies[0]!.keys!.map((k) => k[0]).filter((id) => id === -7 || id === 8).sort()).toEqual([-7, 8])
    }
  })

  it('an error of a moved write aborts the block as on the event loop (25P02), and ROLLBACK leaves the table as it was', async () => {
    await fill(db, 'block_error', ', u INT UNIQUE')
    await db.query('UPDATE block_error SET u = id')
    const off = offloader()
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    await session.query('UPDATE block_error SET v = 1 WHERE id = 3')
    const e = await failure(session.query(`UPDATE block_error SET u = 1 WHERE ${slow("note LIKE '%x17x%'")}`))
    expect(e.code).toBe('23505')
    expect(off.requests).toHaveLength(1)
    expect((await failure(session.query('SELECT 1'))).code).toBe('25P02')
    await session.query('ROLLBACK')
    await session.close()
    expect((await db.query('SELECT count(*) FROM block_error WHERE v = 1 OR u <> id')).rowArrays).toEqual([['0']])
  })

  it('a run never moves once it may have written: a slow RETURNING in a block writes each row once', async () => {
    // Few rows: finding them takes microseconds, far less than offload_after.
    await db.query('CREATE TABLE block_returning (id INT PRIMARY KEY, v INT)')
    await db.query('INSERT INTO block_returning SELECT g, 0 FROM generate_series(1, 100) g')
    const off = offloader()
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    // A key lookup and a costly RETURNING: the run passes its offload point after writing.
    const r = await session.query('UPDATE block_returning SET v = v + 1 WHERE id IN (5, 6) RETURNING id, (SELECT count(*) FROM generate_series(1, 400000))')
    // Written once: a run that moved after writing left its writes in the block, and the run here wrote them again.
    expect((await session.query('SELECT id, v FROM block_returning WHERE id IN (5, 6) ORDER BY id')).rowArrays).toEqual([[5, 1], [6, 1]])
    expect([...r.rowArrays].sort()).toEqual([[5, '400000'], [6, '400000']])
    await session.query('COMMIT')
    await session.close()
    expect(off.requests.filter((q) => q.targetKeys !== undefined).map((q) => q.sql)).toEqual([])
  })

  it('another session\'s commit while the worker runs is seen by the run here, as on the event loop', async () => {
    await fill(db, 'block_racing')
    const other = db.session()
    const off = offloader(async () => {
      await other.query('UPDATE block_racing SET k = 7 WHERE id = 9')
    })
    const session = db.session({ offloader: off })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    await session.query('UPDATE block_racing SET k = 7 WHERE id = 8')
    const r = await session.query(`UPDATE block_racing SET v = 1 WHERE ${slow('k = 7')}`)
    await session.query('COMMIT')
    expect(r.rowCount).toBe(22)
    expect((await db.query('SELECT count(*) FROM block_racing WHERE v = 1 AND id IN (8, 9)')).rowArrays).toEqual([['2']])
    await session.close()
    await other.close()
  })
})

describe('UPDATE and DELETE moved off the main thread: a WHERE that reads tables', () => {
  it('subqueries over another table or the target, FROM / USING, a WITH, and STABLE functions reading a table give the rows, counts and table as with offload off', async () => {
    for (const suffix of ['on', 'off']) {
      await fill(db, `reading_${suffix}`)
      await db.query(`CREATE TABLE picks_${suffix} (k INT PRIMARY KEY, tag TEXT)`)
      await db.query(`INSERT INTO picks_${suffix} VALUES (7, 'a'), (11, 'b'), (12, 'a')`)
      await db.query(`CREATE FUNCTION least_pick_${suffix}() RETURNS INT LANGUAGE sql STABLE AS $$ SELECT min(k) FROM picks_${suffix} $$`)
    }
    const statements = [
      `UPDATE reading_{s} SET v = v + 1 WHERE ${slow("k IN (SELECT k FROM picks_{s} WHERE tag = 'a')")} RETURNING id, v`,
      `UPDATE reading_{s} SET v = 5 WHERE ${slow('EXISTS (SELECT 1 FROM picks_{s} p WHERE p.k = reading_{s}.k + 1)')}`,
      `DELETE FROM reading_{s} WHERE ${slow('k = least_pick_{s}()')} RETURNING id`,
      `UPDATE reading_{s} SET v = 9 WHERE ${slow('k >= (SELECT max(k) FROM reading_{s}) - 1')}`,
      `UPDATE reading_{s} SET v = p.k + length(p.tag) FROM picks_{s} p WHERE ${slow('reading_{s}.k = p.k + 100')} RETURNING reading_{s}.id, v`,
      `DELETE FROM reading_{s} USING picks_{s} p, generate_series(1, 2) g WHERE ${slow('reading_{s}.k = p.k + 200 * g')}`,
      `WITH a AS (SELECT k FROM picks_{s} WHERE tag = 'a'), b AS (SELECT k + 300 AS k FROM a) UPDATE reading_{s} SET v = 3 WHERE ${slow('k IN (SELECT k FROM b)')}`,
    ]
    const off = offloader()
    const counts: number[] = []
    for (const sql of statements) {
      const moved = await run(db, sql.replaceAll('{s}', 'on'), off)
      const here = await run(db, sql.replaceAll('{s}', 'off'), undefined)
      const sorted = (r: QueryResult) => ({ ...r, rowArrays: [...r.rowArrays].sort(), rows: [] })
      expect(sorted(moved)).toEqual(sorted(here))
      counts.push(moved.rowCount ?? -1)
    }
    expect(counts).toEqual([40, 60, 20, 40, 60, 120, 40])
    // Each moved, its snapshot holding the tables its WHERE reads.
    expect(off.requests.map((r) => r.targetKeys?.table)).toEqual(Array(7).fill('reading_on'))
    expect(off.requests[6]!.shards.some((x) => x.shard.includes('picks_on'))).toBe(true)
    expect(off.requests[0]!.shards.some((x) => x.shard.includes('picks_on'))).toBe(true)
    expect(off.replies.map((r) => (r.ok ? r.keys?.length : -1))).toEqual(counts)
    expect(await contents(db, 'reading_on')).toEqual(await contents(db, 'reading_off'))
  })

  it('a change to a table the WHERE reads while the worker runs makes the run here read every row: rows that match only after it are written', async () => {
    await fill(db, 'read_other')
    await db.query('CREATE TABLE read_picks (k INT PRIMARY KEY)')
    await db.query('INSERT INTO read_picks VALUES (7)')
    const other = db.session()
    const off = offloader(async () => {
      // Rows of k = 8 changed nowhere, yet they match once this row is there.
      await other.query('INSERT INTO read_picks VALUES (8)')
    })
    const r = await run(db, `UPDATE read_other SET v = 1 WHERE ${slow('k IN (SELECT k FROM read_picks)')}`, off)
    expect(off.requests).toHaveLength(1)
    // The worker saw the snapshot: the 20 rows of k = 7.
    expect(off.replies[0]!.ok && off.replies[0]!.keys!.length).toBe(20)
    expect(r.rowCount).toBe(40)
    expect((await db.query('SELECT k, count(*) FROM read_other WHERE v = 1 GROUP BY k ORDER BY k')).rowArrays).toEqual([[7, '20'], [8, '20']])
    await other.close()
  })

  it('a row joined through FROM while the worker runs: the rows it joins are written', async () => {
    await fill(db, 'read_from')
    await db.query('CREATE TABLE from_picks (k INT PRIMARY KEY, add INT)')
    await db.query('INSERT INTO from_picks VALUES (7, 1)')
    const other = db.session()
    const off = offloader(async () => {
      await other.query('INSERT INTO from_picks VALUES (8, 2)')
    })
    const r = await run(db, `UPDATE read_from SET v = f.add FROM from_picks f WHERE ${slow('read_from.k = f.k')}`, off)
    expect(off.replies[0]!.ok && off.replies[0]!.keys!.length).toBe(20)
    expect(r.rowCount).toBe(40)
    expect((await db.query('SELECT k, v, count(*) FROM read_from WHERE v > 0 GROUP BY k, v ORDER BY k')).rowArrays).toEqual([[7, 1, '20'], [8, 2, '20']])
    await other.close()
  })

  it('a change to another row of the target, when a subquery reads the target, lapses the restriction too', async () => {
    await fill(db, 'read_self')
    const other = db.session()
    const off = offloader(async () => {
      // max(k) falls from 999 to 998: the rows of k = 997, changed nowhere, start matching.
      await other.query('UPDATE read_self SET k = 0 WHERE k = 999')
    })
    const r = await run(db, `UPDATE read_self SET v = 1 WHERE ${slow('k >= (SELECT max(k) FROM read_self) - 1')}`, off)
    expect(off.replies[0]!.ok && off.replies[0]!.keys!.length).toBe(40)
    expect(r.rowCount).toBe(40)
    expect((await db.query('SELECT k, count(*) FROM read_self WHERE v = 1 GROUP BY k ORDER BY k')).rowArrays).toEqual([[997, '20'], [998, '20']])
    await other.close()
  })
})

describe('UPDATE and DELETE moved off the main thread: keys of other shapes', () => {
  it('a composite key of text and bigint, and a table without a primary key, give the same rows as with offload off', async () => {
    for (const suffix of ['on', 'off']) {
      await db.query(`CREATE TABLE comp_${suffix} (a TEXT, b BIGINT, k INT, v INT, note TEXT, PRIMARY KEY (a, b))`)
      await db.query(`INSERT INTO comp_${suffix} SELECT 'a' || (g % 7), g * 10000000000, g % 1000, 0, 'x' || g || 'x' FROM generate_series(1, ${ROWS}) g`)
      await db.query(`CREATE TABLE nopk_${suffix} (k INT, v INT, note TEXT)`)
      await db.query(`INSERT INTO nopk_${suffix} SELECT g % 1000, 0, 'x' || g || 'x' FROM generate_series(1, ${ROWS}) g`)
    }
    const statements = [
      `UPDATE comp_{s} SET v = v + 1 WHERE ${slow('k = 7')} RETURNING a, b, v`,
      `DELETE FROM comp_{s} WHERE ${slow("note LIKE '%99x'")} RETURNING a, b`,
      `UPDATE nopk_{s} SET v = v + 1 WHERE ${slow('k = 7')}`,
      `DELETE FROM nopk_{s} WHERE ${slow("note LIKE '%99x'")}`,
    ]
    const off = offloader()
    for (const sql of statements) {
      const moved = await run(db, sql.replace('{s}', 'on'), off)
      const here = await run(db, sql.replace('{s}', 'off'), undefined)
      const sorted = (r: QueryResult) => ({ ...r, rowArrays: [...r.rowArrays].sort(), rows: [] })
      expect(sorted(moved)).toEqual(sorted(here))
    }
    expect(off.requests.map((r) => r.targetKeys?.table)).toContain('comp_on')
    for (const t of ['comp', 'nopk']) {
      const cols = t === 'comp' ? 'a, b, k, v, note' : 'k, v, note'
      expect((await db.query(`SELECT ${cols} FROM ${t}_on ORDER BY ${cols}`)).rowArrays).toEqual((await db.query(`SELECT ${cols} FROM ${t}_off ORDER BY ${cols}`)).rowArrays)
    }
  })
})

describe('UPDATE moved off the main thread while replication applies peers\' writes', () => {
  it('a peer\'s writes arriving while the worker runs are seen: new matches written, lost matches and deleted rows left alone', async () => {
    const cluster = await SimCluster.create({ seed: 31, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE shared (id INT PRIMARY KEY, k INT, v INT)')
    await a.query(`INSERT INTO shared SELECT g, g % 1000, 0 FROM generate_series(1, ${ROWS}) g`)
    await cluster.settle()
    expect((await b.query('SELECT count(*) FROM shared')).rowArrays).toEqual([[String(ROWS)]])
    const off = offloader(async () => {
      await b.query('UPDATE shared SET k = 7 WHERE id = 8')
      await b.query('UPDATE shared SET k = 8 WHERE id = 1007')
      await b.query('DELETE FROM shared WHERE id = 2007')
      await b.query('INSERT INTO shared VALUES (30007, 7, 0)')
      await cluster.settle()
      // They reached a before the worker answers.
      expect((await a.query('SELECT count(*) FROM shared WHERE id IN (8, 30007) AND k = 7')).rowArrays).toEqual([['2']])
    })
    const r = await run(a, `UPDATE shared SET v = v + 1 WHERE ${slow('k = 7', 'id::text')}`, off)
    expect(off.requests).toHaveLength(1)
    expect(off.replies[0]!.ok && off.replies[0]!.keys!.length).toBe(20)
    const expected = [...Array.from({ length: 20 }, (_, i) => i * 1000 + 7).filter((id) => id !== 1007 && id !== 2007), 8, 30007].sort((x, y) => x - y)
    expect(r.rowCount).toBe(expected.length)
    await cluster.settle()
    for (const node of [a, b]) {
      expect((await node.query('SELECT id FROM shared WHERE v = 1 ORDER BY id')).rowArrays.map((x) => Number(x[0]))).toEqual(expected)
      expect((await node.query('SELECT count(*) FROM shared WHERE id = 2007')).rowArrays).toEqual([['0']])
    }
    await cluster.close()
  })
})
