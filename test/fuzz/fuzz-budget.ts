/**
 * How much each fuzz campaign runs: a fixed seed set and an iteration count, never a
 * wall-clock budget, so a run is the same on a fast laptop and a loaded CI machine and a
 * failure replays from its seed.
 *
 * Defaults keep the whole `fuzz` tier to about a minute on a loaded 2-core machine.
 * A longer campaign (`npm run fuzz -- --iterations N --seed S`, see run.ts) sets
 * FUZZ_ITERATIONS (iterations per campaign, replacing each campaign's default) and
 * FUZZ_SEED (one seed instead of the fixed set).
 */
import { SeededRandom } from '@concord/core'

/** The fixed seeds CI runs. A seed that found a bug stays here. */
export const DEFAULT_SEEDS: readonly number[] = [1, 2, 3]

export interface FuzzBudget {
  seeds: readonly number[]
  /** Iterations per seed. */
  iterations: number
}

/** The budget of one campaign whose CI default is `defaultIterations` in all (split over the seeds). */
export function fuzzBudget(defaultIterations: number): FuzzBudget {
  const seedText = process.env['FUZZ_SEED']
  const iterationsText = process.env['FUZZ_ITERATIONS']
  const seeds = seedText !== undefined && seedText !== '' ? [parseSeed(seedText)] : DEFAULT_SEEDS
  const total = iterationsText !== undefined && iterationsText !== '' ? parseCount(iterationsText) : defaultIterations
  return { seeds, iterations: Math.max(1, Math.ceil(total / seeds.length)) }
}

/** A generator for one campaign under one seed (campaigns under the same seed do not share a stream). */
export function campaignRandom(seed: number, campaign: string): SeededRandom {
  return new SeededRandom(seed).fork(campaign)
}

function parseSeed(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer in [0, 2^32): ${text}`)
  return n
}

function parseCount(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_ITERATIONS must be a positive integer: ${text}`)
  return n
}
