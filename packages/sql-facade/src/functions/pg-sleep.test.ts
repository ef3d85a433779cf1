import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
})

afterAll(async () => {
  await db.close()
})

describe('pg_sleep', () => {
  it('returns one void row only after at least the time asked for', async () => {
    const start = performance.now()
    const r = await db.query('SELECT pg_sleep(0.2) AS s')
    expect(performance.now() - start).toBeGreaterThanOrEqual(190)
    expect(r.rowArrays).toEqual([['']])
    expect(r.fields.map((f) => f.type)).toEqual(['void'])
  })

  it('lets other sessions run while it waits', async () => {
    const sleeper = db.session()
    let slept = false
    const sleeping = sleeper.query('SELECT pg_sleep_for(interval \'300 milliseconds\')').then(() => {
      slept = true
    })
    const r = await db.session().query('SELECT 1 AS one')
    expect(r.rowArrays).toEqual([[1]])
    expect(slept).toBe(false)
    await sleeping
    expect(slept).toBe(true)
  })

  it('is ended by statement_timeout with 57014, failing the open block', async () => {
    const s = db.session()
    await s.query('BEGIN')
    await s.query("SET LOCAL statement_timeout = '100ms'")
    expect(await sqlState(s, 'SELECT pg_sleep(30)')).toBe('57014')
    expect(await sqlState(s, 'SELECT 1')).toBe('25P02')
    await s.query('ROLLBACK')
  })
})
