/**
 * A node gives back the heap a burst of work grew, once it is idle
 * (packages/node-server/src/node/idle-heap.ts): `concord start --idle-heap-return 500ms`
 * after a bulk load collects its heap within seconds, its rows all there; with
 * `--idle-heap-return off` it runs no such collection.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string | undefined
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ROWS = 40_000

async function metric(p: ConcordProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (line === undefined) throw new Error(`no metric ${name}`)
  return Number(line.split(' ')[1])
}

async function load(p: ConcordProcess): Promise<void> {
  await p.query('CREATE TABLE items (id INT PRIMARY KEY, label TEXT, n INT)')
  for (let from = 1; from <= ROWS; from += 10_000) {
    await p.query(`INSERT INTO items SELECT g, 'item number ' || g, g FROM generate_series(${from}, ${from + 9_999}) g`)
  }
}

describe('idle heap return on a real node', () => {
  it('collects the heap a bulk load grew once the node is idle, and not with the setting off', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-idle-heap-'))
    const on = await ConcordProcess.start({ dataDir: join(dir, 'on'), nodeId: 'idle-on', httpPort: true, extraArgs: ['--idle-heap-return', '500ms'] })
    procs.push(on)
    const off = await ConcordProcess.start({ dataDir: join(dir, 'off'), nodeId: 'idle-off', httpPort: true, extraArgs: ['--idle-heap-return', 'off'] })
    procs.push(off)
    await load(on)
    await load(off)
    await until(async () => (await metric(on, 'concord_idle_heap_returns_total')) >= 1, 60_000, 'an idle heap return')
    await until(() => /idle: heap collected and given back, \d+ MB -> \d+ MB/.test(on.log), 60_000, 'the return ended')
    expect(await metric(on, 'concord_heap_collections_total')).toBeGreaterThanOrEqual(1)
    expect((await on.query<{ c: number }>('SELECT count(*)::int AS c FROM items')).rows[0]!.c).toBe(ROWS)
    // The other node, idle as long, ran none.
    expect(await metric(off, 'concord_idle_heap_returns_total')).toBe(0)
    expect(await metric(off, 'concord_heap_collections_total')).toBe(0)
    expect(off.log).not.toMatch(/idle: heap collected/)
  }, 180_000)
})
