import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'r1' })
})
afterAll(async () => {
  await db.close()
})

async function failure(sql: string): Promise<{ code?: string; message: string }> {
  try {
    await db.query(sql)
    return { message: 'no error' }
  } catch (e) {
    return e as { code?: string; message: string }
  }
}

describe('JavaScript engine limits reach clients as PostgreSQL errors', () => {
  it('a jsonb value nested past the engine stack is 54001, as in PostgreSQL, and the session goes on', async () => {
    const deep = `SELECT (repeat('{"a":', 100000) || '1' || repeat('}', 100000))::jsonb -> 'a' IS NOT NULL`
    expect(await failure(deep)).toMatchObject({ code: '54001', message: 'stack depth limit exceeded' })
    const shallow = (await db.query(`SELECT (repeat('[', 500) || repeat(']', 500))::jsonb IS NOT NULL AS ok`)).rows
    expect(shallow).toEqual([{ ok: true }])
  })
})
