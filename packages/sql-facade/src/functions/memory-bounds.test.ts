/**
 * Queries that build values larger than the node can hold fail with PostgreSQL's
 * resource SQLSTATEs instead of exhausting the heap (issue 15): `count(*) FROM
 * generate_series(1, 1e9)` ended the process, and a string_agg past the engine's string
 * limit was an internal error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'mem1' })
})

afterAll(async () => {
  await db?.close()
})

describe('per-query memory bounds', () => {
  it('refuse a set-returning function too large to hold with 53200, and keep answering', async () => {
    expect(await sqlState(db, 'SELECT count(*) FROM generate_series(1, 1000000000)')).toBe('53200')
    expect(await sqlState(db, 'SELECT count(*) FROM generate_series(1000000000::int8, 1, -1)')).toBe('53200')
    expect((await db.query('SELECT count(*)::int AS n FROM generate_series(1, 100000)')).rows[0]).toEqual({ n: 100000 })
  })

  it('refuse a string_agg result past its bound with 54000', async () => {
    expect(await sqlState(db, "SELECT length(string_agg(repeat('x', 10000000), '')) FROM generate_series(1, 30)")).toBe('54000')
    expect(await sqlState(db, "SELECT lpad('x', 1000000000)")).toBe('54000')
    expect((await db.query("SELECT length(string_agg(repeat('x', 1000), ',')) AS n FROM generate_series(1, 1000)")).rows[0]).toEqual({ n: 1000999 })
  })
})
