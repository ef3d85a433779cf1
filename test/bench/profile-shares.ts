/**
 * Splits a V8 CPU profile of a `concord` process (`node --cpu-prof`, e.g. from
 * `BENCH_PROFILE=<dir> npm run bench:cluster`) by the dependency that spent the time:
 * Yjs (and lib0), libp2p (noise with its crypto, yamux, gossipsub, protobuf, the rest of
 * the stack), LMDB, the PostgreSQL wire and parser, Node (its own JavaScript, GC) and
 * Concord's packages, each of those by file. Prints self time per part and the
 * inclusive time of Concord's functions that took the most.
 *
 *   npx tsx test/bench/profile-shares.ts <file.cpuprofile> [--top 25]
 *
 * The built bundle is a few large files without whitespace; a frame's line and column
 * name its module through the source map the build writes beside each file
 * (`<file>.map`, never loaded by Node), or, in a bundle built with whitespace and no maps,
 * through the `// <path>` line esbuild puts where each module starts. Read the profile
 * against the build that wrote it (a rebuild moves the code). A frame with no script (a builtin
 * such as `TextDecoder.decode` or a typed array's constructor) counts for the nearest
 * caller that has one: the time is that caller's doing.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { mappedModule } from './bundle-modules.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const MODULE_MARK = /^\/\/ ((?:node_modules|packages)\/\S+\.(?:[cm]?js|json))$/
/** Per bundle file: the start lines of its modules, ascending, and their paths. */
const moduleMaps = new Map<string, { lines: number[]; paths: string[] } | null>()
function moduleOf(url: string, line: number, column: number): string {
  if (!url.startsWith('file://')) return url
  const file = fileURLToPath(url)
  if (!file.includes('/dist/bundle/')) return file.replace(/^.*?\/node_modules\//, 'node_modules/')
  const mapped = mappedModule(file, line, column)
  if (mapped !== null) return mapped
  let map = moduleMaps.get(file)
  if (map === undefined) {
    map = null
    if (existsSync(file)) {
      const lines: number[] = []
      const paths: string[] = []
      readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
        const m = MODULE_MARK.exec(text)
        if (m) {
          lines.push(i)
          paths.push(m[1]!)
        }
      })
      map = { lines, paths }
    }
    moduleMaps.set(file, map)
  }
  if (map === null) return file
  let lo = 0
  let hi = map.lines.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (map.lines[mid]! <= line) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found < 0 ? `${file} (esbuild's module glue)` : map.paths[found]!
}

/** The dependency a module belongs to, and a finer part of it. */
function partOf(module: string): [string, string] {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1]
  if (module.startsWith('packages/')) {
    const [, name, ...rest] = module.split('/')
    return ['Concord', `${name}/${rest.slice(1).join('/').replace(/\.js$/, '')}`]
  }
  if (module.startsWith('node:') || module === '') return ['Node', module || '(builtin)']
  if (module.startsWith('wasm://')) return ['PostgreSQL wire and parser', 'libpg-query (WASM)']
  if (pkg === undefined) return ['other', module]
  if (pkg === 'yjs' || pkg === 'lib0') return ['Yjs', pkg]
  if (pkg === 'lmdb' || pkg === 'msgpackr' || pkg === 'ordered-binary') return ['LMDB', pkg]
  if (pkg === 'libpg-query' || pkg === 'pg-protocol' || pkg === 'pg' || pkg === 'pg-gateway') return ['PostgreSQL wire and parser', pkg]
  if (pkg === '@chainsafe/libp2p-noise' || pkg.startsWith('@noble/') || pkg === '@chainsafe/as-chacha20poly1305' || pkg === '@chainsafe/as-sha256') return ['libp2p', `noise (${pkg})`]
  if (pkg === '@chainsafe/libp2p-yamux' || pkg === '@libp2p/yamux') return ['libp2p', 'yamux']
  if (pkg === '@chainsafe/libp2p-gossipsub' || pkg === '@libp2p/gossipsub') return ['libp2p', 'gossipsub']
  if (pkg === 'protons-runtime' || pkg === 'protobufjs') return ['libp2p', 'protobuf']
  return ['libp2p', `rest of the stack (${pkg})`]
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)'])

