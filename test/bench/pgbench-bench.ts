/**
 * `npm run bench:pgbench` (issue 13): PostgreSQL's own pgbench, unmodified, against a real
 * `concord start` node (LMDB, durable commits) and against PostgreSQL 15 started by this
 * script as `.ci/postgres.sh` does (then fsync, synchronous_commit and full_page_writes on),
 * in the same run, on the same machine, with the same client.
 *
 * `pgbench -i -s 1` loads both; then each built-in script runs once for WARMUP_SECONDS on
 * each side, not counted (printed as "warm-up"): a node's first transactions after its
 * start or a load run while V8 compiles the statement paths they take (on a 2-core host
 * the first 6-10 s of tpcb-like ran at ~0.6 of the later rate, V8's compiler threads busy
 * beside the loop: docs/benchmarks.md, "The first round after a load is V8's warm-up"),
 * which a server that has run for a while no longer pays, and PostgreSQL's first runs
 * fill its buffers and catalog caches. Then, for RUNS rounds, each script runs for
 * SECONDS on each side, the sides taking turns at going first, so drift in the machine's
 * load falls on both. Printed: every run's TPS with the 1-minute load average at its end,
 * then the medians side by side with their ratio. Nothing is asserted.
 *
 * For each server it also prints the CPU time it spent per transaction (user + system,
 * from /proc across the run; for PostgreSQL the postmaster, every process it runs and the
 * backends it reaped during the run; the kernel's share beside it): on a machine
 * shared with other jobs the node's TPS mostly follows the scheduler, while its CPU cost
 * per transaction moves much less, so that is the figure that resolves a change in the
 * node's own work (compare it between this build and BENCH_BASELINE_BIN's). At its start
 * and end it prints the machine's loopback round trip (loopback-probe.ts), which every
 * pgbench statement pays and which moved 3-7x on one machine in one day.
 *
 * After the runs, with pgbench's tables at rest: the CPU a server spends to make a one-row
 * change to a small table of its own (an INSERT into `checkpoint_probe`) part of its
 * checkpoint, beyond what a connection that changes nothing costs it. A Concord node checkpoints its rows by itself
 * once no row changed for 2 s (decision 33): measured over a window after the INSERT
 * against the same window after a `SELECT 1`, each after the node's cost bound on
 * checkpoints (20 times the last one's duration) has passed. PostgreSQL: `INSERT` then
 * `CHECKPOINT` against `SELECT 1`, from a checkpointed state. Resolution: the kernel's
 * 10 ms CPU tick.
 *
 * Environment (all optional):
 *   BENCH_RUNS=3         rounds (median over them)
 *   BENCH_SECONDS=10     length of each pgbench run (-T)
 *   BENCH_WARMUP_SECONDS=10  length of the uncounted first run of each script on each side (0: none)
 *   BENCH_CLIENTS=4      pgbench -c
 *   BENCH_SCRIPTS=select-only,tpcb-like,simple-update
 *   BENCH_MODE=simple    pgbench -M (simple, extended, prepared)
 *   BENCH_SCALE=1        pgbench -i -s
 *   BENCH_PG_PORT        PostgreSQL's port (default: a random one in 55000-56999)
 *   BENCH_BUILT=1        run the built bundle (bin/concord.js; `npm run build` first) instead of the sources under tsx
 *   BENCH_PROFILE=<dir>  after loading, restart the Concord node under `node --cpu-prof` writing into <dir>
 *   BENCH_NO_PG=1        Concord only
 *   BENCH_BASELINE_BIN=<another build's packages/node-server/bin/concord.js>
 *                        also run that build as a second Concord node, interleaved like the
 *                        others, with a "this build / baseline" column: a change measured
 *                        against the build before it, in the same run
 *   BENCH_CHECKPOINT_ROUNDS=3 rounds of the checkpoint measure below (0: none)
 *   BENCH_BASELINE_NODE_ARGS="<node flags>" with BENCH_BASELINE_BIN: flags for the baseline's
 *                        node process (e.g. a V8 heap setting measured against the default)
 *   BENCH_SAME_INSTANT=1 with BENCH_BASELINE_BIN: each round runs pgbench against this build's
 *                        node and the baseline's at the same time instead of one after the
 *                        other, so a change in the machine's load falls on both alike (on a
 *                        shared machine a round's CPU per transaction follows its TPS)
 * Temporary directories go under $TMPDIR.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { ConcordProcess } from '../cluster/concord-process.js'
import { loopbackLine } from './loopback-probe.js'
import { fmt, load1, median, printTable } from './harness.js'
import { PostgresInstance, pgBinDir, pgbenchPath } from './postgres-instance.js'
import { cpuTime, treeCpuTime, type CpuTime } from './process-stat.js'

const run = promisify(execFile)
const env = process.env
const RUNS = Number(env['BENCH_RUNS'] ?? 3)
const SECONDS = Number(env['BENCH_SECONDS'] ?? 10)
const WARMUP_SECONDS = Number(env['BENCH_WARMUP_SECONDS'] ?? SECONDS)
const CLIENTS = Number(env['BENCH_CLIENTS'] ?? 4)
const SCRIPTS = (env['BENCH_SCRIPTS'] ?? 'select-only,tpcb-like,simple-update').split(',')
const MODE = env['BENCH_MODE'] ?? 'simple'
const SCALE = Number(env['BENCH_SCALE'] ?? 1)
const PROFILE = env['BENCH_PROFILE']
const BASELINE_BIN = env['BENCH_BASELINE_BIN']
const BASELINE = 'baseline'
const BUILT = env['BENCH_BUILT'] === '1'
const SAME_INSTANT = env['BENCH_SAME_INSTANT'] === '1' && BASELINE_BIN !== undefined
const PG_PORT = Number(env['BENCH_PG_PORT'] ?? 55_000 + Math.floor(Math.random() * 2000))
const PGBENCH = pgbenchPath()

interface Side {
  name: string
  /** pgbench connection arguments. */
  conn: string[]
  /** The server's CPU time so far (Linux): its CPU time per transaction is measured. */
  cpu?: () => CpuTime | undefined
}

