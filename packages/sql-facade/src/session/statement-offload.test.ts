import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { runOffloadedStatement } from '../offloaded-statement.js'
import type { QueryResult } from '../result-format.js'
import type { OffloadRequest, StatementOffloader } from './statement-offload.js'
import { OFFLOADABLE_SYSTEM_VIEWS } from './offload-eligibility.js'

/** An offloader answering on this thread, on a fresh engine as a worker would: it records what it was given. */
function recordingOffloader(): StatementOffloader & { requests: OffloadRequest[] } {
  const requests: OffloadRequest[] = []
  return {
    requests,
    run: async (request, signal) => {
      requests.push(request)
      return await runOffloadedStatement(structuredClone(request), () => signal.aborted)
    },
  }
}

/** Long enough to pass offload_after = 1ms on any machine, short enough for a unit test. */
const LONG = 'SELECT count(*), sum(g), max(md5(g::text)) FROM generate_series(1, 50000) g'

let db: Database
beforeAll(async () => {
  db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
  await db.query('CREATE TABLE items (id INT PRIMARY KEY, label TEXT, price NUMERIC(10,2), at TIMESTAMPTZ)')
  await db.query("INSERT INTO items SELECT g, 'item ' || g, g * 1.25, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour' FROM generate_series(1, 2000) g")
  await db.query('CREATE SEQUENCE seq')
  await db.query("CREATE ROLE reader LOGIN PASSWORD 'pw'")
})
afterAll(async () => {
  await db.close()
})

async function run(sql: string, offloader: StatementOffloader | undefined, setup: string[] = [], user?: string): Promise<QueryResult> {
  const session = db.session({ ...(offloader ? { offloader } : {}), ...(user !== undefined ? { user } : {}) })
  for (const s of setup) await session.query(s)
  await session.query(`SET offload_after = '${offloader ? '1ms' : '0'}'`)
  try {
    return await session.query(sql)
  } finally {
    await session.close()
  }
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message?: string; detail?: string; hint?: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string }
  }
  throw new Error('expected a failure')
}

