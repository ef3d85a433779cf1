/**
 * PostgreSQL's limits on names and table width hold before anything reaches the
 * replicated catalog: identifiers are cut to 63 bytes (NAMEDATALEN - 1, never inside a
 * character), and a table has at most 1,600 columns (54011).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'

let db: Database
beforeEach(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'r' })
})
afterEach(async () => {
  await db.close()
})

const columns = (n: number): string => Array.from({ length: n }, (_, i) => `c${i} int`).join(', ')
const tables = async (): Promise<string[]> =>
  (await db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r['table_name'] as string)

describe('identifier and width limits', () => {
  it('a 1 MB identifier is stored as its first 63 bytes, cut on a character boundary', async () => {
    await db.query(`CREATE TABLE ${'a'.repeat(1 << 20)} (${'b'.repeat(1 << 20)} int)`)
    await db.query(`CREATE TABLE "${'é'.repeat(40)}" (id int)`)
    const r = await db.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
    expect(r.rows).toContainEqual({ table_name: 'a'.repeat(63), column_name: 'b'.repeat(63) })
    expect(await tables()).toContain('é'.repeat(31))
    await db.query(`INSERT INTO ${'a'.repeat(70)} VALUES (1)`)
    expect((await db.query(`SELECT ${'b'.repeat(63)} AS v FROM ${'a'.repeat(63)}`)).rows).toEqual([{ v: 1 }])
  })

  it('a table of more than 1,600 columns is refused with 54011 and never enters the catalog', async () => {
    for (const n of [1601, 10_000]) {
      await expect(db.query(`CREATE TABLE wide (${columns(n)})`)).rejects.toMatchObject({ code: '54011', message: 'tables can have at most 1600 columns' })
    }
    expect(await tables()).toEqual([])
    await db.query(`CREATE TABLE widest (${columns(1600)})`)
    await expect(db.query('ALTER TABLE widest ADD COLUMN one_more int')).rejects.toMatchObject({ code: '54011' })
    const n = await db.query("SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'widest'")
    expect(n.rows).toEqual([{ n: '1600' }])
  })
})
