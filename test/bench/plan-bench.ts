/**
 * Planning cost per point SELECT (issue 13, "where the time goes" 4), in one process, so
 * the ratio holds still on a loaded machine where the wire benchmarks swing: a session
 * with its plan cache against one whose cache plans every statement afresh (the code
 * path before plan/plan-cache.ts), interleaved, on a 10,000-row table by primary key:
 * - literal texts (`.. WHERE aid = <n>`, pgbench -M simple): a literal template's plan;
 * - a prepared statement with a new `$1` each time (pgbench -M prepared, node-postgres).
 * Medians of RUNS rounds over N statements per side; nothing is asserted.
 *
 *   node --import tsx test/bench/plan-bench.ts      (or `npm run bench -- plan`)
 */
import { openDatabase } from '@concord/sql-facade'
import { load1, median, printTable } from './harness.js'

const N = 20_000
const RUNS = 5
const ROWS = 10_000

const db = await openDatabase({ nodeId: 'plan-bench' })
await db.query('CREATE TABLE acc (aid int PRIMARY KEY, bid int, abalance int, filler char(84))')
await db.query(`INSERT INTO acc SELECT g, 1, 0, '' FROM generate_series(1, ${ROWS}) g`)
const cached = db.session()
const uncached = db.session()
// The session without a cache: every statement is planned as before the cache existed.
Object.defineProperty(uncached, 'plans', { value: { select: (_tree: unknown, exec: unknown, plan: (exec: unknown) => unknown) => plan(exec) } })
const aid = (i: number): number => ((i * 7919) % ROWS) + 1

async function literals(s: typeof cached): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await s.query(`SELECT abalance FROM acc WHERE aid = ${aid(i)}`)
  return ((performance.now() - t0) * 1000) / N
}

async function prepared(s: typeof cached): Promise<number> {
  const p = await s.prepare('SELECT abalance FROM acc WHERE aid = $1')
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await s.execute(p, [String(aid(i))])
  return ((performance.now() - t0) * 1000) / N
}

const runs: Record<string, number[]> = { litOff: [], litOn: [], prepOff: [], prepOn: [], litRatio: [], prepRatio: [], load: [] }
for (let r = 0; r < RUNS; r++) {
  const a = await literals(uncached)
  const b = await literals(cached)
  const c = await prepared(uncached)
  const d = await prepared(cached)
  runs['litOff']!.push(a)
  runs['litOn']!.push(b)
  runs['prepOff']!.push(c)
  runs['prepOn']!.push(d)
  runs['litRatio']!.push(a / b)
  runs['prepRatio']!.push(c / d)
  runs['load']!.push(load1())
}
await db.close()
const us = (k: string): string => median(runs[k]!).toFixed(1)
const range = (k: string): string => `${Math.min(...runs[k]!).toFixed(2)}-${Math.max(...runs[k]!).toFixed(2)}`
printTable(`Point SELECT by primary key in one process, µs per statement (median of ${RUNS} rounds of ${N.toLocaleString('en-US')}; load ${us('load')})`, [
  ['statement', 'planned each time', 'cached plan', 'ratio per round: median (range)'],
  ['literal text (template)', us('litOff'), us('litOn'), `${us('litRatio')}x (${range('litRatio')})`],
  ['prepared, $1', us('prepOff'), us('prepOn'), `${us('prepRatio')}x (${range('prepRatio')})`],
])
