import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database | null = null
afterEach(async () => {
  await db?.close()
  db = null
})

describe('COMMENT', () => {
  it('says that it is not stored (it answered COMMENT and kept nothing, unsaid); the objects must exist', async () => {
    db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE ct (a int)')
    const r = await db.query("COMMENT ON TABLE ct IS 'orders of the day'")
    expect(r.command).toBe('COMMENT')
    expect(r.notices).toEqual([expect.stringMatching(/COMMENT is not stored/)])
    expect((await db.query("SELECT obj_description('ct'::regclass, 'pg_class') AS d")).rows).toEqual([{ d: null }])
    await expect(db.query("COMMENT ON TABLE no_such IS 'x'")).rejects.toMatchObject({ code: '42P01' })
    await expect(db.query("COMMENT ON COLUMN ct.b IS 'x'")).rejects.toMatchObject({ code: '42703' })
    expect((await db.query("COMMENT ON COLUMN ct.a IS 'the amount'")).command).toBe('COMMENT')
  })
})
