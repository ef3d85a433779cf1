/**
 * `npm run bench -- live` (issue 19): how long after a write a follower hears of it.
 *
 * - In process: `db.live` over a 10,000-row table: a point lookup and an indexed filter,
 *   beside IDLE_QUERIES point lookups of other rows (which a write to row 1 must not
 *   re-run). Latency: from calling `db.query('UPDATE ..')` to the live callback; beside
 *   it, the UPDATE's own acknowledgement (in-memory storage).
 * - Over the wire: two `concord start` processes on loopback (LMDB, durable commits);
 *   node-postgres clients LISTEN concord_changes_items on the writing node and on its
 *   peer. Latency: from sending the UPDATE to the JSON notification. Baseline in the same
 *   run: PostgreSQL 15 (CONCORD_PG_URL, from `.ci/postgres.sh`) with the usual way to
 *   follow a table there, an AFTER ROW trigger calling pg_notify with the row as JSON.
 *
 * Each write waits for its notifications before the next (sequential, WRITES of them,
 * WRITE_INTERVAL_MS apart); medians and p95. Nothing is asserted.
 *
 * Environment: BENCH_WRITES=200, BENCH_LIVE_WIRE=0 (in process only), BENCH_BUILT=1 (built bundle), CONCORD_PG_URL (else no
 * PostgreSQL column).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase } from '@concord/sql-facade'
import { ConcordProcess } from '../cluster/concord-process.js'
import { fmt, load1, median, printTable } from './harness.js'

const WRITES = Number(process.env.BENCH_WRITES ?? 200)
const ROWS = 10_000
const IDLE_QUERIES = 100
const WRITE_INTERVAL_MS = 5
/** Bound on waiting for one notification. */
const WAIT_MS = 10_000

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves when `check` holds (polled on each turn), bounded by WAIT_MS. */
function waitFor(check: () => boolean, what = 'a notification'): Promise<void> {
  const deadline = performance.now() + WAIT_MS
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve()
      else if (performance.now() > deadline) reject(new Error(`timed out waiting for ${what}`))
      else setImmediate(poll)
    }
    poll()
  })
}

async function inProcess(): Promise<Array<Array<string | number>>> {
  const db = await openDatabase({ nodeId: 'bench' })
  await db.query('CREATE TABLE items (id INT PRIMARY KEY, v INT)')
  await db.query('CREATE INDEX items_v ON items (v)')
  await db.query(`INSERT INTO items SELECT g, g FROM generate_series(1, ${ROWS}) g`)
  const stops: Array<() => void> = []
  for (let i = 0; i < IDLE_QUERIES; i++) stops.push(await db.live('SELECT v FROM items WHERE id = $1', [ROWS - i], () => {}))
  let pointSeen = -1
  let rangeSeen = -1
  let pointAt = 0
  let rangeAt = 0
  stops.push(await db.live('SELECT v FROM items WHERE id = 1', [], (rows) => {
    pointSeen = Number(rows[0]!.v)
    pointAt = performance.now()
  }))
  // v of row 1 moves in and out of the range: every write changes the count.
  stops.push(await db.live('SELECT count(*) AS n FROM items WHERE v < 0', [], (rows) => {
    rangeSeen = Number(rows[0]!.n)
    rangeAt = performance.now()
  }))
  // Filters over the whole table (10,000 rows shown): kept row by row (plain columns), and
  // run whole (an expression in the targets makes it so; live/incremental-result.ts).
  let rowSeen = Number.NaN
  let rowAt = 0
  stops.push(await db.live('SELECT id, v FROM items WHERE v <> 0 ORDER BY id', [], (rows) => {
    rowSeen = Number(rows[0]!.v)
    rowAt = performance.now()
  }))
  const point: number[] = []
  const range: number[] = []
  const kept: number[] = []
  const whole: number[] = []
  const ack: number[] = []
  for (let i = 1; i <= WRITES; i++) {
    const v = i % 2 === 0 ? i : -i
    const t0 = performance.now()
    await db.query('UPDATE items SET v = $1 WHERE id = 1', [v])
    ack.push(performance.now() - t0)
    await waitFor(() => pointSeen === v && rangeSeen === (v < 0 ? 1 : 0) && rowSeen === v)
    point.push(pointAt - t0)
    range.push(rangeAt - t0)
    kept.push(rowAt - t0)
  }
  // The same filter run whole, in a second round of its own: a whole run of 10,000 rows
  // holds the thread, and would delay every other callback of the round.
  for (const s of stops) s()
  stops.length = 0
  let wholeSeen = Number.NaN
  let wholeAt = 0
  stops.push(await db.live('SELECT id, v + 0 AS v FROM items WHERE v <> 0 ORDER BY id', [], (rows) => {
    wholeSeen = Number(rows[0]!.v)
    wholeAt = performance.now()
  }))
  for (let i = 1; i <= WRITES; i++) {
    const v = i % 2 === 0 ? i : -i
    const t0 = performance.now()
    await db.query('UPDATE items SET v = $1 WHERE id = 1', [v])
    await waitFor(() => wholeSeen === v)
    whole.push(wholeAt - t0)
  }
  for (const s of stops) s()
  await db.close()
  return [
    ['in process (10,000 rows, 100 idle live queries)', 'p50 ms', 'p95 ms'],
    ['UPDATE acknowledged (in-memory storage)', fmt(median(ack), 2), fmt(p95(ack), 2)],
    ['live point lookup called back', fmt(median(point), 2), fmt(p95(point), 2)],
    ['live indexed filter (count) called back', fmt(median(range), 2), fmt(p95(range), 2)],
    ['live filter, 10,000 rows shown, kept row by row', fmt(median(kept), 2), fmt(p95(kept), 2)],
    ['live filter, 10,000 rows shown, run whole', fmt(median(whole), 2), fmt(p95(whole), 2)],
  ]
}

