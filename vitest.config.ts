import { defaultClientConditions, defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

/**
 * Tests run on the TypeScript sources, not on `dist/`: every @concord package exports
 * its `src/` under the `@concord/source` condition, so no build is needed before a test
 * run. Child processes the tests spawn (cluster nodes, crash fixtures under tsx) inherit
 * the condition through NODE_OPTIONS. The condition is namespaced so no third-party
 * package answers to it.
 */
const SOURCE_CONDITION = '@concord/source'
const conditionFlag = `--conditions=${SOURCE_CONDITION}`
if (!(process.env['NODE_OPTIONS'] ?? '').includes(conditionFlag)) {
  process.env['NODE_OPTIONS'] = [process.env['NODE_OPTIONS'], conditionFlag].filter(Boolean).join(' ')
}

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
