/**
 * Per-node CPU and memory of a local cluster (issue 20), as `npm run cluster` starts it:
 *
 *   npm run build
 *   NODE_OPTIONS=--conditions=@concord/source npx tsx test/bench/cluster-resources.ts
 *
 * Starts `concord cluster --nodes N` (the built bin), waits until a row written on the
 * first node shows on every node, then measures every node process from Linux's /proc:
 * CPU (user + system time over the window, in % of one core) and resident memory, first
 * idle, then while one client per node inserts rows at a fixed rate, and the time until
 * every node holds every row once the load stops. Prints one table; asserts nothing.
 * Every wait is bounded; the cluster is stopped (SIGINT, as Ctrl-C) and its data removed
 * at the end, whatever happened.
 *
 * Environment (all optional):
 *   NODES=10          nodes in the cluster
 *   PG_PORT=43500     PostgreSQL port of the first node (the others take the next free ones)
 *   IDLE_S=20         idle window, seconds
 *   LOAD_S=30         load window, seconds
 *   RATE=20           rows per second each node's client inserts during the load
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { fmt, load1, printTable } from './harness.js'
import { rssBytes } from './process-memory.js'
import { childPids, cpuSeconds } from './process-stat.js'

const env = process.env
const NODES = Number(env['NODES'] ?? 10)
const PG_PORT = Number(env['PG_PORT'] ?? 43500)
const IDLE_S = Number(env['IDLE_S'] ?? 20)
const LOAD_S = Number(env['LOAD_S'] ?? 30)
const RATE = Number(env['RATE'] ?? 20)
const BIN = fileURLToPath(new URL('../../packages/node-server/bin/concord.js', import.meta.url))

interface Node {
  name: string
  port: number
  pid: number
  client: pg.Client
}

/** The node processes `concord cluster` (pid `parent`) started, by data directory. */
function nodePids(parent: number, dataDir: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const pid of childPids(parent)) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      const at = args.indexOf('--data-dir')
      if (at >= 0 && args[at + 1]!.startsWith(dataDir)) out.set(args[at + 1]!.slice(dataDir.length + 1), pid)
    } catch {
      // exited while we read
    }
  }
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits until `test` holds, checking every 200 ms, for at most `limitMs`; returns the ms it took. */
async function waitFor(what: string, limitMs: number, test: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  for (let i = 0; Date.now() - start < limitMs && i < limitMs / 100; i++) {
    if (await test()) return Date.now() - start
    await sleep(200)
  }
  throw new Error(`${what}: not within ${limitMs / 1000} s`)
}

