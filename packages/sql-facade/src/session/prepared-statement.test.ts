import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../index.js'

// The extended protocol's view of a session: Parse (prepare), Describe (the row shape,
// learnt by planning, never by running), Execute.

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'prepared' })
  await db.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, price NUMERIC(10,2))')
  await db.query("INSERT INTO items VALUES (1, 'one', 1.5)")
})

afterAll(async () => {
  await db.close()
})

describe('prepare, describe, execute', () => {
  it('reports unspecified parameters with the type their context gives them, text when none does', async () => {
    const s = db.session()
    await db.query('CREATE TABLE typed_params (id BIGINT PRIMARY KEY, tags TEXT[], body JSONB, at TIMESTAMPTZ, n INT)')
    expect((await s.prepare('INSERT INTO typed_params (tags, id, body, at) VALUES ($1, $2, $3, $4)')).paramTypes).toEqual([1009, 20, 3802, 1184])
    expect((await s.prepare('INSERT INTO typed_params VALUES ($1, $2, $3, $4, $5)')).paramTypes).toEqual([20, 1009, 3802, 1184, 23])
    expect((await s.prepare('UPDATE typed_params SET tags = $1, n = $2 WHERE id = $3')).paramTypes).toEqual([1009, 23, 20])
    expect((await s.prepare('SELECT id FROM typed_params WHERE n = ANY($1) AND $2 < at')).paramTypes).toEqual([1007, 1184])
    expect((await s.prepare('SELECT $1::int8, $2, upper($3)')).paramTypes).toEqual([20, 25, 25])
    expect((await s.prepare('DELETE FROM typed_params WHERE id = $1', [23])).paramTypes).toEqual([23])
    // Execution still binds the text the client sends as unknown: an array literal lands in text[].
    await s.execute(await s.prepare('INSERT INTO typed_params (id, tags) VALUES ($1, $2)'), ['7', '{"a","b c"}'])
    expect((await db.query('SELECT array_length(tags, 1) AS n, tags[2] AS second FROM typed_params WHERE id = 7')).rows).toEqual([{ n: 2, second: 'b c' }])
    await db.query('DROP TABLE typed_params')
  })

  it('infers again once a table the statement names changes, and keeps what each Parse declares', async () => {
    // The same text is inferred once per tree and reused while its tables stay the same
    // (prepared-statement.ts): each change below must show in the next Parse.
    const s = db.session()
    await db.query('CREATE TABLE reparsed (id INT PRIMARY KEY, n INT)')
    const q = 'SELECT id FROM reparsed WHERE n = $1 AND id = $2'
    expect((await s.prepare(q)).paramTypes).toEqual([23, 23])
    expect((await s.prepare(q)).paramTypes).toEqual([23, 23])
    expect((await s.prepare(q, [20])).paramTypes).toEqual([20, 23])
    expect((await s.prepare(q)).paramTypes).toEqual([23, 23])
    await db.query('ALTER TABLE reparsed ALTER COLUMN n TYPE BIGINT')
    expect((await s.prepare(q)).paramTypes).toEqual([20, 23])
    await db.query('DROP TABLE reparsed')
    expect((await s.prepare(q)).paramTypes).toEqual([25, 25])
    // A table created in the open block is seen by that block's Parse, and gone after ROLLBACK.
    await s.query('BEGIN')
    await s.query('CREATE TABLE reparsed (id TEXT PRIMARY KEY, n NUMERIC)')
    expect((await s.prepare(q)).paramTypes).toEqual([1700, 25])
    await s.query('ROLLBACK')
    expect((await s.prepare(q)).paramTypes).toEqual([25, 25])
    // The answer handed out is the caller's own: changing it changes no later Parse.
    const mine = await s.prepare(q)
    mine.paramTypes[0] = 16
    expect((await s.prepare(q)).paramTypes).toEqual([25, 25])
  })

  it('describes INSERT, UPDATE and DELETE .. RETURNING by planning the returning list, without writing', async () => {
    const s = db.session()
    const ins = await s.prepare('INSERT INTO items VALUES ($1, $2, 2) RETURNING id, upper(name) AS shout, price')
    expect((await s.describe(ins))?.map((f) => [f.name, f.type])).toEqual([['id', 'integer'], ['shout', 'text'], ['price', 'numeric(10,2)']])
    const upd = await s.prepare('UPDATE items AS i SET name = $1 WHERE id = $2 RETURNING i.*')
    expect((await s.describe(upd))?.map((f) => f.name)).toEqual(['id', 'name', 'price'])
    const del = await s.prepare('DELETE FROM items WHERE id = $1 RETURNING id * 2 AS twice')
    expect((await s.describe(del))?.map((f) => [f.name, f.type])).toEqual([['twice', 'integer']])
    expect((await db.query('SELECT count(*)::int AS n FROM items')).rows[0]!.n).toBe(1)
    expect((await s.execute(ins, [5, 'five'])).rows).toEqual([{ id: 5, shout: 'FIVE', price: '2.00' }])
    expect((await s.execute(del, [5])).rows).toEqual([{ twice: 10 }])
  })

  it('counts parameters from the parse tree and keeps the declared types', async () => {
    const s = db.session()
    const p = await s.prepare("SELECT name, '$9' AS literal FROM items WHERE id = $2 OR id = $1", [20])
    // $1 keeps its declared int8; $2, left unspecified, takes the type of the column it is compared with.
    expect(p.paramTypes).toEqual([20, 23])
    const fields = await s.describe(p)
    expect(fields?.map((f) => [f.name, f.oid])).toEqual([['name', 25], ['literal', 25]])
    expect((await s.execute(p, [1, 7])).rows).toEqual([{ name: 'one', literal: '$9' }])
  })

  it('describes a query and SHOW without running them, and a write as returning no rows', async () => {
    const s = db.session()
    expect((await s.describe(await s.prepare('SELECT price, id + 1 AS next FROM items')))?.map((f) => [f.name, f.type])).toEqual([['price', 'numeric(10,2)'], ['next', 'integer']])
    expect((await s.describe(await s.prepare('SHOW DateStyle')))?.map((f) => f.name)).toEqual(['DateStyle'])
    expect(await s.describe(await s.prepare('INSERT INTO items VALUES (2, $1, 2)'))).toBeNull()
    // A data-modifying CTE runs while its statement is planned: Describe must not plan it.
    const cte = await s.prepare("WITH d AS (INSERT INTO items VALUES (3, 'three', 3) RETURNING id) SELECT id FROM d")
    expect(await s.describe(cte)).toBeNull()
    expect((await db.query('SELECT count(*)::int AS n FROM items')).rows[0]!.n).toBe(1)
    expect((await s.execute(cte)).rows).toEqual([{ id: 3 }])
    await db.query('DELETE FROM items WHERE id = 3')
  })

  it('refuses two statements at Parse and reports planning errors at Describe', async () => {
    const s = db.session()
    await expect(s.prepare('SELECT 1; SELECT 2')).rejects.toMatchObject({ code: '42601' })
    await expect(s.prepare('SELEC 1')).rejects.toMatchObject({ code: '42601' })
    await expect(s.describe(await s.prepare('SELECT * FROM nothing'))).rejects.toMatchObject({ code: '42P01' })
  })

  it('an empty statement describes no rows and executes to EMPTY', async () => {
    const s = db.session()
    const p = await s.prepare(' ; ')
    expect(p.statement).toBeNull()
    expect(await s.describe(p)).toBeNull()
    expect((await s.execute(p)).command).toBe('EMPTY')
  })

  it('describing inside a failed block is refused as any statement is', async () => {
    const s = db.session()
    await s.query('BEGIN')
    await expect(s.query('SELECT * FROM nothing')).rejects.toMatchObject({ code: '42P01' })
    await expect(s.describe(await s.prepare('SELECT 1'))).rejects.toMatchObject({ code: '25P02' })
    await s.query('ROLLBACK')
  })
})

