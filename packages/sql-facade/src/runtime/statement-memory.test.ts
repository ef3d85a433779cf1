import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

// Each statement below materializes hundreds of megabytes (or gigabytes) of rows unless
// statement_mem stops it; before the bound, a 3000 x 3000 cross join or a sort of
// millions of rows could end the process for every client.
describe('statement_mem bounds the rows one statement materializes (53200)', () => {
  let db: Database
  beforeEach(async () => {
    db = await openDatabase({ nodeId: 'sm' })
  })
  afterEach(async () => {
    await db.close()
  })

  const outOfMemory = { code: '53200', message: 'out of memory' }

  it('fails a cross join, a sort and a grouped result past the bound, and the next statement works', async () => {
    const s = db.session()
    expect((await s.query('SHOW statement_mem')).rows).toEqual([{ statement_mem: '256MB' }])
    await s.query("SET statement_mem = '16MB'")
    await expect(s.query('SELECT count(*) FROM generate_series(1, 3000) a, generate_series(1, 3000) b')).rejects.toMatchObject(outOfMemory)
    await expect(s.query('SELECT g FROM generate_series(1, 1000000) g ORDER BY g DESC LIMIT 1')).rejects.toMatchObject(outOfMemory)
    await expect(s.query('SELECT g % 500000 AS k, count(*) FROM generate_series(1, 1000000) g GROUP BY 1')).rejects.toMatchObject(outOfMemory)
    const err = await s.query('SELECT a.* FROM generate_series(1, 3000) a, generate_series(1, 3000) b').catch((e: unknown) => e)
    expect(err).toMatchObject({ code: '53200', detail: expect.stringContaining('statement_mem (16MB)') })
    // The session keeps working; small statements are not affected.
    expect((await s.query('SELECT count(*)::int AS n FROM generate_series(1, 100) a, generate_series(1, 100) b')).rows).toEqual([{ n: 10000 }])
    expect((await s.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('counts a join of table rows, and 0 means no bound', async () => {
    const s = db.session()
    await s.query('CREATE TABLE t (id int PRIMARY KEY, v text)')
    await s.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 2000) g")
    await s.query("SET statement_mem = '8MB'")
    await expect(s.query('SELECT a.v, b.v FROM t a JOIN t b ON a.id % 10 = b.id % 10 ORDER BY 1, 2')).rejects.toMatchObject(outOfMemory)
    await expect(s.query('SELECT a.v, b.v FROM t a, t b')).rejects.toMatchObject(outOfMemory)
    // The same join fits once the bound is lifted.
    await s.query('SET statement_mem = 0')
    expect((await s.query('SELECT count(*)::int AS n FROM t a JOIN t b ON a.id % 10 = b.id % 10')).rows).toEqual([{ n: 400000 }])
    // Another session has its own bound, the default.
    expect((await db.session().query('SELECT count(*)::int AS n FROM t a, t b WHERE a.id <= 100')).rows).toEqual([{ n: 200000 }])
  })

  it('refuses a malformed value', async () => {
    await expect(db.session().query("SET statement_mem = 'lots'")).rejects.toMatchObject({ code: '22023' })
  })
})
