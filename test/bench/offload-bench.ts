/**
 * Statements moved off the event loop (issue 15, docs/decisions/0031-statement-offload.md):
 * what a moved statement costs the event loop and its client when its worker keeps its
 * engine between statements, against a fresh engine per statement (the pool as it was:
 * an offloader that names no engine), and against running on the event loop. One table of
 * ROWS rows; before each statement 100 of its rows change (as other clients' writes do).
 * Per side, interleaved over RUNS rounds: the client's wait for the answer, the longest
 * the event loop went without a turn (a 1 ms ticker's largest gap) and the bytes of state
 * sent to the worker. Medians; nothing is asserted. The kept engine's first statement (its
 * engine cold: the table sent whole, or in slices past 200,000 rows) is printed apart.
 * A fresh engine takes at most 200,000 rows: past that its side runs on the event loop.
 *
 *   node --import tsx test/bench/offload-bench.ts      (or `npm run bench -- offload`;
 *   BENCH_OFFLOAD_ROWS=600000 for a table sent in slices)
 */
import { openDatabase, type StatementOffloader } from '@concord/sql-facade'
import { StatementWorkerPool } from '../../packages/node-server/src/offload/statement-worker-pool.js'
import { fmt, load1, median, printTable, timedWithGap } from './harness.js'

const ROWS = Number(process.env.BENCH_OFFLOAD_ROWS ?? 150_000)
const RUNS = 5
const QUERY = 'SELECT k % 10 AS b, count(*), max(md5(note)) FROM big GROUP BY 1 ORDER BY 1'

const db = await openDatabase({ nodeId: 'offload-bench' })
await db.query('CREATE TABLE big (id int PRIMARY KEY, k int, note text)')
for (let i = 0; i < ROWS; i += 50_000) await db.query(`INSERT INTO big SELECT g, g % 1000, 'note ' || g FROM generate_series(${i + 1}, ${Math.min(ROWS, i + 50_000)}) g`)

const kept = new StatementWorkerPool()
const freshPool = new StatementWorkerPool()
// The pool as it was: a request naming no engine gets a fresh one, sent every shard whole.
const fresh: StatementOffloader = { run: (request, signal) => freshPool.run(request, signal) }

interface Sample {
  ms: number
  stallMs: number
}

/** Runs QUERY once on a session with `offloader` (none: on the event loop). */
async function once(offloader: StatementOffloader | undefined): Promise<Sample> {
  const session = db.session(offloader === undefined ? {} : { offloader })
  await session.query(`SET offload_after = '${offloader === undefined ? '0' : '50ms'}'`)
  const { ms, gapMs } = await timedWithGap(() => session.query(QUERY))
  await session.close()
  return { ms, stallMs: gapMs }
}

const sides: Array<[string, StatementOffloader | undefined]> = [
  ['worker keeping its engine', kept],
  ['fresh engine per statement', fresh],
  ['event loop (offload off)', undefined],
]
const samples = new Map<string, Sample[]>(sides.map(([name]) => [name, []]))
const bytes = new Map<string, number[]>([
  ['worker keeping its engine', []],
  ['fresh engine per statement', []],
])
const loads: number[] = []
let cold: Sample | null = null
// A first round warms both pools (workers started, modules loaded, the kept engine opened): not counted.
for (let round = 0; round <= RUNS; round++) {
  for (const [name, offloader] of sides) {
    await db.query(`UPDATE big SET note = note || '.' WHERE id % ${ROWS / 100} = ${round}`)
    const pool = offloader === kept ? kept : offloader === fresh ? freshPool : null
    const before = pool?.stats.stateBytes ?? 0
    const s = await once(offloader)
    if (round === 0 && offloader === kept) cold = s
    if (round === 0) continue
    samples.get(name)!.push(s)
    if (pool !== null) bytes.get(name)!.push(pool.stats.stateBytes - before)
  }
  loads.push(load1())
}
await kept.close()
await freshPool.close()
await db.close()

const loop = median(samples.get('event loop (offload off)')!.map((s) => s.ms))
const rows: Array<Array<string | number>> = [['side', 'answer ms (median)', 'x event loop', 'longest event-loop stall ms', 'state sent (median)']]
for (const [name] of sides) {
  const s = samples.get(name)!
  const ms = median(s.map((x) => x.ms))
  const b = bytes.get(name)
  rows.push([name, fmt(ms), `${(ms / loop).toFixed(2)}x`, fmt(median(s.map((x) => x.stallMs))), b === undefined ? '-' : `${fmt(median(b) / 1024)} KiB`])
}
rows.push(['kept engine, first statement (cold)', fmt(cold!.ms), `${(cold!.ms / loop).toFixed(2)}x`, fmt(cold!.stallMs), '-'])
printTable(`Moved statement over ${fmt(ROWS)} rows, 100 rows changed before each (${RUNS} rounds, load ${loads.map((l) => l.toFixed(1)).join('/')})`, rows)
