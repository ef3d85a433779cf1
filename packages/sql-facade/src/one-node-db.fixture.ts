/**
 * For tests that ask one in-memory node PostgreSQL questions: opens a database before the
 * file's tests and closes it after; `rows` gives a query's rows as arrays, `code` the
 * SQLSTATE a statement fails with (undefined when it succeeds).
 */
import { afterAll, beforeAll } from 'vitest'
import { openDatabase, type Database } from './database.js'

export interface OneNodeDb {
  rows(sql: string): Promise<unknown[][]>
  code(sql: string): Promise<string | undefined>
}

export function useOneNodeDb(): OneNodeDb {
  let db: Database
  beforeAll(async () => {
    db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  })
  afterAll(async () => {
    await db.close()
  })
  return {
    rows: async (sql) => (await db.query(sql)).rowArrays,
    code: async (sql) => {
      try {
        await db.query(sql)
        return undefined
      } catch (e) {
        return (e as { code?: string }).code
      }
    },
  }
}
