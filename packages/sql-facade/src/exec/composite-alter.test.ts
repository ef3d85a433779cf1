import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('ALTER TYPE .. ATTRIBUTE', () => {
  it('adds, retypes, drops and renames the attributes of an unused composite type', async () => {
    db = await openDatabase({ nodeId: 'ca1' })
    await db.query('CREATE TYPE tt AS (a int)')
    await expect(db.query('ALTER TYPE nosuch ADD ATTRIBUTE b text')).rejects.toMatchObject({ code: '42P01' })
    await db.query('ALTER TYPE tt ADD ATTRIBUTE b text')
    await expect(db.query('ALTER TYPE tt ADD ATTRIBUTE b text')).rejects.toMatchObject({ code: '42701' })
    await db.query('ALTER TYPE tt ALTER ATTRIBUTE b SET DATA TYPE integer')
    expect((await db.query(`SELECT (ROW(1, '7')::tt).b + 1 AS n`)).rowArrays).toEqual([[8]])
    await expect(db.query('ALTER TYPE tt DROP ATTRIBUTE c')).rejects.toMatchObject({ code: '42703' })
    await db.query('ALTER TYPE tt DROP ATTRIBUTE IF EXISTS c')
    await db.query('ALTER TYPE tt DROP ATTRIBUTE a, ADD ATTRIBUTE d boolean')
    await expect(db.query('ALTER TYPE tt RENAME ATTRIBUTE a TO aa')).rejects.toMatchObject({ code: '42703' })
    await db.query('ALTER TYPE tt RENAME ATTRIBUTE d TO dd')
    expect((await db.query(`SELECT ROW(5, true)::tt AS r, (ROW(5, true)::tt).dd AS dd`)).rowArrays).toEqual([['(5,t)', true]])
  })

  it('refuses to change a composite type that a column stores, since stored rows are positional', async () => {
    db = await openDatabase({ nodeId: 'ca2' })
    await db.query('CREATE TYPE pair AS (a int, b text)')
    await db.query('CREATE TABLE t (x int, y pair)')
    await db.query(`INSERT INTO t VALUES (1, ROW(2, 'two'))`)
    await expect(db.query('ALTER TYPE pair ALTER ATTRIBUTE b TYPE varchar')).rejects.toMatchObject({ code: '0A000' })
    await expect(db.query('ALTER TYPE pair DROP ATTRIBUTE a CASCADE')).rejects.toMatchObject({ code: '0A000' })
    expect((await db.query('SELECT (y).b FROM t')).rowArrays).toEqual([['two']])
    await expect(db.query('CREATE TABLE typed OF pair')).rejects.toMatchObject({ code: '0A000' })
  })
})