describe('statements moved off the main thread', () => {
  it('a long SELECT is moved and answers exactly as one run here', async () => {
    const off = recordingOffloader()
    const moved = await run(LONG, off)
    expect(off.requests).toHaveLength(1)
    const here = await run(LONG, undefined)
    expect(moved).toEqual(here)
  })

  it('a SELECT of a table is moved with the table and the session settings, and answers as here', async () => {
    const sql = "SELECT i.label, i.price, i.at, now() >= i.at AS past, count(*) OVER () FROM items i, generate_series(1, 60) g WHERE i.id % 97 = g ORDER BY 1 LIMIT 20"
    const setup = ["SET DateStyle = 'SQL, DMY'", "SET IntervalStyle = 'iso_8601'"]
    const off = recordingOffloader()
    const moved = await run(sql, off, setup)
    expect(off.requests).toHaveLength(1)
    expect(off.requests[0]!.shards.map((s) => s.shard).some((id) => id.includes('items'))).toBe(true)
    expect(moved).toEqual(await run(sql, undefined, setup))
  })

  it('a SELECT through a view moves with the view\'s tables and answers as here', async () => {
    await db.query('CREATE VIEW cheap AS SELECT id, label FROM items WHERE price < 100')
    const sql = 'SELECT count(*), max(md5(c.label || g::text)) FROM cheap c, generate_series(1, 200) g'
    const off = recordingOffloader()
    const moved = await run(sql, off)
    expect(off.requests).toHaveLength(1)
    expect(moved).toEqual(await run(sql, undefined))
  })

  it('an error raised where the statement was moved reaches the client with its SQLSTATE and message', async () => {
    const sql = 'SELECT count(*) / (count(*) - 200000) FROM generate_series(1, 200000) g'
    const off = recordingOffloader()
    const moved = await failure(run(sql, off))
    expect(off.requests).toHaveLength(1)
    const here = await failure(run(sql, undefined))
    expect({ code: moved.code, message: moved.message }).toEqual({ code: here.code, message: here.message })
    expect(moved.code).toBe('22012')
  })

  it('privileges are checked where the statement was moved as here: a role without SELECT gets 42501', async () => {
    const sql = 'SELECT count(*) FROM generate_series(1, 200000) g WHERE g > (SELECT count(*) FROM items)'
    const off = recordingOffloader()
    const here = await failure(run(sql, undefined, [], 'reader'))
    expect(here.code).toBe('42501')
    // SET ROLE too: the superuser session runs as reader.
    const moved = await failure(run(sql, off, ['SET ROLE reader']))
    expect(moved.code).toBe('42501')
    expect(moved.message).toBe(here.message)
    // The engine the statement moves to checks them too: the superuser's request, run as reader there.
    await run(sql, off)
    const request = off.requests.at(-1)!
    expect(request.shards.some((s) => s.shard.includes('items'))).toBe(true)
    const asReader = await runOffloadedStatement({ ...request, settings: [...request.settings, ['role', 'reader']] }, () => false)
    expect(asReader).toEqual({ ok: false, error: { code: '42501', message: here.message } })
  })

  it('statement_timeout bounds the statement where it was moved (57014)', async () => {
    const off = recordingOffloader()
    const e = await failure(run('SELECT count(*) FROM generate_series(1, 3000000) a', off, ["SET statement_timeout = '300ms'"]))
    expect(e.code).toBe('57014')
    expect(e.message).toBe('canceling statement due to statement timeout')
    expect(off.requests[0]!.timeoutMs).toBeGreaterThan(0)
    expect(off.requests[0]!.timeoutMs).toBeLessThanOrEqual(300)
  })

  it('statements that write, draw from a sequence or read node state stay on the main thread', async () => {
    const off = recordingOffloader()
    for (const sql of [
      "SELECT nextval('seq'), count(*) FROM generate_series(1, 200000)",
      'SELECT count(*) FROM generate_series(1, 200000) g, (SELECT random()) r',
      'SELECT count(*) FROM items, generate_series(1, 100) FOR UPDATE OF items',
      'SELECT count(*) FROM pg_settings, generate_series(1, 2000)',
      'SELECT count(*) FROM pg_locks, generate_series(1, 200000)',
    ]) {
      await run(sql, off).catch(() => undefined)
    }
    expect(off.requests).toEqual([])
    const r = await run("SELECT nextval('seq') > 0 AS drawn, count(*) FROM generate_series(1, 200000)", off)
    expect(r.rowArrays).toEqual([[true, '200000']])
    expect(off.requests).toEqual([])
  })

  it('an offloader that declines in a transaction block leaves the statement to run here, the block intact', async () => {
    const session = db.session({ offloader: { run: async () => null } })
    await session.query("SET offload_after = '1ms'")
    await session.query('BEGIN')
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    expect(session.transactionFailed).toBe(false)
    expect((await session.query('COMMIT')).command).toBe('COMMIT')
    await session.close()
  })

  it('an offloader that declines leaves the statement to run here', async () => {
    const off: StatementOffloader = { run: async () => null }
    expect(await run(LONG, off)).toEqual(await run(LONG, undefined))
  })
})

describe('a SELECT over a large table no engine holds: rent or buy', () => {
  const ROWS = 150_000
  beforeAll(async () => {
    await db.query('CREATE TABLE scanned (id INT PRIMARY KEY, label TEXT)')
    for (let i = 0; i < ROWS; i += 50_000) await db.query(`INSERT INTO scanned SELECT g, 'row ' || g FROM generate_series(${i + 1}, ${i + 50_000}) g`)
  }, 120_000)

  it('a scan that ends before taking the table would have paid off runs here; one that runs past that cost moves', async () => {
    const off = recordingOffloader()
    // A scan that stops early (LIMIT): ~7 ms, past offload_after's 1 ms, against ~150 ms to
    // take 150,000 rows for the worker (write-offload.ts, snapshotCostMs). It moved at 1 ms
    // before. (A whole count(*), 20-30 ms alone, once took past 150 ms beside CI's other
    // test files: the margin is wall-clock time, so it is kept wide.)
    const counted = await run('SELECT count(*) AS n FROM (SELECT label FROM scanned LIMIT 5000) s', off)
    expect(counted.rows).toEqual([{ n: '5000' }])
    expect(off.requests).toHaveLength(0)
    // Two digests a row: past that cost, so it moves, and answers as here.
    const long = 'SELECT count(*) AS n, max(md5(md5(label))) AS top FROM scanned'
    const moved = await run(long, off)
    expect(off.requests).toHaveLength(1)
    expect(moved).toEqual(await run(long, undefined))
  })
})

