#!/usr/bin/env node
// Import-cycle gate of CI (`npm run cycles`): no circle of imports between the source
// files of packages/*/src, where a circle is a file importing a file that imports it
// back, directly or through others. Type-only imports count: they tie the files together
// the same way for a reader.
//
// The graph comes from dependency-cruiser (which resolves TypeScript's `./x.js` to
// `x.ts`); the circles are its strongly connected components, so each is reported once,
// whole, with one concrete path through it. Issue 12 broke the last of them (five
// circles, 31 files, when the gate was added); the gate fails on any circle.
//
//   node .ci/import-cycles.mjs
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cruise } from 'dependency-cruiser'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)

const sources = readdirSync('packages').map((p) => `packages/${p}/src`)
const result = await cruise(
  sources,
  {
    tsPreCompilationDeps: true,
    exclude: { path: '\\.(test|fixture)\\.ts$' },
    doNotFollow: { path: 'node_modules' },
  },
  undefined,
  { tsConfig: extractTSConfig(join(root, 'tsconfig.base.json')) },
)
const modules = result.output.modules.filter((m) => /^packages\/[^/]+\/src\//.test(m.source))
const graph = new Map(modules.map((m) => [m.source, m.dependencies.map((d) => d.resolved).filter((r) => /^packages\/[^/]+\/src\//.test(r))]))

/** Tarjan's strongly connected components with more than one file (or a self-import). */
function circles() {
  let index = 0
  const idx = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const out = []
  const visit = (v) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
    }
    if (low.get(v) === idx.get(v)) {
      const scc = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v)
  return out.sort((a, b) => a[0].localeCompare(b[0]))
}

/** One shortest path from the first file of a circle back to itself, for the report. */
function pathThrough(scc) {
  const inside = new Set(scc)
  const start = scc[0]
  const prev = new Map([[start, null]])
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue
      if (w === start) {
        const path = [start]
        for (let u = v; u !== null && u !== start; u = prev.get(u)) path.splice(1, 0, u)
        return [...path, start].join('\n      -> ')
      }
      if (!prev.has(w)) {
        prev.set(w, v)
        queue.push(w)
      }
    }
  }
  return start
}

const found = circles()
console.log(`import circles in packages/*/src: ${found.length} (${modules.length} files)`)
for (const scc of found) console.log(`  ${scc.length} files: ${pathThrough(scc)}`)
if (found.length > 0) {
  console.log('break them: a small interface, as in core/src/rows/local-transaction.ts or core/src/replication/replication-host.ts')
  process.exit(1)
}
