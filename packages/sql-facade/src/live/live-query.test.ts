import { describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import type { QueryResult } from '../result-format.js'
import { sqlState } from '../errors/sql-state.fixture.js'

type Rows = QueryResult['rows']

const codeOf = (e: unknown): string => (e as { code?: string }).code ?? 'no code'

/** Lets pending live runs finish: they run after the write's change event, on later turns. */
async function drain(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
}

/** Waits until `check` holds, a bounded number of turns. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 1))
  expect(check()).toBe(true)
}

async function follow(db: Database, sql: string, params: unknown[] = []): Promise<{ seen: Rows[]; stop: () => void }> {
  const seen: Rows[] = []
  const stop = await db.live(sql, params, (rows) => seen.push(rows))
  return { seen, stop }
}

describe('db.live on one node', () => {
  it('hands the first rows, then the new rows after each local insert, update and delete', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
    const { seen } = await follow(db, 'SELECT id, name FROM items ORDER BY id')
    expect(seen).toEqual([[]])
    await db.query("INSERT INTO items VALUES (1, 'a'), (2, 'b')")
    await until(() => seen.length === 2)
    expect(seen[1]).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }])
    await db.query("UPDATE items SET name = 'B' WHERE id = 2")
    await until(() => seen.length === 3)
    expect(seen[2]).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'B' }])
    await db.query('DELETE FROM items WHERE id = 1')
    await until(() => seen.length === 4)
    expect(seen[3]).toEqual([{ id: 2, name: 'B' }])
    await db.close()
  })

  it('after unsubscribe no rows are handed', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
    const { seen, stop } = await follow(db, 'SELECT count(*) AS n FROM t')
    await db.query('INSERT INTO t VALUES (1)')
    await until(() => seen.length === 2)
    stop()
    await db.query('INSERT INTO t VALUES (2)')
    await drain()
    expect(seen).toEqual([[{ n: '0' }], [{ n: '1' }]])
    await db.close()
  })

  it('a query over two tables follows changes to either', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE customers (id INT PRIMARY KEY, name TEXT)')
    await db.query('CREATE TABLE orders (id INT PRIMARY KEY, customer INT, total INT)')
    await db.query("INSERT INTO customers VALUES (1, 'ann'), (2, 'bob')")
    const sql = 'SELECT c.name, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.name ORDER BY c.name'
    const { seen } = await follow(db, sql)
    expect(seen).toEqual([[]])
    await db.query('INSERT INTO orders VALUES (10, 1, 5), (11, 1, 7)')
    await until(() => seen.length === 2)
    expect(seen[1]).toEqual([{ name: 'ann', total: '12' }])
    await db.query("UPDATE customers SET name = 'anne' WHERE id = 1")
    await until(() => seen.length === 3)
    expect(seen[2]).toEqual([{ name: 'anne', total: '12' }])
    await db.close()
  })

  it('a point lookup re-runs only for changes to its row; a scan for any row of its table', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE kv (k INT PRIMARY KEY, v INT)')
    await db.query('INSERT INTO kv VALUES (1, 10), (2, 20)')
    // random() differs on every run, so each run hands new rows: deliveries count runs.
    const point = await follow(db, 'SELECT v, random() AS r FROM kv WHERE k = $1', [1])
    const scan = await follow(db, 'SELECT sum(v) AS s, random() AS r FROM kv')
    await db.query('UPDATE kv SET v = 21 WHERE k = 2')
    await db.query('INSERT INTO kv VALUES (3, 30)')
    await until(() => scan.seen.length >= 2)
    await drain()
    expect(point.seen.length).toBe(1)
    await db.query('UPDATE kv SET v = 11 WHERE k = 1')
    await until(() => point.seen.length === 2)
    expect(point.seen[1]![0]!.v).toBe(11)
    await db.close()
  })

  it('an indexed filter re-runs for rows entering or leaving its range, not for others', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE tasks (id INT PRIMARY KEY, prio INT)')
    await db.query('CREATE INDEX tasks_prio ON tasks (prio)')
    await db.query('INSERT INTO tasks VALUES (1, 1), (2, 5), (3, 9)')
    const urgent = await follow(db, 'SELECT id, random() AS r FROM tasks WHERE prio >= 8 ORDER BY id')
    expect(urgent.seen[0]!.map((r) => r.id)).toEqual([3])
    await db.query('UPDATE tasks SET prio = 2 WHERE id = 1')
    await drain()
    expect(urgent.seen.length).toBe(1)
    await db.query('UPDATE tasks SET prio = 8 WHERE id = 2')
    await until(() => urgent.seen.length === 2)
    expect(urgent.seen[1]!.map((r) => r.id)).toEqual([2, 3])
    await db.query('UPDATE tasks SET prio = 0 WHERE id = 3')
    await until(() => urgent.seen.length === 3)
    expect(urgent.seen[2]!.map((r) => r.id)).toEqual([2])
    await db.close()
  })

  it('a query over a view, or a partitioned table, follows writes to the tables beneath it', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE parted (a INT, b TEXT) PARTITION BY RANGE (a)')
    await db.query('CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (10)')
    await db.query('CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (10) TO (100)')
    await db.query('CREATE VIEW high AS SELECT a, b FROM parted WHERE a >= 10')
    const all = await follow(db, 'SELECT count(*) AS n FROM parted')
    const view = await follow(db, 'SELECT a, b FROM high ORDER BY a')
    await db.query("INSERT INTO parted VALUES (5, 'low'), (50, 'high')")
    await until(() => all.seen.length === 2 && view.seen.length === 2)
    expect(all.seen[1]).toEqual([{ n: '2' }])
    expect(view.seen[1]).toEqual([{ a: 50, b: 'high' }])
    await db.query("INSERT INTO parted_high VALUES (60, 'direct')")
    await until(() => view.seen.length === 3)
    expect(view.seen[2]).toEqual([{ a: 50, b: 'high' }, { a: 60, b: 'direct' }])
    await db.close()
  })

  it('hands rows only when they differ from the last ones handed', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, shown TEXT, hidden TEXT)')
    await db.query("INSERT INTO t VALUES (1, 'x', 'a')")
    const { seen } = await follow(db, 'SELECT id, shown FROM t')
    await db.query("UPDATE t SET hidden = 'b'")
    await db.query("UPDATE t SET shown = 'y'")
    await until(() => seen.length === 2)
    await drain()
    expect(seen).toEqual([[{ id: 1, shown: 'x' }], [{ id: 1, shown: 'y' }]])
    await db.close()
  })

  it('refuses anything but one SELECT (0A000); a query that fails at the start rejects; a later failure goes to onError', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    const state = (p: Promise<unknown>) => p.then(() => null, codeOf)
    expect(await state(db.live('INSERT INTO t VALUES (1)', [], () => {}))).toBe('0A000')
    expect(await state(db.live('SELECT 1; SELECT 2', [], () => {}))).toBe('0A000')
    expect(await state(db.live('SELECT * FROM missing', [], () => {}))).toBe('42P01')
    await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
    expect(await state(db.live('WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x', [], () => {}))).toBe('25006')
    const errors: string[] = []
    const seen: Rows[] = []
    await db.live('SELECT id FROM t', [], (rows) => seen.push(rows), { onError: (e) => errors.push(codeOf(e)) })
    await db.query('DROP TABLE t')
    await until(() => errors.length === 1)
    expect(errors).toEqual(['42P01'])
    // It stays subscribed: the table created again is followed.
    await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
    await db.query('INSERT INTO t VALUES (7)')
    await until(() => seen.some((rows) => rows.length === 1 && rows[0]!.id === 7))
    await db.close()
  })
})

describe('db.live across nodes', () => {
  it('rows written on a peer are handed once they replicate', async () => {
    const cluster = await SimCluster.create({ seed: 19, nodes: [{ id: 'a' }, { id: 'b' }] })
    await cluster.node('a').query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await cluster.settle()
    const { seen } = await follow(cluster.node('b'), 'SELECT id, body FROM notes ORDER BY id')
    expect(seen).toEqual([[]])
    await cluster.node('a').query("INSERT INTO notes VALUES (1, 'from a')")
    await cluster.settle()
    await until(() => seen.length === 2)
    expect(seen[1]).toEqual([{ id: 1, body: 'from a' }])
    // A merge that changes a row b wrote is handed too.
    cluster.partition(['a'], ['b'])
    await cluster.node('a').query("UPDATE notes SET body = 'a2' WHERE id = 1")
    await cluster.advance(10)
    await cluster.node('b').query("UPDATE notes SET body = 'b2' WHERE id = 1")
    cluster.heal()
    await cluster.settle()
    const final = (await cluster.node('b').query('SELECT id, body FROM notes')).rows
    await until(() => JSON.stringify(seen[seen.length - 1]) === JSON.stringify(final))
    expect(seen.map((rows) => rows[0]?.body)).toEqual([undefined, 'from a', 'b2'])
    await cluster.close()
  })

  it('a table held only in another region cannot be followed here (0A000), as a live query or a change feed', async () => {
    const cluster = await SimCluster.create({ seed: 23, nodes: [{ id: 'a', region: 'us-west' }, { id: 'b', region: 'ap-southeast' }] })
    await cluster.node('a').query("CREATE TABLE local_only (id INT PRIMARY KEY) WITH (replication_regions = 'us-west')")
    await cluster.node('a').query('INSERT INTO local_only VALUES (1)')
    await cluster.settle()
    const b = cluster.node('b')
    // b answers the read from a holder (a federated read), so the query itself would run.
    const started = b.live('SELECT id FROM local_only', [], () => {}).then(() => null, (e: unknown) => `${codeOf(e)} ${(e as Error).message}`)
    let code: string | null | undefined
    void started.then((c) => (code = c))
    for (let i = 0; i < 100 && code === undefined; i++) await cluster.advance(50)
    expect(code).toMatch(/^0A000 a live query follows tables held on this node only/)
    expect(await sqlState(b, "SELECT concord_changes_position('local_only')")).toBe('0A000')
    await cluster.close()
  })
})
