/**
 * `npm run bench:cluster` (issues 4 and 13): Concord nodes (`concord start` processes on
 * loopback, LMDB with durable commits, libp2p) against PostgreSQL 15 with logical
 * replication (instances started by this script as `.ci/postgres.sh` does, then fsync,
 * synchronous_commit and full_page_writes on), in the same run, through the same client
 * (node-postgres over TCP), on the same data:
 *
 * - point SELECT by primary key, qps: one client, POINT_QUERIES random keys of the ROWS-row table;
 * - GROUP BY over the ROWS rows, ms, and the CPU ms per query of the answering process
 *   (Concord: the node; PostgreSQL: the backend), from /proc; both reads are measured
 *   with the side at rest after the load (its servers idle: `atRest`), not while a node
 *   still checkpoints the rows just loaded; the point reads after a warm-up of a quarter
 *   of a run on each side;
 * - replication commit -> visible on a peer, p50/p99 ms: LATENCY_WRITES sequential
 *   single-row INSERTs (at most one per WRITE_INTERVAL_MS) on the writer; a reader on
 *   the peer polls the next id by primary key and notes when it first shows (after a
 *   warm-up run on each side, not recorded);
 * - replicated throughput, rows/s: THROUGHPUT_ROWS rows in 1000-row INSERTs on the
 *   writer, from the first INSERT until the peer shows the last row of every transaction
 *   (polled by primary key);
 * - a new node catches up ROWS rows, s: Concord: a new `concord start --join` process,
 *   timed from its spawn; PostgreSQL: a new instance (a copy of an initialised, stopped
 *   data directory: the copy is not timed), timed from `pg_ctl start`, then CREATE TABLE
 *   and CREATE SUBSCRIPTION .. WITH (copy_data = true). PostgreSQL until the last row
 *   shows and count(*) says ROWS; Concord until the node says it holds the table
 *   (`pg_stat_concord_shards.caught_up`) and then count(*) says ROWS. A Concord node
 *   not yet caught up answers a read from a holder (docs/placement.md), so the last row
 *   shows at once and each count(*) poll would fetch every row from the writer while
 *   the joiner takes them in: work of the poll, measured as catch-up;
 * - resident memory at ROWS rows: the writer, and the new node once caught up (Concord:
 *   the process's RSS; PostgreSQL: the sum of Pss over the postmaster and its children),
 *   each right after its work and again after BENCH_REST_MS without clients (what the
 *   process holds once V8's garbage of the work is collected); the writer also before its
 *   queries, at rest after the load (a query that runs past `offload_after` moves to a
 *   statement worker, whose engine keeps a copy of the table for `--offload-idle`: the
 *   readings after the queries hold it, this one does not);
 * - start to first query: empty (a new data directory, `SELECT 1`) and with ROWS rows
 *   (the caught-up new node stopped and started again, until its last row is read);
 * - the dependency floor ("raw Yjs" column, yjs-floor.ts): raw Yjs in bare Node processes
 *   on the same rows, for the writer's memory, the catch-up (over plain TCP), the empty
 *   start and the replicated throughput (a writer's transactions of 1,000 rows applied by
 *   a follower over plain TCP): what rows held as Yjs state in a Node process cost before Concord adds storage,
 *   libp2p, SQL and its books; with its own ratio to PostgreSQL.
 *
 * Each measure runs RUNS times, Concord and PostgreSQL alternating which goes first;
 * the table shows medians, the 1-minute load average at the end of each side's runs
 * (median), and the ratio; at the start and end, the machine's loopback round trip
 * (loopback-probe.ts), which the point reads and latency polls pay once per query.
 * Every loop is bounded in count and time. Nothing is asserted.
 *
 * Environment (all optional):
 *   BENCH_ROWS=100000            rows of the main table (1000000 for the issue's 1M-row figures)
 *   BENCH_RUNS=3                 repetitions of each measure
 *   BENCH_NODES=2                Concord nodes in the cluster (PostgreSQL: publisher + subscriber)
 *   BENCH_POINT_QUERIES=10000    point SELECTs per run (about a second: shorter runs measured the client's and the node's warm-up)
 *   BENCH_LATENCY_WRITES=300     single-row INSERTs per latency run
 *   BENCH_THROUGHPUT_ROWS=30000  rows per throughput run
 *   BENCH_THROUGHPUT_PAUSE_MS=0  a pause before each recorded throughput run (a bulk load in bursts:
 *                                what a node does while idle between them, such as giving its heap
 *                                back, shows in the next run's time and CPU)
 *   BENCH_REST_MS=10000          rest before the memory "at rest" readings (0: none)
 *   BENCH_PG_PORT                first of PostgreSQL's three ports (default: random in 55000-56999)
 *   BENCH_BUILT=1                run the built bundle (bin/concord.js; `npm run build` first) instead of the sources under tsx
 *   BENCH_NO_PG=1                Concord only
 *   BENCH_BASELINE_BIN=<another build's packages/node-server/bin/concord.js>
 *                                that build as one more side (its own cluster), interleaved with
 *                                the others, with a "Concord / baseline" column: a before/after in one run
 *   BENCH_MEASURES=catchup,start-empty,..  only these measures (point, groupby, shapes, catchup, start-empty,
 *                                latency, throughput; catchup includes the restart with rows and memory)
 *   BENCH_HIBERNATE_AFTER=10s    the Concord side's nodes run with `--hibernate-after 10s`, and one more
 *                                measure: the writer's memory once its table's shard is put away (waited for
 *                                in pg_stat_concord_shards.hibernated); the other sides' after twice that long idle
 *   BENCH_PROFILE=<dir>          every node of the Concord side runs under `node --cpu-prof`, each process
 *                                writing into <dir>/<node id>[-restart] when it stops: the joiners' profiles
 *                                are their catch-up; the writer's (bench1) and the follower's (bench2)
 *                                cover the whole run, so profile throughput with BENCH_MEASURES=throughput
 *                                and a small BENCH_ROWS
 *   BENCH_NODE_ARGS="--flag .."  node flags for the Concord side's processes only (not the baseline's):
 *                                a runtime setting tried against the same build as BENCH_BASELINE_BIN
 * Temporary directories go under $TMPDIR.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { ConcordProcess } from '../cluster/concord-process.js'
import { loopbackLine } from './loopback-probe.js'
import { fmt, load1, median, printTable } from './harness.js'
import { PostgresInstance, pgBinDir } from './postgres-instance.js'
import { pssTreeBytes, rssBytes } from './process-memory.js'
import { cpuSeconds, treeCpuTime } from './process-stat.js'
import { bareStart, startYjsHolder, yjsCatchUp, yjsThroughput } from './yjs-floor.js'

const env = process.env
const ROWS = Number(env['BENCH_ROWS'] ?? 100_000)
const RUNS = Number(env['BENCH_RUNS'] ?? 3)
/** Tables of the replication measures: the latency warm-up's, then each run's latency and throughput tables. */
const STREAMED = ['latw', 'thrw', ...Array.from({ length: RUNS }, (_, r) => [`lat${r}`, `thr${r}`]).flat()]
const NODES = Number(env['BENCH_NODES'] ?? 2)
const POINT_QUERIES = Number(env['BENCH_POINT_QUERIES'] ?? 10_000)
const LATENCY_WRITES = Number(env['BENCH_LATENCY_WRITES'] ?? 300)
const THROUGHPUT_ROWS = Number(env['BENCH_THROUGHPUT_ROWS'] ?? 30_000)
const THROUGHPUT_PAUSE_MS = Number(env['BENCH_THROUGHPUT_PAUSE_MS'] ?? 0)
const BUILT = env['BENCH_BUILT'] === '1'
const PG_PORT = Number(env['BENCH_PG_PORT'] ?? 55_000 + Math.floor(Math.random() * 2000))
const BASELINE_BIN = env['BENCH_BASELINE_BIN']
const PROFILE = env['BENCH_PROFILE']
const NODE_ARGS = (env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean)
const HIBERNATE_AFTER = env['BENCH_HIBERNATE_AFTER']
const MEASURES = env['BENCH_MEASURES'] === undefined ? null : new Set(env['BENCH_MEASURES'].split(','))
const runs = (measure: string): boolean => MEASURES === null || MEASURES.has(measure)
const BATCH = 1000
const GROUP_BY_QUERIES = 10
const WRITE_INTERVAL_MS = 10
const DEADLINE_MS = 600_000
const POLL_MS = 5
/** How long a process rests before its memory is read again "at rest" (a Concord node returns its heap after 2 s idle: --idle-heap-return). */
const REST_MS = Number(env['BENCH_REST_MS'] ?? 10_000)
const TABLE = '(id INT PRIMARY KEY, grp INT, body TEXT)'
const PAYLOAD = 'payload-0123456789-0123456789'
const MB = 1024 * 1024