/** CPU % of one core and RSS (peak over the window, MB) of every node over `seconds`, while `during` runs. */
async function measure(nodes: Node[], seconds: number, during: () => Promise<void>): Promise<Array<{ cpu: number; rss: number }>> {
  const t0 = Date.now()
  const cpu0 = nodes.map((n) => cpuSeconds(n.pid)!)
  const peak = nodes.map(() => 0)
  let done = false
  const sampler = (async () => {
    while (!done) {
      nodes.forEach((n, i) => (peak[i] = Math.max(peak[i]!, rssBytes(n.pid) ?? 0)))
      await sleep(1000)
    }
  })()
  await Promise.all([during(), sleep(seconds * 1000)])
  done = true
  await sampler
  const secs = (Date.now() - t0) / 1000
  return nodes.map((n, i) => ({ cpu: ((cpuSeconds(n.pid)! - cpu0[i]!) / secs) * 100, rss: peak[i]! / 1e6 }))
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-resources-'))
  const cluster = spawn(process.execPath, [BIN, 'cluster', '--nodes', String(NODES), '--data-dir', dataDir, '--pg-port', String(PG_PORT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  cluster.stdout.on('data', (d: Buffer) => (out += d.toString()))
  // The cluster's own lines (not the nodes' prefixed logs) say why it stopped.
  cluster.stderr.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line !== '' && !line.startsWith('[node')) err += line + '\n'
  })
  const exited = new Promise<void>((r) => cluster.once('exit', () => r()))
  const nodes: Node[] = []
  try {
    const startedAt = Date.now()
    await waitFor('the cluster starting', 1_200_000, async () => out.includes('Ctrl-C stops all nodes') || cluster.exitCode !== null)
    if (cluster.exitCode !== null) throw new Error(`concord cluster exited: ${err}`)
    const startS = (Date.now() - startedAt) / 1000
    const pids = nodePids(cluster.pid!, dataDir)
    for (const m of out.matchAll(/(node\d+): psql -h \S+ -p (\d+)/g)) {
      const client = new pg.Client({ host: '127.0.0.1', port: Number(m[2]), user: 'concord', database: 'concord' })
      await client.connect()
      nodes.push({ name: m[1]!, port: Number(m[2]), pid: pids.get(m[1]!) ?? 0, client })
    }
    if (nodes.length !== NODES || nodes.some((n) => n.pid === 0)) throw new Error(`found ${nodes.length} nodes, pids ${[...pids]}`)

    await nodes[0]!.client.query('CREATE TABLE items (id bigint PRIMARY KEY, node int, payload text)')
    await nodes[0]!.client.query(`INSERT INTO items VALUES (0, 0, 'first')`)
    const count = async (n: Node) => Number((await n.client.query('SELECT count(*) AS c FROM items').catch(() => ({ rows: [{ c: -1 }] }))).rows[0].c)
    const convergeMs = await waitFor('the first row on every node', 120_000, async () => (await Promise.all(nodes.map(count))).every((c) => c === 1))

    const idle = await measure(nodes, IDLE_S, async () => {})
    const idleLoad = load1()
    let inserted = 1
    const load = await measure(nodes, LOAD_S, async () => {
      const until = Date.now() + LOAD_S * 1000
      await Promise.all(
        nodes.map(async (n, i) => {
          for (let k = 1; Date.now() < until && k <= LOAD_S * RATE; k++) {
            const next = Date.now() + 1000 / RATE
            await n.client.query('INSERT INTO items VALUES ($1, $2, $3)', [i * 1_000_000 + k, i, `row ${k} of ${n.name}`])
            inserted++
            const wait = next - Date.now()
            if (wait > 0) await sleep(wait)
          }
        }),
      )
    })
    const loadLoad = load1()
    const stoppedAt = Date.now()
    await waitFor('every row on every node', 300_000, async () => (await Promise.all(nodes.map(count))).every((c) => c === inserted))
    const catchUpS = (Date.now() - stoppedAt) / 1000

    printTable(
      `${NODES}-node cluster (concord cluster), CPU in % of one core, RSS peak in MB; idle ${IDLE_S} s, then ${LOAD_S} s of ${RATE} single-row INSERTs/s per node`,
      [
        ['node', 'idle CPU %', 'idle RSS MB', 'load CPU %', 'load RSS MB'],
        ...nodes.map((n, i) => [n.name, fmt(idle[i]!.cpu, 1), fmt(idle[i]!.rss), fmt(load[i]!.cpu, 1), fmt(load[i]!.rss)]),
        [
          'all nodes',
          fmt(idle.reduce((s, x) => s + x.cpu, 0), 1),
          fmt(idle.reduce((s, x) => s + x.rss, 0)),
          fmt(load.reduce((s, x) => s + x.cpu, 0), 1),
          fmt(load.reduce((s, x) => s + x.rss, 0)),
        ],
      ],
    )
    process.stdout.write(err)
    console.log(`cluster started in ${startS.toFixed(1)} s; first row on all ${NODES} nodes ${convergeMs} ms after its INSERT`)
    console.log(`${inserted} rows written (${((inserted - 1) / LOAD_S).toFixed(0)}/s over the cluster); every node held all of them ${catchUpS.toFixed(1)} s after the load stopped`)
    console.log(`load average (1 min): ${idleLoad.toFixed(1)} after the idle window, ${loadLoad.toFixed(1)} after the load`)
  } finally {
    for (const n of nodes) await n.client.end().catch(() => {})
    if (cluster.exitCode === null) cluster.kill('SIGINT')
    await Promise.race([exited, sleep(30_000)])
    if (cluster.exitCode === null) cluster.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