interface Run {
  tps: number
  load: number
  /** Server CPU per transaction, µs (Linux), and the kernel's part of it. */
  cpuUs?: number
  sysUs?: number
}

/** How long PostgreSQL is given to reap a run's backends before its CPU time is read. */
const REAP_WAIT_MS = 500
const CHECKPOINT_ROUNDS = Number(env['BENCH_CHECKPOINT_ROUNDS'] ?? 3)
/** A Concord node's checkpoint comes 2-4 s after the last change (its quiet time, checked every 2 s): the window after it. */
const CHECKPOINT_WINDOW_MS = 6000
/** Before each measure on a Concord node: the cost bound of the checkpoint before (20 times its duration, up to ~0.7 s after a run) passes. */
const CHECKPOINT_SETTLE_MS = 15_000

async function pgbench(side: Side, args: string[], timeoutMs: number): Promise<string> {
  const { stdout, stderr } = await run(PGBENCH!, [...side.conn, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })
  return stdout + stderr
}

async function init(side: Side): Promise<number> {
  const t0 = performance.now()
  const out = await pgbench(side, ['-i', '-s', String(SCALE)], 900_000)
  if (/error/i.test(out)) throw new Error(`${side.name}: pgbench -i failed:\n${out}`)
  return (performance.now() - t0) / 1000
}

async function once(side: Side, script: string, seconds = SECONDS): Promise<Run> {
  const cpu0 = side.cpu?.()
  const out = await pgbench(side, ['-b', script, '-M', MODE, '-c', String(CLIENTS), '-T', String(seconds)], (seconds + 300) * 1000)
  // The run's backends exit as pgbench disconnects: their time counts once the postmaster has reaped them.
  if (side.name === 'PostgreSQL') await sleep(REAP_WAIT_MS)
  const cpu1 = side.cpu?.()
  const tps = /tps = ([\d.]+)/.exec(out)
  const failed = /number of failed transactions: (\d+)/.exec(out)
  if (!tps || (failed && failed[1] !== '0')) throw new Error(`${side.name}: pgbench ${script} failed:\n${out}`)
  const done = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? 0)
  if (cpu0 === undefined || cpu1 === undefined || done === 0) return { tps: Number(tps[1]), load: load1() }
  const sysUs = ((cpu1.system - cpu0.system) * 1000) / done
  return { tps: Number(tps[1]), load: load1(), cpuUs: ((cpu1.user - cpu0.user) * 1000) / done + sysUs, sysUs }
}

