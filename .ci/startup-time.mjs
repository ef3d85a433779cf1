#!/usr/bin/env node
// Start-up time of the `concord` command (not a CI gate: timings depend on the machine).
//   node .ci/startup-time.mjs [runs=5] [repository root=.]
// Prints min / median / max over the runs, after one warm-up, of:
//   - `concord --help` until the process exits;
//   - `concord start` on an empty data directory until `SELECT 1` answers over the
//     PostgreSQL protocol (polled every 20 ms), then the node is stopped with SIGTERM.
// Pass another checkout's root to time it the same way.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const runs = Number(process.argv[2] ?? 5)
const root = resolve(process.argv[3] ?? '.')
const bin = join(root, 'packages/node-server/bin/concord.js')
const pg = createRequire(join(root, 'package.json'))('pg')
const env = { ...process.env }
delete env.NODE_OPTIONS

function exited(child) {
  return new Promise((done) => child.once('exit', done))
}

async function help() {
  const started = performance.now()
  await exited(spawn(process.execPath, [bin, '--help'], { stdio: 'ignore', env }))
  return performance.now() - started
}

async function answers(port) {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'concord', database: 'concord' })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.query('SELECT 1 AS one')).rows[0]?.one === 1
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function firstQuery(extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'concord-startup-'))
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const started = performance.now()
  const args = [bin, 'start', '--data-dir', dir, '--pg-port', String(port), '--quiet', ...extra]
  const child = spawn(process.execPath, args, { stdio: 'ignore', env })
  try {
    for (;;) {
      if (await answers(port)) return performance.now() - started
      if (performance.now() - started > 60_000) throw new Error('no answer within 60 s')
      if (child.exitCode !== null) throw new Error(`concord start exited with ${child.exitCode}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    child.kill('SIGTERM')
    await exited(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

async function measure(what, once) {
  await once()
  const times = []
  for (let i = 0; i < runs; i++) times.push(await once())
  times.sort((a, b) => a - b)
  const ms = (t) => `${Math.round(t)} ms`
  console.log(`${what.padEnd(34)} min ${ms(times[0])}  median ${ms(times[times.length >> 1])}  max ${ms(times.at(-1))}`)
}

await measure('concord --help', help)
await measure('concord start until SELECT 1', () => firstQuery())
await measure('  with --memory --no-p2p', () => firstQuery(['--memory', '--no-p2p']))
