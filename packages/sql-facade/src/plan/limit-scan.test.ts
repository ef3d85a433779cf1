import { beforeAll, describe, expect, it } from 'vitest'
import { useOneNodeDb } from '../one-node-db.fixture.js'

// A plain SELECT under LIMIT over one table reads it only until it has its rows. The
// answers are PostgreSQL 15's (a table of ids 1..1000, a fresh sequence per case).
describe('LIMIT over one table stops the scan', () => {
  const { rows } = useOneNodeDb()
  beforeAll(async () => {
    await rows('CREATE TABLE lim (id int PRIMARY KEY, v text)')
    await rows("INSERT INTO lim SELECT g, 'v' || g FROM generate_series(1, 1000) g")
  })

  it('projects only the rows it returns: a volatile select list runs LIMIT times', async () => {
    await rows('CREATE SEQUENCE lim_s1')
    expect(await rows("SELECT nextval('lim_s1') FROM lim LIMIT 2")).toEqual([['1'], ['2']])
    expect(await rows("SELECT currval('lim_s1')")).toEqual([['2']])
  })

  it('projects the rows OFFSET skips too, as PostgreSQL does', async () => {
    await rows('CREATE SEQUENCE lim_s2')
    expect(await rows("SELECT nextval('lim_s2') FROM lim OFFSET 3 LIMIT 2")).toEqual([['4'], ['5']])
    expect(await rows("SELECT currval('lim_s2')")).toEqual([['5']])
  })

  it('tests WHERE on the rows read, projecting the ones that pass', async () => {
    await rows('CREATE SEQUENCE lim_s3')
    expect(await rows("SELECT nextval('lim_s3') FROM lim WHERE id > 500 LIMIT 2")).toEqual([['1'], ['2']])
    expect(await rows("SELECT currval('lim_s3')")).toEqual([['2']])
    await rows('CREATE SEQUENCE lim_s4')
    expect((await rows("SELECT id FROM lim WHERE nextval('lim_s4') > 0 LIMIT 3")).length).toBe(3)
    expect(await rows("SELECT currval('lim_s4')")).toEqual([['3']])
  })

  it('reads nothing for LIMIT 0, and the same rows as without LIMIT', async () => {
    await rows('CREATE SEQUENCE lim_s5')
    expect(await rows("SELECT nextval('lim_s5') FROM lim LIMIT 0")).toEqual([])
    expect(await rows("SELECT nextval('lim_s5')")).toEqual([['1']])
    const all = await rows('SELECT id, v FROM lim')
    expect(await rows('SELECT id, v FROM lim LIMIT 10')).toEqual(all.slice(0, 10))
    expect(await rows('SELECT id, v FROM lim OFFSET 995 LIMIT 10')).toEqual(all.slice(995))
    expect(await rows("SELECT v FROM lim WHERE id % 100 = 0 LIMIT 3")).toEqual(all.filter((r) => (r[0] as number) % 100 === 0).slice(0, 3).map((r) => [r[1]]))
  })
})