function main(): void {
  const args = process.argv.slice(2)
  const file = args[0]
  const topAt = args.indexOf('--top')
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25
  if (!file) throw new Error('usage: profile-shares.ts <file.cpuprofile> [--top N]')
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const self = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + dt)
    total += dt
  })

  // The module a node's time counts for: its own, or its nearest caller's with a script.
  const moduleCache = new Map<number, string>()
  const ownerModule = (id: number): string => {
    const cached = moduleCache.get(id)
    if (cached !== undefined) return cached
    const n = byId.get(id)!
    let m: string
    if (SPECIAL.has(n.callFrame.functionName) && n.callFrame.url === '') m = n.callFrame.functionName
    else if (n.callFrame.url !== '') m = moduleOf(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber)
    else {
      const p = parent.get(id)
      m = p === undefined ? '' : ownerModule(p)
      if (m === '(root)') m = ''
    }
    moduleCache.set(id, m)
    return m
  }

  const dep = new Map<string, number>()
  const part = new Map<string, number>()
  for (const [id, t] of self) {
    const m = ownerModule(id)
    const [d, p] = SPECIAL.has(m) ? [m === '(garbage collector)' ? 'Node' : m, m] : partOf(m)
    dep.set(d, (dep.get(d) ?? 0) + t)
    part.set(`${d}: ${p}`, (part.get(`${d}: ${p}`) ?? 0) + t)
  }
  const idle = dep.get('(idle)') ?? 0
  const busy = total - idle
  const ms = (t: number): string => (t / 1000).toFixed(0).padStart(7)
  const pct = (t: number): string => `${((100 * t) / busy).toFixed(1).padStart(5)}%`
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s of samples, ${(idle / 1e6).toFixed(2)} s idle, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy)`)
  console.log('\nself time by dependency, ms')
  for (const [d, t] of [...dep].filter(([d]) => d !== '(idle)').sort((a, b) => b[1] - a[1])) console.log(`${ms(t)} ${pct(t)}  ${d}`)
  // Concord by folder (core/rows, core/replication, sql-facade/..), Node by what it did.
  const area = new Map<string, number>()
  for (const [p, t] of part) {
    let a: string | null = null
    if (p.startsWith('Concord: ')) a = `Concord: ${p.slice(9).split('/').slice(0, 2).join('/')}`
    else if (p === 'Node: (garbage collector)') a = 'Node: garbage collection'
    else if (p.startsWith('Node: node:internal/modules') || p.startsWith('Node: node:internal/bootstrap')) a = 'Node: loading modules (start)'
    else if (/^Node: node:(internal\/(stream|net|js_stream)|net|stream)/.test(p)) a = 'Node: streams and sockets'
    else if (p.startsWith('Node: node:internal/crypto')) a = 'Node: crypto (noise\'s ciphers, the peer key)'
    else if (p.startsWith('Node: ')) a = 'Node: the rest'
    if (a !== null) area.set(a, (area.get(a) ?? 0) + t)
  }
  console.log('\nself time of Concord by folder and of Node by kind, ms')
  for (const [a, t] of [...area].sort((x, y) => y[1] - x[1])) console.log(`${ms(t)} ${pct(t)}  ${a}`)
  console.log(`\nself time by part, ms (top ${top})`)
  for (const [p, t] of [...part].filter(([p]) => !p.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(t)} ${pct(t)}  ${p}`)

  // Inclusive time of Concord's functions (each counted once per sample however deep it recurses).
  const inclusive = new Map<string, number>()
  const keyOf = (n: ProfileNode): string | null => {
    if (n.callFrame.url === '') return null
    const m = moduleOf(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber)
    if (!m.startsWith('packages/')) return null
    return `${n.callFrame.functionName || '(anonymous)'} ${m.replace(/^packages\/([^/]+)\/dist\//, '$1/')}`
  }
  for (const [id, t] of self) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = keyOf(byId.get(at)!)
      if (k !== null && !seen.has(k)) {
        seen.add(k)
        inclusive.set(k, (inclusive.get(k) ?? 0) + t)
      }
    }
  }
  console.log(`\ninclusive time of Concord's functions, ms (top ${top})`)
  for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(t)} ${pct(t)}  ${k}`)
}

main()
