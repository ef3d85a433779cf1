/**
 * PL/pgSQL loops (issue 15, docs/decisions/0039-pausable-plpgsql.md): how long a loop
 * runs, and the longest the event loop went without a turn meanwhile (a 1 ms ticker's
 * largest gap: what every other client of the node waits at most), on a Database whose
 * top-level PL/pgSQL pauses as a node's does (`pauseRunsAfterMs` 20), against the same
 * statements on PostgreSQL through node-postgres when CONCORD_PG_URL is set. Each
 * workload RUNS times, the two sides interleaved; medians, the load average beside them.
 * Nothing is asserted.
 *
 *   node --import tsx test/bench/plpgsql-bench.ts      (or `npm run bench -- plpgsql`;
 *   export "$(bash .ci/postgres.sh)" first for the PostgreSQL column)
 */
import pg from 'pg'
import { DEFAULT_PAUSE_RUNS_MS, openDatabase } from '@concord/sql-facade'
import { fmt, load1, median, printTable, ratio, timedWithGap } from './harness.js'

const RUNS = 3
const PG_URL = process.env.CONCORD_PG_URL
const SETUP = [
  'DROP TABLE IF EXISTS plb',
  'DROP FUNCTION IF EXISTS plb_spin(int)',
  'CREATE TABLE plb (id int PRIMARY KEY, v int)',
  'INSERT INTO plb SELECT g, g FROM generate_series(1, 1000) g',
  'CREATE FUNCTION plb_spin(n int) RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE x bigint := 0; BEGIN FOR i IN 1..n LOOP x := x + i; END LOOP; RETURN x; END $$',
]
const WORKLOADS: Array<[string, string]> = [
  ['DO: x := x + 1, 1,000,000 times', 'DO $$ DECLARE x bigint := 0; BEGIN FOR i IN 1..1000000 LOOP x := x + 1; END LOOP; END $$'],
  ['DO: IF i % 2 = 0 THEN x := x + i, 1,000,000 times', 'DO $$ DECLARE x bigint := 0; BEGIN FOR i IN 1..1000000 LOOP IF i % 2 = 0 THEN x := x + i; END IF; END LOOP; END $$'],
  ['SELECT plb_spin(1000000)', 'SELECT plb_spin(1000000)'],
  ['DO: SELECT v INTO x .. WHERE id = k, 20,000 times', 'DO $$ DECLARE x int; BEGIN FOR i IN 1..20000 LOOP SELECT v INTO x FROM plb WHERE id = (i % 1000) + 1; END LOOP; END $$'],
  ['DO: UPDATE .. WHERE id = k, 20,000 times', 'DO $$ BEGIN FOR i IN 1..20000 LOOP UPDATE plb SET v = v + 1 WHERE id = (i % 1000) + 1; END LOOP; END $$'],
]

const db = await openDatabase({ nodeId: 'plpgsql-bench' })
db.pauseRunsAfterMs = DEFAULT_PAUSE_RUNS_MS
const session = db.session()
for (const s of SETUP.slice(2)) await session.query(s)

let client: pg.Client | null = null
if (PG_URL) {
  client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  for (const s of SETUP) await client.query(s)
}

/** One run on Concord: its time and the event loop's longest gap meanwhile. */
function concord(sql: string): Promise<{ ms: number; gapMs: number }> {
  return timedWithGap(() => session.query(sql))
}

async function postgres(sql: string): Promise<number> {
  const t0 = performance.now()
  await client!.query(sql)
  return performance.now() - t0
}

const rows: Array<Array<string | number>> = [['workload', 'Concord ms', 'longest event-loop gap ms', 'PostgreSQL ms', 'Concord / PostgreSQL', 'load']]
for (const [name, sql] of WORKLOADS) {
  const ours: number[] = []
  const gaps: number[] = []
  const theirs: number[] = []
  const loads: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = await concord(sql)
    ours.push(r.ms)
    gaps.push(r.gapMs)
    if (client) theirs.push(await postgres(sql))
    loads.push(load1())
  }
  const pgMs = theirs.length ? median(theirs) : null
  rows.push([name, fmt(median(ours)), fmt(median(gaps)), pgMs === null ? '-' : fmt(pgMs, 1), pgMs === null ? '-' : ratio(median(ours), pgMs, 'time'), fmt(median(loads), 2)])
}
printTable(`PL/pgSQL loops, medians of ${RUNS} interleaved runs (pauses every ${DEFAULT_PAUSE_RUNS_MS} ms)`, rows)
if (!client) console.log('\n(PostgreSQL column skipped: set CONCORD_PG_URL, e.g. export "$(bash .ci/postgres.sh)")')
await client?.end()
await session.close()
await db.close()
