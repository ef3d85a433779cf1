/**
 * A longer fuzz campaign in one command:
 *
 *   npm run fuzz -- --iterations 100000 --seed 42 [vitest arguments, e.g. a file filter]
 *
 * Runs the `fuzz` vitest project with FUZZ_ITERATIONS (iterations per campaign, instead of
 * each campaign's CI default) and FUZZ_SEED (one seed instead of the fixed CI set), see
 * fuzz-budget.ts. A failure names its seed and iteration and prints the failing input in
 * hex; add that input as a fixed sample beside the campaign's regression tests.
 */
import { spawnSync } from 'node:child_process'

const env = { ...process.env }
const rest: string[] = []
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!
  const [flag, inline] = arg.split('=', 2) as [string, string | undefined]
  if (flag === '--iterations' || flag === '--seed') {
    const value = inline ?? args[++i]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    env[flag === '--iterations' ? 'FUZZ_ITERATIONS' : 'FUZZ_SEED'] = value
  } else {
    rest.push(arg)
  }
}
// A long campaign may outrun the default per-test timeout; it is bounded by its iterations.
const result = spawnSync('npx', ['vitest', 'run', '--project', 'fuzz', '--testTimeout', '0', ...rest], { stdio: 'inherit', env })
process.exit(result.status ?? 1)
