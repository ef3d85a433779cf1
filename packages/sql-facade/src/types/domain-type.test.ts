import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('domains', () => {
  it('check NOT NULL and CHECK on casts and on column writes, and act as their base type otherwise', async () => {
    db = await openDatabase({ nodeId: 'd1' })
    await db.query('CREATE DOMAIN posint AS int NOT NULL CHECK (VALUE > 0)')
    expect((await db.query('SELECT 5::posint + 1 AS n')).rows).toEqual([{ n: 6 }])
    expect(await sqlState(db, 'SELECT 0::posint')).toBe('23514')
    expect(await sqlState(db, 'SELECT NULL::posint')).toBe('23502')
    await db.query('CREATE TABLE t (id int PRIMARY KEY, n posint)')
    await db.query('INSERT INTO t VALUES (1, 7)')
    expect(await sqlState(db, 'INSERT INTO t VALUES (2, -1)')).toBe('23514')
    expect(await sqlState(db, 'INSERT INTO t (id) VALUES (3)')).toBe('23502')
    expect(await sqlState(db, 'UPDATE t SET n = 0')).toBe('23514')
    const r = await db.query('SELECT n FROM t')
    expect(r.rowArrays).toEqual([[7]])
    expect(r.fields[0]!.type).toBe('posint')
  })

  it('give columns their DEFAULT, build on enums and on other domains, and are dropped only when unused', async () => {
    db = await openDatabase({ nodeId: 'd2' })
    await db.query(`CREATE TYPE rainbow AS ENUM ('red', 'orange', 'green', 'blue')`)
    await db.query(`CREATE DOMAIN rgb AS rainbow DEFAULT 'red' CHECK (VALUE IN ('red', 'green', 'blue'))`)
    await db.query(`CREATE DOMAIN greenish AS rgb CONSTRAINT not_blue CHECK (VALUE <> 'blue')`)
    expect((await db.query(`SELECT 'green'::rgb AS g`)).rows).toEqual([{ g: 'green' }])
    expect(await sqlState(db, `SELECT 'orange'::rgb`)).toBe('23514')
    expect(await sqlState(db, `SELECT 'orange'::greenish`)).toBe('23514')
    expect(await sqlState(db, `SELECT 'blue'::greenish`)).toBe('23514')
    await db.query('CREATE TABLE c (id int PRIMARY KEY, col rgb)')
    await db.query('INSERT INTO c (id) VALUES (1)')
    expect((await db.query('SELECT col FROM c')).rowArrays).toEqual([['red']])
    expect(await sqlState(db, 'DROP DOMAIN rgb')).toBe('2BP01')
    expect(await sqlState(db, 'DROP TYPE rainbow')).toBe('2BP01')
    await db.query('DROP TABLE c')
    await db.query('DROP DOMAIN greenish')
    await db.query('DROP DOMAIN rgb')
    expect(await sqlState(db, `SELECT 'red'::rgb`)).toBe('42704')
    expect(await sqlState(db, 'CREATE DOMAIN bad AS int CHECK (nosuch > 0)')).toBe('42703')
  })
})
