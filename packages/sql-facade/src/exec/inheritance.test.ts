import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

/** a <- b, a <- c, and d inheriting (b, c, a): PostgreSQL's diamond, with one row in each table. */
async function diamond(nodeId: string): Promise<Database> {
  const d = await openDatabase({ nodeId })
  await d.query('CREATE TABLE a (aa text)')
  await d.query('CREATE TABLE b (bb text) INHERITS (a)')
  await d.query('CREATE TABLE c (cc text) INHERITS (a)')
  await d.query('CREATE TABLE d (dd text) INHERITS (b, c, a)')
  await d.query("INSERT INTO a VALUES ('a1'); INSERT INTO b VALUES ('b1', 'bb1'); INSERT INTO c VALUES ('c1', 'cc1'); INSERT INTO d VALUES ('d1', 'dbb', 'dcc', 'ddd')")
  return d
}

const sorted = (rows: unknown[][]) => rows.map((r) => r.map(String)).sort((x, y) => x.join().localeCompare(y.join()))

describe('CREATE TABLE .. INHERITS', () => {
  it('gives the child its parents\' columns first, merging a column several parents share', async () => {
    db = await diamond('inh1')
    const cols = await db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'd'::regclass AND attnum > 0 ORDER BY attnum")
    expect(cols.rowArrays.map((r) => r[0])).toEqual(['aa', 'bb', 'cc', 'dd'])
    const r = await db.query('CREATE TABLE m (aa text NOT NULL, x int) INHERITS (a)')
    expect(r.notices).toContain('merging column "aa" with inherited definition')
    await expect(db.query('CREATE TABLE bad (aa int) INHERITS (a)')).rejects.toMatchObject({ code: '42804', message: 'column "aa" has a type conflict' })
    await expect(db.query('CREATE TABLE bad (x int) INHERITS (a, a)')).rejects.toMatchObject({ code: '42P07' })
    await expect(db.query('CREATE TABLE bad (x int) INHERITS (nope)')).rejects.toMatchObject({ code: '42P01' })
  })

  it('reads a parent\'s rows together with every descendant\'s, and only its own under ONLY', async () => {
    db = await diamond('inh2')
    const all = await db.query('SELECT relname, a.aa FROM a, pg_class WHERE a.tableoid = pg_class.oid')
    expect(sorted(all.rowArrays)).toEqual([['a', 'a1'], ['b', 'b1'], ['c', 'c1'], ['d', 'd1']])
    expect((await db.query('SELECT * FROM ONLY a')).rowArrays).toEqual([['a1']])
    expect(sorted((await db.query('SELECT * FROM b')).rowArrays)).toEqual([['b1', 'bb1'], ['d1', 'dbb']])
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['4']])
  })

  it('inserts into the named table only', async () => {
    db = await diamond('inh3')
    await db.query("INSERT INTO a VALUES ('a2')")
    expect((await db.query('SELECT count(*) FROM ONLY a')).rowArrays).toEqual([['2']])
    expect((await db.query('SELECT count(*) FROM b')).rowArrays).toEqual([['2']])
  })

  it('updates and deletes through the parent in every table of the hierarchy, RETURNING in the parent\'s shape', async () => {
    db = await diamond('inh4')
    const u = await db.query("UPDATE a SET aa = 'x' || aa WHERE aa <> 'b1' RETURNING *, tableoid::regclass")
    expect(u.rowCount).toBe(3)
    expect(sorted(u.rowArrays)).toEqual([['xa1', 'a'], ['xc1', 'c'], ['xd1', 'd']])
    const del = await db.query("DELETE FROM b WHERE aa = 'xd1' RETURNING *")
    expect(del.rowArrays).toEqual([['xd1', 'dbb']])
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['3']])
    expect((await db.query("UPDATE ONLY a SET aa = 'y'")).rowCount).toBe(1)
    expect((await db.query('DELETE FROM ONLY b')).rowCount).toBe(1)
    expect(sorted((await db.query('SELECT * FROM a')).rowArrays)).toEqual([['xc1'], ['y']])
  })

  it('propagates ADD COLUMN to children (refusing ONLY) and refuses dropping an inherited column on a child', async () => {
    db = await diamond('inh5')
    await db.query('ALTER TABLE a ADD COLUMN n int DEFAULT 5')
    const cols = await db.query("SELECT attname FROM pg_attribute WHERE attrelid = 'd'::regclass AND attnum > 0 ORDER BY attnum")
    expect(cols.rowArrays.map((r) => r[0])).toEqual(['aa', 'bb', 'cc', 'dd', 'n'])
    expect((await db.query('SELECT dd, n FROM d')).rowArrays).toEqual([['ddd', 5]])
    await expect(db.query('ALTER TABLE ONLY a ADD COLUMN z int')).rejects.toMatchObject({ code: '42P16', message: 'column must be added to child tables too' })
    await expect(db.query('ALTER TABLE b DROP COLUMN aa')).rejects.toMatchObject({ code: '42P16', message: 'cannot drop inherited column "aa"' })
    await db.query('ALTER TABLE a DROP COLUMN n')
    expect((await db.query('SELECT * FROM d')).fields.map((f) => f.name)).toEqual(['aa', 'bb', 'cc', 'dd'])
  })

  it('inherits CHECK constraints and NOT NULL, except NO INHERIT ones', async () => {
    db = await openDatabase({ nodeId: 'inh6' })
    await db.query('CREATE TABLE p (v int NOT NULL, CHECK (v > 0), CONSTRAINT own CHECK (v < 100) NO INHERIT)')
    await db.query('CREATE TABLE k () INHERITS (p)')
    await expect(db.query('INSERT INTO k VALUES (0)')).rejects.toMatchObject({ code: '23514' })
    await expect(db.query('INSERT INTO k VALUES (NULL)')).rejects.toMatchObject({ code: '23502' })
    expect((await db.query('INSERT INTO k VALUES (500)')).rowCount).toBe(1)
    await expect(db.query('INSERT INTO p VALUES (500)')).rejects.toMatchObject({ code: '23514' })
    await db.query('ALTER TABLE p ADD CONSTRAINT small CHECK (v < 1000)')
    await expect(db.query('INSERT INTO k VALUES (2000)')).rejects.toMatchObject({ code: '23514' })
    await expect(db.query('ALTER TABLE k DROP CONSTRAINT small')).rejects.toMatchObject({ code: '42P16' })
  })

  it('lists parents in pg_inherits and refuses DROP of a parent without CASCADE', async () => {
    db = await diamond('inh7')
    const inh = await db.query('SELECT inhrelid::regclass::text, inhparent::regclass::text, inhseqno FROM pg_inherits ORDER BY 1, 3')
    expect(inh.rowArrays).toEqual([['b', 'a', 1], ['c', 'a', 1], ['d', 'b', 1], ['d', 'c', 2], ['d', 'a', 3]])
    expect((await db.query("SELECT relhassubclass FROM pg_class WHERE relname = 'a'")).rowArrays).toEqual([[true]])
    await expect(db.query('DROP TABLE a')).rejects.toMatchObject({ code: '2BP01' })
    await db.query('DROP TABLE a CASCADE')
    expect((await db.query("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b', 'c', 'd')")).rowArrays).toEqual([['0']])
  })

  it('truncates the descendants too, unless ONLY', async () => {
    db = await diamond('inh8')
    await db.query('TRUNCATE ONLY a')
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['3']])
    await db.query('TRUNCATE b')
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['1']])
  })

  it('attaches and detaches a child with ALTER TABLE .. INHERIT / NO INHERIT', async () => {
    db = await diamond('inh9')
    await db.query('CREATE TABLE loose (aa text, extra int)')
    await db.query("INSERT INTO loose VALUES ('l1', 1)")
    await db.query('ALTER TABLE loose INHERIT a')
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['5']])
    // An UPDATE of the parent reaches the child from the next statement on, and stops once detached.
    await db.query("UPDATE a SET aa = aa || '+'")
    expect((await db.query('SELECT aa FROM loose')).rowArrays).toEqual([['l1+']])
    await db.query('ALTER TABLE loose NO INHERIT a')
    expect((await db.query('SELECT count(*) FROM a')).rowArrays).toEqual([['4']])
    await db.query("UPDATE a SET aa = aa || '+'")
    expect((await db.query('SELECT aa FROM loose')).rowArrays).toEqual([['l1+']])
    // Attached inside a block: its UPDATE of the parent already reaches the child.
    await db.query("BEGIN; ALTER TABLE loose INHERIT a; UPDATE a SET aa = aa || '+'; ALTER TABLE loose NO INHERIT a; UPDATE a SET aa = aa || '+'; COMMIT")
    expect((await db.query('SELECT aa FROM loose')).rowArrays).toEqual([['l1++']])
    await db.query('CREATE TABLE lacking (x int)')
    await expect(db.query('ALTER TABLE lacking INHERIT a')).rejects.toMatchObject({ code: '42804', message: 'child table is missing column "aa"' })
    await expect(db.query('ALTER TABLE a INHERIT d')).rejects.toMatchObject({ code: '42P07' })
  })

  it('follows a parent renamed, and renames a parent\'s column in its children', async () => {
    db = await diamond('inh10')
    await db.query('ALTER TABLE a RENAME TO root')
    await db.query('ALTER TABLE root RENAME COLUMN aa TO name')
    expect((await db.query('SELECT count(*) FROM root')).rowArrays).toEqual([['4']])
    expect((await db.query('SELECT name FROM d')).rowArrays).toEqual([['d1']])
    await expect(db.query('ALTER TABLE b RENAME COLUMN name TO x')).rejects.toMatchObject({ code: '42P16' })
  })
})

