/**
 * Writer CPU per row of a 1,000-row INSERT .. VALUES (issue 13, replicated throughput),
 * in one process: the texts `npm run bench:cluster` sends (`(id, id % 10, '<29 chars>')`
 * rows, ~43 KB each, new values every statement), through a session's query path:
 * - simple: `session.query(text)`, what node-postgres sends without parameters;
 * - extended: `session.prepare(text)` then `execute`, what a client using the extended
 *   protocol for every statement (postgres.js) sends;
 * - parse only: `parseScript(text)`, the share of the statement path before execution.
 * CPU time of the process (user + system, so the collector's helper threads count) and
 * wall time per row, medians of BENCH_RUNS passes of BENCH_STATEMENTS statements each, into
 * a fresh in-memory database per pass, no peer; BENCH_PATHS=simple,extended,parse picks the paths.
 * Each pass writes a table of its own, so its statements are a new shape to the literal
 * templates (parser/literal-template.ts): the first two are parsed whole, as the first two
 * of each table in `npm run bench:cluster` (30 statements a table) are. Nothing is asserted.
 *
 * Run it on the build (`npm run build`): under `--conditions=@concord/source` (what
 * `npm run bench` sets) tsx compiles the sources with esbuild's keepNames, whose `__name`
 * calls on every closure made per value cost several percent that the node's bundle does
 * not have.
 *
 *   node --expose-gc --import tsx test/bench/bulk-insert-bench.ts
 *   BENCH_PATHS=simple node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx test/bench/bulk-insert-bench.ts
 */
import { loadParser, openDatabase, parseScript } from '@concord/sql-facade'
import { gc, load1, median, printTable } from './harness.js'

const ROWS = 1000
const STATEMENTS = Number(process.env['BENCH_STATEMENTS'] ?? 30)
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5)
const PATHS = (process.env['BENCH_PATHS'] ?? 'simple,extended,parse').split(',')
const PAYLOAD = 'payload-0123456789-0123456789'

/** The cluster benchmark's statement for ids from..from+n-1. */
function insertText(table: string, from: number, n: number): string {
  const out: string[] = []
  for (let i = from; i < from + n; i++) out.push(`(${i}, ${i % 10}, '${PAYLOAD}')`)
  return `INSERT INTO ${table} (id, grp, body) VALUES ${out.join(',')}`
}

await loadParser()
const runs: Record<string, number[]> = { simple: [], extended: [], parse: [] }
const cpuRuns: Record<string, number[]> = { simple: [], extended: [], parse: [] }
let next = 1
// Ids grow across passes, so every statement is a new text (no pass finds another's in the cache by text).
const texts = (table: string): string[] => Array.from({ length: STATEMENTS }, () => insertText(table, (next += ROWS) - ROWS, ROWS))

for (let r = 0; r < RUNS + 1; r++) {
  const warm = r === 0 // the first pass warms the JIT and the parser, and is left out
  for (const path of ['simple', 'extended', 'parse'] as const) {
    if (!PATHS.includes(path)) continue
    const table = `thr_${path}_${r}`
    // A database per pass, so each starts from the same heap (the rows of earlier passes
    // would slow the collector more each time; dropping their table costs a catalog rebuild).
    const db = path === 'parse' ? null : await openDatabase({ nodeId: 'bench', antiEntropyIntervalMs: 0 })
    const session = db?.session()
    await session?.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, grp INT, body TEXT)`)
    const batch = texts(table)
    gc()
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    for (const text of batch) {
      if (path === 'simple') await session!.query(text)
      else if (path === 'extended') await session!.execute(await session!.prepare(text))
      else parseScript(text)
    }
    const cpu = process.cpuUsage(cpu0)
    if (!warm) {
      runs[path]!.push(((performance.now() - t0) * 1000) / (STATEMENTS * ROWS))
      cpuRuns[path]!.push((cpu.user + cpu.system) / (STATEMENTS * ROWS))
    }
    if (session) {
      const n = Number((await session.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]!['n'])
      if (n !== STATEMENTS * ROWS) throw new Error(`${table}: ${n} rows, expected ${STATEMENTS * ROWS}`)
      await db!.close()
    }
  }
}
const row = (name: string, k: string): string[] => [name, median(cpuRuns[k]!).toFixed(2), median(runs[k]!).toFixed(2), cpuRuns[k]!.map((x) => x.toFixed(1)).join(' ')]
printTable(`1,000-row INSERT .. VALUES, µs per row (median of ${RUNS} passes of ${STATEMENTS} statements; load ${load1().toFixed(2)})`, [
  ['path', 'CPU µs/row', 'wall µs/row', 'CPU µs/row of each pass'],
  ...[['simple protocol: session.query(text)', 'simple'], ['extended protocol: prepare + execute', 'extended'], ['parseScript alone', 'parse']]
    .filter(([, k]) => PATHS.includes(k!)).map(([name, k]) => row(name!, k!)),
])
