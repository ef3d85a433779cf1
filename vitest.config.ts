import { defaultClientConditions, defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

/**
 * Tests run on the TypeScript sources, not on `dist/`: every @concord package exports
 * its `src/` under the `@concord/source` condition, so no build is needed before a test
 * run. Child processes the tests spawn (cluster nodes, crash fixtures, the bin) inherit
 * the condition through NODE_OPTIONS. The condition is namespaced so no third-party
 * package answers to it.
 *
 * Tiers (`npm run test:<tier>`, or `npx vitest run --project <tier>`):
 *   unit        in-process tests beside the code and the SQL conformance corpus; files
 *               share one module graph per worker (isolate: false), which halves the
 *               tier's time (each file no longer reloads the parser's WASM and libp2p)
 *   simulation  the seeded simulator campaigns (files under a sim/ folder, *.sim.test.ts)
 *   cluster     several `concord start` processes on 127.0.0.1 (test/cluster, test/replication)
 *   browser     headless Chromium against node processes (test/browser)
 *   fuzz        bounded, seeded fuzz campaigns over every decoder an outsider reaches (test/fuzz;
 *               `npm run fuzz -- --iterations N --seed S` for a longer one)
 */
const SOURCE_CONDITION = '@concord/source'
const conditionFlag = `--conditions=${SOURCE_CONDITION}`
if (!(process.env['NODE_OPTIONS'] ?? '').includes(conditionFlag)) {
  process.env['NODE_OPTIONS'] = [process.env['NODE_OPTIONS'], conditionFlag].filter(Boolean).join(' ')
}

const SIMULATION = ['packages/*/src/**/sim/**/*.test.ts', 'packages/*/src/**/*.sim.test.ts', 'test/simulation/**/*.test.ts']
const CLUSTER = ['test/cluster/**/*.test.ts', 'test/replication/**/*.test.ts']
const BROWSER = ['test/browser/**/*.test.ts']
const FUZZ = ['test/fuzz/**/*.test.ts']

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/bench/**/*.test.ts'],
          exclude: [...SIMULATION, '**/node_modules/**'],
          isolate: false,
        },
      },
      { extends: true, test: { name: 'simulation', include: SIMULATION } },
      { extends: true, test: { name: 'cluster', include: CLUSTER } },
      { extends: true, test: { name: 'browser', include: BROWSER } },
      { extends: true, test: { name: 'fuzz', include: FUZZ } },
    ],
  },
})
