// Lint gate of CI (`npm run lint`). Two rules, both errors:
//   - @stylistic/max-len: lines of at most 140 characters (URLs and regular
//     expression literals excepted);
//   - @typescript-eslint/no-floating-promises: every promise is awaited, returned,
//     handled, or explicitly dropped with `void` (a dropped rejection becomes an
//     unhandledRejection, which a database server must not lose silently).
// Type-aware: the TypeScript projects (tsconfig.json and packages/*/tsconfig.json)
// give no-floating-promises its types.
import stylistic from '@stylistic/eslint-plugin'
import tseslint from 'typescript-eslint'

const MAX_LEN = ['error', { code: 140, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true }]

// Code being restructured by issue 12 that does not pass yet: each rule is off there
// until the folder is fixed. Findings when this table was written are in the comments;
// delete a line to turn the rule on (`npx eslint <folder>` lists what to fix).
const PENDING = {
  '@stylistic/max-len': [
    'packages/core/src/**', //          70
    'packages/sql-facade/src/**', //   459
    'packages/node-server/src/**', //   72 (src/cli.ts and src/cli/** pass, and are checked)
    'packages/node-server/bench/**', //  4
    'packages/browser/src/**', //        8
    'packages/browser/demo/**', //       7 (demo/build.ts passes, and is checked)
    'test/bench/**', //                 26
    'test/browser/**', //               17
    'test/cluster/**', //               23
    'test/conformance/**', //            7
    'test/replication/**', //          21
  ],
  '@typescript-eslint/no-floating-promises': [
    // 7: put/remove inside db.transaction() callbacks return promises nobody awaits
    // (lmdb applies them synchronously there; putSync/removeSync say so).
    'packages/node-server/src/storage/lmdb-storage.ts',
  ],
}
const CHECKED_ALREADY = [
  'packages/node-server/src/cli.ts',
  'packages/node-server/src/cli/**',
  'packages/browser/demo/build.ts',
]

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'test/artifacts/**', 'cluster-data/**', 'data/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': MAX_LEN,
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    plugins: { '@stylistic': stylistic },
    rules: { '@stylistic/max-len': MAX_LEN },
  },
  ...Object.entries(PENDING).map(([rule, files]) => ({ files, ignores: CHECKED_ALREADY, rules: { [rule]: 'off' } })),
)