describe('table inheritance in the catalog and constraint DDL', () => {
  it('reports inherited columns and constraints in pg_attribute and pg_constraint', async () => {
    db = await openDatabase({ nodeId: 'inh11' })
    await db.query('CREATE TABLE p (a int, CONSTRAINT pos CHECK (a > 0), CONSTRAINT own CHECK (a < 100) NO INHERIT)')
    await db.query('CREATE TABLE c (b int) INHERITS (p)')
    const cons = await db.query(`SELECT relname::text, conname::text, coninhcount, conislocal, connoinherit FROM pg_constraint x
      JOIN pg_class r ON r.oid = x.conrelid WHERE relname IN ('p', 'c') ORDER BY 1, 2`)
    expect(cons.rowArrays).toEqual([['c', 'pos', 1, false, false], ['p', 'own', 0, true, true], ['p', 'pos', 0, true, false]])
    const atts = await db.query(`SELECT attrelid::regclass::text, attname::text, attinhcount, attislocal FROM pg_attribute
      WHERE attrelid IN ('p'::regclass, 'c'::regclass) AND attnum > 0 ORDER BY attrelid, attnum`)
    expect(sorted(atts.rowArrays)).toEqual(sorted([['p', 'a', 0, true], ['c', 'a', 1, false], ['c', 'b', 0, true]]))
  })

  it('renames inherited columns and constraints only through the parent, without ONLY', async () => {
    db = await openDatabase({ nodeId: 'inh12' })
    await db.query('CREATE TABLE p (a int, CONSTRAINT pos CHECK (a > 0))')
    await db.query('CREATE TABLE c (b int) INHERITS (p)')
    await expect(db.query('ALTER TABLE ONLY p RENAME COLUMN a TO x')).rejects.toMatchObject({ code: '42P16', message: 'inherited column "a" must be renamed in child tables too' })
    await expect(db.query('ALTER TABLE ONLY p RENAME CONSTRAINT pos TO pos2')).rejects.toMatchObject({ code: '42P16' })
    await expect(db.query('ALTER TABLE c RENAME CONSTRAINT pos TO pos3')).rejects.toMatchObject({ code: '42P16', message: 'cannot rename inherited constraint "pos"' })
    await db.query('ALTER TABLE p RENAME CONSTRAINT pos TO positive')
    expect((await db.query("SELECT conname::text FROM pg_constraint WHERE conrelid = 'c'::regclass")).rowArrays).toEqual([['positive']])
  })

  it('adds a NOT VALID check without checking existing rows, which VALIDATE CONSTRAINT then checks', async () => {
    db = await openDatabase({ nodeId: 'inh13' })
    await db.query('CREATE TABLE p (a int)')
    await db.query('CREATE TABLE c () INHERITS (p)')
    await db.query('INSERT INTO c VALUES (1)')
    await db.query('ALTER TABLE p ADD CONSTRAINT big CHECK (a > 5) NOT VALID')
    await expect(db.query('INSERT INTO c VALUES (2)')).rejects.toMatchObject({ code: '23514' })
    await expect(db.query('ALTER TABLE p VALIDATE CONSTRAINT big')).rejects.toMatchObject({ code: '23514', message: 'check constraint "big" of relation "c" is violated by some row' })
    await db.query('DELETE FROM p')
    await db.query('ALTER TABLE p VALIDATE CONSTRAINT big')
  })
})

describe('table inheritance across masters', () => {
  it('replicates the hierarchy in the catalog while each row stays in its own table', async () => {
    const cluster = await SimCluster.create({ seed: 14, nodes: [{ id: 'x', region: 'us-west' }, { id: 'y', region: 'eu-central' }] })
    try {
      await cluster.node('x').query('CREATE TABLE parent (id int, v text)')
      await cluster.node('x').query('CREATE TABLE child (extra int) INHERITS (parent)')
      await cluster.settle()
      await cluster.node('y').query("INSERT INTO child VALUES (1, 'from y', 7)")
      await cluster.node('x').query("INSERT INTO parent VALUES (2, 'from x')")
      await cluster.settle()
      for (const n of ['x', 'y']) {
        const rows = await cluster.node(n).query('SELECT id, v, tableoid::regclass::text FROM parent ORDER BY id')
        expect(rows.rowArrays).toEqual([[1, 'from y', 'child'], [2, 'from x', 'parent']])
        expect((await cluster.node(n).query('SELECT count(*) FROM ONLY parent')).rowArrays).toEqual([['1']])
      }
    } finally {
      await cluster.close()
    }
  })
})