function values(from: number, n: number): string {
  const out: string[] = []
  for (let i = from; i < from + n; i++) out.push(`(${i}, ${i % 10}, '${PAYLOAD}')`)
  return out.join(',')
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` every POLL_MS until it holds; throws after `ms`. Bounded in count and time. */
/** Milliseconds of a `--hibernate-after` value (a number with ms, s, m or h). */
function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim())
  if (m === null) throw new Error(`BENCH_HIBERNATE_AFTER: '${text}' is not a duration such as 10s`)
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
}

async function until(probe: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  let last: unknown
  for (let i = 0; i < ms / POLL_MS + 1 && Date.now() < deadline; i++) {
    try {
      if (await probe()) return
    } catch (err) {
      last = err // not there yet (a table the node has not heard of, a server still starting)
    }
    await sleep(POLL_MS)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
}

async function hasRow(c: pg.Client, table: string, id: number): Promise<boolean> {
  return (await c.query(`SELECT id FROM ${table} WHERE id = $1`, [id])).rowCount === 1
}

async function count(c: pg.Client, table: string): Promise<number> {
  return Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
}

/** The last row by primary key, then count(*) (once the last row shows, the count normally holds at once). */
async function complete(c: pg.Client, table: string, rows: number, deadlineMs: number): Promise<void> {
  await until(() => hasRow(c, table, rows), deadlineMs, `row ${rows} of ${table}`)
  await until(async () => (await count(c, table)) >= rows, deadlineMs, `${rows} rows in ${table}`)
}

/**
 * A Concord node holds every row of `table`: each of its shards caught up (the node's own
 * mark, read locally), then count(*), answered from its own copy.
 */
async function held(c: pg.Client, table: string, rows: number, deadlineMs: number): Promise<void> {
  const caughtUp = async (): Promise<boolean> =>
    (await c.query('SELECT bool_and(caught_up) AS done FROM pg_stat_concord_shards WHERE table_name = $1', [table])).rows[0]?.done === true
  await until(caughtUp, deadlineMs, `${table} caught up`)
  await until(async () => (await count(c, table)) >= rows, deadlineMs, `${rows} rows in ${table}`)
}

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const c = new pg.Client({ ...config, connectionTimeoutMillis: 5000 })
  c.on('error', () => {})
  await c.connect()
  return c
}

async function insertRows(c: pg.Client, table: string, rows: number): Promise<void> {
  for (let i = 1; i <= rows; i += BATCH) await c.query(`INSERT INTO ${table} (id, grp, body) VALUES ${values(i, Math.min(BATCH, rows - i + 1))}`)
}

// ---- the measures, the same code for both sides ------------------------------------------

/** Idle: the side's server processes used under 5% of a core in each half second .. */
const REST_CPU_SHARE = 0.05
/** .. for this many half seconds in a row (past a node's 2 s wait before it checkpoints rows). */
const REST_SPELLS = 6
/** Waits at most this long for a side to come to rest. */
const REST_DEADLINE_MS = 60_000

/** Waits until `side`'s servers idle (bounded; says how long it took, or that they did not). */
async function atRest(side: Side): Promise<void> {
  const t0 = performance.now()
  const busyMs = (): number => side.serverPids().reduce((n, pid) => {
    const t = treeCpuTime(pid)
    return n + (t === undefined ? 0 : t.user + t.system)
  }, 0)
  let quiet = 0
  for (let i = 0; i < REST_DEADLINE_MS / 500; i++) {
    const before = busyMs()
    await sleep(500)
    quiet = busyMs() - before < 500 * REST_CPU_SHARE ? quiet + 1 : 0
    if (quiet >= REST_SPELLS) {
      console.log(`${side.name}: at rest after ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${load1().toFixed(2)})`)
      return
    }
  }
  console.log(`${side.name}: still busy after ${REST_DEADLINE_MS / 1000} s; measuring anyway`)
}

async function pointQps(c: pg.Client, queries = POINT_QUERIES): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < queries; i++) {
    const id = 1 + Math.floor(Math.random() * ROWS)
    if (!(await hasRow(c, 'data', id))) throw new Error(`row ${id} missing`)
  }
  return queries / ((performance.now() - t0) / 1000)
}

/**
 * Query shapes a database is asked every day, wall ms (median of the run's queries, each
 * checked): ORDER BY the key LIMIT 10 (PostgreSQL walks its primary key's btree), ten
 * rows of a key range, ORDER BY another column LIMIT 10 (both sides read every row and
 * keep ten: PostgreSQL's top-N heapsort), and a scan whose WHERE keeps nothing.
 */
const SHAPES: Array<{ key: string; label: string; queries: number; sql: (i: number) => [string, unknown[]]; check: (rows: unknown[]) => boolean }> = [
  { key: 'shape-keyorder', label: 'ORDER BY key DESC LIMIT 10, ms', queries: 200, sql: () => ['SELECT id, body FROM data ORDER BY id DESC LIMIT 10', []], check: (r) => r.length === 10 },
  { key: 'shape-keyrange', label: 'key range of 10 rows (BETWEEN), ms', queries: 200, sql: (i) => ['SELECT id, body FROM data WHERE id BETWEEN $1 AND $2', [1 + ((i * 7919) % (ROWS - 10)), 10 + ((i * 7919) % (ROWS - 10))]], check: (r) => r.length === 10 },
  { key: 'shape-topn', label: 'ORDER BY another column LIMIT 10, ms', queries: 10, sql: () => ['SELECT id, body FROM data ORDER BY body DESC, id LIMIT 10', []], check: (r) => r.length === 10 },
  { key: 'shape-filter', label: 'a scan whose WHERE keeps no row, ms', queries: 10, sql: () => ['SELECT id, body FROM data WHERE grp = -1', []], check: (r) => r.length === 0 },
]

async function shapeMs(c: pg.Client, shape: (typeof SHAPES)[number]): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < shape.queries; i++) {
    const [sql, params] = shape.sql(i)
    const t0 = performance.now()
    const r = await c.query(sql, params)
    times.push(performance.now() - t0)
    if (!shape.check(r.rows)) throw new Error(`${shape.label}: ${r.rows.length} rows`)
  }
  return median(times)
}

/**
 * Wall ms per GROUP BY (median of the run's queries), and the CPU ms per query of the
 * process that answered (Concord's node, which also spends some on replication and
 * housekeeping meanwhile; PostgreSQL's backend): less bent by the machine's load than wall time.
 */
async function groupByMs(c: pg.Client, pid: number | null): Promise<{ ms: number; cpuMs: number | null }> {
  const times: number[] = []
  const cpu0 = pid === null ? null : cpuSeconds(pid)
  for (let i = 0; i < GROUP_BY_QUERIES; i++) {
    const t0 = performance.now()
    const r = await c.query('SELECT grp, count(*) AS n, sum(id) AS s FROM data GROUP BY grp')
    times.push(performance.now() - t0)
    if (r.rows.reduce((n: number, row: { n: string }) => n + Number(row.n), 0) !== ROWS) throw new Error('GROUP BY lost rows')
  }
  const cpu1 = pid === null ? null : cpuSeconds(pid)
  return { ms: median(times), cpuMs: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1000) / GROUP_BY_QUERIES }
}

/** Lags (ms) of LATENCY_WRITES sequential writes, seen by a reader polling the next id by key. */
async function latency(writer: pg.Client, reader: pg.Client, table: string): Promise<number[]> {
  const acked: number[] = []
  const seen: number[] = []
  const deadline = Date.now() + DEADLINE_MS
  let polls = 0
  const watch = (async (): Promise<void> => {
    for (let id = 1; id <= LATENCY_WRITES && Date.now() < deadline; id++) {
      for (let i = 0; Date.now() < deadline && i < 10_000_000; i++) {
        polls++
        if (await hasRow(reader, table, id)) break
      }
      seen[id] = performance.now()
    }
  })()
  for (let id = 1; id <= LATENCY_WRITES; id++) {
    const t0 = performance.now()
    await writer.query(`INSERT INTO ${table} (id, grp, body) VALUES ($1, 0, 'x')`, [id])
    acked[id] = performance.now()
    const wait = WRITE_INTERVAL_MS - (performance.now() - t0)
    if (wait > 0) await sleep(wait)
  }
  await watch
  if (seen.length <= LATENCY_WRITES) throw new Error(`${table}: not every write became visible`)
  console.log(`  ${table}: ${polls} polls, ${(polls / LATENCY_WRITES).toFixed(1)} per write`)
  const lags: number[] = []
  for (let id = 1; id <= LATENCY_WRITES; id++) lags.push(Math.max(0, seen[id]! - acked[id]!))
  return lags
}

async function throughput(writer: pg.Client, reader: pg.Client, table: string): Promise<number> {
  const t0 = performance.now()
  await insertRows(writer, table, THROUGHPUT_ROWS)
  for (let last = BATCH; last < THROUGHPUT_ROWS + BATCH; last += BATCH) {
    const id = Math.min(last, THROUGHPUT_ROWS)
    await until(() => hasRow(reader, table, id), DEADLINE_MS, `row ${id} of ${table} on the peer`)
  }
  return THROUGHPUT_ROWS / ((performance.now() - t0) / 1000)
}

interface CatchUp {
  seconds: number
  memory: number | null
  /** The new node's memory after REST_MS without clients (null with REST_MS 0). */
  restMemory: number | null
  restartSeconds: number
  /** CPU seconds of the new node until caught up, and of the restarted one until it answered (Concord only). */
  cpu?: number | null
  restartCpu?: number | null
}

interface Side {
  /** 'Concord', 'PostgreSQL', or 'baseline' (another Concord build). */
  name: string
  writer: pg.Client
  reader: pg.Client
  writerMemory(): number | null
  /** The writer's memory after `idleMs` without writes (Concord: once its `data` shard is put away). */
  idleMemory(idleMs: number): Promise<number | null>
  /** The process answering the writer connection: Concord's node, PostgreSQL's backend. */
  writerPid(): Promise<number | null>
  /** Concord's writer and follower processes (PostgreSQL: none; its work spreads over several). */
  nodePids(): { writer: number; follower: number } | null
  /** The server processes whose trees do the side's work (Concord's nodes; PostgreSQL's two postmasters). */
  serverPids(): number[]
  catchUp(run: number): Promise<CatchUp>
  startEmpty(run: number): Promise<number>
  close(): Promise<void>
}

// ---- Concord -------------------------------------------------------------------------------

async function concordSide(dir: string, name = 'Concord', bin?: string): Promise<Side> {
  const procs: ConcordProcess[] = []
  const profiled = PROFILE !== undefined && name === 'Concord'
  const start = (id: string, peers: string[], profileAs = id): Promise<ConcordProcess> =>
    ConcordProcess.start({
      dataDir: `${dir}/${id}`, nodeId: id, join: peers, built: BUILT, bin,
      extraArgs: ['--quiet', ...(HIBERNATE_AFTER !== undefined && name === 'Concord' ? ['--hibernate-after', HIBERNATE_AFTER] : [])],
      nodeArgs: [...(profiled ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE, profileAs)] : []), ...(name === 'Concord' ? NODE_ARGS : [])],
    })
  const first = await start('bench1', [])
  procs.push(first)
  for (let i = 2; i <= NODES; i++) procs.push(await start(`bench${i}`, [first.pgAddress]))
  const writer = await first.client()
  const reader = await procs[1]!.client()
  const clientOf = (p: ConcordProcess): Promise<pg.Client> => connect({ host: '127.0.0.1', port: p.pgPort, user: 'concord', database: 'concord' })
  return {
    name,
    writer,
    reader,
    writerMemory: () => rssBytes(first.child.pid!),
    async idleMemory(idleMs) {
      if (name !== 'Concord') await sleep(idleMs)
      else {
        const hibernated = async (): Promise<boolean> =>
          (await writer.query("SELECT bool_and(hibernated) AS h FROM pg_stat_concord_shards WHERE table_name = 'data'")).rows[0]?.h === true
        await until(hibernated, idleMs + 60_000, "the writer's data shard hibernated")
        await sleep(10_000) // the node's collections after it put the shard away, and the system, return the freed pages
      }
      return rssBytes(first.child.pid!)
    },
    writerPid: async () => first.child.pid ?? null,
    nodePids: () => ({ writer: first.child.pid!, follower: procs[1]!.child.pid! }),
    serverPids: () => procs.map((p) => p.child.pid!),
    async catchUp(run) {
      const id = `joiner${run}`
      const t0 = performance.now()
      let node = await start(id, [first.pgAddress])
      let c = await clientOf(node)
      try {
        await held(c, 'data', ROWS, DEADLINE_MS)
        const seconds = (performance.now() - t0) / 1000
        const memory = rssBytes(node.child.pid!)
        const cpu = cpuSeconds(node.child.pid!)
        const restMemory = REST_MS > 0 ? (await sleep(REST_MS), rssBytes(node.child.pid!)) : null
        const progress = node.log.split('\n').filter((l) => /catching up|caught up/.test(l))
        if (progress.length) console.log(`  ${id}'s log: ${progress.slice(-1)[0]}`)
        await c.end()
        await node.stop(60_000)
        const t1 = performance.now()
        node = await start(id, [first.pgAddress], `${id}-restart`)
        c = await clientOf(node)
        await until(() => hasRow(c, 'data', ROWS), DEADLINE_MS, 'the restarted node answering')
        return { seconds, memory, restMemory, restartSeconds: (performance.now() - t1) / 1000, cpu, restartCpu: cpuSeconds(node.child.pid!) }
      } finally {
        await c.end().catch(() => {})
        await node.stop(60_000)
      }
    },
    async startEmpty(run) {
      const t0 = performance.now()
      const node = await start(`empty${run}`, [])
      try {
        const c = await clientOf(node)
        await c.query('SELECT 1')
        await c.end()
        return (performance.now() - t0) / 1000
      } finally {
        await node.stop(60_000)
      }
    },
    async close() {
      await Promise.all([writer, reader].map((c) => c.end().catch(() => {})))
      await Promise.all(procs.map((p) => p.stop(60_000)))
    },
  }
}

