import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'

/**
 * Names that are properties of every JavaScript object (`constructor`, `__proto__`) are
 * names like any other to SQL: where the name is unknown, the statement fails with the
 * SQLSTATE an unknown name gets. They were looked up in plain objects, so `SHOW
 * constructor` dropped the connection, `SELECT constructor()` failed with an internal
 * error and `CREATE TABLE t (a constructor)` made a column of no type.
 */
let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE pn (id INT PRIMARY KEY)')
})
afterAll(async () => {
  await db.close()
})

async function failure(sql: string): Promise<{ code: string | undefined; message: string } | null> {
  try {
    await db.query(sql)
    return null
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message }
  }
}

const PROBES = [
  'SHOW NAME',
  'SET NAME = 1',
  'RESET NAME',
  "SELECT current_setting('NAME')",
  "SELECT set_config('NAME', '1', false)",
  'ALTER SYSTEM SET NAME = 1',
  'SELECT NAME()',
  'SELECT NAME(1, 2)',
  'SELECT * FROM NAME()',
  'SELECT 1::NAME',
  "SELECT 'x'::NAME",
  'CREATE TABLE pn2 (a NAME)',
  "SELECT 'NAME'::regtype",
  'SELECT * FROM NAME',
  'SELECT extract(NAME FROM now())',
  "SELECT date_part('NAME', now())",
  "SELECT has_table_privilege('pn', 'NAME')",
]

describe('names that are properties of JavaScript objects', () => {
  for (const probe of PROBES) {
    it(probe, async () => {
      const unknown = await failure(probe.replaceAll('NAME', 'nosuchname'))
      expect(unknown).not.toBeNull()
      // Quoted where the name is an identifier: unquoted, SQL folds it to lower case.
      const literal = probe.includes("'NAME'")
      for (const name of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
        const written = literal || name === name.toLowerCase() ? name : `"${name}"`
        const got = await failure(probe.replaceAll('NAME', written))
        expect(got, `${probe} with ${written}`).not.toBeNull()
        expect({ code: got!.code, message: got!.message.toLowerCase() }, `${probe} with ${written}`).toEqual({
          code: unknown!.code,
          message: unknown!.message.replaceAll('nosuchname', name).toLowerCase(),
        })
      }
    })
  }
})

describe('a column named __proto__', () => {
  it('is refused (42602) where it would be made: its values would be lost (an INSERT kept none before)', async () => {
    for (const sql of ['CREATE TABLE pp (id INT PRIMARY KEY, __proto__ TEXT)', 'ALTER TABLE pn ADD COLUMN __proto__ TEXT', 'ALTER TABLE pn RENAME COLUMN id TO __proto__']) {
      expect(await failure(sql), sql).toEqual({ code: '42602', message: 'column name "__proto__" is reserved in Concord' })
    }
    // Other names every object has are columns like any other.
    await db.query('CREATE TABLE pc (id INT PRIMARY KEY, constructor TEXT, "toString" INT)')
    await db.query("INSERT INTO pc VALUES (1, 'c', 2), (2, NULL, NULL)")
    expect((await db.query('SELECT id, constructor, "toString" FROM pc ORDER BY id')).rowArrays).toEqual([[1, 'c', 2], [2, null, null]])
  })
})

describe('__proto__ as a key of a built object', () => {
  it('is a key of a jsonb object as of a json one (jsonb_build_object gave {} before)', async () => {
    expect((await db.query("SELECT jsonb_build_object('__proto__', 1, 'a', 2)::text AS j")).rowArrays).toEqual([['{"a": 2, "__proto__": 1}']])
    expect((await db.query("SELECT jsonb_build_object('__proto__', 1) -> '__proto__' AS j")).rowArrays).toEqual([['1']])
    expect((await db.query("SELECT json_build_object('__proto__', 1)::text AS j")).rowArrays).toEqual([['{"__proto__" : 1}']])
  })

  it('names a column of a result row by name (the row object lacked it before)', async () => {
    const r = await db.query("SELECT 1 AS __proto__, 'x' AS constructor")
    expect(Object.keys(r.rows[0]!)).toEqual(['__proto__', 'constructor'])
    expect(Object.getOwnPropertyDescriptor(r.rows[0]!, '__proto__')?.value).toBe(1)
    expect(r.rows[0]!['constructor']).toBe('x')
  })
})
