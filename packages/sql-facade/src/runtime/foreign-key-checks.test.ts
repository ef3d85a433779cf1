/**
 * Foreign keys with PostgreSQL's semantics, case by case: each case runs its statements in
 * a fresh database, checking every statement's SQLSTATE (or success) and the tables'
 * final contents. With CONCORD_PG_URL set, every statement's full outcome (command, rows,
 * or SQLSTATE, message and detail) and the final contents are compared with PostgreSQL's.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { formatPgText } from '../result-format.js'

/** A statement and the SQLSTATE it must fail with ('' when it succeeds). */
type Step = [sql: string, code: string]

interface Case {
  name: string
  steps: Step[]
  /** Final contents: query -> rows as 'a|b'. */
  after: Record<string, string[]>
}

const PARENT_CHILD: Step[] = [
  ['CREATE TABLE p (id int PRIMARY KEY, k text UNIQUE)', ''],
  ["INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, 'c')", ''],
]

const CASES: Case[] = [
  {
    name: 'a child row must reference an existing parent (column REFERENCES, NO ACTION)',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p, note text)', ''],
      ['INSERT INTO c VALUES (10, 1, null), (11, null, null)', ''],
      ['INSERT INTO c VALUES (12, 9, null)', '23503'],
      ['UPDATE c SET pid = 9 WHERE id = 10', '23503'],
      ["UPDATE c SET note = 'x' WHERE id = 10", ''],
      ['UPDATE c SET pid = 2 WHERE id = 11', ''],
      ['DELETE FROM p WHERE id = 1', '23503'],
      ['UPDATE p SET id = 7 WHERE id = 2', '23503'],
      ['DELETE FROM p WHERE id = 3', ''],
      ["INSERT INTO c VALUES (13, 1, 'ok') ON CONFLICT (id) DO NOTHING", ''],
      ['INSERT INTO c VALUES (13, 1, null) ON CONFLICT (id) DO UPDATE SET pid = 8', '23503'],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['10|1|x', '11|2|NULL', '13|1|ok'], 'SELECT id FROM p ORDER BY id': ['1', '2'] },
  },
  {
    name: 'NO ACTION is checked at the end of the statement, RESTRICT refuses at once',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p)', ''],
      ['CREATE TABLE r (id int PRIMARY KEY, pid int REFERENCES p ON DELETE RESTRICT ON UPDATE RESTRICT)', ''],
      ['INSERT INTO c VALUES (10, 1)', ''],
      ['INSERT INTO r VALUES (20, 2)', ''],
      ["WITH d AS (DELETE FROM p WHERE id = 1 RETURNING id) INSERT INTO p SELECT id, 'again' FROM d", ''],
      ["WITH d AS (DELETE FROM p WHERE id = 2 RETURNING id) INSERT INTO p SELECT id, 'again2' FROM d", '23503'],
      ['DELETE FROM p WHERE id = 2', '23503'],
      ['UPDATE p SET id = 8 WHERE id = 2', '23503'],
      ["UPDATE p SET k = 'bb' WHERE id = 2", ''],
    ],
    after: { 'SELECT id, k FROM p ORDER BY id': ['1|again', '2|bb', '3|c'] },
  },
  {
    name: 'ON DELETE CASCADE removes children and grandchildren',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p ON DELETE CASCADE)', ''],
      ['CREATE TABLE g (id int PRIMARY KEY, cid int REFERENCES c ON DELETE CASCADE)', ''],
      ['INSERT INTO c VALUES (10, 1), (11, 1), (12, 2)', ''],
      ['INSERT INTO g VALUES (100, 10), (101, 11), (102, 12)', ''],
      ['DELETE FROM p WHERE id = 1 RETURNING id', ''],
    ],
    after: { 'SELECT id FROM c ORDER BY id': ['12'], 'SELECT id FROM g ORDER BY id': ['102'], 'SELECT id FROM p ORDER BY id': ['2', '3'] },
  },
  {
    name: 'ON DELETE SET NULL and SET DEFAULT, with the default checked against the parent',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE n (id int PRIMARY KEY, pid int REFERENCES p ON DELETE SET NULL)', ''],
      ['CREATE TABLE d (id int PRIMARY KEY, pid int DEFAULT 3 REFERENCES p ON DELETE SET DEFAULT)', ''],
      ['CREATE TABLE m (id int PRIMARY KEY, pid int DEFAULT 99 REFERENCES p ON DELETE SET DEFAULT)', ''],
      ['CREATE TABLE nn (id int PRIMARY KEY, pid int NOT NULL REFERENCES p ON DELETE SET NULL)', ''],
      ['INSERT INTO n VALUES (10, 1), (11, 2)', ''],
      ['INSERT INTO d VALUES (20, 1), (21, 2)', ''],
      ['INSERT INTO m VALUES (30, 2)', ''],
      ['DELETE FROM p WHERE id = 1', ''],
      ['DELETE FROM p WHERE id = 2', '23503'],
      ['DELETE FROM m', ''],
      ['DELETE FROM p WHERE id = 2', ''],
      ['DELETE FROM p WHERE id = 3', '23503'],
      ['DELETE FROM d', ''],
      // Inserted only now: with d's rows still on 3, two actions would fail at once, and which
      // PostgreSQL reports depends on its RI triggers' names (OIDs as text: 99999 after 100000).
      ['INSERT INTO nn VALUES (40, 3)', ''],
      ['DELETE FROM p WHERE id = 3', '23502'],
    ],
    after: { 'SELECT * FROM n ORDER BY id': ['10|NULL', '11|NULL'], 'SELECT count(*) FROM d': ['0'], 'SELECT id FROM p ORDER BY id': ['3'] },
  },
  {
    name: 'ON UPDATE CASCADE and SET NULL follow a changed key, also of a UNIQUE column',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p ON UPDATE CASCADE, pk text REFERENCES p (k) ON UPDATE SET NULL)', ''],
      ["INSERT INTO c VALUES (10, 1, 'a'), (11, 2, 'a')", ''],
      ['UPDATE p SET id = 5 WHERE id = 1', ''],
      ["UPDATE p SET k = 'z' WHERE k = 'a'", ''],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['10|5|NULL', '11|2|NULL'], 'SELECT * FROM p ORDER BY id': ['2|b', '3|c', '5|z'] },
  },
  {
    name: 'ON DELETE SET NULL (column list) sets only the listed columns',
    steps: [
      ['CREATE TABLE t (tenant int, id int, PRIMARY KEY (tenant, id))', ''],
      ['INSERT INTO t VALUES (1, 1), (1, 2)', ''],
      ['CREATE TABLE u (tenant int, id int PRIMARY KEY, tid int, FOREIGN KEY (tenant, tid) REFERENCES t ON DELETE SET NULL (tid))', ''],
      ['INSERT INTO u VALUES (1, 10, 1), (1, 11, 2)', ''],
      ['DELETE FROM t WHERE id = 1', ''],
      ['CREATE TABLE bad (a int, b int, FOREIGN KEY (a, b) REFERENCES t ON DELETE SET NULL (id))', '42703'],
      ['CREATE TABLE bad (a int, b int, c int, FOREIGN KEY (a, b) REFERENCES t ON DELETE SET NULL (c))', '42P10'],
    ],
    after: { 'SELECT * FROM u ORDER BY id': ['1|10|NULL', '1|11|2'] },
  },
  {
    name: 'composite keys: MATCH SIMPLE skips a partly null key, MATCH FULL refuses it',
    steps: [
      ['CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))', ''],
      ['INSERT INTO t VALUES (1, 1)', ''],
      ['CREATE TABLE s (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES t (a, b))', ''],
      ['CREATE TABLE f (id int PRIMARY KEY, a int, b int, FOREIGN KEY (b, a) REFERENCES t (b, a) MATCH FULL)', ''],
      ['INSERT INTO s VALUES (1, 1, 1), (2, 9, null), (3, null, null)', ''],
      ['INSERT INTO s VALUES (4, 1, 2)', '23503'],
      ['INSERT INTO f VALUES (1, 1, 1), (3, null, null)', ''],
      ['INSERT INTO f VALUES (2, 9, null)', '23503'],
      ['DELETE FROM t', '23503'],
    ],
    after: { 'SELECT id FROM s ORDER BY id': ['1', '2', '3'], 'SELECT id FROM f ORDER BY id': ['1', '3'] },
  },
  {
    name: 'ALTER TABLE ADD CONSTRAINT validates existing rows; NOT VALID defers that to VALIDATE CONSTRAINT',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int)', ''],
      ['INSERT INTO c VALUES (10, 1), (11, 9)', ''],
      ['ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id)', '23503'],
      ['ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id) NOT VALID', ''],
      ['INSERT INTO c VALUES (12, 8)', '23503'],
      ['ALTER TABLE c VALIDATE CONSTRAINT c_p', '23503'],
      ['DELETE FROM c WHERE id = 11', ''],
      ['ALTER TABLE c VALIDATE CONSTRAINT c_p', ''],
      ['ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id)', '42710'],
      ['ALTER TABLE c DROP CONSTRAINT c_p', ''],
      ['INSERT INTO c VALUES (13, 77)', ''],
      ['ALTER TABLE c DROP CONSTRAINT c_p', '42704'],
      ['ALTER TABLE c DROP CONSTRAINT IF EXISTS c_p', ''],
      ['ALTER TABLE c ADD COLUMN qid int DEFAULT 5 REFERENCES p', '23503'],
      ['ALTER TABLE c ADD COLUMN qid int DEFAULT 2 REFERENCES p', ''],
      ['DELETE FROM p WHERE id = 2', '23503'],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['10|1|2', '13|77|2'] },
  },
  {
    name: 'the referenced columns must be a primary key or UNIQUE, of comparable types',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE q (id int, v int)', ''],
      ['CREATE TABLE x1 (a int REFERENCES q)', '42704'],
      ['CREATE TABLE x2 (a int REFERENCES q (v))', '42830'],
      ['CREATE TABLE x3 (a int, b int, FOREIGN KEY (a, b) REFERENCES p (id))', '42830'],
      ['CREATE TABLE x4 (a text REFERENCES p)', '42804'],
      ['CREATE TABLE x5 (a int REFERENCES nope)', '42P01'],
      ['CREATE TABLE x6 (a int REFERENCES p (nope))', '42703'],
      ['CREATE TABLE x7 (a int, FOREIGN KEY (nope) REFERENCES p)', '42703'],
      ['CREATE TABLE x8 (a bigint REFERENCES p, b varchar(5) REFERENCES p (k))', ''],
      ["INSERT INTO x8 VALUES (1, 'a')", ''],
      ["INSERT INTO x8 VALUES (1, 'zz')", '23503'],
      ['CREATE UNIQUE INDEX q_v ON q (v)', ''],
      ['CREATE TABLE x9 (a int REFERENCES q (v))', ''],
    ],
    after: { 'SELECT * FROM x8': ['1|a'] },
  },
  {
    name: 'DROP TABLE of a referenced table needs CASCADE, which drops the constraint and keeps the rows',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p)', ''],
      ['INSERT INTO c VALUES (10, 1)', ''],
      ['DROP TABLE p', '2BP01'],
      ['DROP TABLE p CASCADE', ''],
      ['INSERT INTO c VALUES (11, 42)', ''],
      ['CREATE TABLE p2 (id int PRIMARY KEY)', ''],
      ['CREATE TABLE c2 (id int REFERENCES p2)', ''],
      ['DROP TABLE p2, c2', ''],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['10|1', '11|42'] },
  },
  {
    name: 'a self-referencing table: a row may reference a row inserted after it in the same statement; CASCADE walks the tree',
    steps: [
      ['CREATE TABLE tree (id int PRIMARY KEY, parent int REFERENCES tree ON DELETE CASCADE)', ''],
      ['INSERT INTO tree VALUES (2, 1), (1, null), (3, 2), (4, 2), (5, 1)', ''],
      ['INSERT INTO tree VALUES (6, 60)', '23503'],
      ['UPDATE tree SET parent = 4 WHERE id = 4', ''],
      ['DELETE FROM tree WHERE id = 2', ''],
      ['CREATE TABLE loop (id int PRIMARY KEY, next int REFERENCES loop)', ''],
      ['INSERT INTO loop VALUES (1, 2), (2, 1)', ''],
      ['DELETE FROM loop WHERE id = 1', '23503'],
      ['DELETE FROM loop', ''],
    ],
    after: { 'SELECT * FROM tree ORDER BY id': ['1|NULL', '4|4', '5|1'], 'SELECT count(*) FROM loop': ['0'] },
  },
  {
    name: 'TRUNCATE of a referenced table needs its referencing tables or CASCADE',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p)', ''],
      ['INSERT INTO c VALUES (10, 1)', ''],
      ['TRUNCATE p', '0A000'],
      ['TRUNCATE c', ''],
      ['INSERT INTO c VALUES (10, 1)', ''],
      ['TRUNCATE p, c', ''],
      ['INSERT INTO p VALUES (1)', ''],
      ['INSERT INTO c VALUES (10, 1)', ''],
      ['TRUNCATE p CASCADE', ''],
    ],
    after: { 'SELECT count(*) FROM c': ['0'], 'SELECT count(*) FROM p': ['0'] },
  },
  {
    name: 'dropping a referenced column needs CASCADE; dropping a referencing column drops its constraint',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pk text REFERENCES p (k), pid int REFERENCES p)', ''],
      ["INSERT INTO c VALUES (10, 'a', 1)", ''],
      ['ALTER TABLE p DROP COLUMN k', '2BP01'],
      ['ALTER TABLE c DROP COLUMN pid', ''],
      ['DELETE FROM p WHERE id = 1', '23503'],
      ['ALTER TABLE p DROP COLUMN k CASCADE', ''],
      ['DELETE FROM p WHERE id = 1', ''],
    ],
    after: { 'SELECT * FROM c': ['10|a'] },
  },
  {
    name: 'inside a block, NO ACTION is checked per statement and a failure aborts the block',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p)', ''],
      ['BEGIN', ''],
      ["INSERT INTO p VALUES (4, 'd')", ''],
      ['INSERT INTO c VALUES (10, 4)', ''],
      ['INSERT INTO c VALUES (11, 5)', '23503'],
      ['COMMIT', ''],
      ['BEGIN', ''],
      ["INSERT INTO p VALUES (4, 'd')", ''],
      ['INSERT INTO c VALUES (10, 4)', ''],
      ['DELETE FROM p WHERE id = 4', '23503'],
      ['ROLLBACK', ''],
    ],
    after: { 'SELECT count(*) FROM c': ['0'], 'SELECT id FROM p ORDER BY id': ['1', '2', '3'] },
  },
  {
    name: 'DEFERRABLE INITIALLY DEFERRED is checked at COMMIT; SET CONSTRAINTS moves the check',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED)', ''],
      ['CREATE TABLE i (id int PRIMARY KEY, pid int CONSTRAINT i_fk REFERENCES p DEFERRABLE)', ''],
      ['CREATE TABLE x (id int PRIMARY KEY, pid int CONSTRAINT x_fk REFERENCES p)', ''],
      ['BEGIN', ''],
      ['INSERT INTO c VALUES (10, 4)', ''],
      ["INSERT INTO p VALUES (4, 'd')", ''],
      ['COMMIT', ''],
      ['BEGIN', ''],
      ['INSERT INTO c VALUES (11, 5)', ''],
      ['COMMIT', '23503'],
      ['BEGIN', ''],
      ['SET CONSTRAINTS ALL DEFERRED', ''],
      ['INSERT INTO i VALUES (20, 6)', ''],
      ['SET CONSTRAINTS i_fk IMMEDIATE', '23503'],
      ['ROLLBACK', ''],
      ['BEGIN', ''],
      ['SET CONSTRAINTS i_fk DEFERRED', ''],
      ['INSERT INTO i VALUES (20, 6)', ''],
      ["INSERT INTO p VALUES (6, 'f')", ''],
      ['SET CONSTRAINTS x_fk DEFERRED', '42809'],
      ['ROLLBACK', ''],
      ['BEGIN', ''],
      ['SET CONSTRAINTS ALL DEFERRED', ''],
      ['INSERT INTO i VALUES (21, 7)', ''],
      ["INSERT INTO p VALUES (7, 'g')", ''],
      ['COMMIT', ''],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['10|4'], 'SELECT * FROM i ORDER BY id': ['21|7'] },
  },
  {
    // pg-regress foreign_key: the deferred check of the inserted key found no row once an
    // UPDATE moved it to another key, and COMMIT kept a child without a parent.
    name: 'a deferred check follows a row an UPDATE moves to another key, in a savepoint too',
    steps: [
      ...PARENT_CHILD,
      ['CREATE TABLE c (id int PRIMARY KEY, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED)', ''],
      ['BEGIN', ''],
      ['INSERT INTO c VALUES (0, 20)', ''],
      ['UPDATE c SET id = id + 1', ''],
      ['COMMIT', '23503'],
      ['BEGIN', ''],
      ['INSERT INTO c VALUES (0, 20)', ''],
      ['SAVEPOINT s1', ''],
      ['UPDATE c SET id = id + 1', ''],
      ['COMMIT', '23503'],
      ['BEGIN', ''],
      ['SAVEPOINT s1', ''],
      ['INSERT INTO c VALUES (0, 20)', ''],
      ['RELEASE SAVEPOINT s1', ''],
      ['UPDATE c SET id = id + 1', ''],
      ['COMMIT', '23503'],
      ['BEGIN', ''],
      ['INSERT INTO c VALUES (0, 1)', ''],
      ['UPDATE c SET id = id + 1', ''],
      ['COMMIT', ''],
    ],
    after: { 'SELECT * FROM c ORDER BY id': ['1|1'] },
  },
]

