#!/usr/bin/env node
// Ship gate of CI (`npm run ship-check`, after `npm run build`): what users get from
// dist/ works without this repository's tooling.
//   1. every package entry point imports in plain Node (no TypeScript loader, no flags);
//   2. the README's example runs: openDatabase, CREATE, INSERT, SELECT;
//   3. `concord --help` answers, and `concord start` serves a query and stops on SIGTERM;
//   4. @concord/browser bundles with esbuild and no options but `bundle` (the parser's
//      WASM included, no Node built-in left unbundled).
// Each check runs in its own `node` process started without NODE_OPTIONS, so a
// `--conditions=@concord/source` in the caller's environment cannot hide a dist problem.
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env }
delete env.NODE_OPTIONS
const node = (args, input) =>
  execFileSync(process.execPath, args, { cwd: root, env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] })

let failed = 0
function check(what, run) {
  const started = performance.now()
  try {
    const detail = run()
    console.log(`  ok    ${what} (${(performance.now() - started).toFixed(0)} ms)${detail ? `: ${detail}` : ''}`)
  } catch (err) {
    failed++
    console.log(`  FAIL  ${what}: ${String(err?.message ?? err).split('\n').slice(0, 6).join('\n        ')}`)
  }
}

for (const dir of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'))
  for (const subpath of Object.keys(pkg.exports ?? {})) {
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`
    // The CLI module runs main() only when it is the program; importing it is harmless.
    check(`import '${specifier}' in plain Node`, () =>
      node(['--input-type=module', '-e', `const m = await import('${specifier}'); console.log(Object.keys(m).length + ' exports')`]).trim(),
    )
  }
}

check('README example (openDatabase, CREATE, INSERT, SELECT)', () => {
  const script = `
    import { openDatabase } from '@concord/sql-facade'
    const db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
    await db.query('CREATE TABLE products (id SERIAL PRIMARY KEY, name TEXT, price DECIMAL(10,2))')
    await db.query("INSERT INTO products (name, price) VALUES ('Widget', 99.99)")
    const { rows } = await db.query('SELECT name, price FROM products WHERE price > $1', [10])
    await db.close()
    if (rows.length !== 1 || rows[0].name !== 'Widget') throw new Error('unexpected rows ' + JSON.stringify(rows))
    console.log(JSON.stringify(rows))`
  return node(['--input-type=module', '-'], script).trim()
})

check('concord --help', () => {
  const out = node([join(root, 'packages/node-server/bin/concord.js'), '--help'])
  if (!out.includes('concord start [options]')) throw new Error('no usage text')
  return `${out.split('\n').length} lines`
})

check('concord start serves SELECT 1 on an empty data directory', () => {
  const script = `
    import { spawn } from 'node:child_process'
    import { mkdtempSync, rmSync } from 'node:fs'
    import { tmpdir } from 'node:os'
    import { join } from 'node:path'
    import pg from 'pg'
    const dir = mkdtempSync(join(tmpdir(), 'concord-ship-'))
    const child = spawn(process.execPath, ['packages/node-server/bin/concord.js', 'start', '--data-dir', dir,
      '--pg-port', '0', '--p2p-host', '127.0.0.1', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const deadline = Date.now() + 60_000
    let port
    while (!(port = /psql -h \\S+ -p (\\d+)/.exec(out)?.[1])) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('no PostgreSQL port announced: ' + out)
      await new Promise((r) => setTimeout(r, 20))
    }
    const client = new pg.Client({ host: '127.0.0.1', port: Number(port), user: 'concord', database: 'concord' })
    await client.connect()
    const { rows } = await client.query('SELECT 1 AS one')
    await client.end()
    child.kill('SIGTERM')
    const code = await new Promise((r) => child.once('exit', r))
    rmSync(dir, { recursive: true, force: true })
    if (rows[0]?.one !== 1 || code !== 0) throw new Error('answer ' + JSON.stringify(rows) + ', exit ' + code)
    console.log('answered, stopped cleanly')`
  return node(['--input-type=module', '-'], script).trim()
})

check('esbuild bundles @concord/browser with no options', () => {
  const script = `
    import { build } from 'esbuild'
    const r = await build({ stdin: { contents: "export * from '@concord/browser'", resolveDir: process.cwd() },
      bundle: true, write: false, metafile: true, logLevel: 'error' })
    const ext = Object.values(r.metafile.outputs).flatMap((o) => o.imports).filter((i) => i.external)
    if (ext.length > 0) throw new Error('left unbundled: ' + ext.map((i) => i.path).join(', '))
    console.log(Math.round(r.outputFiles[0].contents.length / 1024) + ' KB')`
  return node(['--input-type=module', '-'], script).trim()
})

if (failed > 0) {
  console.log(`${failed} ship check(s) failed (run \`npm run build\` first?)`)
  process.exit(1)
}
