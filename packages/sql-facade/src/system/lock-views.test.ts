import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('pg_locks', () => {
  it('lists the row locks the node holds, by holder, until the transaction ends', async () => {
    db = await openDatabase({ nodeId: 'locks1' })
    await db.query('CREATE TABLE lk (id int PRIMARY KEY, v int)')
    await db.query('INSERT INTO lk VALUES (1, 1), (2, 2)')
    const s = db.session()
    const pid = Number((await s.query('SELECT pg_backend_pid()')).rowArrays[0]![0])
    await s.query('BEGIN')
    await s.query('SELECT * FROM lk WHERE id = 1 FOR UPDATE')
    await s.query('SELECT * FROM lk WHERE id = 2 FOR KEY SHARE')
    const q = `SELECT locktype, relation::regclass::text, mode, granted, pid FROM pg_locks ORDER BY mode`
    expect((await db.query(q)).rowArrays).toEqual([
      ['tuple', 'lk', 'AccessExclusiveLock', true, pid],
      ['tuple', 'lk', 'AccessShareLock', true, pid],
    ])
    await s.query('COMMIT')
    expect((await db.query(q)).rowArrays).toEqual([])
  })
})
