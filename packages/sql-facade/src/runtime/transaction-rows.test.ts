/**
 * Every access path inside BEGIN .. COMMIT and BEGIN .. ROLLBACK: each case runs its
 * statements in a block, then checks that (1) the tables read inside the block, after
 * COMMIT, equal the expected state, (2) COMMIT applied exactly what the block saw, and
 * (3) ROLLBACK left the tables as before. With CONCORD_PG_URL set, every statement's
 * result and every table state is also compared with PostgreSQL's.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { formatPgText } from '../result-format.js'

const SETUP = `
  CREATE TABLE txu (id int PRIMARY KEY, k text UNIQUE, qty int);
  CREATE TABLE txi (id int PRIMARY KEY, k text, qty int);
  CREATE INDEX txi_k ON txi (k);
  CREATE INDEX txi_qty ON txi (qty);
  CREATE TABLE txs (id int PRIMARY KEY, k text, qty int);
  CREATE TABLE src (k text PRIMARY KEY, delta int);
  CREATE TABLE log (k text, qty int);
  INSERT INTO txu VALUES (10, 'm', 1), (11, 'n', 2);
  INSERT INTO txi VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3);
  INSERT INTO txs VALUES (1, 'a', 1), (2, 'b', 2);
  INSERT INTO src VALUES ('a', 100), ('b', 200), ('x', 300);`

const CHECKS: Record<string, string> = {
  txu: 'SELECT id, k, qty FROM txu ORDER BY id',
  txi: 'SELECT id, k, qty FROM txi ORDER BY id',
  txs: 'SELECT id, k, qty FROM txs ORDER BY id',
  src: 'SELECT k, delta FROM src ORDER BY k',
  log: 'SELECT k, qty FROM log ORDER BY k, qty',
  nt: 'SELECT id, k FROM nt ORDER BY id',
}

interface Case {
  name: string
  body: string[]
  /** Expected state after COMMIT: `table: [rows as 'a|b|c']`. */
  after: Record<string, string[]>
}

