/**
 * `npm run bench:cluster`: Concord's replication between real processes on loopback,
 * and PostgreSQL logical replication between two local instances in the same run.
 *
 * Figures (each for Concord and, where PostgreSQL is installed, for PostgreSQL):
 * - latency: commit acknowledged on one node -> row visible on the others, p50/p99 over
 *   LATENCY_WRITES sequential single-row INSERTs (observers poll for new ids);
 * - throughput: BATCH-row INSERTs of THROUGHPUT_ROWS rows on one node, rows/s until the
 *   last row is visible on every other node;
 * - cold catch-up: a fresh node (Concord: a fourth process joining; PostgreSQL: a new
 *   subscription with copy_data) onto CATCHUP_ROWS rows, seconds until all are there.
 * Every loop is bounded in count and time. Options: --quick (smaller sizes), --no-pg.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { ConcordProcess, until } from '../cluster/concord-process.js'
import { printTable } from './harness.js'

const quick = process.argv.includes('--quick')
const LATENCY_WRITES = quick ? 200 : 1000
const THROUGHPUT_ROWS = quick ? 5_000 : 20_000
const CATCHUP_ROWS = quick ? 20_000 : 100_000
const BATCH = 500
const WRITE_INTERVAL_MS = 10
const DEADLINE_MS = 180_000

interface Figures {
  p50: number
  p99: number
  rowsPerSec: number
  catchUpSec: number
  note?: string
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

function values(from: number, n: number, payload: string): string {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(`(${from + i}, '${payload}')`)
  return out.join(',')
}

/**
 * Sequential single-row writes, one every WRITE_INTERVAL_MS at most (so readers keep up
 * and the figure is replication, not a reader's backlog); each reader polls for ids above
 * the last it saw and notes when each first shows. Poll time bounds the resolution.
 */
async function latency(writer: pg.Client, readers: pg.Client[], table: string): Promise<number[]> {
  const acked = new Map<number, number>()
  const seen = readers.map(() => new Map<number, number>())
  const deadline = Date.now() + DEADLINE_MS
  let polls = 0
  const started = performance.now()
  const watch = readers.map(async (r, k) => {
    let last = 0
    for (let i = 0; i < 10_000_000 && last < LATENCY_WRITES && Date.now() < deadline; i++) {
      polls++
      const res = await r.query(`SELECT id FROM ${table} WHERE id > ${last}`)
      const now = performance.now()
      for (const row of res.rows as Array<{ id: number }>) {
        const id = Number(row.id)
        if (!seen[k]!.has(id)) seen[k]!.set(id, now)
        if (id > last) last = id
      }
    }
  })
  for (let id = 1; id <= LATENCY_WRITES; id++) {
    const t0 = performance.now()
    await writer.query(`INSERT INTO ${table} (id, body) VALUES ($1, 'x')`, [id])
    acked.set(id, performance.now())
    const wait = WRITE_INTERVAL_MS - (performance.now() - t0)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  await Promise.all(watch)
  console.log(`${table}: ${LATENCY_WRITES} writes, ${polls} polls by ${readers.length} reader(s), ${(((performance.now() - started) * readers.length) / polls).toFixed(2)} ms per poll`)
  const lags: number[] = []
  for (const s of seen) for (const [id, t] of s) lags.push(Math.max(0, t - acked.get(id)!))
  return lags
}

async function countIs(c: pg.Client, table: string, n: number): Promise<boolean> {
  return Number((await c.query(`SELECT count(*) AS c FROM ${table}`)).rows[0].c) >= n
}

async function throughput(writer: pg.Client, readers: pg.Client[], table: string, rows: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < rows; i += BATCH) await writer.query(`INSERT INTO ${table} (id, body) VALUES ${values(i + 1, Math.min(BATCH, rows - i), 'payload-0123456789')}`)
  for (const r of readers) await until(() => countIs(r, table, rows), DEADLINE_MS, `${rows} rows replicated`, 20)
  return rows / ((performance.now() - t0) / 1000)
}

// ---- Concord ---------------------------------------------------------------------------

