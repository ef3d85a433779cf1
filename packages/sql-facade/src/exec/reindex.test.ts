import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('REINDEX', () => {
  it('succeeds on an existing index, table, schema or the current database, and the unique index still holds', async () => {
    db = await openDatabase({ nodeId: 'ri1' })
    await db.query(`CREATE TABLE t (a int, b text)`)
    await db.query(`CREATE UNIQUE INDEX t_a ON t (a)`)
    await db.query(`INSERT INTO t VALUES (1, 'x')`)
    for (const sql of ['REINDEX INDEX t_a', 'REINDEX TABLE t', 'REINDEX (VERBOSE) TABLE t', 'REINDEX TABLE CONCURRENTLY t', 'REINDEX SCHEMA public', 'REINDEX DATABASE concord']) {
      expect(await sqlState(db, sql)).toBeNull()
    }
    expect(await sqlState(db, `INSERT INTO t VALUES (1, 'y')`)).toBe('23505')
  })

  it('checks its target as PostgreSQL does', async () => {
    db = await openDatabase({ nodeId: 'ri2' })
    await db.query(`CREATE TABLE t (a int)`)
    await db.query(`CREATE INDEX t_a ON t (a)`)
    expect(await sqlState(db, 'REINDEX INDEX t')).toBe('42809')
    expect(await sqlState(db, 'REINDEX TABLE t_a')).toBe('42809')
    expect(await sqlState(db, 'REINDEX TABLE missing')).toBe('42P01')
    expect(await sqlState(db, 'REINDEX INDEX missing')).toBe('42P01')
    expect(await sqlState(db, 'REINDEX SCHEMA missing')).toBe('3F000')
    expect(await sqlState(db, 'REINDEX DATABASE other')).toBe('0A000')
    await db.query('BEGIN')
    expect(await sqlState(db, 'REINDEX TABLE CONCURRENTLY t')).toBe('25001')
    await db.query('ROLLBACK')
    await db.query('BEGIN')
    expect(await sqlState(db, 'REINDEX SCHEMA public')).toBe('25001')
    await db.query('ROLLBACK')
  })
})