const CASES: Case[] = [
  {
    name: 'a unique index finds a row inserted in the block (UPDATE by the unique column)',
    body: ["INSERT INTO txu VALUES (1, 'a', 1)", "UPDATE txu SET qty = qty + 10 WHERE k = 'a'", "SELECT id, qty FROM txu WHERE k = 'a'"],
    after: { txu: ['1|a|11', '10|m|1', '11|n|2'] },
  },
  {
    name: 'a secondary index finds rows inserted and misses rows deleted in the block',
    body: ["INSERT INTO txi VALUES (4, 'd', 4)", "DELETE FROM txi WHERE k = 'd'", "DELETE FROM txi WHERE k = 'b'", "SELECT id FROM txi WHERE k = 'b'", "SELECT id FROM txi WHERE k = 'c'"],
    after: { txi: ['1|a|1', '3|c|3'] },
  },
  {
    // The first read finds nothing of the table written: its overlay is not kept, so the
    // writes after it are found by the overlay the next read builds.
    name: 'an index read before the block first wrote the table, then writes: later reads by that index see them',
    body: [
      "SELECT id FROM txi WHERE k = 'b'",
      "UPDATE txi SET k = 'y' WHERE id = 2",
      "SELECT id FROM txi WHERE k = 'b'",
      "SELECT id FROM txi WHERE k = 'y'",
      "SELECT id FROM txu WHERE k = 'p'",
      "INSERT INTO txu VALUES (1, 'p', 1)",
      "UPDATE txu SET qty = qty + 1 WHERE k = 'p'",
      "SELECT id, qty FROM txu WHERE k = 'p'",
    ],
    after: { txi: ['1|a|1', '2|y|2', '3|c|3'], txu: ['1|p|2', '10|m|1', '11|n|2'] },
  },
  {
    name: 'a row whose indexed value changed in the block is found under its new value only',
    body: ["UPDATE txi SET k = 'z' WHERE k = 'a'", "SELECT id FROM txi WHERE k = 'a'", "SELECT id FROM txi WHERE k = 'z'", "UPDATE txi SET qty = qty * 10 WHERE k = 'z'"],
    after: { txi: ['1|z|10', '2|b|2', '3|c|3'] },
  },
  {
    name: 'an index range scan sees the inserts, updates and deletes of the block',
    body: [
      "INSERT INTO txi VALUES (5, 'e', 5)",
      'UPDATE txi SET qty = 50 WHERE id = 1',
      'DELETE FROM txi WHERE id = 3',
      'SELECT id, qty FROM txi WHERE qty >= 2 AND qty < 60',
      "UPDATE txi SET k = k || '!' WHERE qty > 4",
      "SELECT id FROM txi WHERE k > 'b'",
    ],
    after: { txi: ['1|a!|50', '2|b|2', '5|e!|5'] },
  },
  {
    name: 'primary key lookups see the block’s inserts, updates and deletes',
    body: ["INSERT INTO txs VALUES (3, 'c', 3)", 'UPDATE txs SET qty = 30 WHERE id = 3', 'DELETE FROM txs WHERE id = 1', 'SELECT * FROM txs WHERE id = 1', 'SELECT * FROM txs WHERE id = 3', "INSERT INTO txs VALUES (1, 'a2', 11)"],
    after: { txs: ['1|a2|11', '2|b|2', '3|c|30'] },
  },
  {
    name: 'full scans see the block’s writes',
    body: ["INSERT INTO txs VALUES (3, 'c', 2)", "UPDATE txs SET qty = qty + 1 WHERE k >= 'a'", 'DELETE FROM txs WHERE qty = 3', 'SELECT count(*), sum(qty) FROM txs'],
    after: { txs: ['1|a|2'] },
  },
  {
    name: 'a primary key changed in the block moves the row for every access path',
    body: ["UPDATE txi SET id = id + 100 WHERE k = 'a'", "SELECT id FROM txi WHERE k = 'a'", 'SELECT k FROM txi WHERE id = 101', 'SELECT k FROM txi WHERE id = 1', 'UPDATE txi SET qty = 7 WHERE id = 101'],
    after: { txi: ['2|b|2', '3|c|3', '101|a|7'] },
  },
  {
    name: 'joins read the block’s writes on both sides',
    body: ["INSERT INTO src VALUES ('c', 7)", "INSERT INTO txi VALUES (6, 'x', 6)", "DELETE FROM txi WHERE k = 'b'", 'SELECT txi.id, src.delta FROM txi JOIN src ON src.k = txi.k', 'SELECT s.k, t.id FROM src s LEFT JOIN txi t ON t.k = s.k'],
    after: { txi: ['1|a|1', '3|c|3', '6|x|6'], src: ['a|100', 'b|200', 'c|7', 'x|300'] },
  },
  {
    name: 'UPDATE .. FROM and DELETE .. USING see the block’s writes',
    body: ["INSERT INTO txi VALUES (7, 'x', 0)", 'UPDATE txi SET qty = txi.qty + src.delta FROM src WHERE src.k = txi.k', 'DELETE FROM txi USING src WHERE src.k = txi.k AND src.delta = 200', "UPDATE txi SET qty = txi.qty + 1 FROM src WHERE src.k = txi.k AND txi.k = 'x'"],
    after: { txi: ['1|a|101', '3|c|3', '7|x|301'] },
  },
  {
    name: 'subqueries see the block’s writes',
    body: ["INSERT INTO src VALUES ('c', 1)", 'DELETE FROM txi WHERE k IN (SELECT k FROM src WHERE delta < 10)', 'UPDATE txs SET qty = (SELECT max(qty) FROM txi) WHERE EXISTS (SELECT 1 FROM txi WHERE txi.id = txs.id)', "SELECT (SELECT count(*) FROM txi WHERE k = 'c') AS n"],
    after: { txi: ['1|a|1', '2|b|2'], txs: ['1|a|2', '2|b|2'] },
  },
  {
    name: 'RETURNING reports exactly what COMMIT applies',
    body: ["UPDATE txi SET qty = qty + 1 WHERE k = 'a' RETURNING id, qty", "DELETE FROM txi WHERE k = 'b' RETURNING *", "INSERT INTO txi VALUES (8, 'b', 8) RETURNING k", "UPDATE txi SET qty = -qty WHERE k = 'b' RETURNING id, qty"],
    after: { txi: ['1|a|2', '3|c|3', '8|b|-8'] },
  },
  {
    name: 'ON CONFLICT finds rows inserted in the block through the unique index and the key',
    body: [
      "INSERT INTO txu VALUES (1, 'a', 1)",
      "INSERT INTO txu VALUES (2, 'a', 5) ON CONFLICT (k) DO UPDATE SET qty = txu.qty + excluded.qty",
      "INSERT INTO txu VALUES (3, 'a', 0) ON CONFLICT DO NOTHING",
      "INSERT INTO txu VALUES (1, 'q', 9) ON CONFLICT (id) DO UPDATE SET k = excluded.k RETURNING id, k, qty",
      "INSERT INTO txu VALUES (4, 'a', 4) ON CONFLICT (k) DO NOTHING",
    ],
    after: { txu: ['1|q|6', '4|a|4', '10|m|1', '11|n|2'] },
  },
  {
    name: 'UNIQUE is checked against the block’s own rows, and a value freed in the block can be taken',
    body: ["DELETE FROM txu WHERE k = 'm'", "INSERT INTO txu VALUES (12, 'm', 3)", "UPDATE txu SET k = 'o' WHERE k = 'n'", "INSERT INTO txu VALUES (13, 'n', 4)", "SELECT id FROM txu WHERE k = 'o'"],
    after: { txu: ['11|o|2', '12|m|3', '13|n|4'] },
  },
  {
    name: 'a UNIQUE violation against a row inserted in the block aborts the block',
    body: ["INSERT INTO txu VALUES (1, 'a', 1)", "INSERT INTO txu VALUES (2, 'a', 2)", 'SELECT 1'],
    after: { txu: ['10|m|1', '11|n|2'] },
  },
  {
    name: 'data-modifying CTEs see and make the block’s writes',
    body: [
      "INSERT INTO txi VALUES (9, 'a', 9)",
      "WITH d AS (DELETE FROM txi WHERE k = 'a' RETURNING k, qty) INSERT INTO log SELECT k, qty FROM d",
      "WITH u AS (UPDATE txi SET qty = 0 WHERE k = 'b' RETURNING k, qty) INSERT INTO log SELECT k, qty FROM u",
      'SELECT k, qty FROM log',
    ],
    after: { txi: ['2|b|0', '3|c|3'], log: ['a|1', 'a|9', 'b|0'] },
  },
  {
    name: 'ROLLBACK TO SAVEPOINT undoes the writes after the savepoint, for every access path',
    body: [
      "INSERT INTO txi VALUES (9, 's', 9)",
      'SAVEPOINT a',
      "UPDATE txi SET qty = 90 WHERE k = 's'",
      "DELETE FROM txi WHERE k = 'a'",
      "INSERT INTO txi VALUES (10, 't', 10)",
      'ROLLBACK TO SAVEPOINT a',
      "SELECT id, qty FROM txi WHERE k = 's'",
      "SELECT id FROM txi WHERE k = 'a'",
      'SELECT id FROM txi WHERE qty >= 9',
      "UPDATE txi SET qty = 91 WHERE k = 's'",
      'SAVEPOINT b',
      "DELETE FROM txi WHERE k = 'b'",
      'RELEASE SAVEPOINT b',
      'ROLLBACK TO SAVEPOINT a',
      "UPDATE txi SET qty = 92 WHERE k = 's'",
    ],
    after: { txi: ['1|a|1', '2|b|2', '3|c|3', '9|s|92'] },
  },
  {
    name: 'after an error, ROLLBACK TO SAVEPOINT resumes the block with the writes before it',
    body: ["UPDATE txu SET qty = 5 WHERE k = 'm'", 'SAVEPOINT a', "INSERT INTO txu VALUES (1, 'n', 1)", 'SELECT 1', 'ROLLBACK TO SAVEPOINT a', "UPDATE txu SET qty = qty + 1 WHERE k = 'm'"],
    after: { txu: ['10|m|6', '11|n|2'] },
  },
  {
    name: 'tables and indexes created in the block are read and written through',
    body: ['CREATE TABLE nt (id int PRIMARY KEY, k text UNIQUE)', 'CREATE INDEX nt_k2 ON nt (k)', "INSERT INTO nt VALUES (1, 'a'), (2, 'b')", "UPDATE nt SET k = 'c' WHERE k = 'a'", "SELECT id FROM nt WHERE k = 'c'", "DELETE FROM nt WHERE k = 'b'"],
    after: { nt: ['1|c'] },
  },
  {
    name: 'a table dropped and created again in the block starts empty',
    body: ['DROP TABLE txs', 'CREATE TABLE txs (id int PRIMARY KEY, k text, qty int)', 'SELECT count(*) FROM txs', 'SELECT * FROM txs WHERE id = 1', "INSERT INTO txs VALUES (1, 'new', 5)"],
    after: { txs: ['1|new|5'] },
  },
  {
    name: 'TRUNCATE in the block empties every access path',
    body: ['TRUNCATE txi', "SELECT id FROM txi WHERE k = 'a'", "INSERT INTO txi VALUES (1, 'b', 1)", "SELECT id FROM txi WHERE k = 'b'", 'SELECT id FROM txi WHERE qty < 5'],
    after: { txi: ['1|b|1'] },
  },
]