async function psql(side: Side, statements: string[]): Promise<void> {
  await run('psql', [...side.conn, '-q', '-X', '-v', 'ON_ERROR_STOP=1', ...statements.flatMap((sql) => ['-c', sql])], { timeout: 120_000 })
}

function cpuMs(side: Side): number {
  const t = side.cpu?.()
  if (t === undefined) throw new Error(`${side.name}: its CPU time cannot be read`)
  return t.user + t.system
}

/** Server CPU ms spent after `statements` (a fresh psql connection) until `settleMs` later. */
async function cpuAfter(side: Side, statements: string[], settleMs: number): Promise<number> {
  const before = cpuMs(side)
  await psql(side, statements)
  await sleep(settleMs)
  return cpuMs(side) - before
}

/**
 * The CPU ms `side` spends to make a one-row change part of its checkpoint, beyond a
 * connection that changes nothing (see the header), median of CHECKPOINT_ROUNDS.
 */
async function checkpointCost(side: Side): Promise<number> {
  const costs: number[] = []
  await psql(side, ['CREATE TABLE checkpoint_probe (id int PRIMARY KEY, v int)'])
  for (let i = 0; i < CHECKPOINT_ROUNDS; i++) {
    const insert = `INSERT INTO checkpoint_probe VALUES (${i + 1}, ${i})`
    if (side.name === 'PostgreSQL') {
      await psql(side, ['CHECKPOINT'])
      const reference = await cpuAfter(side, ['SELECT 1'], REAP_WAIT_MS)
      costs.push((await cpuAfter(side, [insert, 'CHECKPOINT'], REAP_WAIT_MS)) - reference)
    } else {
      await sleep(CHECKPOINT_SETTLE_MS)
      const reference = await cpuAfter(side, ['SELECT 1'], CHECKPOINT_WINDOW_MS)
      costs.push((await cpuAfter(side, [insert], CHECKPOINT_WINDOW_MS)) - reference)
    }
  }
  return median(costs)
}

if (!PGBENCH) {
  console.log('pgbench is not installed (Debian: postgresql-client): nothing to measure')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'concord-pgbench-bench-'))
