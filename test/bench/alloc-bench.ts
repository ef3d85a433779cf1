/**
 * `npm run bench:alloc` (issue 13): what a pgbench transaction allocates on a real
 * `concord start` node, by V8's sampling heap profiler, and where. A change of a few
 * percent in the statement path does not show in one run's TPS or CPU on a shared host;
 * the bytes a transaction allocates move by under 1% between runs of one build, so a
 * before/after reads there (docs/benchmarks.md, "A statement's async frames").
 *
 * The node runs with its inspector on 127.0.0.1 (`--inspect`, a free port), `pgbench -i -s 1`
 * loads it, one warm-up run of each script follows (not counted), then for each script
 * the profiler samples (`HeapProfiler.startSampling`, a sample every SAMPLE_BYTES, the
 * objects either collector took counted) while pgbench runs TRANSACTIONS transactions.
 * Printed: bytes per transaction, what the node's row checkpoints allocated meanwhile left
 * out (they follow a load in their own time: samples under a frame whose name is a row
 * checkpoint's), and the functions that allocated most. Then, over a second run of as many
 * transactions, the bytes per transaction that outlived a young collection (sampled
 * without the objects V8's scavenger took: those it copied, moved to the old generation
 * or that were still live at the end), with the functions that allocated them. A
 * statement's objects that outlive its turn are what makes the scavenger's pauses and
 * the old generation's growth: docs/benchmarks.md, "Statements that outlived their turn".
 * Nothing is asserted.
 *
 * Environment (all optional):
 *   BENCH_SCRIPTS=select-only,tpcb-like     pgbench built-in scripts
 *   BENCH_TRANSACTIONS=20000                select-only's transactions; the others' a tenth of it
 *   BENCH_CLIENTS=4                         pgbench -c
 *   BENCH_MODE=simple                       pgbench -M (simple, extended, prepared)
 *   BENCH_TOP=12                            functions listed per script
 *   BENCH_BUILT=1                           the built bundle (bin/concord.js) instead of the sources under tsx
 *   BENCH_BASELINE_BIN=<another build's packages/node-server/bin/concord.js>
 *                                           that build measured the same way after this one, with the ratio
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { WebSocket } from 'undici'
import { ConcordProcess } from '../cluster/concord-process.js'
import { fmt, load1, printTable } from './harness.js'
import { pgbenchPath } from './postgres-instance.js'

const run = promisify(execFile)
const env = process.env
const SCRIPTS = (env['BENCH_SCRIPTS'] ?? 'select-only,tpcb-like').split(',')
const TRANSACTIONS = Number(env['BENCH_TRANSACTIONS'] ?? 20_000)
const CLIENTS = Number(env['BENCH_CLIENTS'] ?? 4)
const MODE = env['BENCH_MODE'] ?? 'simple'
const TOP = Number(env['BENCH_TOP'] ?? 12)
const BUILT = env['BENCH_BUILT'] === '1'
const BASELINE_BIN = env['BENCH_BASELINE_BIN']
const SAMPLE_BYTES = 1024
/** Frames of a row checkpoint (decision 33): what it allocates is not the transactions'. */
const CHECKPOINT_FRAMES = /RowSnapshot|rowCapture|encodeRowRange|[Cc]heckpoint/
const PGBENCH = pgbenchPath()

interface SampleNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children: SampleNode[]
}
interface SamplingProfile {
  head: SampleNode
  samples: Array<{ size: number; nodeId: number }>
}

/** A Chrome DevTools protocol connection to a node's inspector. */
class Inspector {
  private next = 0
  private readonly waiting = new Map<number, (result: unknown) => void>()
  private readonly socket: WebSocket

  private constructor(socket: WebSocket) {
    this.socket = socket
    socket.addEventListener('message', (m) => {
      const reply = JSON.parse(String(m.data)) as { id?: number; result?: unknown; error?: { message: string } }
      if (reply.id === undefined) return
      const done = this.waiting.get(reply.id)
      this.waiting.delete(reply.id)
      done?.(reply.error !== undefined ? new Error(reply.error.message) : reply.result)
    })
  }

  static async open(url: string): Promise<Inspector> {
    const socket = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve())
      socket.addEventListener('error', () => reject(new Error(`inspector at ${url} refused the connection`)))
    })
    return new Inspector(socket)
  }

  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.next
    const result = await new Promise<unknown>((resolve) => {
      this.waiting.set(id, resolve)
      this.socket.send(JSON.stringify({ id, method, params }))
    })
    if (result instanceof Error) throw result
    return result as T
  }

  close(): void {
    this.socket.close()
  }
}

async function pgbench(port: number, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(PGBENCH!, ['-h', '127.0.0.1', '-p', String(port), '-U', 'concord', ...args, 'concord'], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 })
  return stdout + stderr
}

/** `script`'s transactions of one measured run: select-only's TRANSACTIONS, the others a tenth (each is several statements). */
function transactionsOf(script: string): number {
  return script === 'select-only' ? TRANSACTIONS : Math.max(CLIENTS, Math.round(TRANSACTIONS / 10))
}

interface Measured {
  bytesPerTransaction: number
  checkpointBytes: number
  top: Array<[string, number]>
  /** Bytes per transaction that outlived a young collection (the second run), and by whom. */
  survived?: Measured
}