type Outcome = string

function outcomeOf(command: string, rowCount: number | null, rows: Array<Array<string | null>>): Outcome {
  const lines = rows.map((r) => r.map((v) => (v === null ? 'NULL' : v)).join('|')).sort()
  return [`${command.split(' ')[0]} ${rowCount ?? ''}`.trim(), ...lines].join('\n')
}

function errorOutcome(e: unknown): Outcome {
  const err = e as { code?: string; message?: string; detail?: string }
  return `ERROR ${err.code}: ${err.message}${err.detail ? ` [${err.detail}]` : ''}`
}

interface Target {
  run(sql: string): Promise<Outcome>
  rows(sql: string): Promise<string[] | Outcome>
}

function concordTarget(db: Database): Target {
  return {
    run: async (sql) => {
      try {
        const r = await db.query(sql)
        return outcomeOf(r.command, r.rowCount, r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!))))
      } catch (e) {
        return errorOutcome(e)
      }
    },
    rows: async (sql) => {
      try {
        const r = await db.query(sql)
        return r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!) ?? 'NULL').join('|'))
      } catch (e) {
        return errorOutcome(e)
      }
    },
  }
}

function pgTarget(c: pg.Client): Target {
  const text = { getTypeParser: () => (v: string) => v }
  return {
    run: async (sql) => {
      try {
        const r = await c.query({ text: sql, rowMode: 'array', types: text })
        return outcomeOf(r.command, r.command === 'SELECT' ? r.rows.length : r.rowCount, r.rows as Array<Array<string | null>>)
      } catch (e) {
        return errorOutcome(e)
      }
    },
    rows: async (sql) => {
      try {
        const r = await c.query({ text: sql, rowMode: 'array', types: text })
        return (r.rows as Array<Array<string | null>>).map((row) => row.map((v) => v ?? 'NULL').join('|'))
      } catch (e) {
        return errorOutcome(e)
      }
    },
  }
}

