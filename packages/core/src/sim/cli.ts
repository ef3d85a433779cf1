/**
 * `npm run sim -- --seeds N --peers P --from S [--steps K] [--outages] [--faults | --no-faults] [--progress]`:
 * runs a longer simulation campaign than CI does. Disk faults (slow fsync, disk full, torn
 * tails) run on one seed in three by default, on every seed with --faults, on none with
 * --no-faults; --progress prints where each seed is (long runs at many peers). Prints one line per failing seed (replay with --from SEED
 * --seeds 1) and a closing 'N passed, N failed' line. Node-only entry point; the rest of
 * the simulator has no Node dependency.
 *
 * Network cost (what the simulated network carried, sim/traffic-meter.ts), over the passing
 * seeds, so growth with --peers can be read: messages and bytes sent per node per write
 * (from the first write until every replica agrees after the last heal, faults included),
 * per node per anti-entropy round of the quiet spell that follows (no writes, no faults),
 * the share of each message kind, and the virtual time to converge after the last heal.
 */
import { runSeed, type CampaignTraffic } from './campaign.js'
import type { TrafficCount } from './traffic-meter.js'

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
const progress = process.argv.includes('--progress') ? (line: string) => console.log(`  ${line}, ${((Date.now() - started) / 1000).toFixed(0)} s wall`) : undefined
const storageFaults = process.argv.includes('--faults') ? true : process.argv.includes('--no-faults') ? false : undefined
const faultFlag = storageFaults === true ? ' --faults' : storageFaults === false ? ' --no-faults' : ''
const faults = { seeds: 0, slowWrites: 0, fullWrites: 0, landedAtCrash: 0, lostAtCrash: 0 }
let generations = 0
let writes = 0
const convergeMs: number[] = []
const faulty = { total: { messages: 0, bytes: 0 }, byKind: new Map<string, TrafficCount>() }
const quiet = { messages: 0, bytes: 0, rounds: 0 }
function addTraffic(t: CampaignTraffic): void {
  faulty.total.messages += t.faulty.total.messages
  faulty.total.bytes += t.faulty.total.bytes
  for (const [kind, c] of t.faulty.byKind) {
    const sum = faulty.byKind.get(kind) ?? { messages: 0, bytes: 0 }
    sum.messages += c.messages
    sum.bytes += c.bytes
    faulty.byKind.set(kind, sum)
  }
  quiet.messages += t.quiet.total.messages
  quiet.bytes += t.quiet.total.bytes
  quiet.rounds += t.quietRounds
  convergeMs.push(t.convergeMs)
}
const fixed = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2))
let passed = 0
let failed = 0
const started = Date.now()
for (let seed = from; seed < from + seeds; seed++) {
  try {
    const seedStarted = Date.now()
    const r = await runSeed(seed, { peers, steps, outages, ...(progress === undefined ? {} : { progress }), ...(storageFaults === undefined ? {} : { storageFaults }) })
    passed++
    writes += r.writes
    addTraffic(r.traffic)
    generations += r.generations
    if (r.storageFaults) faults.seeds++
    faults.slowWrites += r.diskFaults.slowWrites
    faults.fullWrites += r.diskFaults.fullWrites
    faults.landedAtCrash += r.diskFaults.landedAtCrash
    faults.lostAtCrash += r.diskFaults.lostAtCrash
    if (seeds <= 10)
      console.log(
        `seed ${seed}: ok (${r.writes} writes, ${r.crashes} crashes (${r.outages} past the departure horizon, ${r.departures} seen declared departed), ${r.partitions} partitions, ${r.generations} generation switches, ${r.hibernations} shards put away and ${r.wakes} loaded again, ${r.tombstonesDropped} tombstones dropped, twin compared ${r.twinCompared} rows and left out ${r.twinExcluded}, ${r.events} events, ` +
          `${(r.traffic.convergeMs / 1000).toFixed(1)} s virtual to converge after healing, ${((Date.now() - seedStarted) / 1000).toFixed(1)} s wall)`,
      )
  } catch (err) {
    failed++
    console.log(`seed ${seed}: FAILED — replay with: npm run sim -- --from ${seed} --seeds 1 --peers ${peers} --steps ${steps}${outages ? ' --outages' : ''}${faultFlag}`)
    console.log(String(err instanceof Error ? err.stack : err))
  }
}
console.log(`${generations} generation switches (compaction) across all seeds`)
if (passed > 0) {
  const perWrite = Math.max(1, writes) * peers
  console.log(`per node per write: ${fixed(faulty.total.messages / perWrite)} messages, ${fixed(faulty.total.bytes / perWrite)} bytes`)
  const perRound = Math.max(1, quiet.rounds) * peers
  console.log(`per node per anti-entropy round (quiet): ${fixed(quiet.messages / perRound)} messages, ${fixed(quiet.bytes / perRound)} bytes`)
  const kinds = [...faulty.byKind].sort((a, b) => b[1].bytes - a[1].bytes)
  const share = (c: TrafficCount) => `${((100 * c.messages) / Math.max(1, faulty.total.messages)).toFixed(0)}% msgs ${((100 * c.bytes) / Math.max(1, faulty.total.bytes)).toFixed(0)}% bytes`
  console.log(`by kind (writes, faults, healing): ${kinds.map(([k, c]) => `${k} ${share(c)}`).join('; ')}`)
  convergeMs.sort((a, b) => a - b)
  const median = convergeMs[Math.floor(convergeMs.length / 2)]!
  console.log(`time to converge after healing: median ${(median / 1000).toFixed(1)} s, max ${(convergeMs[convergeMs.length - 1]! / 1000).toFixed(1)} s (virtual)`)
}
console.log(
  `disk faults on ${faults.seeds} passing seeds: ${faults.slowWrites} slow writes, ${faults.fullWrites} writes failed on a full disk, ` +
    `${faults.landedAtCrash} writes in flight landed at a crash and ${faults.lostAtCrash} lost`,
)
console.log(`${seeds} seeds x ${peers} peers in ${((Date.now() - started) / 1000).toFixed(1)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
