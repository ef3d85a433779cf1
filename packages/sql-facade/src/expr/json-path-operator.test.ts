import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('json #> and #>> paths', () => {
  it('take a text[] path: an array constructor, a literal with quoted keys, or NULL steps', async () => {
    db = await openDatabase({ nodeId: 'j1' })
    const doc = `'{"f4":{"f5":99,"f6":"stringy"},"a,b":[10,20]}'`
    const r = await db.query(`SELECT ${doc}::json #> array['f4','f6'] AS j, ${doc}::jsonb #>> array['f4','f5'] AS t,
      ${doc}::jsonb #> '{"a,b",1}' AS q, ${doc}::jsonb #> array['f4', NULL] AS n, ${doc}::jsonb #> '{}' AS whole`)
    expect(r.rows).toEqual([{ j: '"stringy"', t: '99', q: '20', n: null, whole: '{"f4": {"f5": 99, "f6": "stringy"}, "a,b": [10, 20]}' }])
    expect(await sqlState(db, `SELECT '{}'::jsonb #> 'not an array'`)).toBe('22P02')
  })
})