async function play(c: Case, t: Target): Promise<{ outcomes: Outcome[]; after: Record<string, string[] | Outcome> }> {
  const outcomes: Outcome[] = []
  for (const [sql] of c.steps) outcomes.push(await t.run(sql))
  const after: Record<string, string[] | Outcome> = {}
  for (const q of Object.keys(c.after)) after[q] = await t.rows(q)
  return { outcomes, after }
}

const PG_URL = process.env.CONCORD_PG_URL
const schema = `concord_fk_${process.pid}`
let pgClient: pg.Client | null = null
const dbs: Database[] = []

beforeAll(async () => {
  if (!PG_URL) return
  pgClient = new pg.Client({ connectionString: PG_URL })
  await pgClient.connect()
})

afterAll(async () => {
  for (const db of dbs.splice(0)) await db.close()
  if (pgClient) {
    await pgClient.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await pgClient.end()
  }
})

describe('foreign keys', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const db = await openDatabase({ nodeId: 'n1' })
      dbs.push(db)
      const run = await play(c, concordTarget(db))
      c.steps.forEach(([sql, code], i) => {
        const o = run.outcomes[i]!
        expect(o.startsWith('ERROR') ? o.slice(6, 11) : '', `${sql}\n${o}`).toBe(code)
      })
      expect(run.after).toEqual(c.after)
      if (pgClient) {
        await pgClient.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path = ${schema}`)
        const ref = await play(c, pgTarget(pgClient))
        expect(run.outcomes, 'every statement as PostgreSQL answers it').toEqual(ref.outcomes)
        expect(run.after, 'final contents as in PostgreSQL').toEqual(ref.after)
      }
    })
  }
})
