import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import { restrictWrites } from './write-scope.js'

let db: Database

beforeEach(async () => {
  db = await openDatabase({ nodeId: 'browser-1', region: 'default' })
  await db.query('CREATE TABLE notes (id SERIAL PRIMARY KEY, body TEXT)')
  await db.query('CREATE TABLE prices (id INT PRIMARY KEY, cents INT)')
  await db.query('CREATE TABLE secrets (id INT PRIMARY KEY, v TEXT)')
  await db.query('INSERT INTO prices VALUES (1, 100)')
  await db.query(`INSERT INTO secrets VALUES (1, 'x')`)
  restrictWrites(db.replica, { tables: ['notes'], readOnly: ['prices'] })
})

afterEach(async () => {
  await db.close()
})

async function failure(sql: string): Promise<{ code?: string; message: string; detail?: string } | null> {
  try {
    await db.query(sql)
    return null
  } catch (e) {
    return e as { code?: string; message: string; detail?: string }
  }
}

describe('a scoped browser replica refuses, itself, the writes its node would not take (restrictWrites)', () => {
  it('writes rows of its writable tables, serial ids included', async () => {
    await db.query(`INSERT INTO notes (body) VALUES ('a'), ('b')`)
    await db.query(`UPDATE notes SET body = 'c' WHERE body = 'b'`)
    await db.query(`DELETE FROM notes WHERE body = 'a'`)
    expect((await db.query('SELECT body FROM notes')).rows).toEqual([{ body: 'c' }])
  })

  it('refuses every write to a read-only table with 42501 and changes nothing', async () => {
    const e = await failure('UPDATE prices SET cents = 1')
    expect(e).toMatchObject({ code: '42501', message: 'permission denied for table prices', detail: `This browser replica's token lets it read "prices" but not write it.` })
    expect(await sqlState(db, 'INSERT INTO prices VALUES (2, 5)')).toBe('42501')
    expect(await sqlState(db, 'DELETE FROM prices')).toBe('42501')
    expect(await sqlState(db, 'TRUNCATE prices')).toBe('42501')
    expect((await db.query('SELECT id, cents FROM prices')).rows).toEqual([{ id: 1, cents: 100 }])
  })

  it('refuses writes to tables outside the token, also inside a block, which then rolls back whole', async () => {
    expect(await failure(`INSERT INTO secrets VALUES (2, 'y')`)).toMatchObject({ code: '42501', detail: `This browser replica's token lets it write rows of notes only.` })
    const s = db.session()
    await s.query('BEGIN')
    await s.query(`INSERT INTO notes (body) VALUES ('in block')`)
    expect(await sqlState(s, `UPDATE secrets SET v = 'z'`)).toBe('42501')
    await s.query('ROLLBACK')
    expect((await db.query('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 0 }])
    expect((await db.query('SELECT v FROM secrets')).rows).toEqual([{ v: 'x' }])
  })

  it('refuses DDL and role changes, but runs a CREATE TABLE IF NOT EXISTS that writes nothing', async () => {
    expect(await failure('CREATE TABLE mine (id INT PRIMARY KEY)')).toMatchObject({ code: '42501', message: 'a browser replica with a scoped token cannot change the schema, roles or settings' })
    expect(await sqlState(db, 'DROP TABLE notes')).toBe('42501')
    expect(await sqlState(db, 'ALTER TABLE notes ADD COLUMN extra INT')).toBe('42501')
    expect(await sqlState(db, 'CREATE ROLE intruder')).toBe('42501')
    // Role verifiers live in the secrets shard: the page writes none either (a node would drop them).
    expect(await sqlState(db, "CREATE ROLE intruder LOGIN PASSWORD 'x'")).toBe('42501')
    expect(() => db.replica.transact((tx) => tx.setSecret('role_secret', '1', 'x'))).toThrow(/cannot change the schema, roles or settings/)
    expect(db.replica.getSecret('role_secret', '1')).toBeUndefined()
    expect(await sqlState(db, 'CREATE TABLE IF NOT EXISTS notes (id SERIAL PRIMARY KEY, body TEXT)')).toBeNull()
    expect((await db.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'mine'`)).rows).toEqual([{ n: 0 }])
  })
})

describe('a browser replica whose token names a region writes only rows placed in it', () => {
  let eu: Database

  beforeEach(async () => {
    eu = await openDatabase({ nodeId: 'browser-eu', region: 'eu' })
    await eu.query(`CREATE TABLE eu_notes (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu')`)
    await eu.query(`CREATE TABLE shared (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu,us')`)
    await eu.query('CREATE TABLE everywhere (id INT PRIMARY KEY, body TEXT)')
    await eu.query(`CREATE TABLE posts (id INT PRIMARY KEY, region TEXT, body TEXT) WITH (home_region_column = 'region')`)
    await eu.query(`CREATE TABLE eu_prices (id INT PRIMARY KEY, cents INT) WITH (replication_regions = 'eu')`)
    restrictWrites(eu.replica, { tables: [], readOnly: ['eu_prices'], regions: ['eu'] })
  })

  afterEach(async () => {
    await eu.close()
  })

  it('writes a table placed only in its region and rows homed there; refuses tables also placed elsewhere or everywhere, and its read-only ones', async () => {
    await eu.query(`INSERT INTO eu_notes VALUES (1, 'a')`)
    await eu.query(`INSERT INTO posts VALUES (1, 'eu', 'a')`)
    expect((await eu.query('SELECT count(*)::int AS n FROM eu_notes')).rows).toEqual([{ n: 1 }])
    expect(await sqlState(eu, `INSERT INTO shared VALUES (1, 'a')`)).toBe('42501')
    expect(await sqlState(eu, `INSERT INTO everywhere VALUES (1, 'a')`)).toBe('42501')
    expect(await sqlState(eu, 'INSERT INTO eu_prices VALUES (1, 1)')).toBe('42501')
    await expect(eu.query(`INSERT INTO everywhere VALUES (2, 'b')`)).rejects.toMatchObject({
      detail: `This browser replica's token lets it write rows placed in region eu only.`,
    })
  })
})

describe('a browser replica whose token names a read-only region writes none of the rows placed in it', () => {
  let eu: Database

  beforeEach(async () => {
    eu = await openDatabase({ nodeId: 'browser-eu-ro', region: 'eu' })
    await eu.query(`CREATE TABLE eu_notes (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu')`)
    await eu.query(`CREATE TABLE posts (id INT PRIMARY KEY, region TEXT, body TEXT) WITH (home_region_column = 'region')`)
    await eu.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await eu.query(`INSERT INTO eu_notes VALUES (1, 'from the node')`)
    await eu.query(`INSERT INTO posts VALUES (1, 'eu', 'from the node')`)
    restrictWrites(eu.replica, { tables: ['notes'], readOnly: [], readOnlyRegions: ['eu'] })
  })

  afterEach(async () => {
    await eu.close()
  })

  it('refuses every write to a table placed in it and to rows homed in it with 42501, and still reads them', async () => {
    const e = await eu.query(`INSERT INTO eu_notes VALUES (2, 'mine')`).then(() => null, (err: unknown) => err)
    expect(e).toMatchObject({ code: '42501', message: 'permission denied for table eu_notes', detail: `This browser replica's token lets it read "eu_notes" but not write it.` })
    expect(await sqlState(eu, `UPDATE eu_notes SET body = 'changed'`)).toBe('42501')
    expect(await sqlState(eu, 'DELETE FROM eu_notes')).toBe('42501')
    expect(await sqlState(eu, `INSERT INTO posts VALUES (2, 'eu', 'mine')`)).toBe('42501')
    expect(await sqlState(eu, `UPDATE posts SET body = 'changed'`)).toBe('42501')
    expect((await eu.query('SELECT id, body FROM eu_notes')).rows).toEqual([{ id: 1, body: 'from the node' }])
    expect((await eu.query('SELECT id, body FROM posts')).rows).toEqual([{ id: 1, body: 'from the node' }])
    // Its writable table is still written.
    await eu.query(`INSERT INTO notes VALUES (1, 'mine')`)
  })

  it('writes a region named read-write, not one named read-only, and none named both', async () => {
    restrictWrites(eu.replica, { tables: [], readOnly: [], regions: ['eu'], readOnlyRegions: ['us'] })
    await eu.query(`INSERT INTO eu_notes VALUES (2, 'mine')`)
    await eu.query(`INSERT INTO posts VALUES (2, 'eu', 'mine')`)
    restrictWrites(eu.replica, { tables: [], readOnly: [], regions: ['eu'], readOnlyRegions: ['eu'] })
    expect(await sqlState(eu, `INSERT INTO eu_notes VALUES (3, 'mine')`)).toBe('42501')
    expect(await sqlState(eu, `INSERT INTO posts VALUES (3, 'eu', 'mine')`)).toBe('42501')
  })

  it('writes no homed rows when its own region is read-only, even with another region read-write', async () => {
    restrictWrites(eu.replica, { tables: [], readOnly: [], regions: ['us'], readOnlyRegions: ['eu'] })
    expect(await sqlState(eu, `INSERT INTO posts VALUES (2, 'eu', 'mine')`)).toBe('42501')
    expect(await sqlState(eu, `INSERT INTO eu_notes VALUES (2, 'mine')`)).toBe('42501')
  })
})