describe('statements of a transaction block moved off the main thread', () => {
  /** A session that moves statements past 1 ms (with `off`) or never. */
  async function blockSession(off: StatementOffloader | undefined) {
    const session = db.session(off ? { offloader: off } : {})
    await session.query(`SET offload_after = '${off ? '1ms' : '0'}'`)
    return session
  }

  it('a SELECT in a block that has written nothing moves, with SET LOCAL and the block\'s now(), and answers as here', async () => {
    const sql = "SELECT i.label, i.at, now() AS t, statement_timestamp() AS st, count(*) OVER () FROM items i, generate_series(1, 60) g WHERE i.id % 97 = g ORDER BY 1 LIMIT 20"
    const answers: QueryResult[] = []
    const off = recordingOffloader()
    for (const o of [off, undefined]) {
      const session = await blockSession(o)
      await session.query('BEGIN')
      await session.query("SET LOCAL DateStyle = 'SQL, DMY'")
      const start = (await session.query('SELECT now() AS t')).rows[0]!['t']
      const r = await session.query(sql)
      // now() and statement_timestamp() are the block's start, as on the event loop.
      expect(r.rows.every((row) => row['t'] === start && row['st'] === start)).toBe(true)
      answers.push({ ...r, rows: r.rows.map(({ t: _t, st: _st, ...rest }) => rest), rowArrays: r.rowArrays.map((a) => [a[0], a[1], a[4]]) })
      expect((await session.query('COMMIT')).command).toBe('COMMIT')
      // SET LOCAL ended with the block.
      expect((await session.query('SHOW DateStyle')).rows[0]).toEqual({ DateStyle: 'ISO, MDY' })
      await session.close()
    }
    expect(off.requests).toHaveLength(1)
    expect(off.requests[0]!.settings).toContainEqual(['datestyle', 'SQL, DMY'])
    expect(answers[0]).toEqual(answers[1])
  })

  it('a SELECT after the block wrote rows of the tables it reads moves with those writes, and sees them as here', async () => {
    await db.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    const sql = "SELECT count(*) AS n, sum(i.price) AS total, max(i.label) AS top, string_agg(i.label, ',' ORDER BY i.id) FILTER (WHERE i.id IN (5, 6, 100001)) AS seen FROM items i, generate_series(1, 30) g"
    const answers: QueryResult[] = []
    const off = recordingOffloader()
    for (const o of [off, undefined]) {
      const session = await blockSession(o)
      await session.query('BEGIN')
      await session.query("INSERT INTO items VALUES (100001, 'zz own insert', 7.5, now())")
      await session.query("UPDATE items SET label = 'own update', price = price + 100 WHERE id = 5")
      await session.query('DELETE FROM items WHERE id = 6')
      answers.push(await session.query(sql))
      // A write of another table only: nothing of it travels.
      await session.query("INSERT INTO notes VALUES (1, 'n')")
      expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
      await session.query('ROLLBACK')
      await session.close()
    }
    expect(off.requests).toHaveLength(2)
    expect(off.requests[0]!.carried?.tables.map((t) => [t.table, t.rows.length])).toEqual([['items', 3]])
    expect(off.requests[1]!.carried).toBeUndefined()
    expect(answers[0]).toEqual(answers[1])
    expect(answers[0]!.rows[0]!['n']).toBe('60000')
    // Rolled back: nothing of the block is left, here or in the table.
    expect((await db.query('SELECT count(*) AS n FROM items WHERE id = 100001 OR label = \'own update\'')).rows).toEqual([{ n: '0' }])
  })

  it('a block holding DDL or a cluster setting for its COMMIT keeps its statements here; ROLLBACK TO SAVEPOINT lets them move again', async () => {
    const off = recordingOffloader()
    const session = await blockSession(off)
    await session.query('BEGIN')
    await session.query('SAVEPOINT s')
    await session.query('CREATE TABLE made_in_block (id INT PRIMARY KEY)')
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    expect(off.requests).toHaveLength(0)
    await session.query('ROLLBACK TO SAVEPOINT s')
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    expect(off.requests).toHaveLength(1)
    await session.query("SET failover_timeout = '40s'")
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    expect(off.requests).toHaveLength(1)
    await session.query('ROLLBACK')
    await session.close()
  })

  it('SET LOCAL ROLE holds where the statement moved (42501 as here) and ends with the block', async () => {
    const sql = 'SELECT count(*) FROM generate_series(1, 200000) g WHERE g > (SELECT count(*) FROM items)'
    const who = 'SELECT current_user AS u, count(*) FROM generate_series(1, 200000) g'
    const seen: unknown[][] = []
    const off = recordingOffloader()
    for (const o of [off, undefined]) {
      const session = await blockSession(o)
      await session.query('BEGIN')
      await session.query('SET LOCAL ROLE reader')
      const moved = (await session.query(who)).rows
      const denied = await failure(session.query(sql))
      await session.query('ROLLBACK')
      seen.push([moved, denied.code, denied.message, (await session.query(who)).rows])
      await session.close()
    }
    expect(seen[0]).toEqual([[{ u: 'reader', count: '200000' }], '42501', expect.any(String), [{ u: 'concord', count: '200000' }]])
    expect(seen[0]).toEqual(seen[1])
    expect(off.requests.map((r) => r.settings.find(([k]) => k === 'role')?.[1])).toEqual(['reader', undefined])
  })

  it('an error in a moved statement aborts the block as here: 25P02 until ROLLBACK, ROLLBACK TO SAVEPOINT resumes it', async () => {
    const failing = 'SELECT count(*) / (count(*) - 200000) FROM generate_series(1, 200000) g'
    const seen: unknown[][] = []
    const off = recordingOffloader()
    for (const o of [off, undefined]) {
      const session = await blockSession(o)
      const steps: unknown[] = []
      const step = async (sql: string) => {
        try {
          const r = await session.query(sql)
          steps.push(r.command)
        } catch (e) {
          steps.push((e as { code?: string }).code)
        }
      }
      await step('BEGIN')
      await step('SAVEPOINT s')
      await step(failing)
      await step('SELECT 1')
      await step('ROLLBACK TO SAVEPOINT s')
      await step(LONG)
      await step(failing)
      await step('SELECT 1')
      await step('COMMIT')
      steps.push(session.inTransaction)
      seen.push(steps)
      await session.close()
    }
    expect(seen[0]).toEqual(['BEGIN', 'SAVEPOINT', '22012', '25P02', 'ROLLBACK', 'SELECT', '22012', '25P02', 'ROLLBACK', false])
    expect(seen[0]).toEqual(seen[1])
    expect(off.requests).toHaveLength(3)
  })

  it('SELECT .. FOR UPDATE, cursors, and a session with temporary tables stay here; the locks a block took hold while its SELECTs move', async () => {
    const off = recordingOffloader()
    const session = await blockSession(off)
    await session.query('BEGIN')
    expect((await session.query('SELECT id FROM items WHERE id <= 3 FOR UPDATE')).rows).toHaveLength(3)
    await session.query(`DECLARE c CURSOR FOR ${LONG}`)
    expect((await session.query('FETCH ALL FROM c')).rowArrays[0]![0]).toBe('50000')
    expect(off.requests).toHaveLength(0)
    // A plain SELECT takes no lock: it moves, and the rows stay locked for the block.
    expect((await session.query(LONG)).rowArrays[0]![0]).toBe('50000')
    expect(off.requests).toHaveLength(1)
    const other = db.session()
    await expect(other.query('SELECT id FROM items WHERE id = 2 FOR UPDATE NOWAIT')).rejects.toMatchObject({ code: '55P03' })
    await other.close()
    await session.query('COMMIT')
    await session.close()

    const temp = await blockSession(off)
    await temp.query('CREATE TEMP TABLE scratch (id INT PRIMARY KEY)')
    await temp.query('BEGIN')
    expect((await temp.query(LONG)).rowArrays[0]![0]).toBe('50000')
    await temp.query('COMMIT')
    await temp.close()
    expect(off.requests).toHaveLength(1)
  })
})

