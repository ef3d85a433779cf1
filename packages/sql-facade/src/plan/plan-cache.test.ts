import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import type { Session } from '../session/session.js'
import type { TableInfo } from '@concord/core'
import type { ExecCtx } from '../runtime/context.js'
import type { Relation } from '../relation/relation.js'
import { StatementBudget } from '../runtime/statement-budget.js'
import { EXEC_CTX_KEYS, PlanCache, refreshContext } from './plan-cache.js'

let db: Database | undefined
let cluster: SimCluster | undefined
afterEach(async () => {
  await db?.close()
  await cluster?.close()
  db = undefined
  cluster = undefined
})

async function rows(s: Session | Database, sql: string, params: unknown[] = []): Promise<unknown[][]> {
  return (await s.query(sql, params)).rowArrays
}

/** Runs a point SELECT of one shape often enough that its template and its cached plan exist. */
async function warm(s: Session, table = 'items'): Promise<void> {
  for (let i = 1; i <= 4; i++) await s.query(`SELECT * FROM ${table} WHERE id = ${(i % 2) + 1}`)
}

describe('cached SELECT plans', () => {
  it('reuse a plan across literal values and answer as an uncached plan does', async () => {
    db = await openDatabase({ nodeId: 'pc1' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text, qty int)')
    await db.query(`INSERT INTO items SELECT g, 'n' || g, g * 10 FROM generate_series(1, 50) g`)
    const s = db.session()
    const before = s.plans.hits
    for (let i = 1; i <= 50; i++) {
      expect(await rows(s, `SELECT name, qty + 1 FROM items WHERE id = ${i} AND qty > 5`)).toEqual([[`n${i}`, i * 10 + 1]])
      // A string literal coerced per execution, and a miss.
      expect(await rows(s, `SELECT qty FROM items WHERE name = 'n${i}'`)).toEqual([[i * 10]])
      expect(await rows(s, `SELECT qty FROM items WHERE id = ${i + 1000}`)).toEqual([])
    }
    expect(s.plans.hits - before).toBeGreaterThan(100)
    // Each execution reads its own transaction's rows.
    await db.query('UPDATE items SET qty = 999 WHERE id = 3')
    expect(await rows(s, 'SELECT name, qty + 1 FROM items WHERE id = 3 AND qty > 5')).toEqual([['n3', 1000]])
    await db.query('DELETE FROM items WHERE id = 4')
    expect(await rows(s, 'SELECT name, qty + 1 FROM items WHERE id = 4 AND qty > 5')).toEqual([])
    // The uncached answer: the same statements in a block that ran DDL (which plans afresh).
    await s.query('BEGIN')
    await s.query('CREATE TABLE scratch (x int)')
    const hits = s.plans.hits
    expect(await rows(s, 'SELECT name, qty + 1 FROM items WHERE id = 7 AND qty > 5')).toEqual([['n7', 71]])
    expect(s.plans.hits).toBe(hits)
    await s.query('ROLLBACK')
    // An invalid literal still fails as PostgreSQL does, from a cached plan too.
    expect(await sqlState(s, `SELECT qty FROM items WHERE id = 'x1'`)).toBe('22P02')
  })

  it('never leaks one execution\'s parameters or literals into another (prepared and templated)', async () => {
    db = await openDatabase({ nodeId: 'pc2' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')`)
    const s = db.session()
    const p = await s.prepare('SELECT name FROM items WHERE id = $1')
    const before = s.plans.hits
    for (const id of [1, 2, 3, 2, 1, 4]) {
      expect((await s.execute(p, [String(id)])).rowArrays).toEqual(id <= 3 ? [[['one', 'two', 'three'][id - 1]]] : [])
    }
    expect(s.plans.hits - before).toBeGreaterThanOrEqual(5)
    // The template's own tree (the shape's second text) and its instances keep separate plans.
    for (const id of [1, 2, 3, 2, 3, 1, 2]) expect(await rows(s, `SELECT name FROM items WHERE id = ${id}`)).toEqual([[['one', 'two', 'three'][id - 1]]])
  })

  it('reuse plans of ORDER BY columns with LIMIT / OFFSET across literal values and parameters, never a sort by position', async () => {
    db = await openDatabase({ nodeId: 'pc-order' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text, qty int)')
    await db.query(`INSERT INTO items SELECT g, 'n' || (g % 9), (g * 7) % 40 FROM generate_series(1, 60) g`)
    const s = db.session()
    const before = s.plans.hits
    for (let i = 0; i < 40; i++) {
      const limit = (i % 5) + 1
      const offset = i % 3
      // The same question sorted by an expression, which is never cached: the uncached answer.
      const expected = await rows(s, `SELECT id, qty FROM items WHERE qty > ${i} ORDER BY qty + 0 DESC, id + 0 LIMIT ${limit} OFFSET ${offset}`)
      expect(await rows(s, `SELECT id, qty FROM items WHERE qty > ${i} ORDER BY qty DESC, id LIMIT ${limit} OFFSET ${offset}`)).toEqual(expected)
      expect(await rows(s, `SELECT id FROM items WHERE id > ${i} ORDER BY id DESC FETCH FIRST ${limit} ROWS ONLY`)).toEqual(
        Array.from({ length: limit }, (_v, k) => [60 - k]))
      expect(await rows(s, `SELECT id FROM items WHERE id >= ${i} ORDER BY id LIMIT ${limit}`)).toEqual(Array.from({ length: limit }, (_v, k) => [Math.max(i, 1) + k]))
    }
    expect(s.plans.hits - before).toBeGreaterThan(100)
    const p = await s.prepare('SELECT id FROM items ORDER BY name DESC, id LIMIT $1 OFFSET $2')
    for (const [limit, offset] of [[2, 0], [3, 1], [1, 5], [2, 0]]) {
      expect((await s.execute(p, [String(limit), String(offset)])).rowArrays).toEqual(
        (await rows(s, 'SELECT id FROM items ORDER BY name || \'\' DESC, id + 0')).slice(offset, offset + limit))
    }
    // BETWEEN, by literals and by parameters.
    const hits = s.plans.hits
    for (let i = 1; i <= 20; i++) {
      expect(await rows(s, `SELECT id FROM items WHERE id BETWEEN ${i} AND ${i + 2} ORDER BY id`)).toEqual([[i], [i + 1], [i + 2]])
      expect((await s.query('SELECT id FROM items WHERE qty BETWEEN $1 AND $2 ORDER BY id', [i, i + 10])).rowArrays).toEqual(
        await rows(s, `SELECT id FROM items WHERE qty + 0 >= ${i} AND qty + 0 <= ${i + 10} ORDER BY id`))
    }
    expect(s.plans.hits - hits).toBeGreaterThan(30)
    // ORDER BY a position: the literal steers the plan, so the shape's statements (texts that
    // differ only in literals share one parse tree) are planned each time.
    for (let i = 0; i < 6; i++) {
      expect(await rows(s, `SELECT id, qty FROM items WHERE id <= 6 AND qty > ${-1 - i} ORDER BY 2 DESC, 1 LIMIT 1`)).toEqual([[5, 35]])
      expect(await rows(s, `SELECT id, qty FROM items WHERE id <= 6 AND qty > ${-1 - i} ORDER BY 1 DESC, 2 LIMIT 1`)).toEqual([[6, 2]])
      expect(await rows(s, `SELECT id, qty FROM items WHERE id <= 6 AND qty > ${-1 - i} ORDER BY 2, 1 LIMIT 1`)).toEqual([[6, 2]])
      expect(await rows(s, `SELECT id, qty FROM items WHERE id <= 6 AND qty > ${-1 - i} ORDER BY 1, 2 LIMIT 1`)).toEqual([[1, 7]])
    }
    // LIMIT n WITH TIES and LIMIT ALL stay uncached and right.
    expect(await rows(s, 'SELECT id FROM items ORDER BY qty FETCH FIRST 1 ROWS WITH TIES')).toEqual([[40]])
    expect((await rows(s, 'SELECT id FROM items ORDER BY id LIMIT ALL')).length).toBe(60)
  })

  it('are replanned after DDL on this node (ALTER TABLE, DROP and CREATE, CREATE INDEX)', async () => {
    db = await openDatabase({ nodeId: 'pc3' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
    const s = db.session()
    await warm(s)
    // From another session: a stale plan would list the old columns.
    await db.query('ALTER TABLE items ADD COLUMN extra int DEFAULT 5')
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'one', 5]])
    await warm(s)
    await db.query('DROP TABLE items')
    await db.query('CREATE TABLE items (id int PRIMARY KEY, qty int)')
    await db.query('INSERT INTO items VALUES (1, 100)')
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 100]])
    await warm(s)
    await db.query('DROP TABLE items')
    expect(await sqlState(s, 'SELECT * FROM items WHERE id = 1')).toBe('42P01')
  })

  it('are reused inside a transaction block that ran only data statements, and read the block\'s own writes', async () => {
    db = await openDatabase({ nodeId: 'pc7' })
    await db.query('CREATE TABLE block_items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO block_items VALUES (1, 'one'), (2, 'two')`)
    const s = db.session()
    for (const id of [4, 5, 6]) await rows(s, `SELECT name FROM block_items WHERE id = ${id}`)
    await s.query('BEGIN')
    const before = s.plans.hits
    expect(await rows(s, 'SELECT name FROM block_items WHERE id = 1')).toEqual([['one']])
    await s.query(`UPDATE block_items SET name = 'uno' WHERE id = 1`)
    await s.query(`INSERT INTO block_items VALUES (3, 'three')`)
    expect(await rows(s, 'SELECT name FROM block_items WHERE id = 1')).toEqual([['uno']])
    expect(await rows(s, 'SELECT name FROM block_items WHERE id = 3')).toEqual([['three']])
    expect(s.plans.hits - before).toBeGreaterThanOrEqual(3)
    // Another session does not see the block's writes through the same shape.
    expect(await rows(db.session(), 'SELECT name FROM block_items WHERE id = 1')).toEqual([['one']])
    await s.query('ROLLBACK')
    expect(await rows(s, 'SELECT name FROM block_items WHERE id = 1')).toEqual([['one']])
    expect(await rows(s, 'SELECT name FROM block_items WHERE id = 3')).toEqual([])
  })

  it('are not reused in a block after its own uncommitted DDL (ALTER, DROP, CREATE INDEX), which the catalog version cannot see', async () => {
    db = await openDatabase({ nodeId: 'pc8' })
    await db.query('CREATE TABLE block_ddl (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO block_ddl VALUES (1, 'one'), (2, 'two')`)
    // A table name of its own: its texts are in no other test file's share of the parse caches
    // (one module graph per worker), so which tree a text gets, and the plan it keys, is this test's.
    const s = db.session()
    await warm(s, 'block_ddl')
    await s.query('BEGIN')
    expect(await rows(s, 'SELECT * FROM block_ddl WHERE id = 1')).toEqual([[1, 'one']])
    await s.query('ALTER TABLE block_ddl ADD COLUMN extra int DEFAULT 5')
    expect(await rows(s, 'SELECT * FROM block_ddl WHERE id = 1')).toEqual([[1, 'one', 5]])
    await s.query('CREATE INDEX block_ddl_name ON block_ddl (name)')
    expect(await rows(s, 'SELECT * FROM block_ddl WHERE id = 2')).toEqual([[2, 'two', 5]])
    await s.query('DROP TABLE block_ddl')
    expect(await sqlState(s, 'SELECT * FROM block_ddl WHERE id = 1')).toBe('42P01')
    await s.query('ROLLBACK')
    // Rolled back: the committed table, through the cached plan again.
    const before = s.plans.hits
    expect(await rows(s, 'SELECT * FROM block_ddl WHERE id = 2')).toEqual([[2, 'two']])
    expect(s.plans.hits).toBe(before + 1)
  })

  it('UPDATE and DELETE reuse their target-row plans and write what planning afresh writes', async () => {
    db = await openDatabase({ nodeId: 'pc9' })
    await db.query('CREATE TABLE acct (id int PRIMARY KEY, bal int, note text)')
    await db.query(`INSERT INTO acct SELECT g, 0, 'n' || g FROM generate_series(1, 20) g`)
    const s = db.session()
    const expected = new Map<number, number>()
    for (let id = 1; id <= 20; id++) expected.set(id, 0)
    const before = s.plans.hits
    for (let i = 1; i <= 60; i++) {
      const id = ((i * 7) % 20) + 1
      const delta = i % 3 === 0 ? -i : i
      // tpcb-like: a literal delta (negative ones too) and key, in a block with a SELECT, or alone.
      if (i % 2 === 0) {
        await s.query('BEGIN')
        await s.query(`UPDATE acct SET bal = bal + ${delta} WHERE id = ${id}`)
        expect(await rows(s, `SELECT bal FROM acct WHERE id = ${id}`)).toEqual([[expected.get(id)! + delta]])
        await s.query('COMMIT')
      } else {
        await s.query(`UPDATE acct SET bal = bal + ${delta} WHERE id = ${id}`)
      }
      expected.set(id, expected.get(id)! + delta)
    }
    const p = await s.prepare('UPDATE acct SET note = $2 WHERE id = $1 AND bal >= $3')
    for (const [id, note] of [[1, 'a'], [2, 'b'], [1, 'c'], [3, 'd']] as const) await s.execute(p, [String(id), note, '-100000'])
    for (const id of [20, 19, 18]) await s.query(`DELETE FROM acct WHERE id = ${id}`)
    expect(s.plans.hits - before).toBeGreaterThan(50)
    for (const id of [20, 19, 18]) expected.delete(id)
    expect(await rows(db.session(), 'SELECT id, bal FROM acct ORDER BY id')).toEqual([...expected].sort((a, b) => a[0] - b[0]))
    expect(await rows(db.session(), 'SELECT note FROM acct WHERE id <= 4 ORDER BY id')).toEqual([['c'], ['b'], ['d'], ['n4']])
  })

  it('UPDATE reuses its SET list with its target rows: each run\'s literals and parameters, counters, errors of a later run', async () => {
    db = await openDatabase({ nodeId: 'pc-set' })
    // `cached` takes the cacheable forms; `fresh` the same changes through forms never cached (a cast).
    await db.query('CREATE TABLE cached (id int PRIMARY KEY, a int, b int, note text, hits int)')
    await db.query('CREATE TABLE fresh (id int PRIMARY KEY, a int, b int, note text, hits int)')
    await db.query(`ALTER TABLE cached ALTER COLUMN hits SET (conflict_resolution_policy = 'counter')`)
    for (const t of ['cached', 'fresh']) await db.query(`INSERT INTO ${t} SELECT g, g, -g, 'n' || g, 0 FROM generate_series(1, 10) g`)
    const s = db.session()
    const before = s.plans.hits
    for (let i = 1; i <= 40; i++) {
      const id = (i % 10) + 1
      const d = i % 4 === 0 ? -i : i
      // Two items that read each other's old values, a string literal into an int column, a counter increment.
      const r = await s.query(`UPDATE cached SET a = b + ${d}, b = a, note = 'v${i}', hits = hits + ${i} WHERE id = ${id}`)
      expect(r.rowCount).toBe(1)
      await s.query(`UPDATE fresh SET a = b + (${d})::int, b = a::int, note = ('v${i}')::text, hits = hits + (${i})::int WHERE id = ${id}`)
      await s.query(`UPDATE cached SET a = '${i}' WHERE id = ${id} AND a > 1000000`)
    }
    const p = await s.prepare('UPDATE cached SET note = $2, a = a + $3 WHERE id = $1')
    for (const [id, note, inc] of [[1, 'p1', 5], [2, 'p2', -7], [1, 'p3', 11]] as const) {
      await s.execute(p, [String(id), note, String(inc)])
      await s.query(`UPDATE fresh SET note = '${note}'::text, a = a + (${inc})::int WHERE id = ${id}`)
    }
    expect(s.plans.hits - before).toBeGreaterThan(60)
    expect(await rows(s, 'SELECT * FROM cached ORDER BY id')).toEqual(await rows(s, 'SELECT * FROM fresh ORDER BY id'))
    // A later run's value fails as it would planned afresh: out of range, not a number.
    await s.query(`UPDATE cached SET a = '10' WHERE id = 3`)
    await s.query('UPDATE cached SET a = a + 1 WHERE id = 3')
    await s.query('UPDATE cached SET a = a + 1 WHERE id = 3')
    expect(await sqlState(s, 'UPDATE cached SET a = a + 2147483647 WHERE id = 3')).toBe('22003')
    expect(await rows(s, 'SELECT a FROM cached WHERE id = 3')).toEqual([[12]])
    expect(await sqlState(s, `UPDATE cached SET note = 'x', a = 'y1' WHERE id = 3`)).toBe('22P02')
    await s.query(`UPDATE cached SET note = 'x', a = '14' WHERE id = 3`)
    expect(await rows(s, 'SELECT a, note FROM cached WHERE id = 3')).toEqual([[14, 'x']])
    // With no row to update too, as PostgreSQL's planning fails them (it had folded the
    // constants when each run compiled its SET list; a planned one reads them per run).
    expect(await sqlState(s, `UPDATE cached SET note = 'x', a = 'y1' WHERE id = 999`)).toBe('22P02')
    for (const n of [1, 2]) await s.query(`UPDATE cached SET b = ${n} + 1 WHERE id = 999`)
    expect(await sqlState(s, 'UPDATE cached SET b = 2147483647 + 1 WHERE id = 999')).toBe('22003')
    // Over NULL columns a plain expression raises nothing: no row, no error.
    expect((await s.query('UPDATE cached SET a = a + 2147483647, b = b * 5 WHERE id = 999')).rowCount).toBe(0)
    expect((await s.query(`UPDATE cached SET hits = hits + 5, note = 'n' WHERE id = 999`)).rowCount).toBe(0)
  })

  it('UPDATE and DELETE with a WITH see its CTEs in their WHERE\'s subqueries, run after run (not through a plan cached without them)', async () => {
    db = await openDatabase({ nodeId: 'pc-cte' })
    await db.query('CREATE TABLE cte_t (id int PRIMARY KEY, k int, v int)')
    await db.query('INSERT INTO cte_t SELECT g, g % 5, 0 FROM generate_series(1, 20) g')
    const s = db.session()
    for (let i = 1; i <= 3; i++) {
      // Failed with 42P01 (relation "w" does not exist): the target rows were planned without the CTE.
      const r = await s.query(`WITH w AS (SELECT ${i} AS k) UPDATE cte_t SET v = v + 1 WHERE k IN (SELECT k FROM w)`)
      expect(r.rowCount).toBe(4)
    }
    expect((await s.query('WITH w AS (SELECT 4 AS k) DELETE FROM cte_t WHERE EXISTS (SELECT 1 FROM w WHERE w.k = cte_t.k)')).rowCount).toBe(4)
    expect(await rows(s, 'SELECT k, sum(v)::int, count(*)::int FROM cte_t GROUP BY k ORDER BY k')).toEqual([[0, 0, 4], [1, 4, 4], [2, 4, 4], [3, 4, 4]])
  })

  it('UPDATE and DELETE are replanned after DDL, also after their own block\'s uncommitted DDL', async () => {
    db = await openDatabase({ nodeId: 'pc10' })
    await db.query('CREATE TABLE acct (id int PRIMARY KEY, bal int)')
    await db.query('INSERT INTO acct SELECT g, g * 10 FROM generate_series(1, 5) g')
    const s = db.session()
    for (let i = 1; i <= 4; i++) await s.query(`UPDATE acct SET bal = bal + 1 WHERE id = ${i}`)
    // Recreated with the columns in another order: a stale plan would read and write the wrong ones.
    await db.query('DROP TABLE acct')
    await db.query('CREATE TABLE acct (bal int, note text, id int PRIMARY KEY)')
    await db.query(`INSERT INTO acct VALUES (100, 'x', 1), (200, 'y', 2)`)
    await s.query('UPDATE acct SET bal = bal + 1 WHERE id = 2')
    expect(await rows(db.session(), 'SELECT id, bal, note FROM acct ORDER BY id')).toEqual([[1, 100, 'x'], [2, 201, 'y']])
    await s.query('CREATE INDEX acct_bal ON acct (bal)')
    await s.query('UPDATE acct SET note = \'z\' WHERE bal = 100')
    await s.query('DELETE FROM acct WHERE bal = 201')
    expect(await rows(db.session(), 'SELECT id, bal, note FROM acct ORDER BY id')).toEqual([[1, 100, 'z']])
    await db.query(`INSERT INTO acct VALUES (300, 'w', 3)`)
    for (let i = 1; i <= 3; i++) await s.query(`UPDATE acct SET bal = bal + 1 WHERE id = ${i}`)
    await s.query('BEGIN')
    await s.query('ALTER TABLE acct RENAME COLUMN bal TO balance')
    expect(await sqlState(s, 'UPDATE acct SET bal = bal + 1 WHERE id = 3')).toBe('42703')
    await s.query('ROLLBACK')
    await s.query('BEGIN')
    await s.query('ALTER TABLE acct DROP COLUMN note')
    await s.query('UPDATE acct SET bal = bal + 1 WHERE id = 3')
    expect(await rows(s, 'SELECT * FROM acct WHERE id = 3')).toEqual([[302, 3]])
    await s.query('ROLLBACK')
    expect(await rows(db.session(), 'SELECT id, bal, note FROM acct ORDER BY id')).toEqual([[1, 101, 'z'], [3, 301, 'w']])
  })

  it('are replanned after DDL replicated from a peer', async () => {
    cluster = await SimCluster.create({ seed: 5, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await a.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
    await cluster.settle()
    const s = b.session()
    await warm(s)
    expect(await rows(s, 'SELECT * FROM items WHERE id = 2')).toEqual([[2, 'two']])
    await a.query('ALTER TABLE items ADD COLUMN extra int DEFAULT 7')
    await cluster.settle()
    expect(await rows(s, 'SELECT * FROM items WHERE id = 2')).toEqual([[2, 'two', 7]])
  })

  it('follow grants and revocations', async () => {
    db = await openDatabase({ nodeId: 'pc4' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
    await db.query(`CREATE ROLE reader LOGIN`)
    await db.query('GRANT SELECT ON items TO reader')
    const s = db.session({ user: 'reader' })
    await warm(s)
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'one']])
    await db.query('REVOKE SELECT ON items FROM reader')
    expect(await sqlState(s, 'SELECT * FROM items WHERE id = 1')).toBe('42501')
    await db.query('GRANT SELECT ON items TO reader')
    expect(await rows(s, 'SELECT * FROM items WHERE id = 2')).toEqual([[2, 'two']])
  })

  it('are replanned when search_path changes', async () => {
    db = await openDatabase({ nodeId: 'pc6' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'one'), (2, 'two')`)
    const s = db.session()
    await warm(s)
    const before = s.plans.hits
    await s.query('SET search_path = public')
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'one']])
    expect(s.plans.hits).toBe(before)
  })

  it('do not hide a temporary table that shadows the cached table', async () => {
    db = await openDatabase({ nodeId: 'pc5' })
    await db.query('CREATE TABLE items (id int PRIMARY KEY, name text)')
    await db.query(`INSERT INTO items VALUES (1, 'permanent'), (2, 'two')`)
    const s = db.session()
    await warm(s)
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'permanent']])
    await s.query('CREATE TEMP TABLE items (id int PRIMARY KEY, name text)')
    await s.query(`INSERT INTO items VALUES (1, 'temporary')`)
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'temporary']])
    await s.query('DROP TABLE items')
    expect(await rows(s, 'SELECT * FROM items WHERE id = 1')).toEqual([[1, 'permanent']])
  })
})

describe('a cached plan\'s context', () => {
  // `SELECT id FROM items`, as the parser gives it, over a one-column table.
  const tree = {
    SelectStmt: {
      targetList: [{ ResTarget: { val: { ColumnRef: { fields: [{ String: { sval: 'id' } }] } } } }],
      fromClause: [{ RangeVar: { relname: 'items', inh: true, relpersistence: 'p' } }],
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  }
  const table = { name: 'items', columns: [{ name: 'id', meta: { t: { id: 'int4' } } }], meta: {} } as unknown as TableInfo
  const exec = (fields: Record<string, unknown>): ExecCtx => ({
    tx: { table: (name: string) => (name === 'items' ? table : undefined) },
    params: [],
    role: { oid: 10 },
    settings: { user: 'u', show: () => null },
    budget: new StatementBudget(Infinity, null),
    ...fields,
  }) as unknown as ExecCtx
  // The plan is the context it was planned over: what its closures would read.
  const plan = (e: ExecCtx): Relation => e as unknown as Relation

  it('takes each execution\'s fields, and keeps none an earlier execution had that this one lacks', () => {
    const cache = new PlanCache(() => 1)
    const first = exec({ deferred: 'first', nowMicros: 1 })
    const live = cache.select(tree as never, first, plan) as unknown as ExecCtx
    expect(live).not.toBe(first)
    expect(live.deferred).toBe('first')
    // The same keys: every field is the new execution's.
    const second = exec({ deferred: 'second', nowMicros: 2 })
    expect(cache.select(tree as never, second, plan)).toBe(live)
    expect([live.deferred, live.nowMicros, live.params, live.tx]).toEqual(['second', 2, second.params, second.tx])
    expect(live.params).toBe(second.params)
    // One key fewer (outside a block: no deferred constraints): its value does not survive.
    const third = exec({ nowMicros: 3 })
    expect(cache.select(tree as never, third, plan)).toBe(live)
    expect(live.deferred).toBeUndefined()
    expect(live.nowMicros).toBe(3)
    expect(live.budget).not.toBe(third.budget)
    // And back, with the keys in another order.
    const fourth = { deferred: 'fourth', ...exec({}) } as ExecCtx
    expect(cache.select(tree as never, fourth, plan)).toBe(live)
    expect([live.deferred, live.nowMicros]).toEqual(['fourth', undefined])
    expect(live.planCache).toBeUndefined()
    expect(cache.hits).toBe(3)
  })

  it('carries every key of an execution context, and only those', () => {
    const keys = Object.keys(EXEC_CTX_KEYS)
    const given = Object.fromEntries(keys.map((k) => [k, Symbol(k)])) as unknown as ExecCtx
    const live = {} as ExecCtx
    refreshContext(live, given)
    expect(Object.keys(live).sort()).toEqual([...keys].sort())
    for (const k of keys) expect((live as unknown as Record<string, unknown>)[k], k).toBe((given as unknown as Record<string, unknown>)[k])
    // A context without a key leaves it undefined, whatever the one before had.
    refreshContext(live, {} as ExecCtx)
    for (const k of keys) expect((live as unknown as Record<string, unknown>)[k], k).toBeUndefined()
  })
})