chmodSync(dir, 0o755) // PostgreSQL runs as its own user and creates its data directory here
let node: ConcordProcess | undefined
let baseline: ConcordProcess | undefined
let postgres: PostgresInstance | undefined
try {
  console.log(`pgbench benchmark: scale ${SCALE}, ${CLIENTS} clients, -M ${MODE}, ${SECONDS} s per run, ${RUNS} interleaved rounds; ` +
    `Concord from ${BUILT ? 'the built bundle' : 'the sources (tsx)'}${SAME_INSTANT ? '; this build and the baseline at the same instant' : ''}; load average at start ${load1().toFixed(2)}`)
  console.log(await loopbackLine(load1()))
  node = await ConcordProcess.start({ dataDir: join(dir, 'concord'), nodeId: 'pgbench', built: BUILT, extraArgs: ['--quiet'] })
  const concord: Side = { name: 'Concord', conn: ['-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', 'concord'], cpu: () => cpuTime(node?.child.pid) }
  const sides: Side[] = [concord]
  if (BASELINE_BIN) {
    const nodeArgs = (env['BENCH_BASELINE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '')
    baseline = await ConcordProcess.start({ dataDir: join(dir, 'baseline'), nodeId: 'pgbench-baseline', bin: BASELINE_BIN, extraArgs: ['--quiet'], nodeArgs })
    sides.push({ name: BASELINE, conn: ['-h', '127.0.0.1', '-p', String(baseline.pgPort), '-U', 'concord', 'concord'], cpu: () => cpuTime(baseline?.child.pid) })
    console.log(`baseline: ${BASELINE_BIN}${nodeArgs.length > 0 ? ` (node ${nodeArgs.join(' ')})` : ''}`)
  }
  const bin = pgBinDir()
  if (bin && env['BENCH_NO_PG'] !== '1') {
    postgres = PostgresInstance.create(bin, PG_PORT, join(dir, 'postgres'))
    await run('psql', [postgres.url('postgres'), '-q', '-c', 'CREATE DATABASE pgbench'])
    const pg = postgres
    sides.push({ name: 'PostgreSQL', conn: ['-h', '127.0.0.1', '-p', String(PG_PORT), '-U', 'postgres', 'pgbench'], cpu: () => {
      const pid = pg.pid()
      return pid === null ? undefined : treeCpuTime(pid)
    } })
  } else {
    console.log('PostgreSQL not installed (or BENCH_NO_PG=1): no baseline')
  }

  const initSeconds = new Map<string, number>()
  for (const side of sides) {
    initSeconds.set(side.name, await init(side))
    console.log(`${side.name}: pgbench -i -s ${SCALE} in ${initSeconds.get(side.name)!.toFixed(1)} s (load ${load1().toFixed(2)})`)
  }
  if (PROFILE) {
    await node.stop(60_000)
    node = await ConcordProcess.start({
      dataDir: join(dir, 'concord'), nodeId: 'pgbench', built: BUILT, extraArgs: ['--quiet'], nodeArgs: ['--cpu-prof', '--cpu-prof-dir', PROFILE],
    })
    concord.conn[3] = String(node.pgPort)
    console.log(`Concord restarted under the CPU profiler (profile written to ${PROFILE} when it stops)`)
  }

  if (WARMUP_SECONDS > 0) {
    for (const script of SCRIPTS) {
      for (const side of sides) {
        const r = await once(side, script, WARMUP_SECONDS)
        const cpu = r.cpuUs === undefined ? '' : `, server CPU ${fmt(r.cpuUs)} µs per transaction`
        console.log(`warm-up ${script.padEnd(13)} ${side.name.padEnd(10)} ${fmt(r.tps).padStart(7)} tps (load ${r.load.toFixed(2)}${cpu}; not counted)`)
      }
    }
  }

  const runs = new Map<string, Run[]>()
  for (let round = 0; round < RUNS; round++) {
    for (const script of SCRIPTS) {
      // Each round another side goes first; with SAME_INSTANT the two Concord builds run together.
      const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)]
      const steps: Side[][] = SAME_INSTANT
        ? [sides.filter((x) => x.name !== 'PostgreSQL'), ...sides.filter((x) => x.name === 'PostgreSQL').map((x) => [x])]
        : order.map((x) => [x])
      for (const step of steps) {
        const results = await Promise.all(step.map((side) => once(side, script)))
        step.forEach((side, i) => {
          const r = results[i]!
          const key = `${script}/${side.name}`
          runs.set(key, [...(runs.get(key) ?? []), r])
          const cpu = r.cpuUs === undefined ? '' : `, server CPU ${fmt(r.cpuUs)} µs per transaction (system ${fmt(r.sysUs!)})`
          console.log(`round ${round + 1}/${RUNS} ${script.padEnd(13)} ${side.name.padEnd(10)} ${fmt(r.tps).padStart(7)} tps (load ${r.load.toFixed(2)}${cpu})`)
        })
      }
    }
  }

  const header = ['measure']
  for (const side of sides) header.push(side.name === 'PostgreSQL' ? 'PostgreSQL 15' : side.name, 'load')
  const withPg = sides.some((x) => x.name === 'PostgreSQL')
  if (withPg) header.push('Concord / PostgreSQL')
  if (BASELINE_BIN) header.push('Concord / baseline', 'per round: median (range)')
  const rows: string[][] = [header]
  const tps = (script: string, side: string): number | undefined => {
    const r = runs.get(`${script}/${side}`)
    return r ? median(r.map((x) => x.tps)) : undefined
  }
  for (const script of SCRIPTS) {
    const cells = [`pgbench ${script} TPS, ${CLIENTS} clients (median of ${RUNS})`]
    for (const side of sides) cells.push(fmt(tps(script, side.name)!), median(runs.get(`${script}/${side.name}`)!.map((r) => r.load)).toFixed(2))
    const ct = tps(script, 'Concord')!
    if (withPg) cells.push(`${(ct / tps(script, 'PostgreSQL')!).toFixed(2)}x`)
    if (BASELINE_BIN) {
      // Paired by round: the two builds ran back to back, so a change in the machine's load hits both.
      const c = runs.get(`${script}/Concord`)!
      const b = runs.get(`${script}/${BASELINE}`)!
      const perRound = c.map((r, i) => r.tps / b[i]!.tps)
      cells.push(`${(ct / tps(script, BASELINE)!).toFixed(2)}x`,
        `${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`)
    }
    rows.push(cells)
  }
  // Server CPU per transaction: the load-robust figure for a change in a server's own work,
  // and on a small machine shared with pgbench what bounds the TPS of a server that keeps
  // one core busy (a Concord node's event loop).
  const cpu = (script: string, side: string, of: 'cpuUs' | 'sysUs' = 'cpuUs'): number | undefined => {
    const r = (runs.get(`${script}/${side}`) ?? []).flatMap((x) => (x[of] === undefined ? [] : [x[of]]))
    return r.length > 0 ? median(r) : undefined
  }
  for (const script of SCRIPTS) {
    if (cpu(script, 'Concord') === undefined) continue
    for (const of of ['cpuUs', 'sysUs'] as const) {
      const cells = [of === 'cpuUs' ? `server CPU per ${script} transaction, µs (median of ${RUNS})` : '  of it in the kernel (system time), µs']
      for (const side of sides) {
        const c = cpu(script, side.name, of)
        cells.push(c === undefined ? '' : fmt(c), '')
      }
      const pg = cpu(script, 'PostgreSQL', of)
      if (withPg) cells.push(pg === undefined ? '' : `${(cpu(script, 'Concord', of)! / pg).toFixed(2)}x`)
      if (BASELINE_BIN) {
        const c = runs.get(`${script}/Concord`)!
        const b = runs.get(`${script}/${BASELINE}`)!
        // Below 1: this build spends less CPU per transaction than the baseline.
        const perRound = c.flatMap((r, i) => (r[of] !== undefined && b[i]?.[of] !== undefined ? [r[of] / b[i]![of]!] : []))
        const base = cpu(script, BASELINE, of)
        cells.push(base === undefined ? '' : `${(cpu(script, 'Concord', of)! / base).toFixed(2)}x`,
          perRound.length ? `${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})` : '')
      }
      rows.push(cells)
    }
  }
  if (CHECKPOINT_ROUNDS > 0 && sides.every((side) => side.cpu?.() !== undefined)) {
    const costs = new Map<string, number>()
    for (const side of sides) costs.set(side.name, await checkpointCost(side))
    const cells = [`server CPU to checkpoint a one-row change to a small table, pgbench's tables at rest, ms (median of ${CHECKPOINT_ROUNDS})`]
    // Below the kernel's 10 ms CPU tick: shown as such, and no ratio against it.
    for (const side of sides) cells.push(costs.get(side.name)! < 10 ? '< 10' : fmt(costs.get(side.name)!), '')
    const ratio = (other: string): string => (costs.get(other)! >= 10 && costs.get('Concord')! >= 10 ? `${(costs.get('Concord')! / costs.get(other)!).toFixed(2)}x` : '')
    if (withPg) cells.push(ratio('PostgreSQL'))
    if (BASELINE_BIN) cells.push(ratio(BASELINE), '')
    rows.push(cells)
  }
  const initRow = [`pgbench -i -s ${SCALE}, s (once)`]
  for (const side of sides) initRow.push(initSeconds.get(side.name)!.toFixed(1), '')
  if (withPg) initRow.push(`${(initSeconds.get('Concord')! / initSeconds.get('PostgreSQL')!).toFixed(2)}x`)
  if (BASELINE_BIN) initRow.push(`${(initSeconds.get('Concord')! / initSeconds.get(BASELINE)!).toFixed(2)}x`, '')
  rows.push(initRow)
  printTable(`pgbench, Concord node vs PostgreSQL 15, both durable (load = median 1-minute load average at the end of the runs)`, rows)
  console.log(await loopbackLine(load1()))
} finally {
  await node?.stop(60_000)
  await baseline?.stop(60_000)
  postgres?.stop()
  rmSync(dir, { recursive: true, force: true })
}