describe('system views computed from the catalog, moved off the main thread', () => {
  beforeAll(async () => {
    // Objects of every kind the catalog views show.
    for (const sql of [
      "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
      'CREATE TYPE pair AS (a INT, b TEXT)',
      'CREATE TABLE owners (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE, m mood DEFAULT \'ok\', CHECK (id > 0))',
      'CREATE TABLE pets (id INT PRIMARY KEY, owner INT REFERENCES owners (id) ON DELETE CASCADE, born DATE, tags TEXT[], w NUMERIC(6, 2), doubled INT GENERATED ALWAYS AS (id * 2) STORED)',
      'CREATE INDEX pets_born ON pets (born, owner)',
      'CREATE TABLE events (id INT, k INT, PRIMARY KEY (id, k)) PARTITION BY LIST (k)',
      'CREATE TABLE events1 PARTITION OF events FOR VALUES IN (1)',
      'CREATE TABLE base (id INT PRIMARY KEY, note TEXT)',
      'CREATE TABLE derived (extra INT) INHERITS (base)',
      'CREATE VIEW pet_owners AS SELECT p.id, o.name FROM pets p JOIN owners o ON o.id = p.owner',
      'CREATE FUNCTION pet_count(x INT) RETURNS BIGINT LANGUAGE sql STABLE AS $$ SELECT count(*) FROM pets WHERE owner = x $$',
      'CREATE SCHEMA reports',
      "CREATE ROLE viewer LOGIN PASSWORD 'pw'",
      'CREATE ROLE staff',
      'GRANT staff TO viewer',
      'GRANT SELECT ON owners TO viewer',
      'GRANT SELECT (id, owner) ON pets TO staff',
    ]) await db.query(sql)
  })

  /** One statement over the view, slow enough to pass offload_after = 1ms; its answer, or its error's SQLSTATE and message. */
  async function over(view: string, off: StatementOffloader | undefined, setup: string[]): Promise<unknown> {
    // The slow part is read first, so the statement moves before the view's rows are computed (or fail).
    const sql = `WITH slow AS (SELECT max(md5(g::text)) AS m FROM generate_series(1, 5000) g) SELECT v.*, slow.m FROM slow, ${view} v`
    try {
      return await run(sql, off, setup)
    } catch (e) {
      const { code, message } = e as { code?: string; message?: string }
      return { code, message }
    }
  }

  /** Views whose rows depend on who reads them (privileges shown, superuser only): read as another role too. */
  const BY_ROLE = new Set(['pg_roles', 'pg_class', 'pg_attribute', 'pg_tables', 'schemata', 'table_privileges', 'role_table_grants', 'column_privileges', 'role_column_grants'])

  /** Views the objects above give rows: the comparison is not of empty answers. */
  const FILLED = ['pg_class', 'pg_attribute', 'pg_attrdef', 'pg_constraint', 'pg_index', 'pg_inherits', 'pg_partitioned_table', 'pg_type', 'pg_enum',
    'pg_proc', 'pg_namespace', 'pg_roles', 'pg_auth_members', 'columns', 'views', 'table_constraints', 'key_column_usage',
    'constraint_column_usage', 'referential_constraints', 'table_privileges', 'column_privileges']

  it('the catalog functions psql and ORMs call over the views give the same answers where the statement moved', async () => {
    for (const q of [
      `SELECT c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.pg_table_is_visible(c.oid) AS visible, a.attname,
        pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def, col_description(c.oid, a.attnum) AS note,
        obj_description(c.oid, 'pg_class') AS about, pg_get_partkeydef(c.oid) AS partkey, CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END AS view
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE c.relnamespace = 2200 ORDER BY 1, a.attnum`,
      `SELECT i.indexrelid, pg_get_indexdef(i.indexrelid) AS def, pg_get_indexdef(i.indexrelid, 1, true) AS first FROM pg_index i ORDER BY 1`,
      `SELECT conname, pg_get_constraintdef(oid, true) AS def FROM pg_constraint ORDER BY 1`,
      `SELECT proname, pg_get_functiondef(oid) AS def, pg_get_function_arguments(oid) AS args, pg_get_function_identity_arguments(oid) AS ident,
        pg_get_function_result(oid) AS result, pg_function_is_visible(oid) AS visible FROM pg_proc ORDER BY 1`,
      `SELECT typname, pg_type_is_visible(oid) AS visible, format_type(oid, NULL) AS name, shobj_description(oid, 'pg_type') AS about FROM pg_type ORDER BY 1`,
    ]) {
      const off = recordingOffloader()
      const moved = await over(`(${q})`, off, [])
      expect(off.requests, q).toHaveLength(1)
      expect(moved, q).toEqual(await over(`(${q})`, undefined, []))
      expect((moved as QueryResult).rows.length, q).toBeGreaterThan(0)
    }
  })

  for (const [schema, views] of Object.entries(OFFLOADABLE_SYSTEM_VIEWS)) {
    it(`every allow-listed view of ${schema} gives the rows computed here`, async () => {
      for (const name of views) {
        for (const setup of BY_ROLE.has(name) ? [[], ['SET ROLE viewer']] : [[]]) {
          const off = recordingOffloader()
          const moved = await over(`${schema}.${name}`, off, setup)
          expect(off.requests, name).toHaveLength(1)
          expect(moved, `${schema}.${name} ${setup.join()}`).toEqual(await over(`${schema}.${name}`, undefined, setup))
          if (FILLED.includes(name) && setup.length === 0) expect((moved as QueryResult).rows.length, name).toBeGreaterThan(0)
        }
      }
    }, 120_000)
  }
})
