/**
 * `npm run bench:startup` (issue 13): start to first query, Concord against PostgreSQL 15
 * in the same run, on the same rows:
 *
 * - empty: a new data directory (Concord) / a new initialised instance (PostgreSQL, its
 *   directory copied before the clock starts), spawn until `SELECT 1` answers;
 * - with ROWS rows, after a clean stop: spawn until the last row answers by primary key
 *   (Concord after SIGTERM, so it starts from its row snapshot; PostgreSQL after a fast
 *   shutdown);
 * - with ROWS rows, after a crash (Concord killed with SIGKILL right after its first
 *   answer, PostgreSQL with an immediate shutdown): nothing was written since the last
 *   row snapshot, which names the log positions it resolves and so still serves
 *   (decision 0033; before it, every shard was loaded from its Yjs records);
 * - Concord only: after a write and a crash at once (one UPDATE acknowledged, then
 *   SIGKILL): the snapshot is older than the log by one record, applied on top of it;
 * - Concord only: after a write, a quiet pause and a crash (SIGKILL once the node logged
 *   its row checkpoint, or after QUIET_WAIT_MS when it never does: a baseline build).
 *
 * One `concord start` node (LMDB, libp2p on 127.0.0.1) against one PostgreSQL instance
 * (fsync on); both loaded once through psql's \copy. Each measure runs RUNS times, the
 * sides taking turns at going first; the table shows medians, the CPU seconds of the
 * Concord process until its first answer, the median 1-minute load average, and the ratio.
 * Every loop is bounded. Nothing is asserted.
 *
 * Environment (all optional):
 *   BENCH_ROWS=1000000   rows of the table (id INT PRIMARY KEY, grp INT, body TEXT)
 *   BENCH_RUNS=3         repetitions of each measure
 *   BENCH_PG_PORT        PostgreSQL's first of two ports (default: random in 55000-56999)
 *   BENCH_BUILT=1        run the built bundle (`npm run build` first), as users do
 *   BENCH_NO_PG=1        Concord only
 *   BENCH_BASELINE_BIN=<another build's packages/node-server/bin/concord.js>
 *                        also run that build, on a copy of the same loaded data directory,
 *                        interleaved like the others (a before/after in one run)
 *   BENCH_MEASURES       comma-separated subset of empty,clean,crash,written,quiet
 * Temporary directories go under $TMPDIR.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { ConcordProcess } from '../cluster/concord-process.js'
import { fmt, load1, median, printTable } from './harness.js'
import { PostgresInstance, pgBinDir } from './postgres-instance.js'
import { cpuSeconds } from './process-stat.js'

const env = process.env
const ROWS = Number(env['BENCH_ROWS'] ?? 1_000_000)
const RUNS = Number(env['BENCH_RUNS'] ?? 3)
const BUILT = env['BENCH_BUILT'] === '1'
const PG_PORT = Number(env['BENCH_PG_PORT'] ?? 55_000 + Math.floor(Math.random() * 2000))
const TABLE = '(id INT PRIMARY KEY, grp INT, body TEXT)'
const DEADLINE_MS = 900_000
const POLL_MS = 20
const BASELINE_BIN = env['BENCH_BASELINE_BIN']
const MEASURES = new Set((env['BENCH_MEASURES'] ?? 'empty,clean,crash,written,quiet').split(','))
/** Longest wait for a node's row checkpoint before the 'quiet' crash. */
const QUIET_WAIT_MS = 30_000

const BASELINE = 'baseline'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Polls `query` on a new connection every POLL_MS until it answers `want`; bounded in time. */
async function firstAnswer(config: pg.ClientConfig, query: string, want: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS
  for (let i = 0; Date.now() < deadline && i < DEADLINE_MS / POLL_MS; i++) {
    const c = new pg.Client({ ...config, connectionTimeoutMillis: 30_000 })
    try {
      await c.connect()
      const r = await c.query(query)
      if (String(Object.values(r.rows[0] ?? {})[0]) === want) return
    } catch {
      // not up yet
    } finally {
      await c.end().catch(() => {})
    }
    await sleep(POLL_MS)
  }
  throw new Error(`no answer to ${query} within ${DEADLINE_MS} ms`)
}

interface Figures {
  seconds: number
  cpu: number | null
}

interface Side {
  name: string
  empty(run: number): Promise<Figures>
  withRows(how: Ending): Promise<Figures>
  close(): Promise<void>
}

/** How the run before a start ended: SIGTERM; SIGKILL at once; a write then SIGKILL; a write, a checkpoint, then SIGKILL. */
type Ending = 'clean' | 'crash' | 'written' | 'quiet'

const lastRow = `SELECT id FROM data WHERE id = ${ROWS}`
/** Rows per COPY: one COPY is one transaction, which Concord holds in memory until it commits. */
const COPY_ROWS = 50_000

