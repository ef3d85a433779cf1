import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let cluster: SimCluster | null = null
let db: Database | null = null
afterEach(async () => {
  await cluster?.close()
  await db?.close()
  cluster = null
  db = null
})

async function twoNodes(seed: number): Promise<{ a: Database; b: Database; c: SimCluster }> {
  const c = await SimCluster.create({ seed, nodes: [{ id: 'a' }, { id: 'b' }] })
  cluster = c
  return { a: c.node('a'), b: c.node('b'), c }
}

const qtys = async (d: Database) => (await d.query('SELECT id, qty FROM stock ORDER BY id')).rows

describe('counter columns', () => {
  it('concurrent increments on two partitioned nodes all add up after healing', async () => {
    const { a, b, c } = await twoNodes(21)
    await a.query('CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0)')
    await a.query("ALTER TABLE stock ALTER COLUMN qty SET (conflict_resolution_policy = 'counter')")
    await a.query('INSERT INTO stock VALUES (1, 10), (2, 10)')
    await c.settle()
    c.partition(['a'], ['b'])
    expect((await a.query('UPDATE stock SET qty = qty + 1 WHERE id = 1 RETURNING qty')).rows).toEqual([{ qty: 11 }])
    await a.query('UPDATE stock SET qty = qty + $1 WHERE id = $2', [4, 1])
    expect((await b.query('UPDATE stock SET qty = qty + 1 WHERE id = 1 RETURNING qty')).rows).toEqual([{ qty: 11 }])
    await b.query('UPDATE stock SET qty = 2 + qty WHERE id = 1')
    await b.query('UPDATE stock SET qty = qty - 3 WHERE id = 2')
    await a.query('INSERT INTO stock VALUES (2, 7) ON CONFLICT (id) DO UPDATE SET qty = stock.qty + excluded.qty')
    c.heal()
    await c.settle()
    for (const d of [a, b]) expect(await qtys(d)).toEqual([{ id: 1, qty: 18 }, { id: 2, qty: 14 }])
  })

  it('setting a counter sets its total; increments made concurrently still add to it', async () => {
    const { a, b, c } = await twoNodes(22)
    await a.query('CREATE TABLE stock (id int PRIMARY KEY, qty bigint) WITH (counter_columns = qty)')
    await a.query('INSERT INTO stock VALUES (1, 10)')
    await c.settle()
    c.partition(['a'], ['b'])
    await a.query('UPDATE stock SET qty = 100 WHERE id = 1')
    await b.query('UPDATE stock SET qty = qty + 5 WHERE id = 1')
    c.heal()
    await c.settle()
    for (const d of [a, b]) expect(await qtys(d)).toEqual([{ id: 1, qty: '105' }])
  })

  it('without the counter policy concurrent increments do not add up (last write wins)', async () => {
    const { a, b, c } = await twoNodes(23)
    await a.query('CREATE TABLE stock (id int PRIMARY KEY, qty int)')
    await a.query('INSERT INTO stock VALUES (1, 10)')
    await c.settle()
    c.partition(['a'], ['b'])
    await a.query('UPDATE stock SET qty = qty + 1')
    await b.query('UPDATE stock SET qty = qty + 1')
    c.heal()
    await c.settle()
    for (const d of [a, b]) expect(await qtys(d)).toEqual([{ id: 1, qty: 11 }])
  })

  it('converting a column with data keeps its values and converges while another node still writes it as a register', async () => {
    const { a, b, c } = await twoNodes(24)
    await a.query('CREATE TABLE stock (id int PRIMARY KEY, qty int)')
    await a.query('INSERT INTO stock VALUES (1, 10), (2, 20), (3, NULL)')
    await c.settle()
    await b.query('UPDATE stock SET qty = 21 WHERE id = 2') // a second writer of the old register
    await c.settle()
    c.partition(['a'], ['b'])
    await a.query("ALTER TABLE stock ALTER COLUMN qty SET (conflict_resolution_policy = 'counter')")
    expect(await qtys(a)).toEqual([{ id: 1, qty: 10 }, { id: 2, qty: 21 }, { id: 3, qty: null }])
    await a.query('UPDATE stock SET qty = qty + 5')
    // b has not seen the conversion: its increments are register writes.
    await b.query('UPDATE stock SET qty = qty + 1 WHERE id = 1')
    await b.query('UPDATE stock SET qty = qty + 1 WHERE id = 1')
    await b.query('UPDATE stock SET qty = 7 WHERE id = 3')
    c.heal()
    await c.settle()
    for (const d of [a, b]) expect(await qtys(d)).toEqual([{ id: 1, qty: 17 }, { id: 2, qty: 26 }, { id: 3, qty: 7 }])
    // From now on b increments the counter too.
    c.partition(['a'], ['b'])
    await a.query('UPDATE stock SET qty = qty + 1 WHERE id = 1')
    await b.query('UPDATE stock SET qty = qty + 1 WHERE id = 1')
    c.heal()
    await c.settle()
    for (const d of [a, b]) expect((await d.query('SELECT qty FROM stock WHERE id = 1')).rows).toEqual([{ qty: 19 }])
    // And back to a register: values stay; then the last write wins again.
    await b.query('ALTER TABLE stock ALTER COLUMN qty SET (conflict_resolution_policy = last_write_wins)')
    await c.settle()
    for (const d of [a, b]) expect(await qtys(d)).toEqual([{ id: 1, qty: 19 }, { id: 2, qty: 26 }, { id: 3, qty: 7 }])
  })

  it('refuses what cannot be a counter or a policy, with PostgreSQL SQLSTATEs', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE s (id int PRIMARY KEY, name text, price numeric, n int, g int GENERATED ALWAYS AS (n * 2) STORED)')
    const code = async (sql: string) => db!.query(sql).then(() => '', (e: { code?: string }) => e.code)
    expect(await code("ALTER TABLE s ALTER COLUMN n SET (conflict_resolution_policy = 'bogus')")).toBe('22023')
    expect(await code("ALTER TABLE s ALTER COLUMN name SET (conflict_resolution_policy = 'counter')")).toBe('42804')
    expect(await code("ALTER TABLE s ALTER COLUMN price SET (conflict_resolution_policy = 'counter')")).toBe('42804')
    expect(await code("ALTER TABLE s ALTER COLUMN id SET (conflict_resolution_policy = 'counter')")).toBe('0A000')
    expect(await code("ALTER TABLE s ALTER COLUMN n SET (conflict_resolution_policy = 'counter')")).toBe('0A000') // feeds g
    expect(await code("ALTER TABLE s ALTER COLUMN nope SET (conflict_resolution_policy = 'counter')")).toBe('42703')
    expect(await code("ALTER TABLE s SET (conflict_resolution_policy = 'counter')")).toBe('22023')
    expect(await code("CREATE TABLE t (id int PRIMARY KEY, x text) WITH (counter_columns = 'x')")).toBe('42804')
    expect(await code("CREATE TABLE t (id int PRIMARY KEY) WITH (counter_columns = 'x')")).toBe('42703')
    for (const p of ['last_write_wins', 'first_write_wins', 'custom_function', 'custom:pick']) {
      expect(await code(`ALTER TABLE s ALTER COLUMN name SET (conflict_resolution_policy = '${p}')`)).toBe('')
    }
    await db.query('CREATE TABLE c (id int PRIMARY KEY, n int) WITH (counter_columns = n)')
    await db.query('INSERT INTO c VALUES (1, 1)')
    expect(await code('UPDATE c SET n = NULL')).toBe('22004')
    expect(await code('UPDATE c SET n = n + NULL')).toBe('22004')
    expect(await code('UPDATE c SET n = n + 2147483647')).toBe('22003')
    expect((await db.query('SELECT n FROM c')).rows).toEqual([{ n: 1 }])
  })
})
