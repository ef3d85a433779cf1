import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

let db: Database | null = null
afterEach(async () => {
  await db?.close()
  db = null
})

async function open(setup: string[]): Promise<Database> {
  db = await openDatabase({ nodeId: 'n1' })
  for (const s of setup) await db.query(s)
  return db
}

const PARTED = [
  'CREATE TABLE parted (a int, b text) PARTITION BY RANGE (a)',
  'CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)',
  "INSERT INTO parted VALUES (1, 'one'), (5, 'five')",
]

describe('ATTACH / DETACH PARTITION', () => {
  it('attaches a table with its rows, which then read through the parent', async () => {
    const d = await open([...PARTED, 'CREATE TABLE parted_2 (b text, a int)', "INSERT INTO parted_2 VALUES ('eleven', 11), ('twelve', 12)"])
    await d.query('ALTER TABLE parted ATTACH PARTITION parted_2 FOR VALUES FROM (10) TO (20)')
    expect((await d.query('SELECT a, b FROM parted ORDER BY a')).rows.map((r) => r['a'])).toEqual([1, 5, 11, 12])
    expect((await d.query('SELECT a FROM parted_2 ORDER BY a')).rows).toEqual([{ a: 11 }, { a: 12 }])
    await d.query("INSERT INTO parted VALUES (15, 'fifteen')")
    expect((await d.query('SELECT count(*)::int AS n FROM parted_2')).rows).toEqual([{ n: 3 }])
    expect((await d.query("SELECT relispartition FROM pg_class WHERE relname = 'parted_2'")).rows).toEqual([{ relispartition: true }])
  })

  it('refuses to attach a table whose rows lie outside the bound, with 23514, and keeps them', async () => {
    const d = await open([...PARTED, 'CREATE TABLE parted_2 (a int, b text)', "INSERT INTO parted_2 VALUES (11, 'x'), (25, 'y')"])
    await expect(d.query('ALTER TABLE parted ATTACH PARTITION parted_2 FOR VALUES FROM (10) TO (20)')).rejects.toMatchObject({ code: '23514' })
    expect((await d.query('SELECT a FROM parted_2 ORDER BY a')).rows).toEqual([{ a: 11 }, { a: 25 }])
    expect((await d.query('SELECT count(*)::int AS n FROM parted')).rows).toEqual([{ n: 2 }])
  })

  it('refuses a table whose columns differ from the parent', async () => {
    const d = await open([...PARTED, 'CREATE TABLE other (a int, c int)'])
    await expect(d.query('ALTER TABLE parted ATTACH PARTITION other FOR VALUES FROM (10) TO (20)')).rejects.toMatchObject({ code: '42804' })
  })

  it('detaches a partition: its rows become the standalone table and leave the parent', async () => {
    const d = await open(PARTED)
    await d.query('ALTER TABLE parted DETACH PARTITION parted_1')
    expect((await d.query('SELECT count(*)::int AS n FROM parted')).rows).toEqual([{ n: 0 }])
    expect((await d.query('SELECT a, b FROM parted_1 ORDER BY a')).rows).toEqual([{ a: 1, b: 'one' }, { a: 5, b: 'five' }])
    await d.query("INSERT INTO parted_1 VALUES (100, 'anything')")
    await expect(d.query("INSERT INTO parted VALUES (2, 'two')")).rejects.toMatchObject({ code: '23514' })
    // Attached again, the rows read through the parent once more.
    await d.query("DELETE FROM parted_1 WHERE a = 100")
    await d.query('ALTER TABLE parted ATTACH PARTITION parted_1 FOR VALUES FROM (0) TO (10)')
    expect((await d.query('SELECT count(*)::int AS n FROM parted')).rows).toEqual([{ n: 2 }])
  })

  it('drops a partition with its rows, and a partitioned table with partitions at every depth', async () => {
    const d = await open([
      ...PARTED,
      'CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (10) TO (20) PARTITION BY LIST (b)',
      "CREATE TABLE parted_2_x PARTITION OF parted_2 FOR VALUES IN ('x')",
      "INSERT INTO parted VALUES (12, 'x')",
    ])
    await d.query('DROP TABLE parted_1')
    expect((await d.query('SELECT a FROM parted')).rows).toEqual([{ a: 12 }])
    await d.query('DROP TABLE parted')
    expect((await d.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'parted%' AND relkind IN ('r', 'p')")).rows).toEqual([{ n: 0 }])
  })
})