/** psql arguments copying the chunk files `csv`.0, `csv`.1, .. into `data`. */
function copies(csv: string): string[] {
  const out: string[] = []
  for (let i = 0; i * COPY_ROWS < ROWS; i++) out.push('-c', `\\copy data FROM '${csv}.${i}' CSV`)
  return out
}

/** Loads ROWS rows into a new data directory with this build; stopped cleanly. */
async function loadConcord(dataDir: string, csv: string): Promise<void> {
  const loader = await ConcordProcess.start({ dataDir, nodeId: 'rows', built: BUILT })
  execFileSync('psql', [`postgres://concord@127.0.0.1:${loader.pgPort}/concord`, '-q', '-c', `CREATE TABLE data ${TABLE}`, ...copies(csv)])
  await loader.stop(DEADLINE_MS)
}

/** Ends a run with rows as `how` says (see Ending). */
async function endRun(node: ConcordProcess, how: Ending): Promise<void> {
  if (how === 'clean') {
    await node.stop(DEADLINE_MS)
    return
  }
  if (how !== 'crash') {
    execFileSync('psql', [`postgres://concord@127.0.0.1:${node.pgPort}/concord`, '-q', '-c', 'UPDATE data SET grp = grp + 1 WHERE id = 1'])
  }
  if (how === 'quiet') {
    const before = (node.log.match(/rows checkpointed/g) ?? []).length
    for (let i = 0; i < QUIET_WAIT_MS / 100 && (node.log.match(/rows checkpointed/g) ?? []).length === before; i++) await sleep(100)
  }
  await node.kill9()
}

