import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

async function rows(sql: string): Promise<unknown[][]> {
  return (await db!.query(sql)).rowArrays
}

/** A xorshift32 generator: `next(n)` is in [0, n). */
function xorshift(seed: number): (n: number) => number {
  return (n) => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) % n
  }
}

describe('secondary indexes kept current by updates', () => {
  it('an UPDATE of other columns leaves the row findable by its indexed values; one of an indexed column moves it', async () => {
    db = await openDatabase({ nodeId: 'si1' })
    // As pgbench builds its tables: the key added after the rows, plus an index on another column.
    await db.query('CREATE TABLE acc (aid int NOT NULL, bid int, abalance int, n numeric)')
    await db.query('INSERT INTO acc SELECT g, g % 10, 0, 1.0 FROM generate_series(1, 200) g')
    await db.query('ALTER TABLE acc ADD PRIMARY KEY (aid)')
    await db.query('CREATE INDEX acc_bid ON acc (bid)')
    await db.query('CREATE INDEX acc_n ON acc (n)')
    // Built on first use, then kept current by the writes below.
    expect(await rows('SELECT abalance FROM acc WHERE aid = 7')).toEqual([[0]])
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 7')).toEqual([['20']])
    expect(await rows('SELECT count(*) FROM acc WHERE n = 1')).toEqual([['200']])

    for (let i = 0; i < 3; i++) await db.query('UPDATE acc SET abalance = abalance + 5 WHERE aid = 7')
    expect(await rows('SELECT abalance FROM acc WHERE aid = 7')).toEqual([[15]])
    expect(await rows('SELECT aid FROM acc WHERE bid = 7 AND abalance > 0')).toEqual([[7]])

    // An indexed value rewritten as an equal one: the row stays found, with its new text.
    await db.query('UPDATE acc SET n = 1.00 WHERE aid = 3')
    expect(await rows('SELECT aid, n FROM acc WHERE n = 1 AND aid = 3')).toEqual([[3, '1.00']])
    expect(await rows('SELECT count(*) FROM acc WHERE n = 1')).toEqual([['200']])

    // The indexed column changes: found under the new value only.
    await db.query('UPDATE acc SET bid = 99 WHERE aid = 8')
    expect(await rows('SELECT aid FROM acc WHERE bid = 99')).toEqual([[8]])
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 8')).toEqual([['19']])
    expect(await rows('SELECT aid FROM acc WHERE bid >= 98 AND bid <= 100')).toEqual([[8]])

    // The key changes: found under the new key only.
    await db.query('UPDATE acc SET aid = 1000 WHERE aid = 9')
    expect(await rows('SELECT aid, bid FROM acc WHERE aid = 9')).toEqual([])
    expect(await rows('SELECT aid, bid FROM acc WHERE aid = 1000')).toEqual([[1000, 9]])
    expect(await rows('SELECT aid FROM acc WHERE bid = 9 ORDER BY aid')).toEqual([[19], [29], [39], [49], [59], [69], [79], [89], [99], [109], [119], [129], [139], [149], [159], [169], [179], [189], [199], [1000]])

    // An indexed column set to NULL leaves the index; set again, it returns.
    await db.query('UPDATE acc SET bid = NULL WHERE aid = 1000')
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 9')).toEqual([['19']])
    await db.query('UPDATE acc SET bid = 9 WHERE aid = 1000')
    expect(await rows('SELECT count(*) FROM acc WHERE bid = 9')).toEqual([['20']])
  })
})

