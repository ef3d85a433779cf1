/**
 * Housekeeping benchmark (issue 13, "where the time goes" 1): what one idle housekeeping
 * round (`Replica.compactionRound`) and one idle anti-entropy round (a digest sent to a
 * peer holding the same state, and that peer's comparison) cost on a replica holding
 * 100,000 and 1,000,000 rows (MemoryStorage), as ratios against the same rounds on a
 * replica holding 100 rows, measured in the same run. Also the rounds right after a
 * one-row write (digests recomputed) and after a one-row delete (a tombstone to track).
 *
 * The peer is this replica itself, seen through a loopback transport under another node
 * id: the digest it sends comes back as the peer's, equal in every shard, as between two
 * replicas in sync. Nothing here asserts a speed.
 *
 *   node --expose-gc --import tsx test/bench/housekeeping-bench.ts [rows ...]
 *   node --expose-gc --import tsx test/bench/housekeeping-bench.ts --profile 1000000 20
 *     (an idle node holding 1,000,000 rows, its timers running for 20 s, under the CPU
 *     profiler: writes housekeeping-idle.cpuprofile to the temporary directory and prints
 *     the busiest functions)
 */
import { writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Session } from 'node:inspector/promises'
import { MessageType, Replica, decodeMessage, encodeMessage, type Transport, type TransportHandler } from '@concord/core'
import { ITEMS, median, printTable } from './harness.js'

const PEER = 'peer'
const RUNS = 9

/** A transport whose only peer is the replica itself under the id PEER: digests sent to it come back as its own. */
class LoopbackTransport implements Transport {
  private handler: TransportHandler | null = null
  private readonly queue: Uint8Array[] = []

  start(handler: TransportHandler): void {
    this.handler = handler
    // The peer's HELLO, so the replica knows it.
    handler.onMessage(PEER, encodeMessage({ type: MessageType.Hello, nodeId: PEER, region: 'default', reply: true }))
  }

  send(peer: string, data: Uint8Array): void {
    if (peer !== PEER) return
    const type = decodeMessage(data).type
    if (type === MessageType.Digest) this.queue.push(data)
  }

  /** Hands the digests sent since the last call back to the replica, as the peer's. */
  deliver(): void {
    for (const data of this.queue.splice(0)) this.handler!.onMessage(PEER, data)
  }

  publish(): void {}
  subscribe(): void {}
  unsubscribe(): void {}
  peers(): string[] {
    return [PEER]
  }
  stop(): void {}
}

interface Loaded {
  replica: Replica
  transport: LoopbackTransport
}

async function load(rows: number, timers: boolean): Promise<Loaded> {
  const transport = new LoopbackTransport()
  const interval = timers ? 1000 : 0
  const replica = await Replica.open({ nodeId: 'bench', transport, antiEntropyIntervalMs: interval, housekeepingIntervalMs: interval })
  replica.transact((tx) => tx.createTable(ITEMS))
  for (let i = 0; i < rows; i += 5000) {
    replica.transact((tx) => {
      for (let j = i; j < Math.min(rows, i + 5000); j++) tx.insert('items', { id: j, name: `item ${j}`, price: `${j}.99`, qty: 0 })
    })
  }
  await replica.durable()
  return { replica, transport }
}

function time(fn: () => void): number {
  const t = performance.now()
  fn()
  return performance.now() - t
}

/** Median ms of a housekeeping round and of an anti-entropy exchange, each after `before` (untimed). */
function rounds(l: Loaded, before: (run: number) => void): { housekeeping: number; antiEntropy: number } {
  const hk: number[] = []
  const ae: number[] = []
  for (let run = 0; run < RUNS; run++) {
    before(run)
    hk.push(time(() => l.replica.compactionRound()))
    ae.push(
      time(() => {
        l.replica.replicator.antiEntropyRound()
        l.transport.deliver()
      }),
    )
  }
  return { housekeeping: median(hk), antiEntropy: median(ae) }
}

