import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('exclusion constraints', () => {
  it('are refused with 0A000 in CREATE TABLE rather than accepted and never checked', async () => {
    db = await openDatabase({ nodeId: 'x1' })
    await expect(db.query('CREATE TABLE t (f1 int, EXCLUDE USING gist (f1 WITH =))')).rejects.toMatchObject({ code: '0A000' })
    await expect(db.query('CREATE TABLE c (c1 circle, EXCLUDE USING gist (c1 WITH &&))')).rejects.toMatchObject({ code: '0A000' })
    await expect(db.query('SELECT * FROM t')).rejects.toMatchObject({ code: '42P01' })
  })
})
