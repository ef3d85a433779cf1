/**
 * `npm run bench`: runs each benchmark script in its own Node process (clean heap,
 * `--expose-gc` for memory figures) one after another, and prints what they print.
 * Benchmarks report medians and ratios against baselines measured in the same run;
 * nothing here asserts a speed. `npm run bench -- core` runs only scripts whose name
 * contains "core".
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const scripts = ['core-bench.ts', 'compaction-bench.ts', 'housekeeping-bench.ts', 'sql-bench.ts', 'parse-bench.ts', 'bulk-insert-bench.ts', 'plan-bench.ts', 'live-bench.ts', 'offload-bench.ts', 'plpgsql-bench.ts', 'transport-bench.ts']
const filter = process.argv[2]
let failed = 0
for (const script of scripts) {
  if (filter && !script.includes(filter)) continue
  const path = join(here, script)
  if (!existsSync(path)) continue
  console.log(`\n== ${script}`)
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path], { stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