interface Follower {
  latest: number
  at: number
}

function follow(c: pg.Client, channel: string, rowValue: (payload: unknown) => number | null): Follower {
  const f: Follower = { latest: Number.NaN, at: 0 }
  c.on('notification', (n) => {
    if (n.channel !== channel) return
    const v = rowValue(JSON.parse(n.payload ?? 'null'))
    if (v !== null) {
      f.latest = v
      f.at = performance.now()
    }
  })
  return f
}

async function measureWire(writer: pg.Client, followers: Follower[], update: string): Promise<number[][]> {
  const out = followers.map(() => [] as number[])
  for (let i = 1; i <= WRITES; i++) {
    const t0 = performance.now()
    // A value no row holds yet: an UPDATE that changes nothing is no change to follow.
    await writer.query(update, [-i])
    await waitFor(() => followers.every((f) => f.latest === -i), `write ${i}: followers saw ${followers.map((f) => f.latest).join(', ')}`)
    followers.forEach((f, k) => out[k]!.push(f.at - t0))
    await sleep(WRITE_INTERVAL_MS)
  }
  return out
}

async function overTheWire(): Promise<Array<Array<string | number>>> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-live-bench-'))
  const built = process.env.BENCH_BUILT === '1'
  const nodes: ConcordProcess[] = []
  const clients: pg.Client[] = []
  try {
    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'livea', built })
    nodes.push(a)
    const b = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'liveb', join: [a.pgAddress], built })
    nodes.push(b)
    await a.query('CREATE TABLE items (id INT PRIMARY KEY, v INT)')
    await a.query(`INSERT INTO items SELECT g, g FROM generate_series(1, ${ROWS}) g`)
    for (let i = 0; i < 600; i++) {
      const n = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM items').then((r) => r.rows[0]!.n, () => 0)
      if (n === ROWS) break
      await sleep(100)
    }
    const writer = await a.client()
    const onA = await a.client()
    const onB = await b.client()
    clients.push(writer, onA, onB)
    const value = (p: unknown) => {
      const row = (p as { row?: { id?: number; v?: number } | null }).row
      return row?.id === 1 && typeof row.v === 'number' ? row.v : null
    }
    const fa = follow(onA, 'concord_changes_items', value)
    const fb = follow(onB, 'concord_changes_items', value)
    await onA.query('LISTEN concord_changes_items')
    await onB.query('LISTEN concord_changes_items')
    const [same, peer] = await measureWire(writer, [fa, fb], 'UPDATE items SET v = $1 WHERE id = 1')
    const rows: Array<Array<string | number>> = [['over the wire (node-postgres, LMDB)', 'p50 ms', 'p95 ms', 'PostgreSQL p50 ms', 'ratio p50']]
    const pgSame = await postgresBaseline()
    rows.push(['notification on the writing node', fmt(median(same!), 2), fmt(p95(same!), 2), pgSame === null ? 'n/a' : fmt(median(pgSame), 2), pgSame === null ? '' : `${(median(same!) / median(pgSame)).toFixed(2)}x`])
    rows.push(['notification on its peer', fmt(median(peer!), 2), fmt(p95(peer!), 2), '', ''])
    return rows
  } finally {
    for (const c of clients) await c.end().catch(() => {})
    await Promise.all(nodes.map((n) => n.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** PostgreSQL 15: an AFTER ROW trigger sends the row as JSON with pg_notify; same measure. */
async function postgresBaseline(): Promise<number[] | null> {
  const url = process.env.CONCORD_PG_URL
  if (!url) return null
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query('DROP DATABASE IF EXISTS concord_live_bench')
  await admin.query('CREATE DATABASE concord_live_bench')
  const dbUrl = new URL(url)
  dbUrl.pathname = '/concord_live_bench'
  const writer = new pg.Client({ connectionString: dbUrl.toString() })
  const listener = new pg.Client({ connectionString: dbUrl.toString() })
  await writer.connect()
  await listener.connect()
  try {
    await writer.query('CREATE TABLE items (id INT PRIMARY KEY, v INT)')
    await writer.query(`INSERT INTO items SELECT g, g FROM generate_series(1, ${ROWS}) g`)
    await writer.query(`CREATE FUNCTION items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('items_changes', json_build_object('op', lower(TG_OP), 'row', row_to_json(NEW))::text);
        RETURN NEW;
      END $$`)
    await writer.query('CREATE TRIGGER items_changed AFTER INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_changed()')
    const f = follow(listener, 'items_changes', (p) => {
      const row = (p as { row?: { id?: number; v?: number } }).row
      return row?.id === 1 && typeof row.v === 'number' ? row.v : null
    })
    await listener.query('LISTEN items_changes')
    const [lat] = await measureWire(writer, [f], 'UPDATE items SET v = $1 WHERE id = 1')
    return lat!
  } finally {
    await writer.end()
    await listener.end()
    await admin.query('DROP DATABASE IF EXISTS concord_live_bench')
    await admin.end()
  }
}

const local = await inProcess()
printTable(`Live query latency, ${WRITES} sequential writes, load ${load1().toFixed(2)}`, local)
// BENCH_LIVE_WIRE=0: the in-process table only.
if (process.env.BENCH_LIVE_WIRE === '0') process.exit(0)
const wire = await overTheWire()
printTable(`Table change notifications, ${WRITES} sequential writes, load ${load1().toFixed(2)}`, wire)