async function concord(dir: string): Promise<Figures> {
  const procs: ConcordProcess[] = []
  const clients: pg.Client[] = []
  try {
    const a = await ConcordProcess.start({ dataDir: join(dir, 'n1'), nodeId: 'bench1', extraArgs: ['--quiet'] })
    procs.push(a)
    procs.push(...(await Promise.all(['bench2', 'bench3'].map((id) => ConcordProcess.start({ dataDir: join(dir, id), nodeId: id, join: [a.pgAddress], extraArgs: ['--quiet'] })))))
    const [w, r1, r2] = await Promise.all(procs.map((p) => p.client()))
    clients.push(w!, r1!, r2!)
    for (const t of ['lat', 'thr', 'cold']) await w!.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, body TEXT)`)
    for (const r of [r1!, r2!]) await until(() => countIs(r, 'cold', 0), 30_000, 'tables on every node')

    const lags = await latency(w!, [r1!, r2!], 'lat')
    const rowsPerSec = await throughput(w!, [r1!, r2!], 'thr', THROUGHPUT_ROWS)

    for (let i = 0; i < CATCHUP_ROWS; i += 1000) await w!.query(`INSERT INTO cold (id, body) VALUES ${values(i + 1, Math.min(1000, CATCHUP_ROWS - i), 'payload-0123456789')}`)
    const t0 = performance.now()
    const fourth = await ConcordProcess.start({ dataDir: join(dir, 'n4'), nodeId: 'bench4', join: [a.pgAddress] })
    procs.push(fourth)
    const started = performance.now()
    const c4 = await fourth.client()
    clients.push(c4)
    await until(async () => (await c4.query("SELECT count(*) AS c FROM cold").catch(() => ({ rows: [{ c: 0 }] }))).rows[0].c >= CATCHUP_ROWS, DEADLINE_MS, 'cold catch-up', 50)
    const catchUpSec = (performance.now() - started) / 1000
    const progress = fourth.log.split('\n').filter((l) => /catching up|caught up/.test(l))
    if (progress.length) console.log(`fourth node's log:\n  ${progress.slice(-3).join('\n  ')}`)
    return { p50: percentile(lags, 50), p99: percentile(lags, 99), rowsPerSec, catchUpSec, note: `process start ${((started - t0) / 1000).toFixed(1)} s not included` }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    await Promise.all(procs.map((p) => p.stop()))
  }
}

// ---- PostgreSQL ------------------------------------------------------------------------

const PG_SCRIPT = fileURLToPath(new URL('../../.ci/postgres.sh', import.meta.url))

function pgBinDir(): string | null {
  if (!existsSync('/usr/lib/postgresql')) return null
  for (const v of readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))) {
    const d = `/usr/lib/postgresql/${v}/bin`
    if (existsSync(`${d}/postgres`)) return d
  }
  return null
}

function asOwner(cmd: string[]): void {
  const root = process.getuid?.() === 0
  execFileSync(root ? 'runuser' : cmd[0]!, root ? ['-u', 'postgres', '--', ...cmd] : cmd.slice(1), { stdio: 'ignore', cwd: '/' })
}

