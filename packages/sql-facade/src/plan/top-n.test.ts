import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { compareValues } from '../types/compare.js'
import type { RtValue } from '../types/value.js'
import { TopN } from './top-n.js'

const byFirst = (a: readonly RtValue[], b: readonly RtValue[]): number => compareValues(a[0]!, b[0]!)

describe('TopN', () => {
  it('keeps the first k of a stream as a stable sort sliced to k would', () => {
    let seed = 7
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    for (const k of [0, 1, 2, 5, 17, 100, 250]) {
      const rows = Array.from({ length: 200 }, (_v, i) => ({ i, key: Math.floor(random() * 20) }))
      const top = new TopN<number>(k, byFirst)
      for (const r of rows) top.offer(r.i, [r.key])
      const expected = [...rows].sort((a, b) => a.key - b.key).slice(0, k).map((r) => r.i)
      expect(top.sorted()).toEqual(expected)
      expect(top.size).toBe(Math.min(k, rows.length))
    }
  })

  it('admits a row only while it would be kept; a tie with the last one kept comes after it', () => {
    const top = new TopN<string>(2, byFirst)
    expect(top.offer('a', [5])).toBe(true)
    expect(top.offer('b', [3])).toBe(true)
    expect(top.admits([5])).toBe(false)
    expect(top.offer('c', [5])).toBe(false)
    expect(top.admits([4])).toBe(true)
    expect(top.offer('d', [4])).toBe(true)
    expect(top.sorted()).toEqual(['b', 'd'])
    expect(new TopN<string>(0, byFirst).admits([1])).toBe(false)
  })
})