type Outcome = string

function outcomeOf(command: string, rowCount: number | null, rows: Array<Array<string | null>>): Outcome {
  const lines = rows.map((r) => r.map((v) => (v === null ? 'NULL' : v)).join('|')).sort()
  // PostgreSQL's tag names a utility statement by its first word (node-postgres `command`).
  const verb = command.split(' ')[0]!
  return [`${verb} ${rowCount ?? ''}`.trim(), ...lines].join('\n')
}

/** Runs SQL and returns its outcome as text (command, row count, sorted rows) or its SQLSTATE. */
interface Target {
  run(sql: string): Promise<Outcome>
  /** The state of one table as 'a|b|c' rows in order, or the SQLSTATE of reading it. */
  table(name: string): Promise<string[] | string>
}

function concordTarget(db: Database): Target {
  const run = async (sql: string): Promise<Outcome> => {
    try {
      const r = await db.query(sql)
      return outcomeOf(r.command, r.rowCount, r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!))))
    } catch (e) {
      return `ERROR ${(e as { code?: string }).code}`
    }
  }
  return {
    run,
    table: async (name) => {
      try {
        const r = await db.query(CHECKS[name]!)
        return r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!) ?? 'NULL').join('|'))
      } catch (e) {
        return `ERROR ${(e as { code?: string }).code}`
      }
    },
  }
}

