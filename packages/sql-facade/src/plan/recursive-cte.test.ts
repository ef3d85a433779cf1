import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE graph (f INT, t INT, label TEXT, PRIMARY KEY (f, t))')
  await db.query(`INSERT INTO graph VALUES (1, 2, 'arc 1 -> 2'), (1, 3, 'arc 1 -> 3'), (2, 3, 'arc 2 -> 3'),
    (1, 4, 'arc 1 -> 4'), (4, 5, 'arc 4 -> 5'), (5, 1, 'arc 5 -> 1')`)
})

afterAll(async () => {
  await db.close()
})

async function code(sql: string): Promise<string | undefined> {
  try {
    await db.query(sql)
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}

describe('WITH RECURSIVE under LIMIT', () => {
  it('stops an unbounded UNION ALL recursion once LIMIT has its rows', async () => {
    const r = await db.query('WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t) SELECT * FROM t LIMIT 5')
    expect(r.rowArrays).toEqual([[1], [2], [3], [4], [5]])
  })

  it('applies OFFSET and WHERE while reading the recursion lazily', async () => {
    const r = await db.query('WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT n + 1 FROM t) SELECT n * 10 AS x FROM t WHERE n % 2 = 0 LIMIT 3 OFFSET 1')
    expect(r.rowArrays).toEqual([[40], [60], [80]])
  })

  it('plans forward references between WITH RECURSIVE items and refuses mutual recursion', async () => {
    const r = await db.query('WITH RECURSIVE x(id) AS (SELECT * FROM y UNION ALL SELECT id + 1 FROM x WHERE id < 3), y(id) AS (VALUES (1)) SELECT * FROM x')
    expect(r.rowArrays).toEqual([[1], [2], [3]])
    expect(await code('WITH RECURSIVE x(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM y WHERE id < 5), y(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM x WHERE id < 5) SELECT * FROM x')).toBe('0A000')
  })

  it('lets a WITH on the recursive query itself be read by both terms', async () => {
    const r = await db.query('WITH RECURSIVE t(j) AS (WITH RECURSIVE s(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM s WHERE i < 3) SELECT i FROM s UNION ALL SELECT j + 1 FROM t WHERE j < 3) SELECT count(*) FROM t')
    expect(r.rowArrays).toEqual([['6']])
  })
})

describe('recursive query rules (refused as PostgreSQL refuses them)', () => {
  it.each([
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT count(*) FROM x) SELECT * FROM x', '42P19'],
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x ORDER BY 1) SELECT * FROM x', '0A000'],
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x LIMIT 10) SELECT * FROM x', '0A000'],
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT x.n + 1 FROM graph LEFT JOIN x ON x.n = graph.f) SELECT * FROM x', '42P19'],
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x WHERE n IN (SELECT * FROM x)) SELECT * FROM x', '42P19'],
    ['WITH RECURSIVE x(n) AS (VALUES (1) UNION ALL (SELECT n + 1 FROM x WHERE n < 5 UNION ALL SELECT n + 1 FROM x WHERE n < 3)) SELECT * FROM x', '42P19'],
    ['WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT (n + 1)::numeric FROM x WHERE n < 3) SELECT * FROM x', '42804'],
    ['WITH x(n, b) AS (SELECT 1) SELECT * FROM x', '42P10'],
  ])('%s fails with %s', async (sql, state) => {
    expect(await code(sql)).toBe(state)
  })
})

describe('SEARCH and CYCLE', () => {
  it('SEARCH DEPTH FIRST adds the path of search keys, ordering rows depth first', async () => {
    const r = await db.query(`WITH RECURSIVE t(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM t) SEARCH DEPTH FIRST BY x SET seq SELECT * FROM t LIMIT 3`)
    expect(r.fields.map((f) => f.name)).toEqual(['x', 'seq'])
    expect(r.rowArrays).toEqual([[1, '{(1)}'], [2, '{(1),(2)}'], [3, '{(1),(2),(3)}']])
  })

  it('SEARCH BREADTH FIRST adds (depth, keys) and sorts level by level', async () => {
    const r = await db.query(`WITH RECURSIVE g(f, t, label) AS (SELECT * FROM graph WHERE f = 1 UNION ALL SELECT g2.* FROM graph g2, g WHERE g2.f = g.t AND g2.f <> 5)
      SEARCH BREADTH FIRST BY f, t SET seq SELECT f, t, seq FROM g ORDER BY seq`)
    expect(r.rowArrays).toEqual([
      [1, 2, '(0,1,2)'], [1, 3, '(0,1,3)'], [1, 4, '(0,1,4)'], [2, 3, '(1,2,3)'], [4, 5, '(1,4,5)'],
    ])
  })

  it('CYCLE marks the row that closes a cycle and does not expand it, so a cyclic graph ends', async () => {
    const r = await db.query(`WITH RECURSIVE test AS (SELECT 0 AS x UNION ALL SELECT (x + 1) % 3 FROM test) CYCLE x SET is_cycle USING path SELECT * FROM test`)
    expect(r.rowArrays).toEqual([[0, false, '{(0)}'], [1, false, '{(0),(1)}'], [2, false, '{(0),(1),(2)}'], [0, true, '{(0),(1),(2),(0)}']])
  })

  it('CYCLE .. TO .. DEFAULT sets the given mark values; the recursive term may read the mark', async () => {
    const r = await db.query(`WITH RECURSIVE sg(f, t, label) AS (SELECT * FROM graph g UNION ALL SELECT g.* FROM graph g, sg WHERE g.f = sg.t AND is_cycle = 'N')
      CYCLE f, t SET is_cycle TO 'Y' DEFAULT 'N' USING path SELECT count(*), count(*) FILTER (WHERE is_cycle = 'Y') FROM sg`)
    expect(r.rowArrays).toEqual([['25', '3']])
  })

  it('`*` in the recursive term does not list the added columns', async () => {
    const r = await db.query('WITH RECURSIVE a AS (SELECT 1 AS b UNION ALL SELECT * FROM a) CYCLE b SET c USING p SELECT * FROM a')
    expect(r.rowArrays).toEqual([[1, false, '{(1)}'], [1, true, '{(1),(1)}']])
  })

  it.each([
    ['SEARCH DEPTH FIRST BY foo SET seq', '42601'],
    ['SEARCH DEPTH FIRST BY f, f SET seq', '42701'],
    ['SEARCH DEPTH FIRST BY f SET label', '42601'],
    ['CYCLE f SET label USING path', '42601'],
    ['CYCLE f SET m USING m', '42601'],
    ['CYCLE f SET m TO true DEFAULT 55 USING path', '42804'],
    ['SEARCH DEPTH FIRST BY f SET m CYCLE f SET m USING path', '42601'],
  ])('%s is refused with %s', async (clause, state) => {
    expect(await code(`WITH RECURSIVE sg(f, t, label) AS (SELECT * FROM graph g UNION ALL SELECT g.* FROM graph g, sg WHERE g.f = sg.t) ${clause} SELECT * FROM sg`)).toBe(state)
  })

  it('requires the recursive reference at the top level of the right-hand SELECT', async () => {
    expect(await code('WITH RECURSIVE x(col) AS (SELECT 1 UNION (WITH x AS (SELECT * FROM x) SELECT * FROM x)) SEARCH DEPTH FIRST BY col SET seq SELECT * FROM x')).toBe('0A000')
  })
})