interface Figures {
  rows: number
  idle: { housekeeping: number; antiEntropy: number }
  write: { housekeeping: number; antiEntropy: number }
  del: { housekeeping: number; antiEntropy: number }
  loadMs: number
}

async function measure(rows: number): Promise<Figures> {
  const t = performance.now()
  const l = await load(rows, false)
  const loadMs = performance.now() - t
  // Warm up: digests computed, code optimized.
  rounds(l, () => {})
  const idle = rounds(l, () => {})
  let next = rows
  const write = rounds(l, () => l.replica.transact((tx) => tx.insert('items', { id: next++, name: 'x', price: '1', qty: 0 })))
  let victim = 0
  const del = rounds(l, () => l.replica.transact((tx) => tx.delete('items', [victim++])))
  if (l.replica.stats().roundsFailed > 0 || l.replica.housekeeper.roundsFailed > 0) throw new Error('a round failed')
  await l.replica.close()
  return { rows, idle, write, del, loadMs }
}

function ms(x: number): string {
  return x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`
}

async function main(sizes: number[]): Promise<void> {
  // The 100-row baseline is measured once to warm up, and again after the large ones.
  await measure(100)
  const out: Figures[] = []
  for (const n of sizes) out.push(await measure(n))
  const base = await measure(100)
  const load = loadavg().map((x) => x.toFixed(2)).join(' ')
  const table: Array<Array<string | number>> = [['rows', 'round', 'housekeeping', 'vs 100 rows', 'anti-entropy', 'vs 100 rows']]
  for (const f of [base, ...out]) {
    for (const [name, r, b] of [
      ['idle', f.idle, base.idle],
      ['after 1 insert', f.write, base.write],
      ['after 1 delete', f.del, base.del],
    ] as const) {
      table.push([f.rows.toLocaleString('en'), name, ms(r.housekeeping), `${(r.housekeeping / b.housekeeping).toFixed(1)}x`, ms(r.antiEntropy), `${(r.antiEntropy / b.antiEntropy).toFixed(1)}x`])
    }
  }
  printTable(`Housekeeping and anti-entropy rounds, median of ${RUNS} (load average ${load})`, table)
  console.log(`\nload times: ${out.map((f) => `${f.rows.toLocaleString('en')} rows ${(f.loadMs / 1000).toFixed(1)} s`).join(', ')}`)
}

/** An idle node holding `rows` rows, its timers running, under the CPU profiler for `seconds`. */
async function profile(rows: number, seconds: number): Promise<void> {
  const l = await load(rows, true)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((res) => setTimeout(res, seconds * 1000))
  const cpu = process.cpuUsage(cpu0)
  const wall = performance.now() - t0
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  const file = join(tmpdir(), 'housekeeping-idle.cpuprofile')
  writeFileSync(file, JSON.stringify(profile))
  console.log(`profile written to ${file}`)
  // Self time per function, from the samples.
  const self = new Map<number, number>()
  const dt = profile.timeDeltas ?? []
  // The first sample is the profiler starting (its delta spans the start-up).
  for (const [i, id] of (profile.samples ?? []).entries()) if (i > 0) self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0) / 1000)
  const byName = new Map<string, number>()
  for (const n of profile.nodes) {
    const f = n.callFrame
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    byName.set(name, (byName.get(name) ?? 0) + (self.get(n.id) ?? 0))
  }
  const top = [...byName].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 12)
  const busy = ((cpu.user + cpu.system) / 1000 / wall) * 100
  printTable(`Idle node holding ${rows.toLocaleString('en')} rows for ${seconds} s: ${busy.toFixed(1)}% of a core (load average ${loadavg()[0]!.toFixed(2)})`, [
    ['function (self time)', 'ms'],
    ...top.map(([n, t]) => [n, t.toFixed(0)]),
  ])
  await l.replica.close()
}

const args = process.argv.slice(2)
if (args[0] === '--profile') await profile(Number(args[1] ?? 1_000_000), Number(args[2] ?? 20))
else await main(args.length > 0 ? args.map(Number) : [100_000, 1_000_000])
