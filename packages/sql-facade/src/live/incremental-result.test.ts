import { describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { parseScript } from '../parser/parse.js'
import type { QueryResult } from '../result-format.js'
import { LiveQuery } from './live-query.js'
import { incrementalPlan } from './incremental-result.js'

/** A live query run as LiveQueries runs it, with its run counts in reach. */
async function liveQuery(db: Database, sql: string, params: unknown[] = []): Promise<{ q: LiveQuery; last: () => QueryResult['rows'] | null; stop: () => void }> {
  const node = parseScript(sql)[0]!
  const select = node.kind === 'pg' && 'SelectStmt' in node.node ? (node.node.SelectStmt as unknown as Record<string, unknown>) : null
  let last: QueryResult['rows'] | null = null
  const q = new LiveQuery(db, sql, params, (rows) => (last = rows), {}, select)
  const off = db.replica.on('change', (c) => q.onChanges(c))
  await q.start()
  return { q, last: () => last, stop: () => (off(), q.stop()) }
}

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

async function settled(db: Database, sql: string, params: unknown[], last: () => QueryResult['rows'] | null, ordered: boolean): Promise<void> {
  const norm = (rows: QueryResult['rows']) => (ordered ? rows : [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id))))
  let fresh: QueryResult['rows'] = []
  for (let i = 0; i < 500; i++) {
    fresh = (await db.query(sql, params)).rows
    if (JSON.stringify(norm(last() ?? [])) === JSON.stringify(norm(fresh))) return
    await new Promise((r) => setTimeout(r, 2))
  }
  expect(norm(last() ?? [])).toEqual(norm(fresh))
}