describe('session identity and node facts', () => {
  it('reports the connecting user and database, and the node it runs on', async () => {
    const s = db.session({ user: 'alice', database: 'shop' })
    expect((await s.query('SELECT current_user AS u, current_database() AS d')).rows).toEqual([{ u: 'alice', d: 'shop' }])
    expect((await s.query('SELECT datname FROM pg_catalog.pg_database')).rows).toEqual([{ datname: 'shop' }])
    expect((await s.query('SHOW concord.node_id')).rows).toEqual([{ node_id: 'prepared' }])
    db.setP2pAddresses(() => ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2/ws'])
    expect((await s.query('SHOW concord.p2p_addresses')).rowArrays).toEqual([['/ip4/127.0.0.1/tcp/1'], ['/ip4/127.0.0.1/tcp/2/ws']])
  })

  it('a lenient session answers a failed pg_catalog probe with no rows, outside a block only', async () => {
    const probe = 'SELECT * FROM pg_catalog.pg_foreign_server'
    await expect(db.query(probe)).rejects.toMatchObject({ code: '42P01' })
    const s = db.session({ lenientCatalogProbes: true })
    expect(await s.query(probe)).toMatchObject({ command: 'SELECT', rows: [], fields: [], returnsRows: true })
    await expect(s.query('SELECT * FROM nothing')).rejects.toMatchObject({ code: '42P01' })
    await s.query('BEGIN')
    await expect(s.query(probe)).rejects.toMatchObject({ code: '42P01' })
    await s.query('ROLLBACK')
  })
})