async function concordSide(name: string, dataDir: string, bin: string | undefined): Promise<Side> {
  const start = (data: string, id: string): Promise<ConcordProcess> =>
    ConcordProcess.start({ dataDir: data, nodeId: id, built: BUILT, ...(bin !== undefined ? { bin } : {}) })
  // The first start after loading pays for nothing the measured ones would not.
  let stopped: Ending = 'clean'
  const timed = async (data: string, id: string, query: string, want: string): Promise<{ node: ConcordProcess } & Figures> => {
    const t0 = performance.now()
    const node = await start(data, id)
    await firstAnswer({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' }, query, want)
    return { node, seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds(node.child.pid!) }
  }
  return {
    name,
    async empty(run) {
      const { node, seconds, cpu } = await timed(join(dir, `concord-empty${run}`), `empty${run}`, 'SELECT 1', '1')
      await node.stop(DEADLINE_MS)
      return { seconds, cpu }
    },
    async withRows(how) {
      // A start after a crash must follow a crash: stop the previous run that way.
      if (how !== stopped) {
        const prep = await timed(dataDir, 'rows', lastRow, String(ROWS))
        await endRun(prep.node, how)
        stopped = how
      }
      const { node, seconds, cpu } = await timed(dataDir, 'rows', lastRow, String(ROWS))
      await endRun(node, how)
      return { seconds, cpu }
    },
    async close() {},
  }
}

async function postgresSide(dir: string, bin: string, csv: string): Promise<Side> {
  const rows = PostgresInstance.create(bin, PG_PORT, `${dir}/pgrows`)
  execFileSync('psql', [rows.url('postgres'), '-q', '-c', `CREATE TABLE data ${TABLE}`, ...copies(csv), '-c', 'CHECKPOINT'])
  rows.stop()
  const template = PostgresInstance.create(bin, PG_PORT + 1, `${dir}/pgtemplate`)
  template.stop()
  const config = (p: PostgresInstance): pg.ClientConfig => ({ host: '127.0.0.1', port: p.port, user: 'postgres', database: 'postgres' })
  const timed = async (p: PostgresInstance, query: string, want: string): Promise<Figures> => {
    const t0 = performance.now()
    p.start(false)
    await firstAnswer(config(p), query, want)
    return { seconds: (performance.now() - t0) / 1000, cpu: null }
  }
  return {
    name: 'PostgreSQL',
    async empty(run) {
      const p = PostgresInstance.copyOf(template, PG_PORT + 1, `${dir}/pgempty${run}`)
      const f = await timed(p, 'SELECT 1', '1')
      p.stop()
      return f
    },
    async withRows(how) {
      const f = await timed(rows, lastRow, String(ROWS))
      if (how !== 'clean') {
        // An immediate shutdown: the next start recovers from the WAL, as after a crash.
        execFileSync('runuser', ['-u', 'postgres', '--', `${bin}/pg_ctl`, '-D', rows.data, '-m', 'immediate', 'stop'], { stdio: 'ignore' })
        rows.stop()
      } else {
        rows.stop()
      }
      return f
    },
    async close() {
      rows.stop()
    },
  }
}

const dir = mkdtempSync(join(tmpdir(), 'concord-startup-bench-'))
chmodSync(dir, 0o755)
const csv = join(dir, 'rows.csv')
const figures = new Map<string, Map<string, { seconds: number[]; cpu: number[]; load: number[] }>>()
const record = (measure: string, side: string, f: Figures): void => {
  const bySide = figures.get(measure) ?? new Map()
  figures.set(measure, bySide)
  const e = bySide.get(side) ?? { seconds: [], cpu: [], load: [] }
  bySide.set(side, e)
  e.seconds.push(f.seconds)
  if (f.cpu !== null) e.cpu.push(f.cpu)
  e.load.push(load1())
}
const sides: Side[] = []
try {
  console.log(`start-up benchmark: ${ROWS.toLocaleString('en-US')} rows, ${RUNS} interleaved runs; load average at start ${load1().toFixed(2)}`)
  for (let chunk = 0; chunk * COPY_ROWS < ROWS; chunk++) {
    const lines: string[] = []
    for (let i = chunk * COPY_ROWS + 1; i <= Math.min(ROWS, (chunk + 1) * COPY_ROWS); i++) lines.push(`${i},${i % 10},payload-0123456789-0123456789`)
    writeFileSync(`${csv}.${chunk}`, lines.join('\n') + '\n')
    chmodSync(`${csv}.${chunk}`, 0o644)
  }
  await loadConcord(join(dir, 'concord-rows'), csv)
  sides.push(await concordSide('Concord', join(dir, 'concord-rows'), undefined))
  if (BASELINE_BIN !== undefined) {
    // The same rows for the baseline: a copy of the directory, which it loads in its own way.
    cpSync(join(dir, 'concord-rows'), join(dir, 'baseline-rows'), { recursive: true })
    sides.push(await concordSide(BASELINE, join(dir, 'baseline-rows'), BASELINE_BIN))
  }
  console.log(`Concord: ${ROWS.toLocaleString('en-US')} rows loaded (load ${load1().toFixed(2)})`)
  const bin = pgBinDir()
  if (bin && env['BENCH_NO_PG'] !== '1') sides.push(await postgresSide(dir, bin, csv))
  for (const [measure, run] of [
    ['empty', (s: Side, r: number) => s.empty(r)],
    ['clean', (s: Side) => s.withRows('clean')],
    ['crash', (s: Side) => s.withRows('crash')],
    ['written', (s: Side) => s.withRows('written')],
    ['quiet', (s: Side) => s.withRows('quiet')],
  ] as const) {
    if (!MEASURES.has(measure)) continue
    for (let r = 0; r < RUNS; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        // PostgreSQL has no counterpart of the Concord-only measures.
        if (side.name === 'PostgreSQL' && (measure === 'written' || measure === 'quiet')) continue
        record(measure, side.name, await run(side, r))
        console.log(`${measure}, run ${r + 1}/${RUNS}, ${side.name} done (load ${load1().toFixed(2)})`)
      }
    }
  }
  const n = ROWS.toLocaleString('en-US')
  const names: Array<[string, string]> = [['empty', 'start to first query, empty, s'], ['clean', `start to first query, ${n} rows, after a clean stop, s`],
    ['crash', `start to first query, ${n} rows, after a crash, s`], ['written', `start to first query, ${n} rows, after a write and a crash, s`],
    ['quiet', `start to first query, ${n} rows, after a write, a quiet pause and a crash, s`]]
  const base = BASELINE_BIN !== undefined
  const rows: Array<Array<string | number>> = [['measure', 'Concord', 'CPU s', 'load', ...(base ? ['baseline', 'CPU s', 'load'] : []), 'PostgreSQL 15', 'load', 'Concord / PostgreSQL']]
  for (const [m, label] of names) {
    const c = figures.get(m)?.get('Concord')
    const b = figures.get(m)?.get(BASELINE)
    const p = figures.get(m)?.get('PostgreSQL')
    if (c === undefined) continue
    const cs = median(c.seconds)
    const baseCells = !base ? [] : b === undefined ? ['', '', ''] : [fmt(median(b.seconds), 2), b.cpu.length ? fmt(median(b.cpu), 2) : '', fmt(median(b.load), 2)]
    rows.push([`${label} (${c.seconds.length})`, fmt(cs, 2), c.cpu.length ? fmt(median(c.cpu), 2) : '', fmt(median(c.load), 2), ...baseCells,
      p ? fmt(median(p.seconds), 2) : '', p ? fmt(median(p.load), 2) : '', p ? `${fmt(cs / median(p.seconds), 1)}x` : ''])
  }
  printTable('Start to first query (medians)', rows)
} finally {
  for (const s of sides) await s.close().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
