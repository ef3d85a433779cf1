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
    const d = await open([...PARTED, 'CREATE TABLE parted_def PARTITION OF parted DEFAULT'])
    await expect(d.query('ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY')).rejects.toMatchObject({ code: '55000' })
    await d.query('DROP TABLE parted_def')
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

  it('refuses overlapping, empty, misplaced and mistyped bounds with PostgreSQL\'s SQLSTATEs', async () => {
    const d = await open([
      ...PARTED,
      'CREATE TABLE lp (a int) PARTITION BY LIST (a)',
      'CREATE TABLE lp_1 PARTITION OF lp FOR VALUES IN (1, 2)',
      'CREATE TABLE hp (a int) PARTITION BY HASH (a)',
      'CREATE TABLE mc (a int, b int, c int) PARTITION BY RANGE (a, b, c)',
    ])
    const code = async (sql: string) => d.query(sql).then(() => 'ok', (e: { code?: string }) => e.code)
    expect(await code('CREATE TABLE x1 PARTITION OF parted FOR VALUES FROM (5) TO (15)')).toBe('42P17')
    expect(await code('CREATE TABLE x2 PARTITION OF parted FOR VALUES FROM (30) TO (20)')).toBe('42P17')
    expect(await code('CREATE TABLE x3 PARTITION OF lp FOR VALUES IN (2, 3)')).toBe('42P17')
    expect(await code('CREATE TABLE x4 PARTITION OF lp FOR VALUES FROM (1) TO (2)')).toBe('42P16')
    expect(await code('CREATE TABLE x5 PARTITION OF hp DEFAULT')).toBe('42P16')
    expect(await code('CREATE TABLE x6 PARTITION OF lp FOR VALUES IN (somename)')).toBe('0A000')
    expect(await code('CREATE TABLE x7 PARTITION OF mc FOR VALUES FROM (MINVALUE, 0, 0) TO (1, MAXVALUE, MAXVALUE)')).toBe('42804')
    expect(await code('CREATE TEMP TABLE x8 PARTITION OF lp FOR VALUES IN (9)')).toBe('42809')
    expect(await code('CREATE UNIQUE INDEX lp_1_a ON lp_1 (a)')).toBe('0A000')
    // A constant expression bound is evaluated: 12 lands in it.
    expect(await code("CREATE TABLE lp_12 PARTITION OF lp FOR VALUES IN (to_char(12, '99')::int)")).toBe('ok')
    await d.query('INSERT INTO lp VALUES (12)')
    expect((await d.query('SELECT a FROM lp_12')).rows).toEqual([{ a: 12 }])
    expect((await d.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'x_'")).rows).toEqual([{ n: 0 }])
  })

  it('keeps partitions in step with their partitioned table\'s columns and refuses column changes PostgreSQL refuses', async () => {
    const d = await open([
      ...PARTED,
      'CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (10) TO (20) PARTITION BY LIST (b)',
      "CREATE TABLE parted_2_x PARTITION OF parted_2 FOR VALUES IN ('x')",
      "INSERT INTO parted VALUES (12, 'x')",
    ])
    const code = async (sql: string) => d.query(sql).then(() => 'ok', (e: { code?: string }) => e.code)
    expect(await code('ALTER TABLE parted_1 ADD COLUMN c int')).toBe('42809')
    expect(await code('ALTER TABLE parted_1 DROP COLUMN b')).toBe('42P16')
    expect(await code('ALTER TABLE parted DROP COLUMN a')).toBe('42P16')
    expect(await code('ALTER TABLE ONLY parted ADD COLUMN c int')).toBe('42P16')
    expect(await code('CREATE TABLE inh (x int) INHERITS (parted)')).toBe('42809')
    expect(await code('CREATE TABLE inh2 (x int) INHERITS (parted_1)')).toBe('42809')
    // Plain inheritance works (inheritance.test.ts); a partition still cannot be a parent or a child.
    await d.query('CREATE TABLE plain_parent (x int)')
    expect(await code('CREATE TABLE plain_child (y int) INHERITS (plain_parent)')).toBe('ok')
    expect(await code('ALTER TABLE parted_1 INHERIT plain_parent')).toBe('42809')
    expect(await code('ALTER TABLE parted ADD CONSTRAINT c1 CHECK (a > -1) NO INHERIT')).toBe('42P16')
    expect(await code('ALTER TABLE ONLY parted ADD CONSTRAINT c2 CHECK (a > -1)')).toBe('42P16')
    expect(await code('ALTER TABLE ONLY parted ALTER b SET NOT NULL')).toBe('42P16')
    await d.query('ALTER TABLE parted ALTER b SET NOT NULL')
    expect(await code('ALTER TABLE parted_1 ALTER b DROP NOT NULL')).toBe('42P16')
    await d.query("ALTER TABLE parted ADD COLUMN c int DEFAULT 7")
    await d.query('ALTER TABLE parted_2 DETACH PARTITION parted_2_x')
    expect((await d.query('SELECT a, b, c FROM parted_2_x')).rows).toEqual([{ a: 12, b: 'x', c: 7 }])
  })

  it('takes false and zero as list bounds, and TRUNCATE .. CASCADE of a sub-partition reaches tables referencing the root', async () => {
    const d = await open([
      'CREATE TABLE bp (b bool) PARTITION BY LIST (b)',
      'CREATE TABLE bp_f PARTITION OF bp FOR VALUES IN (false)',
      'CREATE TABLE bp_t PARTITION OF bp FOR VALUES IN (true)',
      'INSERT INTO bp VALUES (false), (true), (false)',
      'CREATE TABLE ta (a int PRIMARY KEY) PARTITION BY RANGE (a)',
      'CREATE TABLE ta_1 PARTITION OF ta FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (a)',
      'CREATE TABLE ta_11 PARTITION OF ta_1 FOR VALUES FROM (0) TO (5)',
      'CREATE TABLE ref (r int PRIMARY KEY, a int REFERENCES ta(a))',
      'INSERT INTO ta VALUES (1), (2)',
      'INSERT INTO ref VALUES (1, 1)',
    ])
    expect((await d.query('SELECT count(*)::int AS n FROM bp_f')).rows).toEqual([{ n: 2 }])
    await expect(d.query('CREATE TABLE ta_x PARTITION OF ta FOR VALUES FROM (10, 1) TO (20)')).rejects.toMatchObject({ code: '42P16' })
    await expect(d.query('TRUNCATE ta_11')).rejects.toMatchObject({ code: '0A000' })
    await d.query('TRUNCATE ta_11 CASCADE')
    expect((await d.query('SELECT count(*)::int AS n FROM ref')).rows).toEqual([{ n: 0 }])
    expect((await d.query('SELECT count(*)::int AS n FROM ta')).rows).toEqual([{ n: 0 }])
  })

  it('refuses to detach a partition whose rows are referenced (23503), and keeps foreign keys across ATTACH/DETACH', async () => {
    const d = await open([
      'CREATE TABLE pk (a int PRIMARY KEY) PARTITION BY RANGE (a)',
      'CREATE TABLE pk_1 PARTITION OF pk FOR VALUES FROM (0) TO (10)',
      'CREATE TABLE pk_2 PARTITION OF pk FOR VALUES FROM (10) TO (20)',
      'INSERT INTO pk VALUES (1), (11)',
      'CREATE TABLE fk (a int REFERENCES pk(a))',
      'INSERT INTO fk VALUES (1)',
      'CREATE TABLE fp (a int REFERENCES pk(a)) PARTITION BY LIST (a)',
      'CREATE TABLE fp_1 (a int REFERENCES pk(a))',
      'INSERT INTO fp_1 VALUES (1)',
    ])
    await expect(d.query('ALTER TABLE pk DETACH PARTITION pk_1')).rejects.toMatchObject({ code: '23503' })
    await d.query('ALTER TABLE pk DETACH PARTITION pk_2')
    expect((await d.query('SELECT a FROM pk')).rows).toEqual([{ a: 1 }])
    // A table whose foreign key is the partitioned table's attaches; its rows are checked by it.
    await d.query('ALTER TABLE fp ATTACH PARTITION fp_1 FOR VALUES IN (1, 2)')
    await expect(d.query('INSERT INTO fp VALUES (2)')).rejects.toMatchObject({ code: '23503' })
    await d.query('ALTER TABLE fp DETACH PARTITION fp_1')
    await expect(d.query('INSERT INTO fp_1 VALUES (2)')).rejects.toMatchObject({ code: '23503' })
  })
})