/** A throwaway instance with logical replication and durable commits (fsync on, like Concord's acks). */
function pgInstance(bin: string, port: number, data: string): string {
  execFileSync('bash', [PG_SCRIPT], { env: { ...process.env, CONCORD_PG_PORT: String(port), CONCORD_PG_DATA: data }, stdio: ['ignore', 'pipe', 'ignore'] })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  execFileSync('psql', [url, '-q', '-c', 'ALTER SYSTEM SET wal_level = logical', '-c', 'ALTER SYSTEM SET fsync = on', '-c', 'ALTER SYSTEM SET synchronous_commit = on', '-c', 'ALTER SYSTEM SET max_wal_senders = 10'], { stdio: 'ignore' })
  asOwner([`${bin}/pg_ctl`, '-D', data, '-w', '-t', '60', 'restart', '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`])
  return url
}

async function postgres(dir: string): Promise<Figures | null> {
  const bin = pgBinDir()
  if (!bin || process.argv.includes('--no-pg')) return null
  const base = 55_000 + Math.floor(Math.random() * 2000)
  const dataPub = join(dir, 'pgpub')
  const dataSub = join(dir, 'pgsub')
  const clients: pg.Client[] = []
  try {
    const pubUrl = pgInstance(bin, base, dataPub)
    const subUrl = pgInstance(bin, base + 1, dataSub)
    const pub = new pg.Client(pubUrl)
    const sub = new pg.Client(subUrl)
    clients.push(pub, sub)
    await pub.connect()
    await sub.connect()
    for (const t of ['lat', 'thr', 'cold']) {
      await pub.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, body TEXT)`)
      await sub.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, body TEXT)`)
    }
    await pub.query('CREATE PUBLICATION bench_pub FOR TABLE lat, thr')
    await pub.query('CREATE PUBLICATION bench_cold FOR TABLE cold')
    await sub.query(`CREATE SUBSCRIPTION bench_sub CONNECTION 'host=127.0.0.1 port=${base} user=postgres dbname=postgres' PUBLICATION bench_pub`)
    // Wait until the initial (empty) table sync is done and changes stream.
    await pub.query("INSERT INTO thr VALUES (0, 'probe')")
    await until(() => countIs(sub, 'thr', 1), 60_000, 'subscription streaming', 50)
    await pub.query('DELETE FROM thr')
    await until(async () => !(await countIs(sub, 'thr', 1)), 60_000, 'probe deleted', 50)

    const lags = await latency(pub, [sub], 'lat')
    const rowsPerSec = await throughput(pub, [sub], 'thr', THROUGHPUT_ROWS)
    for (let i = 0; i < CATCHUP_ROWS; i += 1000) await pub.query(`INSERT INTO cold (id, body) VALUES ${values(i + 1, Math.min(1000, CATCHUP_ROWS - i), 'payload-0123456789')}`)
    const t0 = performance.now()
    await sub.query(`CREATE SUBSCRIPTION bench_cold_sub CONNECTION 'host=127.0.0.1 port=${base} user=postgres dbname=postgres' PUBLICATION bench_cold WITH (copy_data = true)`)
    await until(() => countIs(sub, 'cold', CATCHUP_ROWS), DEADLINE_MS, 'PostgreSQL cold copy', 50)
    const catchUpSec = (performance.now() - t0) / 1000
    await sub.query('DROP SUBSCRIPTION bench_cold_sub')
    await sub.query('DROP SUBSCRIPTION bench_sub')
    return { p50: percentile(lags, 50), p99: percentile(lags, 99), rowsPerSec, catchUpSec }
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    for (const d of [dataPub, dataSub]) {
      try {
        asOwner([`${bin}/pg_ctl`, '-D', d, '-m', 'immediate', 'stop'])
      } catch {
        // not running
      }
    }
  }
}

// ---- main ------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'concord-cluster-bench-'))
chmodSync(dir, 0o755) // PostgreSQL runs as its own user and creates its data directories here
try {
  console.log(`cluster benchmark: ${LATENCY_WRITES} latency writes, ${THROUGHPUT_ROWS.toLocaleString('en-US')} rows in ${BATCH}-row INSERTs, cold catch-up onto ${CATCHUP_ROWS.toLocaleString('en-US')} rows`)
  const c = await concord(dir)
  const p = await postgres(dir).catch((err: unknown) => {
    console.log(`PostgreSQL baseline failed: ${(err as Error).message}`)
    return null
  })
  const fmt = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
  const rows: Array<Array<string>> = [['figure', 'Concord (3 processes)', ...(p ? ['PostgreSQL logical replication (2 instances)', 'Concord / PostgreSQL'] : [])]]
  const line = (name: string, cv: number, pv: number | undefined, d: number): void => {
    rows.push([name, fmt(cv, d), ...(p && pv !== undefined ? [fmt(pv, d), pv === 0 ? 'n/a' : `${(cv / pv).toFixed(2)}x`] : [])])
  }
  line('latency p50, ms (commit -> visible)', c.p50, p?.p50, 1)
  line('latency p99, ms', c.p99, p?.p99, 1)
  line(`replicated throughput, rows/s (${BATCH}-row INSERTs)`, c.rowsPerSec, p?.rowsPerSec, 0)
  line(`cold catch-up of ${CATCHUP_ROWS.toLocaleString('en-US')} rows, s`, c.catchUpSec, p?.catchUpSec, 2)
  printTable('Replication on loopback', rows)
  if (c.note) console.log(`Concord catch-up: ${c.note}.`)
  if (!p) console.log('PostgreSQL not installed (or --no-pg): no baseline.')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