describe('index lookups agree with scans', () => {
  // The packed search (plain numbers) and the general one (after a NaN, a bigint) must find
  // what a scan finds, through inserts, deletes and updates that move rows in the index.
  it('through random writes, on an int, a bigint and a float8 column (NaN and -0 among them)', async () => {
    db = await openDatabase({ nodeId: 'si2' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY, a int, b bigint, f float8)')
    await db.query('CREATE INDEX t_a ON t (a)')
    await db.query('CREATE INDEX t_b ON t (b)')
    await db.query('CREATE INDEX t_f ON t (f)')
    const next = xorshift(42)
    let checked = 0
    const floats = ['0', '-0', '1.5', '-2.25', "'Infinity'", "'-Infinity'", '3', '7.75']
    const check = async (step: number) => {
      const x = next(40) - 20
      const y = x + next(15)
      for (const [col, lit] of [['a', String(x)], ['b', String(x)], ['f', floats[next(floats.length)]!]] as const) {
        const wheres = [(c: string) => `${c} = ${lit}`, (c: string) => `${c} >= ${lit}`, (c: string) => `${c} > ${x} AND ${c} <= ${y}`, (c: string) => `${c} < ${lit}`]
        for (const where of wheres) {
          // `col + 0` is no column: the scan's answer.
          const byIndex = await rows(`SELECT id FROM t WHERE ${where(col)} ORDER BY id`)
          const byScan = await rows(`SELECT id FROM t WHERE ${where(`(${col} + 0)`)} ORDER BY id`)
          expect(byIndex, `step ${step}: ${where(col)}`).toEqual(byScan)
          checked += byIndex.length
        }
      }
    }
    for (let step = 0; step < 120; step++) {
      const id = next(60)
      const op = next(4)
      const a = next(40) - 20
      // NaN enters the float index late, so both of its searches run.
      const f = step > 80 && next(5) === 0 ? "'NaN'" : floats[next(floats.length)]
      if (op === 0) await db.query(`DELETE FROM t WHERE id = ${id}`)
      else if (op === 1) await db.query(`UPDATE t SET a = ${a}, b = ${a * 3}, f = ${f} WHERE id = ${id}`)
      else await db.query(`INSERT INTO t VALUES (${id}, ${a}, ${a * 3}, ${f}) ON CONFLICT (id) DO UPDATE SET a = excluded.a, f = excluded.f`)
      if (step % 6 === 5) await check(step)
    }
    expect(checked).toBeGreaterThan(100)
    expect(await rows("SELECT count(*) FROM t WHERE f = 'NaN'")).toEqual(await rows("SELECT count(*) FROM t WHERE f + 0 = 'NaN'"))
  })
})

describe('an index built over the rows already there', () => {
  // Built in one sort on first use (not row by row): the order, the packed search's choice
  // and the writes after it must agree with a scan.
  it('answers as a scan does, before and after later writes, on int, text and float8 columns', async () => {
    db = await openDatabase({ nodeId: 'si3' })
    await db.query('CREATE TABLE u (id int PRIMARY KEY, a int, s text, f float8)')
    const next = xorshift(7)
    const floats = ['0', '-0', '1.5', '-2.25', "'Infinity'", "'NaN'", 'NULL', '3']
    const texts = ["'b'", "'a'", "'ab'", "''", 'NULL', "'B'", "'z'"]
    const ids = Array.from({ length: 300 }, (_, i) => i).sort(() => next(3) - 1)
    for (const id of ids) {
      const a = next(9) === 0 ? 'NULL' : String(next(50) - 25)
      await db.query(`INSERT INTO u VALUES (${id}, ${a}, ${texts[next(texts.length)]}, ${floats[next(floats.length)]})`)
    }
    await db.query('CREATE INDEX u_a ON u (a)')
    await db.query('CREATE INDEX u_s ON u (s)')
    await db.query('CREATE INDEX u_f ON u (f)')
    let checked = 0
    const check = async (label: string) => {
      for (const [col, lits] of [['a', ['-3', '0', '24']], ['s', ["'a'", "'ab'", "''"]], ['f', ['0', "'NaN'", '1.5']]] as const) {
        for (const lit of lits) {
          for (const op of ['=', '>=', '<', '>']) {
            const byIndex = await rows(`SELECT id FROM u WHERE ${col} ${op} ${lit} ORDER BY id`)
            const scanCol = col === 's' ? `(${col} || '')` : `(${col} + 0)`
            const byScan = await rows(`SELECT id FROM u WHERE ${scanCol} ${op} ${lit} ORDER BY id`)
            expect(byIndex, `${label}: ${col} ${op} ${lit}`).toEqual(byScan)
            checked += byIndex.length
          }
        }
      }
    }
    await check('built')
    for (let step = 0; step < 60; step++) {
      const id = next(320)
      if (next(3) === 0) await db.query(`DELETE FROM u WHERE id = ${id}`)
      else {
        await db.query(
          `INSERT INTO u VALUES (${id}, ${next(50) - 25}, ${texts[next(texts.length)]}, ${floats[next(floats.length)]}) ` +
            'ON CONFLICT (id) DO UPDATE SET a = excluded.a, s = excluded.s, f = excluded.f',
        )
      }
    }
    await check('after writes')
    expect(checked).toBeGreaterThan(1000)
  })
})

describe('index structures outlive other tables\' catalog changes', () => {
  it('a CREATE of another table keeps a built index; a change of its own table or of itself builds it again', async () => {
    db = await openDatabase({ nodeId: 'si4' })
    await db.query('CREATE TABLE acc (aid int NOT NULL, bid int)')
    await db.query('INSERT INTO acc SELECT g, g % 10 FROM generate_series(1, 50) g')
    await db.query('ALTER TABLE acc ADD PRIMARY KEY (aid)')
    await db.query('CREATE TABLE hist (tid int, delta int)')
    expect(await rows('SELECT bid FROM acc WHERE aid = 7')).toEqual([[7]])
    const built = db.indexes.builds
    // As pgbench's runs begin: its history emptied, then accounts read by key.
    await db.query('TRUNCATE hist')
    await db.query('CREATE TABLE other (a int)')
    await db.query('CREATE INDEX other_a ON other (a)')
    expect(await rows('SELECT bid FROM acc WHERE aid = 8')).toEqual([[8]])
    expect(db.indexes.builds).toBe(built)
    // Its own table emptied: the deletes keep the index current, nothing built.
    await db.query('TRUNCATE acc')
    expect(await rows('SELECT bid FROM acc WHERE aid = 8')).toEqual([])
    await db.query('INSERT INTO acc VALUES (8, 3)')
    expect(await rows('SELECT bid FROM acc WHERE aid = 8')).toEqual([[3]])
    expect(db.indexes.builds).toBe(built)
    // A column of its table added: built again, and correct.
    await db.query('ALTER TABLE acc ADD COLUMN c int')
    expect(await rows('SELECT bid, c FROM acc WHERE aid = 8')).toEqual([[3, null]])
    expect(db.indexes.builds).toBe(built + 1)
    // An index of its table dropped and made again on another column: built again.
    await db.query('CREATE INDEX acc_bid ON acc (bid)')
    expect(await rows('SELECT aid FROM acc WHERE bid = 3')).toEqual([[8]])
    await db.query('DROP INDEX acc_bid')
    await db.query('CREATE INDEX acc_bid ON acc (aid)')
    const before = db.indexes.builds
    expect(await rows('SELECT aid FROM acc WHERE aid = 8')).toEqual([[8]])
    expect(await rows('SELECT aid FROM acc WHERE bid = 3')).toEqual([[8]])
    expect(db.indexes.builds).toBe(before + 1)
  })
})

// A range over a primary key (`id BETWEEN ..`, `id > ..`) reads the key's implicit index
// (catalog/secondary-index.ts, `primaryKeyIndex`) instead of every row; `id + 0` below
// hides the key from it, so the same question is answered by a scan.
describe("a primary key's implicit index", () => {
  it('answers ranges as a scan does, through inserts, deletes, key changes and open transactions', async () => {
    db = await openDatabase({ nodeId: 'pk1' })
    await db.query('CREATE TABLE r (id int PRIMARY KEY, v int)')
    await db.query('INSERT INTO r SELECT g * 3, g FROM generate_series(1, 400) g')
    const next = xorshift(2026)
    const check = async (what: string, s = db!.session()): Promise<void> => {
      const a = next(1300)
      const b = a + next(200)
      for (const [indexed, scanned] of [
        [`id BETWEEN ${a} AND ${b}`, `id + 0 BETWEEN ${a} AND ${b}`],
        [`id > ${a} AND id <= ${b}`, `id + 0 > ${a} AND id + 0 <= ${b}`],
        [`${a} < id`, `${a} < id + 0`],
        [`id < ${b} AND v % 2 = 0`, `id + 0 < ${b} AND v % 2 = 0`],
      ]) {
        const got = (await s.query(`SELECT id, v FROM r WHERE ${indexed} ORDER BY id`)).rowArrays
        expect(got, `${what}: ${indexed}`).toEqual((await s.query(`SELECT id, v FROM r WHERE ${scanned} ORDER BY id`)).rowArrays)
      }
    }
    const builds = db.indexes.builds
    await check('as loaded')
    expect(db.indexes.builds).toBe(builds + 1)
    for (let round = 0; round < 30; round++) {
      const k = next(1300)
      const op = next(4)
      if (op === 0) await db.query(`INSERT INTO r VALUES (${k}, ${round}) ON CONFLICT (id) DO UPDATE SET v = ${round}`)
      else if (op === 1) await db.query(`DELETE FROM r WHERE id BETWEEN ${k} AND ${k + 20}`)
      else if (op === 2) await db.query(`UPDATE r SET id = id + 1000 WHERE id BETWEEN ${k} AND ${k + 5} AND id + 1000 NOT IN (SELECT id FROM r)`)
      else {
        // Its own uncommitted writes, seen by the session that made them and by no other.
        const s = db.session()
        await s.query('BEGIN')
        await s.query(`INSERT INTO r VALUES (${k + 100000}, -1) ON CONFLICT DO NOTHING`)
        await s.query(`DELETE FROM r WHERE id BETWEEN ${k} AND ${k + 9}`)
        await s.query(`UPDATE r SET id = -id WHERE id BETWEEN ${k + 10} AND ${k + 12}`)
        await check(`inside a transaction, round ${round}`, s)
        await check(`beside a transaction, round ${round}`)
        await s.query(next(2) === 0 ? 'ROLLBACK' : 'COMMIT')
      }
      await check(`round ${round}`)
    }
    // Kept current all along (writes in key order or near the end): built once.
    expect(db.indexes.builds).toBe(builds + 1)
  })

  it('covers a composite key by its first column, and text keys', async () => {
    db = await openDatabase({ nodeId: 'pk2' })
    await db.query('CREATE TABLE line (o int, n int, qty int, PRIMARY KEY (o, n))')
    await db.query('INSERT INTO line SELECT g / 10, g % 10, g FROM generate_series(0, 999) g')
    expect(await rows('SELECT count(*)::int, min(qty), max(qty) FROM line WHERE o BETWEEN 20 AND 29')).toEqual([[100, 200, 299]])
    expect(await rows('SELECT qty FROM line WHERE o = 7 AND n >= 8 ORDER BY qty')).toEqual([[78], [79]])
    await db.query('CREATE TABLE word (w text PRIMARY KEY, n int)')
    await db.query("INSERT INTO word VALUES ('apple', 1), ('banana', 2), ('cherry', 3), ('date', 4), ('Apple', 5)")
    expect(await rows("SELECT w FROM word WHERE w BETWEEN 'b' AND 'd' ORDER BY w")).toEqual([['banana'], ['cherry']])
    expect(await rows("SELECT w FROM word WHERE w >= 'cherry' ORDER BY w")).toEqual([['cherry'], ['date']])
  })

  it('is put away when writes out of key order cost more than building it again, and built again on its next use', async () => {
    db = await openDatabase({ nodeId: 'pk3' })
    await db.query('CREATE TABLE u (id int PRIMARY KEY, v int)')
    await db.query('INSERT INTO u SELECT g * 2, g FROM generate_series(1, 2000) g')
    const builds = db.indexes.builds
    expect(await rows('SELECT count(*)::int FROM u WHERE id BETWEEN 1 AND 100')).toEqual([[50]])
    expect(db.indexes.builds).toBe(builds + 1)
    // Odd keys before most of the index: each insert moves most of its entries.
    for (let i = 0; i < 40; i++) await db.query(`INSERT INTO u SELECT g * 2 + 1, 0 FROM generate_series(${i * 5}, ${i * 5 + 4}) g`)
    expect(await rows('SELECT count(*)::int FROM u WHERE id BETWEEN 1 AND 100')).toEqual([[100]])
    expect(db.indexes.builds).toBe(builds + 2)
    // Used again soon after a few writes: kept.
    await db.query('INSERT INTO u VALUES (100001, 1)')
    expect(await rows('SELECT count(*)::int FROM u WHERE id > 4000')).toEqual([[1]])
    expect(db.indexes.builds).toBe(builds + 2)
    // One DELETE of most rows from the front: put away part way through its changes, and
    // built again, right, on its next use.
    await db.query('DELETE FROM u WHERE id < 3900')
    expect(await rows('SELECT id FROM u WHERE id BETWEEN 3890 AND 3910 ORDER BY id')).toEqual([[3900], [3902], [3904], [3906], [3908], [3910]])
    expect(await rows('SELECT id FROM u ORDER BY id LIMIT 2')).toEqual([[3900], [3902]])
    expect(db.indexes.builds).toBe(builds + 3)
  })
})
