import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('enum types', () => {
  it('order values by label position, not alphabetically, in WHERE, ORDER BY and min/max', async () => {
    db = await openDatabase({ nodeId: 'e1' })
    await db.query(`CREATE TYPE rainbow AS ENUM ('red', 'orange', 'yellow', 'green', 'blue', 'purple')`)
    await db.query('CREATE TABLE paint (id int PRIMARY KEY, col rainbow)')
    await db.query(`INSERT INTO paint VALUES (1, 'green'), (2, 'red'), (3, 'purple'), (4, 'orange')`)
    expect((await db.query('SELECT col FROM paint ORDER BY col')).rowArrays).toEqual([['red'], ['orange'], ['green'], ['purple']])
    expect((await db.query(`SELECT col FROM paint WHERE col > 'yellow' ORDER BY col DESC`)).rowArrays).toEqual([['purple'], ['green']])
    expect((await db.query('SELECT min(col) AS lo, max(col) AS hi FROM paint')).rows).toEqual([{ lo: 'red', hi: 'purple' }])
    const r = await db.query(`SELECT 'blue'::rainbow AS c, 'red'::rainbow::text || '!' AS t`)
    expect(r.rows).toEqual([{ c: 'blue', t: 'red!' }])
    expect(r.fields[0]!.type).toBe('rainbow')
  })

  it('reject labels the type does not have (22P02) and unknown types (42704)', async () => {
    db = await openDatabase({ nodeId: 'e2' })
    await db.query(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`)
    await db.query('CREATE TABLE m (v mood)')
    expect(await sqlState(db, `INSERT INTO m VALUES ('angry')`)).toBe('22P02')
    expect(await sqlState(db, `SELECT 'x'::nosuchtype`)).toBe('42704')
    expect(await sqlState(db, `CREATE TYPE mood AS ENUM ('a')`)).toBe('42710')
    expect(await sqlState(db, `CREATE TYPE dup AS ENUM ('a', 'a')`)).toBe('22023')
    expect(await sqlState(db, `CREATE TYPE other AS ENUM ('sad')`)).toBe(null)
    // Two enum types never compare.
    expect(await sqlState(db, `SELECT 'sad'::mood = 'sad'::other`)).toBe('42883')
  })

  it('ADD VALUE BEFORE / AFTER places labels between neighbours; rows keep their value', async () => {
    db = await openDatabase({ nodeId: 'e3' })
    await db.query(`CREATE TYPE planets AS ENUM ('venus', 'earth', 'mars')`)
    await db.query('CREATE TABLE p (id int PRIMARY KEY, v planets)')
    await db.query(`INSERT INTO p VALUES (1, 'mars'), (2, 'venus')`)
    await db.query(`ALTER TYPE planets ADD VALUE 'mercury' BEFORE 'venus'`)
    await db.query(`ALTER TYPE planets ADD VALUE 'jupiter' AFTER 'mars'`)
    await db.query(`ALTER TYPE planets ADD VALUE 'uranus'`)
    await db.query(`ALTER TYPE planets ADD VALUE 'saturn' BEFORE 'uranus'`)
    expect(await sqlState(db, `ALTER TYPE planets ADD VALUE 'mars'`)).toBe('42710')
    expect((await db.query(`ALTER TYPE planets ADD VALUE IF NOT EXISTS 'mars'`)).notices).toEqual(['enum label "mars" already exists, skipping'])
    expect(await sqlState(db, `ALTER TYPE planets ADD VALUE 'x' AFTER 'zeus'`)).toBe('22023')
    await db.query(`INSERT INTO p VALUES (3, 'mercury'), (4, 'jupiter')`)
    expect((await db.query('SELECT v FROM p ORDER BY v')).rowArrays).toEqual([['mercury'], ['venus'], ['mars'], ['jupiter']])
    const labels = await db.query(`SELECT enumlabel, enumsortorder FROM pg_enum WHERE enumtypid = 'planets'::regtype ORDER BY 2`)
    expect(labels.rowArrays).toEqual([['mercury', 0], ['venus', 1], ['earth', 2], ['mars', 3], ['jupiter', 4], ['saturn', 4.5], ['uranus', 5]])
    expect((await db.query('SELECT enum_first(NULL::planets) AS f, enum_last(NULL::planets) AS l')).rows).toEqual([{ f: 'mercury', l: 'uranus' }])
    expect((await db.query(`SELECT enum_range('earth'::planets, 'saturn'::planets)::text AS r`)).rows).toEqual([{ r: '{earth,mars,jupiter,saturn}' }])
  })

  it('RENAME VALUE renames the label in stored rows too', async () => {
    db = await openDatabase({ nodeId: 'e4' })
    await db.query(`CREATE TYPE light AS ENUM ('red', 'amber', 'green')`)
    await db.query('CREATE TABLE l (id int PRIMARY KEY, v light, vs light[])')
    await db.query(`INSERT INTO l VALUES (1, 'red', '{red,green}')`)
    await db.query(`ALTER TYPE light RENAME VALUE 'red' TO 'crimson'`)
    expect((await db.query('SELECT v::text AS v, vs::text AS vs FROM l')).rows).toEqual([{ v: 'crimson', vs: '{crimson,green}' }])
    expect(await sqlState(db, `SELECT 'red'::light`)).toBe('22P02')
    expect((await db.query(`SELECT count(*)::int AS n FROM l WHERE v = 'crimson' AND vs[2] = 'green'`)).rows).toEqual([{ n: 1 }])
  })

  it('DROP TYPE refuses a type a column uses (2BP01) and drops an unused one', async () => {
    db = await openDatabase({ nodeId: 'e5' })
    await db.query(`CREATE TYPE t1 AS ENUM ('a')`)
    await db.query('CREATE TABLE u (v t1)')
    expect(await sqlState(db, 'DROP TYPE t1')).toBe('2BP01')
    await db.query('DROP TABLE u')
    await db.query('DROP TYPE t1')
    expect(await sqlState(db, `SELECT 'a'::t1`)).toBe('42704')
    expect((await db.query('DROP TYPE IF EXISTS t1')).notices).toEqual(['type "t1" does not exist, skipping'])
  })

  it('a type created on one node converts and orders the same on another after sync', async () => {
    const cluster = await SimCluster.create({ seed: 3, nodes: [{ id: 'a', region: 'r1' }, { id: 'b', region: 'r2' }] })
    try {
      await cluster.node('a').query(`CREATE TYPE size AS ENUM ('small', 'medium', 'large')`)
      await cluster.node('a').query('CREATE TABLE shirts (id int PRIMARY KEY, s size)')
      await cluster.settle()
      await cluster.node('b').query(`INSERT INTO shirts VALUES (1, 'large'), (2, 'small')`)
      await cluster.node('b').query(`ALTER TYPE size ADD VALUE 'tiny' BEFORE 'small'`)
      await cluster.settle()
      await cluster.node('a').query(`INSERT INTO shirts VALUES (3, 'tiny')`)
      await cluster.settle()
      for (const id of ['a', 'b']) {
        expect((await cluster.node(id).query('SELECT s FROM shirts ORDER BY s')).rowArrays).toEqual([['tiny'], ['small'], ['large']])
      }
    } finally {
      await cluster.close()
    }
  })
})