function pgTarget(c: pg.Client): Target {
  const text = { getTypeParser: () => (v: string) => v }
  const run = async (sql: string): Promise<Outcome> => {
    try {
      const r = await c.query({ text: sql, rowMode: 'array', types: text })
      return outcomeOf(r.command, r.command === 'SELECT' ? r.rows.length : r.rowCount, r.rows as Array<Array<string | null>>)
    } catch (e) {
      return `ERROR ${(e as { code?: string }).code}`
    }
  }
  return {
    run,
    table: async (name) => {
      try {
        const r = await c.query({ text: CHECKS[name]!, rowMode: 'array', types: text })
        return (r.rows as Array<Array<string | null>>).map((row) => row.map((v) => v ?? 'NULL').join('|'))
      } catch (e) {
        return `ERROR ${(e as { code?: string }).code}`
      }
    },
  }
}

interface Run {
  statements: Outcome[]
  inside: Record<string, string[] | string>
  committed: Record<string, string[] | string>
  rolledBack: Record<string, string[] | string>
  before: Record<string, string[] | string>
}

/** Plays a case: setup, the block with COMMIT, then (fresh) the block with ROLLBACK. */
async function play(c: Case, fresh: () => Promise<Target>): Promise<Run> {
  const tables = Object.keys(c.after)
  const state = async (t: Target) => Object.fromEntries(await Promise.all(tables.map(async (n) => [n, await t.table(n)] as const)))
  const a = await fresh()
  const before = await state(a)
  await a.run('BEGIN')
  const statements: Outcome[] = []
  for (const s of c.body) statements.push(await a.run(s))
  const inside = await state(a)
  await a.run('COMMIT')
  const committed = await state(a)
  const b = await fresh()
  await b.run('BEGIN')
  for (const s of c.body) await b.run(s)
  await b.run('ROLLBACK')
  const rolledBack = await state(b)
  return { statements, inside, committed, rolledBack, before }
}