/** Bytes per transaction from a sampling profile of `transactions`, without the samples under a row checkpoint. */
function tally(profile: SamplingProfile, transactions: number): Measured {
  const byId = new Map<number, SampleNode>()
  const parent = new Map<number, number>()
  const walk = (n: SampleNode): void => {
    byId.set(n.id, n)
    for (const c of n.children) {
      parent.set(c.id, n.id)
      walk(c)
    }
  }
  walk(profile.head)
  let total = 0
  let checkpoint = 0
  const self = new Map<string, number>()
  for (const s of profile.samples) {
    const leaf = byId.get(s.nodeId)
    if (leaf === undefined) continue
    let underCheckpoint = false
    for (let id: number | undefined = s.nodeId; id !== undefined; id = parent.get(id)) {
      if (CHECKPOINT_FRAMES.test(byId.get(id)!.callFrame.functionName)) {
        underCheckpoint = true
        break
      }
    }
    if (underCheckpoint) {
      checkpoint += s.size
      continue
    }
    total += s.size
    const f = leaf.callFrame
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`
    self.set(name, (self.get(name) ?? 0) + s.size)
  }
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]): [string, number] => [k, v / transactions])
  return { bytesPerTransaction: total / transactions, checkpointBytes: checkpoint / transactions, top }
}

/** One build measured: its node started with the inspector, loaded, warmed up, then sampled per script. */
async function measureBuild(name: string, dir: string, bin: string | undefined): Promise<Map<string, Measured>> {
  const node = await ConcordProcess.start({
    dataDir: join(dir, name), nodeId: `alloc-${name}`, built: BUILT, ...(bin !== undefined ? { bin } : {}), extraArgs: ['--quiet', '--no-p2p'], nodeArgs: ['--inspect=127.0.0.1:0'],
  })
  const out = new Map<string, Measured>()
  let inspector: Inspector | undefined
  try {
    const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(node.log)?.[0]
    if (url === undefined) throw new Error(`${name}: no inspector address in the node's log:\n${node.log.slice(0, 2000)}`)
    inspector = await Inspector.open(url)
    await pgbench(node.pgPort, ['-i', '-s', '1'])
    for (const script of SCRIPTS) await pgbench(node.pgPort, ['-b', script, '-M', MODE, '-c', String(CLIENTS), '-t', String(Math.ceil(transactionsOf(script) / 4 / CLIENTS))])
    // The load's row checkpoint runs in its own time; most of it is over by now (and left out if not).
    await sleep(3000)
    /** One sampled run of `script`: every object allocated, or only those a young collection did not take. */
    const sampled = async (script: string, survivorsOnly: boolean): Promise<Measured> => {
      const perClient = Math.ceil(transactionsOf(script) / CLIENTS)
      await inspector!.call('HeapProfiler.enable')
      await inspector!.call('HeapProfiler.startSampling', { samplingInterval: SAMPLE_BYTES, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly })
      const text = await pgbench(node.pgPort, ['-b', script, '-M', MODE, '-c', String(CLIENTS), '-t', String(perClient)])
      const { profile } = await inspector!.call<{ profile: SamplingProfile }>('HeapProfiler.stopSampling')
      const done = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1] ?? 0)
      if (done === 0) throw new Error(`${name}: pgbench ${script} processed nothing:\n${text}`)
      return tally(profile, done)
    }
    for (const script of SCRIPTS) {
      const m = await sampled(script, false)
      m.survived = await sampled(script, true)
      out.set(script, m)
      console.log(`${name} ${script} (${MODE}): ${fmt(m.bytesPerTransaction)} bytes per transaction (row checkpoints meanwhile ${fmt(m.checkpointBytes)} more, left out; load ${load1().toFixed(2)})`)
      for (const [fn, bytes] of m.top) console.log(`  ${fmt(bytes).padStart(8)}  ${fn}`)
      console.log(`${name} ${script} (${MODE}): ${fmt(m.survived.bytesPerTransaction)} bytes per transaction outlived a young collection`)
      for (const [fn, bytes] of m.survived.top) console.log(`  ${fmt(bytes).padStart(8)}  ${fn}`)
    }
  } finally {
    inspector?.close()
    await node.stop(60_000)
  }
  return out
}

if (!PGBENCH) {
  console.log('pgbench is not installed (Debian: postgresql-client): nothing to measure')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'concord-alloc-bench-'))
try {
  console.log(`allocation per pgbench transaction: ${CLIENTS} clients, a sample every ${SAMPLE_BYTES} bytes; Concord from ${BUILT ? 'the built bundle' : 'the sources (tsx)'}`)
  const builds: Array<[string, Map<string, Measured>]> = [['Concord', await measureBuild('Concord', dir, undefined)]]
  if (BASELINE_BIN) builds.push(['baseline', await measureBuild('baseline', dir, BASELINE_BIN)])
  const header = ['bytes allocated per transaction', ...builds.map(([name]) => name)]
  if (BASELINE_BIN) header.push('Concord / baseline')
  const rows = [header]
  for (const script of SCRIPTS) {
    const figures: Array<[string, (m: Measured) => number]> = [
      [`pgbench ${script}, ${MODE} protocol (row checkpoints left out)`, (m) => m.bytesPerTransaction],
      ['  of it outliving a young collection', (m) => m.survived!.bytesPerTransaction],
    ]
    for (const [label, figure] of figures) {
      const cells = [label, ...builds.map(([, m]) => fmt(figure(m.get(script)!)))]
      if (BASELINE_BIN) cells.push(`${(figure(builds[0]![1].get(script)!) / figure(builds[1]![1].get(script)!)).toFixed(2)}x`)
      rows.push(cells)
    }
  }
  printTable(`allocation per pgbench transaction (V8's sampling heap profiler; load ${load1().toFixed(2)} at the end)`, rows)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
