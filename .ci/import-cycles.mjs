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
// The same gate holds one floor up: the folders directly under a package's src/ (a file
// standing in src/ itself counts as its own folder) form no circle either, so every folder
// imports only folders below it (decision 16 names sql-facade's order). A new file that
// reaches up from a low folder into a high one fails here, naming one import that does it.
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

/** Tarjan's strongly connected components of `graph` with more than one node (or a self-import). */
function circles(graph) {
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

/** One shortest path from the first node of a circle back to itself, for the report. */
function pathThrough(graph, scc) {
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

/** The folder of a source file: its package plus the first segment under src/. */
const folderOf = (file) => file.split('/').slice(0, 4).join('/')

/** The folder graph, and for each folder edge one file import that draws it. */
const folderGraph = new Map()
const folderWitness = new Map()
for (const [file, targets] of graph) {
  const from = folderOf(file)
  if (!folderGraph.has(from)) folderGraph.set(from, [])
  for (const target of targets) {
    const to = folderOf(target)
    if (to === from) continue
    if (!folderGraph.get(from).includes(to)) folderGraph.get(from).push(to)
    if (!folderWitness.has(`${from} ${to}`)) folderWitness.set(`${from} ${to}`, `${file} -> ${target}`)
  }
}

const found = circles(graph)
console.log(`import circles in packages/*/src: ${found.length} (${modules.length} files)`)
for (const scc of found) console.log(`  ${scc.length} files: ${pathThrough(graph, scc)}`)
const folderCircles = circles(folderGraph)
console.log(`folder circles in packages/*/src: ${folderCircles.length} (${folderGraph.size} folders)`)
for (const scc of folderCircles) {
  const path = pathThrough(folderGraph, scc).split('\n      -> ')
  console.log(`  ${scc.length} folders: ${path.join('\n      -> ')}`)
  for (let i = 0; i + 1 < path.length; i++) console.log(`    because ${folderWitness.get(`${path[i]} ${path[i + 1]}`)}`)
}
if (found.length > 0 || folderCircles.length > 0) {
  console.log('break them: a small interface, as in core/src/rows/local-transaction.ts or core/src/replication/replication-host.ts,')
  console.log('or a file moved to the folder it belongs in (docs/decisions/0016-sql-facade-layers.md)')
  process.exit(1)
}
