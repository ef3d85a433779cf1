import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('ALTER TABLE .. ADD PRIMARY KEY on a table created without one', () => {
  it('enforces NOT NULL and uniqueness from then on, VACUUM and ANALYZE accepted', async () => {
    db = await openDatabase({ nodeId: 'pk1' })
    await db.query('CREATE TABLE acc (aid int, bal int)')
    await db.query('INSERT INTO acc VALUES (1, 0), (2, 0)')
    expect((await db.query('ALTER TABLE acc ADD PRIMARY KEY (aid)')).commandTag).toBe('ALTER TABLE')
    await expect(db.query('INSERT INTO acc VALUES (1, 5)')).rejects.toMatchObject({ code: '23505' })
    await expect(db.query('INSERT INTO acc VALUES (NULL, 5)')).rejects.toMatchObject({ code: '23502' })
    await db.query('UPDATE acc SET bal = bal + 3 WHERE aid = 2')
    expect((await db.query('SELECT aid, bal FROM acc ORDER BY aid')).rows).toEqual([{ aid: 1, bal: 0 }, { aid: 2, bal: 3 }])
    await expect(db.query('ALTER TABLE acc ADD PRIMARY KEY (bal)')).rejects.toMatchObject({ code: '42P16' })
    expect((await db.query('VACUUM ANALYZE acc')).commandTag).toBe('VACUUM')
    expect((await db.query('ANALYZE acc')).commandTag).toBe('ANALYZE')
    await expect(db.query('VACUUM nope')).rejects.toMatchObject({ code: '42P01' })
    await db.query('BEGIN')
    await expect(db.query('VACUUM acc')).rejects.toMatchObject({ code: '25001' })
    await db.query('ROLLBACK')
  })

  it('refuses a key the present rows break: duplicates 23505, NULLs 23502, and the table is unchanged', async () => {
    db = await openDatabase({ nodeId: 'pk2' })
    await db.query('CREATE TABLE d (k int, v text)')
    await db.query(`INSERT INTO d VALUES (1, 'a'), (1, 'b')`)
    await expect(db.query('ALTER TABLE d ADD PRIMARY KEY (k)')).rejects.toMatchObject({ code: '23505' })
    await db.query(`INSERT INTO d VALUES (1, 'a')`)
    expect((await db.query('SELECT count(*)::int AS n FROM d')).rows).toEqual([{ n: 3 }])
    await db.query('CREATE TABLE e (k int, v text)')
    await db.query(`INSERT INTO e VALUES (NULL, 'c')`)
    await expect(db.query('ALTER TABLE e ADD PRIMARY KEY (k)')).rejects.toMatchObject({ code: '23502' })
    await db.query(`INSERT INTO e VALUES (NULL, 'd')`)
  })
})
