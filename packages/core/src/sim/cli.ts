/**
 * `npm run sim -- --seeds N --peers P --from S [--steps K] [--outages] [--faults | --no-faults]`:
 * runs a longer simulation campaign than CI does. Disk faults (slow fsync, disk full, torn
 * tails) run on one seed in three by default, on every seed with --faults, on none with
 * --no-faults. Prints one line per failing seed (replay with --from SEED
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
const storageFaults = process.argv.includes('--faults') ? true : process.argv.includes('--no-faults') ? false : undefined
const faultFlag = storageFaults === true ? ' --faults' : storageFaults === false ? ' --no-faults' : ''
const faults = { seeds: 0, slowWrites: 0, fullWrites: 0, landedAtCrash: 0, lostAtCrash: 0 }
let generations = 0
let passed = 0
let failed = 0
const started = Date.now()
for (let seed = from; seed < from + seeds; seed++) {
  try {
    const r = await runSeed(seed, { peers, steps, outages, ...(storageFaults === undefined ? {} : { storageFaults }) })
    passed++
    generations += r.generations
    if (r.storageFaults) faults.seeds++
    faults.slowWrites += r.diskFaults.slowWrites
    faults.fullWrites += r.diskFaults.fullWrites
    faults.landedAtCrash += r.diskFaults.landedAtCrash
    faults.lostAtCrash += r.diskFaults.lostAtCrash
    if (seeds <= 10) console.log(`seed ${seed}: ok (${r.writes} writes, ${r.crashes} crashes (${r.outages} past the departure horizon, ${r.departures} seen declared departed), ${r.partitions} partitions, ${r.generations} generation switches, ${r.tombstonesDropped} tombstones dropped, twin compared ${r.twinCompared} rows and left out ${r.twinExcluded}, ${r.events} events)`)
  } catch (err) {
    failed++
    console.log(`seed ${seed}: FAILED — replay with: npm run sim -- --from ${seed} --seeds 1 --peers ${peers} --steps ${steps}${outages ? ' --outages' : ''}${faultFlag}`)
    console.log(String(err instanceof Error ? err.stack : err))
  }
}
console.log(`${generations} generation switches (compaction) across all seeds`)
console.log(
  `disk faults on ${faults.seeds} passing seeds: ${faults.slowWrites} slow writes, ${faults.fullWrites} writes failed on a full disk, ` +
    `${faults.landedAtCrash} writes in flight landed at a crash and ${faults.lostAtCrash} lost`,
)
console.log(`${seeds} seeds x ${peers} peers in ${((Date.now() - started) / 1000).toFixed(1)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