const PG_URL = process.env.CONCORD_PG_URL
const schema = `concord_txn_${process.pid}`
let pgClient: pg.Client | null = null
const dbs: Database[] = []

async function freshConcord(): Promise<Target> {
  const db = await openDatabase({ nodeId: 'n1' })
  dbs.push(db)
  await db.query(SETUP)
  return concordTarget(db)
}

async function freshPostgres(): Promise<Target> {
  const c = pgClient!
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; SET search_path = ${schema}`)
  await c.query(SETUP)
  return pgTarget(c)
}

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

describe('every access path inside a transaction block', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const run = await play(c, freshConcord)
      expect(run.committed, 'after COMMIT').toEqual(c.after)
      // Inside an aborted block reads fail (25P02) and COMMIT rolls back.
      for (const [t, v] of Object.entries(run.inside)) if (v !== 'ERROR 25P02') expect(v, `${t} inside the block, as COMMIT applied`).toEqual(run.committed[t])
      expect(run.rolledBack, 'after ROLLBACK').toEqual(run.before)
      if (pgClient) {
        const ref = await play(c, freshPostgres)
        expect(run.statements, 'statement results against PostgreSQL').toEqual(ref.statements)
        expect(run.committed, 'after COMMIT against PostgreSQL').toEqual(ref.committed)
        expect(run.rolledBack, 'after ROLLBACK against PostgreSQL').toEqual(ref.rolledBack)
      }
    })
  }
})

describe('COMMIT of a block', () => {
  it('applies the rows its statements reported, not rows another session committed meanwhile; a write of a row it wrote waits for COMMIT', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    const other = db.session()
    await db.query('BEGIN')
    const upd = await db.query('UPDATE txs SET qty = 0')
    expect(upd.rowCount).toBe(2)
    await other.query("INSERT INTO txs VALUES (3, 'c', 3)")
    // The row is locked by the block (runtime/row-locks.ts): the update waits and applies after COMMIT.
    const waiting = other.query("UPDATE txs SET qty = 100 WHERE id = 2")
    await db.query('COMMIT')
    await waiting
    expect((await db.query('SELECT id, qty FROM txs ORDER BY id')).rows).toEqual([
      { id: 1, qty: 0 },
      { id: 2, qty: 100 },
      { id: 3, qty: 3 },
    ])
  })

  it('a row the block updated and another node deleted stays deleted (the delete wins)', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    const other = db.session()
    await db.query('BEGIN')
    await db.query("UPDATE txi SET qty = 10 WHERE k = 'a'")
    await db.query("UPDATE txi SET qty = 20 WHERE k = 'b'")
    // Another node's delete arrives as a replicated write: row locks bind this node's sessions only.
    db.replica.transact((tx) => tx.delete('txi', [1]))
    expect((await db.query('SELECT id, qty FROM txi ORDER BY id')).rows).toEqual([{ id: 2, qty: 20 }, { id: 3, qty: 3 }])
    await db.query('COMMIT')
    expect((await db.query('SELECT id, k, qty FROM txi ORDER BY id')).rows).toEqual([{ id: 2, k: 'b', qty: 20 }, { id: 3, k: 'c', qty: 3 }])
  })

  it('an index finds a row the block changed by a column another node changed meanwhile', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    const other = db.session()
    await db.query('BEGIN')
    await db.query("UPDATE txi SET qty = 10 WHERE k = 'a'")
    db.replica.transact((tx) => tx.update('txi', [1], { k: 'z' }))
    expect((await db.query("SELECT id, qty FROM txi WHERE k = 'z'")).rows).toEqual([{ id: 1, qty: 10 }])
    expect((await db.query("SELECT id FROM txi WHERE k = 'a'")).rows).toEqual([])
    expect((await db.query("SELECT id FROM txi WHERE k > 'y'")).rows).toEqual([{ id: 1 }])
    await db.query('COMMIT')
    expect((await db.query('SELECT id, k, qty FROM txi WHERE id = 1')).rows).toEqual([{ id: 1, k: 'z', qty: 10 }])
  })

  it('a block reads rows committed by another session while it is open (read committed)', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    const other = db.session()
    await db.query('BEGIN')
    await db.query("INSERT INTO txi VALUES (4, 'd', 4)")
    await other.query("INSERT INTO txi VALUES (5, 'd', 5)")
    expect((await db.query("SELECT id FROM txi WHERE k = 'd' ORDER BY id")).rows).toEqual([{ id: 4 }, { id: 5 }])
    expect((await other.query("SELECT id FROM txi WHERE k = 'd' ORDER BY id")).rows).toEqual([{ id: 5 }])
    await db.query('COMMIT')
    expect((await other.query("SELECT id FROM txi WHERE k = 'd' ORDER BY id")).rows).toEqual([{ id: 4 }, { id: 5 }])
  })
})

describe('transaction modes', () => {
  async function codeOf(db: Database, sql: string): Promise<string | undefined> {
    try {
      await db.query(sql)
      return undefined
    } catch (e) {
      return (e as { code?: string }).code
    }
  }

  it('a READ ONLY block refuses writes with 25006 and reads on', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    await db.query('BEGIN READ ONLY')
    expect((await db.query('SELECT count(*) AS n FROM txi')).rows).toEqual([{ n: '3' }])
    expect(await codeOf(db, "INSERT INTO txi VALUES (9, 'z', 9)")).toBe('25006')
    await db.query('ROLLBACK')
    await db.query('BEGIN')
    await db.query('SET TRANSACTION READ ONLY')
    expect(await codeOf(db, 'WITH d AS (DELETE FROM txi RETURNING id) SELECT count(*) FROM d')).toBe('25006')
    await db.query('ROLLBACK')
    await db.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')
    expect(await codeOf(db, 'CREATE TABLE z (id int)')).toBe('25006')
    await db.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE')
    await db.query("INSERT INTO txi VALUES (9, 'z', 9)")
    expect((await db.query('SELECT count(*) AS n FROM txi')).rows).toEqual([{ n: '4' }])
  })

  it('COMMIT / ROLLBACK AND CHAIN start the next block at once, READ ONLY kept, locks and NOTIFYs of the ended one let go (the chain was dropped: a later ROLLBACK undid nothing)', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    await db.query(SETUP)
    const s = db.session({ processId: 7 })
    const other = db.session({ processId: 8 })
    const got: string[] = []
    other.onNotification((n) => got.push(n.payload))
    await other.query('LISTEN chan')
    const count = async () => (await s.query('SELECT count(*) AS n FROM txi')).rows[0]!['n']
    await s.query('BEGIN')
    await s.query("INSERT INTO txi VALUES (10, 'c1', 1)")
    await s.query('UPDATE txi SET qty = 5 WHERE id = 1')
    await s.query("NOTIFY chan, 'first'")
    expect((await s.query('COMMIT AND CHAIN')).commandTag).toBe('COMMIT')
    // The first block is committed: its row lock is gone and its NOTIFY went out.
    expect(got).toEqual(['first'])
    await other.query('UPDATE txi SET qty = 6 WHERE id = 1')
    // The chained block: what it writes goes with its ROLLBACK.
    await s.query("INSERT INTO txi VALUES (11, 'c2', 1)")
    expect(await count()).toBe('5')
    expect((await s.query('ROLLBACK AND CHAIN')).commandTag).toBe('ROLLBACK')
    await s.query("INSERT INTO txi VALUES (12, 'c3', 1)")
    await s.query('ROLLBACK')
    expect(await count()).toBe('4')
    expect((await other.query('SELECT qty FROM txi WHERE id = 1')).rows).toEqual([{ qty: 6 }])
    // The characteristics carry over; an aborted block's COMMIT AND CHAIN rolls back and chains.
    await s.query('BEGIN READ ONLY')
    await s.query('COMMIT AND CHAIN')
    expect((await s.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }])
    expect(await codeOf(s as unknown as Database, "INSERT INTO txi VALUES (13, 'c4', 1)")).toBe('25006')
    expect((await s.query('COMMIT AND CHAIN')).commandTag).toBe('ROLLBACK')
    expect((await s.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }])
    await s.query('COMMIT')
    expect((await s.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'off' }])
    // Outside a block it is an error, not a notice.
    expect(await codeOf(s as unknown as Database, 'COMMIT AND CHAIN')).toBe('25P01')
    expect(await codeOf(s as unknown as Database, 'ROLLBACK AND CHAIN')).toBe('25P01')
    expect((await s.query('COMMIT')).commandTag).toBe('COMMIT')
  })

  it('isolation levels stronger than READ COMMITTED are refused with 0A000, not weakened', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    expect(await codeOf(db, 'BEGIN ISOLATION LEVEL SERIALIZABLE')).toBe('0A000')
    expect(await codeOf(db, 'START TRANSACTION ISOLATION LEVEL REPEATABLE READ')).toBe('0A000')
    await db.query('BEGIN ISOLATION LEVEL READ COMMITTED')
    expect(await codeOf(db, 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')).toBe('0A000')
    await db.query('ROLLBACK')
  })

  it('SET of transaction_isolation or default_transaction_isolation refuses the stronger levels too (both were accepted while blocks ran READ COMMITTED)', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    dbs.push(db)
    const shown = async (name: string) => (await db.query(`SHOW ${name}`)).rows[0]![name]
    for (const name of ['default_transaction_isolation', 'transaction_isolation']) {
      expect(await codeOf(db, `SET ${name} = 'serializable'`)).toBe('0A000')
      expect(await codeOf(db, `SET ${name} TO 'REPEATABLE READ'`)).toBe('0A000')
      expect(await codeOf(db, `SELECT set_config('${name}', 'serializable', false)`)).toBe('0A000')
      expect(await codeOf(db, `SET ${name} = 'snapshot'`)).toBe('22023')
      await db.query(`SET ${name} = 'read uncommitted'`)
      expect(await shown(name)).toBe('read uncommitted')
      await db.query(`SET ${name} = 'READ COMMITTED'`)
      expect(await shown(name)).toBe('read committed')
    }
    await db.query('BEGIN')
    expect(await codeOf(db, "SET transaction_isolation = 'repeatable read'")).toBe('0A000')
    await db.query('ROLLBACK')
    await db.query('BEGIN')
    expect(await shown('transaction_isolation')).toBe('read committed')
    await db.query('COMMIT')
  })
})
