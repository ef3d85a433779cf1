import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

// A row replicates as one unit; a 100 MB row stalled replication for good, so a row
// past the node's limit (16 MiB by default) is refused up front with 54000.
describe('a row larger than the limit is refused with 54000 on every write path', () => {
  let db: Database
  beforeEach(async () => {
    db = await openDatabase({ nodeId: 'rs' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY, a text, b text, c bytea)')
  })
  afterEach(async () => {
    await db.close()
  })

  const tooBig = { code: '54000', message: expect.stringMatching(/^row is too big: size \d+, maximum size \d+$/) }

  it('refuses an INSERT past the default 16 MiB and keeps one under it', async () => {
    expect(db.maxRowBytes).toBe(16 * 1024 * 1024)
    await expect(db.query("INSERT INTO t VALUES (1, repeat('x', 17 * 1024 * 1024))")).rejects.toMatchObject(tooBig)
    await expect(db.query("INSERT INTO t VALUES (1, repeat('x', 9 * 1024 * 1024), repeat('y', 8 * 1024 * 1024))")).rejects.toMatchObject(tooBig)
    await db.query("INSERT INTO t VALUES (2, repeat('x', 15 * 1024 * 1024))")
    expect((await db.query('SELECT id, length(a) AS n FROM t')).rows).toEqual([{ id: 2, n: 15 * 1024 * 1024 }])
  })

  it('counts text as UTF-8 and bytea as its bytes', async () => {
    db.maxRowBytes = 1000
    // 400 characters of 3 bytes each: 1,200 bytes.
    await expect(db.query("INSERT INTO t (id, a) VALUES (1, repeat('€', 400))")).rejects.toMatchObject(tooBig)
    await expect(db.query("INSERT INTO t (id, c) VALUES (1, ('\\x' || repeat('ab', 1001))::bytea)")).rejects.toMatchObject(tooBig)
    await db.query("INSERT INTO t (id, a) VALUES (1, repeat('€', 300))")
    await db.query("INSERT INTO t (id, c) VALUES (2, ('\\x' || repeat('ab', 900))::bytea)")
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 2 }])
  })

  it('refuses an UPDATE that makes the row too big, counting the columns it keeps', async () => {
    db.maxRowBytes = 64 * 1024
    await db.query("INSERT INTO t (id, a) VALUES (1, repeat('a', 40000))")
    await expect(db.query("UPDATE t SET b = repeat('b', 30000) WHERE id = 1")).rejects.toMatchObject(tooBig)
    // Replacing the large value instead fits.
    await db.query("UPDATE t SET a = repeat('c', 30000), b = repeat('b', 30000) WHERE id = 1")
    expect((await db.query('SELECT length(a) + length(b) AS n FROM t')).rows).toEqual([{ n: 60000 }])
    // Inside a block the statement fails and the block with it; nothing was written.
    const s = db.session()
    await s.query('BEGIN')
    await expect(s.query("UPDATE t SET b = repeat('d', 50000) WHERE id = 1")).rejects.toMatchObject(tooBig)
    await expect(s.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' })
    await s.query('ROLLBACK')
    expect((await db.query('SELECT left(b, 1) AS b FROM t')).rows).toEqual([{ b: 'b' }])
  })

  it('refuses a COPY row past the limit; the COPY writes nothing', async () => {
    db.maxRowBytes = 10_000
    const r = await db.query('COPY t (id, a) FROM STDIN')
    const sink = r.copy
    if (!sink || sink.direction !== 'in') throw new Error('no COPY sink')
    const fail = (async () => {
      await sink.write(new TextEncoder().encode(`1\tsmall\n2\t${'z'.repeat(20_000)}\n`))
      await sink.end()
    })()
    await expect(fail).rejects.toMatchObject(tooBig)
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
  })
})