// ORDER BY .. LIMIT holds only the rows it returns (plan/top-n.ts). The answers are what
// sorting every row and slicing gives (PostgreSQL 15's where ties cannot differ).
describe('ORDER BY .. LIMIT over a table', () => {
  let database: Database
  const db = (): Database => database
  const rows = async (sql: string): Promise<unknown[][]> => (await database.query(sql)).rowArrays
  beforeAll(async () => {
    database = await openDatabase({ nodeId: 'topn' })
    await rows('CREATE TABLE topn (id int PRIMARY KEY, grp int, n int, v text)')
    await rows("INSERT INTO topn SELECT g, g % 7, CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 37) % 101 END, 'v' || (g * 13) % 1000 FROM generate_series(1, 3000) g")
  })
  afterAll(async () => {
    await database.close()
  })

  it('answers as the whole sort sliced: directions, NULLs, several keys, OFFSET', async () => {
    for (const order of ['v', 'v DESC, id', 'n, id', 'n NULLS FIRST, id DESC', 'n DESC, id', 'grp, n DESC NULLS LAST, id', 'id DESC', '2, 1', 'length(v), v, id']) {
      const all = await rows(`SELECT id, grp, n, v FROM topn ORDER BY ${order}`)
      for (const [limit, offset] of [[1, 0], [5, 0], [10, 3], [7, 2995], [3, 4000]] as const) {
        expect(await rows(`SELECT id, grp, n, v FROM topn ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`), `${order} LIMIT ${limit} OFFSET ${offset}`).toEqual(all.slice(offset, offset + limit))
      }
    }
  })

  it('keeps rows that sort equal in the order the whole sort gives them', async () => {
    const all = await rows('SELECT id FROM topn WHERE id <= 100 ORDER BY grp')
    expect(await rows('SELECT id FROM topn WHERE id <= 100 ORDER BY grp LIMIT 20')).toEqual(all.slice(0, 20))
    expect(await rows('SELECT id FROM topn WHERE id <= 100 ORDER BY grp OFFSET 13 LIMIT 9')).toEqual(all.slice(13, 22))
  })

  it('with WHERE, GROUP BY, parameters, LIMIT 0, NULL and ALL, and more rows than a heap keeps', async () => {
    expect(await rows('SELECT id FROM topn WHERE grp = 3 ORDER BY v DESC, id LIMIT 3')).toEqual((await rows('SELECT id FROM topn WHERE grp = 3 ORDER BY v DESC, id')).slice(0, 3))
    expect(await rows('SELECT grp, count(*)::int FROM topn GROUP BY grp ORDER BY count(*) DESC, grp LIMIT 2')).toEqual([[1, 429], [2, 429]])
    const s = db().session()
    expect((await s.query('SELECT id FROM topn ORDER BY n DESC NULLS LAST, id LIMIT $1 OFFSET $2', [2, 1])).rows).toEqual([{ id: 232 }, { id: 333 }])
    expect(await rows('SELECT id FROM topn ORDER BY id LIMIT 0')).toEqual([])
    expect((await rows('SELECT id FROM topn ORDER BY id DESC LIMIT NULL')).length).toBe(3000)
    expect((await rows('SELECT id FROM topn ORDER BY id DESC LIMIT ALL OFFSET 2990')).map((r) => r[0])).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    // OFFSET + LIMIT past what a heap keeps: the whole sort, then the slice.
    const many = await rows('SELECT id FROM topn CROSS JOIN generate_series(1, 5) k ORDER BY id DESC, k LIMIT 12000 OFFSET 14990')
    expect(many.map((r) => r[0])).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1])
  })

  it('reads LIMIT and OFFSET once, before the rows', async () => {
    await rows('CREATE SEQUENCE topn_s')
    expect(await rows("SELECT id FROM topn ORDER BY id LIMIT nextval('topn_s')")).toEqual([[1]])
    // LIMIT NULL: every row, sorted; the bound is not read again.
    expect((await rows("SELECT id FROM topn ORDER BY id LIMIT CASE WHEN nextval('topn_s') > 0 THEN NULL::bigint END")).length).toBe(3000)
    expect(await rows("SELECT currval('topn_s')")).toEqual([['2']])
    await expect(rows('SELECT id FROM topn ORDER BY id LIMIT -1')).rejects.toMatchObject({ code: '2201W' })
  })

  it('a filtered scan holds the rows WHERE keeps, not every row it reads', async () => {
    const s = db().session()
    await s.query("SET statement_mem = '128kB'")
    await expect(s.query('SELECT id, grp, n, v FROM topn')).rejects.toMatchObject({ code: '53200' })
    expect((await s.query('SELECT id, v FROM topn WHERE n = 100 ORDER BY id')).rowArrays).toEqual(await rows('SELECT id, v FROM topn WHERE (id * 37) % 101 = 100 AND id % 5 <> 0 ORDER BY id'))
    expect((await s.query('SELECT count(*)::int AS c FROM (SELECT id FROM topn WHERE grp = 4) q')).rows).toEqual([{ c: 429 }])
  })

  it('holds only the rows it returns: statement_mem bounds the whole sort, not the first rows of it', async () => {
    const s = db().session()
    await s.query("SET statement_mem = '256kB'")
    await expect(s.query('SELECT id, v FROM topn ORDER BY v DESC, id')).rejects.toMatchObject({ code: '53200' })
    expect((await s.query('SELECT id, v FROM topn ORDER BY v DESC, id LIMIT 3')).rows).toEqual([{ id: 923, v: 'v999' }, { id: 1923, v: 'v999' }, { id: 2923, v: 'v999' }])
    const [, second] = await rows('SELECT id, v FROM topn WHERE grp = 2 ORDER BY v DESC, id')
    expect((await s.query('SELECT id, v FROM topn WHERE grp = 2 ORDER BY v DESC, id OFFSET 1 LIMIT 1')).rowArrays).toEqual([second])
  })
})

