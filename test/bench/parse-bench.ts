/**
 * Parse cost per statement (issue 13, "where the time goes" 4), in one process, so the
 * figures hold still on a loaded machine where the wire benchmarks swing:
 * - PostgreSQL's grammar alone (libpg-query `parseSync`, WASM): the floor of a miss;
 * - `parseScript` on texts no cache knows (a new shape each: the column alias varies);
 * - `parseScript` on pgbench select-only texts (`.. WHERE aid = <n>`, a new text each
 *   time, one shape): what a literal-value client costs now;
 * - `parseScript` on one text repeated (the cache by text).
 * Medians of RUNS passes over N statements; nothing is asserted.
 *
 *   node --import tsx test/bench/parse-bench.ts      (or `npm run bench -- parse`)
 */
import { parseSync } from 'libpg-query'
import { loadParser, parseScript } from '@concord/sql-facade'
import { median, printTable } from './harness.js'

const N = 20_000
const RUNS = 5

function microsPerStatement(texts: string[], parse: (t: string) => unknown): number {
  const t0 = performance.now()
  for (const t of texts) parse(t)
  return ((performance.now() - t0) * 1000) / texts.length
}

await loadParser()
const aid = (i: number): number => 10_000 + ((i * 7919) % 90_000)
const runs: Record<string, number[]> = { grammar: [], newShape: [], literals: [], repeated: [] }
for (let r = 0; r < RUNS; r++) {
  // Fresh texts each pass, so no pass finds the previous one's in the cache by text.
  const literal = Array.from({ length: N }, (_, i) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${aid(i + r * N)}`)
  const shapes = Array.from({ length: N }, (_, i) => `SELECT abalance AS a${r}_${i} FROM pgbench_accounts WHERE aid = ${aid(i)}`)
  runs['grammar']!.push(microsPerStatement(literal, (t) => parseSync(t)))
  runs['newShape']!.push(microsPerStatement(shapes, parseScript))
  runs['literals']!.push(microsPerStatement(literal, parseScript))
  runs['repeated']!.push(microsPerStatement(literal.map(() => literal[0]!), parseScript))
}
const us = (k: string): string => median(runs[k]!).toFixed(1)
printTable(`Parsing a point SELECT, µs per statement (median of ${RUNS} passes over ${N.toLocaleString('en-US')})`, [
  ['path', 'µs'],
  ['libpg-query parseSync alone (WASM grammar + JSON)', us('grammar')],
  ['parseScript, a text of a new shape (scanner, grammar, template check)', us('newShape')],
  ['parseScript, a new text of a known shape (literal template)', us('literals')],
  ['parseScript, the same text again (cache by text)', us('repeated')],
])