// ---- PostgreSQL ----------------------------------------------------------------------------

async function postgresSide(dir: string, bin: string): Promise<Side> {
  const instances: PostgresInstance[] = []
  const pub = PostgresInstance.create(bin, PG_PORT, `${dir}/pgpub`, { logical: true })
  instances.push(pub)
  const sub = PostgresInstance.create(bin, PG_PORT + 1, `${dir}/pgsub`)
  instances.push(sub)
  // The new nodes of the catch-up runs are copies of this one, initialised and stopped.
  const template = PostgresInstance.create(bin, PG_PORT + 2, `${dir}/pgtemplate`)
  template.stop()
  const clientOf = (p: PostgresInstance): Promise<pg.Client> => connect({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres' })
  const writer = await clientOf(pub)
  const reader = await clientOf(sub)
  for (const t of STREAMED) {
    await writer.query(`CREATE TABLE ${t} ${TABLE}`)
    await reader.query(`CREATE TABLE ${t} ${TABLE}`)
  }
  await writer.query(`CREATE TABLE data ${TABLE}`)
  await writer.query(`CREATE PUBLICATION bench_stream FOR TABLE ${STREAMED.join(', ')}`)
  await writer.query('CREATE PUBLICATION bench_data FOR TABLE data')
  await reader.query(`CREATE SUBSCRIPTION bench_stream CONNECTION 'host=127.0.0.1 port=${pub.port} user=postgres dbname=postgres' PUBLICATION bench_stream`)
  // Streaming once a probe row crosses.
  await writer.query("INSERT INTO lat0 VALUES (0, 0, 'probe')")
  await until(() => hasRow(reader, 'lat0', 0), 60_000, 'the subscription streaming')
  /** Starts a stopped instance and polls a connection until it answers. */
  const startAndConnect = async (p: PostgresInstance): Promise<pg.Client> => {
    p.start(false)
    let c: pg.Client | undefined
    await until(async () => {
      c = await clientOf(p)
      return true
    }, 60_000, 'PostgreSQL accepting connections')
    return c!
  }
  return {
    name: 'PostgreSQL',
    writer,
    reader,
    writerMemory: () => pssTreeBytes(pub.pid() ?? -1),
    async idleMemory(idleMs) {
      await sleep(idleMs)
      return pssTreeBytes(pub.pid() ?? -1)
    },
    writerPid: async () => Number((await writer.query('SELECT pg_backend_pid() AS pid')).rows[0].pid),
    nodePids: () => null,
    serverPids: () => [pub.pid() ?? -1, sub.pid() ?? -1],
    async catchUp(run) {
      const p = PostgresInstance.copyOf(template, PG_PORT + 2, `${dir}/pgnew${run}`)
      const t0 = performance.now()
      let c = await startAndConnect(p)
      try {
        await c.query(`CREATE TABLE data ${TABLE}`)
        await c.query(`CREATE SUBSCRIPTION bench_new${run} CONNECTION 'host=127.0.0.1 port=${pub.port} user=postgres dbname=postgres' ` +
          'PUBLICATION bench_data WITH (copy_data = true)')
        await complete(c, 'data', ROWS, DEADLINE_MS)
        const seconds = (performance.now() - t0) / 1000
        const memory = pssTreeBytes(p.pid() ?? -1)
        const restMemory = REST_MS > 0 ? (await sleep(REST_MS), pssTreeBytes(p.pid() ?? -1)) : null
        await c.end()
        p.stop()
        const t1 = performance.now()
        c = await startAndConnect(p)
        await until(() => hasRow(c, 'data', ROWS), DEADLINE_MS, 'the restarted instance answering')
        const restartSeconds = (performance.now() - t1) / 1000
        await c.query(`DROP SUBSCRIPTION bench_new${run}`)
        return { seconds, memory, restMemory, restartSeconds }
      } finally {
        await c.end().catch(() => {})
        p.stop()
        rmSync(p.data, { recursive: true, force: true })
      }
    },
    async startEmpty(run) {
      const p = PostgresInstance.copyOf(template, PG_PORT + 2, `${dir}/pgempty${run}`)
      const t0 = performance.now()
      const c = await startAndConnect(p)
      try {
        await c.query('SELECT 1')
        return (performance.now() - t0) / 1000
      } finally {
        await c.end().catch(() => {})
        p.stop()
        rmSync(p.data, { recursive: true, force: true })
      }
    },
    async close() {
      await reader.query('DROP SUBSCRIPTION IF EXISTS bench_stream').catch(() => {})
      await Promise.all([writer, reader].map((c) => c.end().catch(() => {})))
      for (const p of instances) p.stop()
    },
  }
}

// ---- main ----------------------------------------------------------------------------------

interface Sample {
  value: number
  load: number
}

/** The dependency floor's pseudo-side (yjs-floor.ts). */
const FLOOR = 'raw Yjs'

const samples = new Map<string, Sample[]>()
function record(measure: string, side: Side | typeof FLOOR, value: number | null): void {
  if (value === null) return
  const key = `${measure}/${side === FLOOR ? FLOOR : side.name}`
  samples.set(key, [...(samples.get(key) ?? []), { value, load: load1() }])
}

/** Runs `measure` RUNS times on every side, alternating which side goes first. */
async function interleaved(sides: Side[], what: string, measure: (side: Side, run: number) => Promise<void>): Promise<void> {
  for (let run = 0; run < RUNS; run++) {
    for (const side of run % 2 === 0 ? sides : [...sides].reverse()) {
      await measure(side, run)
      console.log(`${what}, run ${run + 1}/${RUNS}, ${side.name} done (load ${load1().toFixed(2)})`)
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'concord-cluster-bench-'))
chmodSync(dir, 0o755) // PostgreSQL runs as its own user and creates its data directories here
const sides: Side[] = []
try {
  console.log(`cluster benchmark: ${ROWS.toLocaleString('en-US')} rows, ${RUNS} interleaved runs per measure, ${NODES} Concord nodes ` +
    `(from ${BUILT ? 'the built bundle' : 'the sources (tsx)'}); load average at start ${load1().toFixed(2)}`)
  console.log(await loopbackLine(load1()))
  sides.push(await concordSide(join(dir, 'concord')))
  if (BASELINE_BIN) {
    sides.push(await concordSide(join(dir, 'baseline'), 'baseline', BASELINE_BIN))
    console.log(`baseline: ${BASELINE_BIN}`)
  }
  const bin = pgBinDir()
  if (bin && env['BENCH_NO_PG'] !== '1') sides.push(await postgresSide(dir, bin))
  else console.log('PostgreSQL not installed (or BENCH_NO_PG=1): no baseline')
  for (const concord of sides.filter((s) => s.name !== 'PostgreSQL')) {
    for (const t of STREAMED) await concord.writer.query(`CREATE TABLE ${t} ${TABLE}`)
    await concord.writer.query(`CREATE TABLE data ${TABLE}`)
    await until(async () => (await count(concord.reader, `thr${RUNS - 1}`)) === 0, 60_000, 'the tables on the peer')
  }

  for (const side of sides) {
    const t0 = performance.now()
    await insertRows(side.writer, 'data', ROWS)
    record('load', side, ROWS / ((performance.now() - t0) / 1000))
    // Concord's peer applies the rows in the background: let it finish before measuring.
    if (side.name !== 'PostgreSQL') await complete(side.reader, 'data', ROWS, DEADLINE_MS)
    console.log(`${side.name}: ${ROWS.toLocaleString('en-US')} rows loaded (load ${load1().toFixed(2)})`)
  }
  // The reads are measured at rest: after a load a node checkpoints its rows once none
  // changed for 2 s (decision 33) and a peer settles its copy; PostgreSQL's processes
  // write and vacuum. Each side is waited for until its servers idle.
  if (runs('point') || runs('groupby') || runs('shapes')) {
    for (const side of sides) await atRest(side)
    for (const side of sides) record('rss-writer-loaded', side, side.writerMemory())
  }
  if (runs('point')) {
    // Warm-up, not recorded: the query's first runs on each side (plans, JIT, caches).
    for (const side of sides) await pointQps(side.writer, POINT_QUERIES / 4)
    await interleaved(sides, 'point SELECT', async (side) => record('point', side, await pointQps(side.writer)))
  }
  if (runs('groupby')) {
    await interleaved(sides, 'GROUP BY', async (side) => {
      const r = await groupByMs(side.writer, await side.writerPid())
      record('groupby', side, r.ms)
      record('groupby-cpu', side, r.cpuMs)
    })
  }
  if (runs('shapes')) {
    // Warm-up, not recorded.
    for (const side of sides) for (const shape of SHAPES) await shapeMs(side.writer, { ...shape, queries: Math.min(shape.queries, 20) })
    await interleaved(sides, 'query shapes', async (side) => {
      for (const shape of SHAPES) record(shape.key, side, await shapeMs(side.writer, shape))
    })
  }
  for (const side of sides) record('rss-writer', side, side.writerMemory())
  if (REST_MS > 0) {
    await sleep(REST_MS)
    for (const side of sides) record('rss-writer-rest', side, side.writerMemory())
  }
  if (HIBERNATE_AFTER !== undefined) {
    const idleMs = 2 * durationMs(HIBERNATE_AFTER)
    for (const side of sides) record('rss-idle', side, await side.idleMemory(idleMs))
  }
  if (runs('catchup')) {
    const holder = await startYjsHolder(ROWS, PAYLOAD)
    record('rss-writer', FLOOR, holder.rss)
    record('rss-writer-rest', FLOOR, holder.rss)
    try {
      for (let run = 0; run < RUNS; run++) {
        const r = await yjsCatchUp(holder, ROWS)
        console.log(`  ${FLOOR}: caught up in ${r.seconds.toFixed(2)} s, ${r.cpu.toFixed(2)} CPU s (load ${load1().toFixed(2)})`)
        record('catchup', FLOOR, r.seconds)
        record('catchup-cpu', FLOOR, r.cpu)
        record('rss-new', FLOOR, r.rss)
      }
    } finally {
      holder.stop()
    }
    await interleaved(sides, 'catch-up', async (side, run) => {
      const r = await side.catchUp(run)
      console.log(`  ${side.name}: caught up in ${r.seconds.toFixed(2)} s${r.cpu == null ? '' : `, ${r.cpu.toFixed(2)} CPU s`}`)
      record('catchup', side, r.seconds)
      record('catchup-cpu', side, r.cpu ?? null)
      record('rss-new', side, r.memory)
      record('rss-new-rest', side, r.restMemory)
      record('start-rows', side, r.restartSeconds)
      record('start-rows-cpu', side, r.restartCpu ?? null)
    })
  }
  if (runs('start-empty')) {
    await interleaved(sides, 'start empty', async (side, run) => record('start-empty', side, await side.startEmpty(run)))
    for (let run = 0; run < RUNS; run++) record('start-empty', FLOOR, await bareStart())
  }
  if (runs('latency')) {
    // Warm-up, not recorded: one run on each side. Right after the catch-up measure, the
    // peer's poll and apply paths ran cold (V8's first optimizations), and the first of
    // three runs measured that: 26-45 polls per write against 55-65 after (a third of a
    // run as the warm-up still left the first recorded run at 45).
    for (const side of sides) await latency(side.writer, side.reader, 'latw')
    await interleaved(sides, 'latency', async (side, run) => {
      const lags = await latency(side.writer, side.reader, `lat${run}`)
      record('p50', side, percentile(lags, 50))
      record('p99', side, percentile(lags, 99))
      console.log(`  ${side.name}: p50 ${percentile(lags, 50).toFixed(2)} ms, p99 ${percentile(lags, 99).toFixed(2)} ms, max ${Math.max(...lags).toFixed(1)} ms`)
    })
  }
  if (runs('throughput')) {
    // Warm-up, not recorded, as for the latency: on 2026-12-06 (night) the first of three
    // runs cost the writer 0.80-0.90 CPU s against 0.27-0.29 for the others (the bulk
    // INSERT's new shape and V8's optimizations of the write path), and the median of three
    // then depended on which of the other two the host slowed.
    for (const side of sides) await throughput(side.writer, side.reader, 'thrw')
    await interleaved(sides, 'throughput', async (side, run) => {
      if (THROUGHPUT_PAUSE_MS > 0) await sleep(THROUGHPUT_PAUSE_MS)
      const pids = side.nodePids()
      const before = pids && { writer: cpuSeconds(pids.writer), follower: cpuSeconds(pids.follower) }
      const rate = await throughput(side.writer, side.reader, `thr${run}`)
      record('throughput', side, rate)
      if (!pids || !before) return
      const used = (pid: number, from: number | null): number | null => {
        const now = cpuSeconds(pid)
        return now === null || from === null ? null : now - from
      }
      const writer = used(pids.writer, before.writer)
      const follower = used(pids.follower, before.follower)
      console.log(`  ${side.name}: ${Math.round(rate)} rows/s, CPU s writer ${writer?.toFixed(2) ?? '?'}, follower ${follower?.toFixed(2) ?? '?'}`)
      record('throughput-cpu-writer', side, writer)
      record('throughput-cpu-follower', side, follower)
    })
    for (let run = 0; run < RUNS; run++) {
      const r = await yjsThroughput(THROUGHPUT_ROWS, PAYLOAD)
      console.log(`  ${FLOOR}: ${Math.round(r.rowsPerSecond)} rows/s, CPU s writer ${r.writerCpu.toFixed(2)} (load ${load1().toFixed(2)})`)
      record('throughput', FLOOR, r.rowsPerSecond)
      record('throughput-cpu-writer', FLOOR, r.writerCpu)
    }
  }

  const n = ROWS.toLocaleString('en-US')
  const measures: Array<[string, string, number]> = [
    ['point', 'point SELECT by primary key, node-postgres, qps', 0],
    ['groupby', `GROUP BY over ${n} rows, ms`, 0],
    ['groupby-cpu', `  CPU ms per GROUP BY of the answering process`, 1],
    ...SHAPES.map((shape): [string, string, number] => [shape.key, shape.label.replace(', ms', ` over ${n} rows, ms`), 2]),
    ['p50', 'replication commit -> visible on a peer, p50 ms', 1],
    ['p99', 'replication commit -> visible on a peer, p99 ms', 1],
    ['throughput', `replicated throughput, ${BATCH}-row transactions, rows/s`, 0],
    ['throughput-cpu-writer', `  CPU seconds of the writer for the run's ${THROUGHPUT_ROWS.toLocaleString('en-US')} rows`, 2],
    ['throughput-cpu-follower', `  CPU seconds of the follower for them`, 2],
    ['catchup', `a new node catches up ${n} rows, s (from process start)`, 2],
    ['catchup-cpu', `  CPU seconds of the new node until caught up`, 2],
    ['rss-writer-loaded', `resident memory, writer holding ${n} rows, before the queries, MB`, 0],
    ['rss-writer', `resident memory, writer holding ${n} rows, MB`, 0],
    ['rss-writer-rest', `  the same after ${REST_MS / 1000} s without queries, MB`, 0],
    ['rss-new', `resident memory, new node after catch-up, MB`, 0],
    ['rss-new-rest', `  the same after ${REST_MS / 1000} s without clients, MB`, 0],
    ['rss-idle', `resident memory, writer holding ${n} rows once idle (--hibernate-after ${HIBERNATE_AFTER ?? '-'}), MB`, 0],
    ['start-empty', 'start to first query, empty, s', 2],
    ['start-rows', `start to first query, ${n} rows, s`, 2],
    ['start-rows-cpu', `  CPU seconds of that start`, 2],
    ['load', `loading ${n} rows on the writer, rows/s (once)`, 0],
  ]
  const withPg = sides.some((s) => s.name === 'PostgreSQL')
  const withBaseline = sides.some((s) => s.name === 'baseline')
  const withFloor = [...samples.keys()].some((k) => k.endsWith(`/${FLOOR}`))
  const rows: string[][] = [[
    'measure', 'Concord', 'load',
    ...(withBaseline ? ['baseline', 'load', 'Concord / baseline'] : []),
    ...(withPg ? ['PostgreSQL 15', 'load', 'Concord / PostgreSQL'] : []),
    ...(withFloor ? ['raw Yjs floor', 'Concord / raw Yjs', ...(withPg ? ['raw Yjs / PostgreSQL'] : [])] : []),
  ]]
  const medianOf = (key: string, scale: number): number | null => {
    const s = samples.get(key)
    return s ? median(s.map((x) => x.value)) * scale : null
  }
  const ratio = (a: number, b: number): string => (b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`)
  for (const [key, label, decimals] of measures) {
    const c = samples.get(`${key}/Concord`)
    if (!c) continue
    const scale = key.startsWith('rss') ? 1 / MB : 1
    const cv = medianOf(`${key}/Concord`, scale)!
    const cells = [`${label} (${c.length})`, fmt(cv, decimals), median(c.map((s) => s.load)).toFixed(2)]
    for (const other of [...(withBaseline ? ['baseline'] : []), ...(withPg ? ['PostgreSQL'] : [])]) {
      const p = samples.get(`${key}/${other}`)
      if (!p) {
        cells.push('', '', '')
        continue
      }
      const pv = medianOf(`${key}/${other}`, scale)!
      cells.push(fmt(pv, decimals), median(p.map((s) => s.load)).toFixed(2), ratio(cv, pv))
    }
    if (withFloor) {
      const fv = medianOf(`${key}/${FLOOR}`, scale)
      const pv = medianOf(`${key}/PostgreSQL`, scale)
      if (fv === null) cells.push('', '', ...(withPg ? [''] : []))
      else cells.push(fmt(fv, decimals), ratio(cv, fv), ...(withPg ? [pv === null ? '' : ratio(fv, pv)] : []))
    }
    rows.push(cells)
  }
  printTable(`Concord (${NODES} nodes)${withBaseline ? ' vs a baseline build' : ''} vs PostgreSQL 15 logical replication, both durable; medians (runs); load = median 1-minute load average`, rows)
  console.log(await loopbackLine(load1()))
} finally {
  for (const side of sides) await side.close().catch((err: unknown) => console.log(`closing ${side.name}: ${(err as Error).message}`))
  rmSync(dir, { recursive: true, force: true })
}