// ORDER BY a table's single-column key with LIMIT walks the key's index in order and stops
// once it has the rows (plan/select.ts `walk`, table-scan.ts `ordered`); `id + 0` sorts
// the same rows without it.
describe('ORDER BY the primary key .. LIMIT', () => {
  let database: Database
  const rows = async (sql: string): Promise<unknown[][]> => (await database.query(sql)).rowArrays
  beforeAll(async () => {
    database = await openDatabase({ nodeId: 'walk' })
    await rows('CREATE TABLE wk (id int PRIMARY KEY, grp int, v text)')
    await rows("INSERT INTO wk SELECT g * 2, g % 7, 'v' || g FROM generate_series(1, 2000) g")
  })
  afterAll(async () => {
    await database.close()
  })

  it('answers as sorting every row does: directions, bounds, WHERE, OFFSET, names and positions', async () => {
    const cases: Array<[string, string]> = [
      ['SELECT id, v FROM wk ORDER BY id LIMIT 5', 'SELECT id, v FROM wk ORDER BY id + 0 LIMIT 5'],
      ['SELECT * FROM wk ORDER BY id DESC LIMIT 7 OFFSET 3', 'SELECT * FROM wk ORDER BY id + 0 DESC LIMIT 7 OFFSET 3'],
      ['SELECT id FROM wk WHERE id > 1001 ORDER BY id LIMIT 4', 'SELECT id FROM wk WHERE id + 0 > 1001 ORDER BY id + 0 LIMIT 4'],
      ['SELECT id FROM wk WHERE id >= 1000 AND id < 1010 ORDER BY id DESC LIMIT 50', 'SELECT id FROM wk WHERE id + 0 >= 1000 AND id + 0 < 1010 ORDER BY id + 0 DESC LIMIT 50'],
      ['SELECT id FROM wk WHERE id BETWEEN 3 AND 21 AND grp <> 2 ORDER BY 1 DESC LIMIT 3', 'SELECT id FROM wk WHERE id + 0 BETWEEN 3 AND 21 AND grp <> 2 ORDER BY id + 0 DESC LIMIT 3'],
      ['SELECT id AS k, v FROM wk WHERE grp = 3 ORDER BY k LIMIT 6', 'SELECT id AS k, v FROM wk WHERE grp = 3 ORDER BY id + 0 LIMIT 6'],
      ['SELECT w.id FROM wk w WHERE w.id = 40 ORDER BY w.id LIMIT 2', 'SELECT w.id FROM wk w WHERE w.id + 0 = 40 LIMIT 2'],
      ['SELECT id FROM wk WHERE id < 0 ORDER BY id LIMIT 2', 'SELECT id FROM wk WHERE id + 0 < 0 LIMIT 2'],
      ['SELECT id FROM wk WHERE id > NULL ORDER BY id LIMIT 2', 'SELECT id FROM wk WHERE false'],
      ['SELECT id FROM wk ORDER BY id LIMIT 0', 'SELECT id FROM wk WHERE false'],
      ['SELECT id FROM wk ORDER BY id DESC OFFSET 1995 LIMIT 10', 'SELECT id FROM wk ORDER BY id + 0 DESC OFFSET 1995 LIMIT 10'],
    ]
    for (const [walked, sorted] of cases) expect(await rows(walked), walked).toEqual(await rows(sorted))
    expect(await rows('SELECT id FROM wk ORDER BY id DESC LIMIT 2')).toEqual([[4000], [3998]])
  })

  it('stops reading at the LIMIT, as PostgreSQL does: a volatile select list runs once per row returned', async () => {
    await rows('CREATE SEQUENCE wk_s')
    expect(await rows("SELECT nextval('wk_s'), id FROM wk ORDER BY id DESC LIMIT 2")).toEqual([['1', 4000], ['2', 3998]])
    expect(await rows("SELECT currval('wk_s')")).toEqual([['2']])
    expect(await rows("SELECT nextval('wk_s'), id FROM wk WHERE id > 100 ORDER BY id LIMIT 1 OFFSET 1")).toEqual([['4', 104]])
    expect(await rows("SELECT currval('wk_s')")).toEqual([['4']])
  })

  it('follows writes, and sorts a transaction that wrote the table with its own rows', async () => {
    await rows('DELETE FROM wk WHERE id <= 6')
    await rows("INSERT INTO wk VALUES (1, 0, 'one'), (5000, 0, 'top')")
    await rows('UPDATE wk SET id = -id WHERE id = 10')
    expect(await rows('SELECT id FROM wk ORDER BY id LIMIT 3')).toEqual([[-10], [1], [8]])
    expect(await rows('SELECT id FROM wk ORDER BY id DESC LIMIT 2')).toEqual([[5000], [4000]])
    const s = database.session()
    await s.query('BEGIN')
    await s.query("INSERT INTO wk VALUES (-20, 0, 'mine'), (6000, 0, 'mine')")
    await s.query('DELETE FROM wk WHERE id = 1')
    expect((await s.query('SELECT id FROM wk ORDER BY id LIMIT 3')).rowArrays).toEqual([[-20], [-10], [8]])
    expect((await s.query('SELECT id FROM wk ORDER BY id DESC LIMIT 1')).rowArrays).toEqual([[6000]])
    // Another session sees the committed rows only.
    expect(await rows('SELECT id FROM wk ORDER BY id LIMIT 2')).toEqual([[-10], [1]])
    await s.query('ROLLBACK')
    expect(await rows('SELECT id FROM wk ORDER BY id DESC LIMIT 1')).toEqual([[5000]])
  })
})