describe('incremental live results', () => {
  it('plans only queries whose rows are rows of one table, with the primary key shown', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, a INT, b TEXT)')
    await db.query('CREATE TABLE u (id INT PRIMARY KEY)')
    const plan = (sql: string) => {
      const n = parseScript(sql)[0]!
      return n.kind === 'pg' && 'SelectStmt' in n.node ? incrementalPlan(n.node.SelectStmt as unknown as Record<string, unknown>, db.replica, sql) : null
    }
    expect(plan('SELECT * FROM t WHERE a > 1 ORDER BY b DESC, id')).toEqual({ table: 't', keyColumns: [{ col: 0, out: 0 }], order: [{ col: 2, desc: true, nullsFirst: true }, { col: 0, desc: false, nullsFirst: false }], window: null })
    expect(plan('SELECT * FROM t WHERE a > 1 ORDER BY b, id LIMIT $1 OFFSET 20')).toMatchObject({ window: { sql: 'SELECT * FROM t WHERE a > 1 ORDER BY b, id ', count: { param: 1 }, offset: { value: 20 } } })
    expect(plan('SELECT * FROM t ORDER BY id OFFSET $2 LIMIT ALL')).toMatchObject({ window: { sql: 'SELECT * FROM t ORDER BY id ', count: null, offset: { param: 2 } } })
    expect(plan('SELECT b, t.id AS k FROM t WHERE id = $1')).toMatchObject({ keyColumns: [{ col: 0, out: 1 }] })
    for (const sql of [
      'SELECT a, b FROM t', // no key shown
      'SELECT id, a + 1 FROM t', // an expression
      'SELECT * FROM t WHERE a IN (SELECT id FROM u)', // a subquery
      'SELECT * FROM t WHERE random() < 0.5', // a function
      'SELECT * FROM t LIMIT 3', // LIMIT without ORDER BY
      'SELECT * FROM t ORDER BY id FETCH FIRST 3 ROWS WITH TIES',
      'SELECT * FROM t ORDER BY id LIMIT 2 + 1', // a bound that is no constant or parameter
      'SELECT DISTINCT * FROM t',
      'SELECT * FROM t, u',
      'SELECT * FROM t ORDER BY a + 1',
      'SELECT id FROM t UNION SELECT id FROM u',
    ]) expect(plan(sql), sql).toBeNull()
    await db.close()
  })

  it('after random writes the rows equal a fresh run, and changes are handed on without running the query whole', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE todos (id INT PRIMARY KEY, prio INT, title TEXT, done BOOL, big INT8)')
    await db.query('CREATE INDEX todos_prio ON todos (prio)')
    await db.query("INSERT INTO todos SELECT g, g % 10, 'task ' || g, g % 3 = 0, g::int8 * 1000000000 FROM generate_series(1, 300) g")
    const queries: Array<{ sql: string; params: unknown[]; ordered: boolean; incremental: boolean }> = [
      { sql: 'SELECT * FROM todos WHERE NOT done ORDER BY prio DESC NULLS LAST, id', params: [], ordered: true, incremental: true },
      { sql: "SELECT id, title, big FROM todos WHERE prio >= $1 AND title LIKE 't%' ORDER BY title NULLS FIRST, id DESC", params: [7], ordered: true, incremental: true },
      { sql: 'SELECT id, prio FROM todos WHERE id = $1', params: [17], ordered: true, incremental: true },
      { sql: 'SELECT id, done FROM todos WHERE done IS NOT TRUE', params: [], ordered: false, incremental: true },
      { sql: 'SELECT id, prio, title FROM todos WHERE NOT done ORDER BY prio DESC NULLS LAST, id LIMIT 10', params: [], ordered: true, incremental: true },
      { sql: 'SELECT * FROM todos ORDER BY title, id LIMIT $1 OFFSET $2', params: [20, 5], ordered: true, incremental: true },
      { sql: 'SELECT count(*) AS n, max(prio) AS m FROM todos WHERE done', params: [], ordered: true, incremental: false },
    ]
    const live = []
    for (const x of queries) live.push({ ...x, ...(await liveQuery(db, x.sql, x.params)) })
    const random = rng(7)
    const pick = () => 1 + Math.floor(random() * 400)
    for (let step = 0; step < 150; step++) {
      const r = random()
      const prio = random() < 0.1 ? 'NULL' : String(Math.floor(random() * 12))
      const title = random() < 0.1 ? 'NULL' : `'${random() < 0.5 ? 't' : 'u'}${Math.floor(random() * 1000)}'`
      if (r < 0.3) await db.query(`INSERT INTO todos VALUES (${pick()}, ${prio}, ${title}, ${random() < 0.5}, ${pick()}) ON CONFLICT (id) DO UPDATE SET prio = excluded.prio, title = excluded.title`)
      else if (r < 0.6) await db.query(`UPDATE todos SET prio = ${prio}, done = NOT done WHERE id = ${pick()}`)
      else if (r < 0.75) await db.query(`UPDATE todos SET title = ${title} WHERE id IN (${pick()}, ${pick()}, ${pick()}, 17)`)
      else if (r < 0.9) await db.query(`DELETE FROM todos WHERE id = ${pick()}`)
      else await db.query(`UPDATE todos SET done = true WHERE id BETWEEN ${pick()} AND ${pick()}`)
      if (step % 10 === 9) for (const l of live) await settled(db, l.sql, l.params, l.last, l.ordered)
    }
    for (const l of live) {
      await settled(db, l.sql, l.params, l.last, l.ordered)
      if (l.incremental) {
        // Whole runs: the first, and those a wide UPDATE (more than a quarter of the rows) asked for.
        expect(l.q.runs.incremental, l.sql).toBeGreaterThan(20)
        expect(l.q.runs.whole, l.sql).toBeLessThan(l.q.runs.incremental / 3)
      } else {
        expect(l.q.runs.incremental).toBe(0)
      }
      l.stop()
    }
    await db.close()
  }, 120_000)

  it('a change of the table shape runs the query whole again, then keeps it row by row with the new columns', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, a INT)')
    await db.query('INSERT INTO t VALUES (1, 1), (2, 2)')
    const l = await liveQuery(db, 'SELECT * FROM t WHERE a > 0 ORDER BY a DESC, id')
    await db.query('ALTER TABLE t ADD COLUMN b TEXT')
    await db.query("INSERT INTO t VALUES (3, 3, 'x')")
    await settled(db, 'SELECT * FROM t WHERE a > 0 ORDER BY a DESC, id', [], l.last, true)
    await db.query("UPDATE t SET b = 'y', a = 0 WHERE id = 2")
    await settled(db, 'SELECT * FROM t WHERE a > 0 ORDER BY a DESC, id', [], l.last, true)
    expect(l.last()).toEqual([{ id: 3, a: 3, b: 'x' }, { id: 1, a: 1, b: null }])
    expect(l.q.runs.incremental).toBeGreaterThan(0)
    l.stop()
    await db.close()
  })
})
