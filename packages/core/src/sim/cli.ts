/**
 * `npm run sim -- --seeds N --peers P --from S [--steps K] [--outages]`: runs a longer simulation
 * campaign than CI does. Prints one line per failing seed (replay with --from SEED
 * --seeds 1) and a closing 'N passed, N failed' line. Node-only entry point; the rest of
 * the simulator has no Node dependency.
 */
import { runSeed } from './campaign.js'

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const v = Number(process.argv[at + 1])
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`--${name} needs a non-negative integer`)
    process.exit(2)
  }
  return v
}

const seeds = flag('seeds', 100)
const peers = flag('peers', 20)
const from = flag('from', 1)
const steps = flag('steps', 150)
const outages = process.argv.includes('--outages')
let generations = 0
let passed = 0
let failed = 0
const started = Date.now()
for (let seed = from; seed < from + seeds; seed++) {
  try {
    const r = await runSeed(seed, { peers, steps, outages })
    passed++
    generations += r.generations
    if (seeds <= 10) console.log(`seed ${seed}: ok (${r.writes} writes, ${r.crashes} crashes (${r.outages} past the departure horizon, ${r.departures} seen declared departed), ${r.partitions} partitions, ${r.generations} generation switches, ${r.tombstonesDropped} tombstones dropped, twin compared ${r.twinCompared} rows and left out ${r.twinExcluded}, ${r.events} events)`)
  } catch (err) {
    failed++
    console.log(`seed ${seed}: FAILED — replay with: npm run sim -- --from ${seed} --seeds 1 --peers ${peers} --steps ${steps}${outages ? " --outages" : ""}`)
    console.log(String(err instanceof Error ? err.stack : err))
  }
}
console.log(`${generations} generation switches (compaction) across all seeds`)
console.log(`${seeds} seeds x ${peers} peers in ${((Date.now() - started) / 1000).toFixed(1)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
