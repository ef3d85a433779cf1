/**
 * Fresh updates on real nodes (docs/decisions/0040-direct-updates.md): in a cluster whose
 * every live member is connected to the writer, a commit reaches the others as direct
 * frames on the sync streams (no gossip signature, no gossip router); a member killed is
 * taken for away (nothing of it arrives once its link is down) and writes go on directly
 * to the rest; it catches up when it is back. Gossip while a member is heard only through
 * others is the simulator's test (update-audience.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

let dir: string
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

async function counters(p: ConcordProcess): Promise<{ direct: number; gossiped: number; peers: number }> {
  const text = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)![1])
  return { direct: read('concord_updates_sent_direct_total'), gossiped: read('concord_updates_gossiped_total'), peers: read('concord_peers') }
}

async function has(p: ConcordProcess, id: number): Promise<boolean> {
  try {
    return (await p.query('SELECT id FROM t WHERE id = $1', [id])).rowCount === 1
  } catch {
    return false
  }
}

describe('fresh updates between real nodes', () => {
  it('go as direct frames while every member is connected, and to the rest once one is killed; nothing is lost', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-direct-'))
    const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'd-a', httpPort: true })
    procs.push(a)
    const b = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'd-b', join: [a.pgAddress], httpPort: true })
    procs.push(b)
    const c = await ConcordProcess.start({ dataDir: join(dir, 'c'), nodeId: 'd-c', join: [a.pgAddress], httpPort: true })
    procs.push(c)
    await a.query('CREATE TABLE t (id int PRIMARY KEY, v text)')

    // Until a is linked to both others and knows both as members: a write then goes
    // direct. A write that goes direct while only b is linked proves nothing about c (it
    // may connect before its member row reaches a, and a then gossips, rightly: it does
    // not know what c hears), so both links are counted before and after.
    let id = 0
    await until(async () => {
      const before = await counters(a)
      await a.query("INSERT INTO t VALUES ($1, 'warm')", [++id])
      await until(async () => (await has(b, id)) && (await has(c, id)), 60_000, `row ${id} on b and c`)
      const after = await counters(a)
      return before.peers === 2 && after.peers === 2 && after.direct > before.direct && after.gossiped === before.gossiped
    }, 120_000, 'a write sent directly to both others')

    const before = await counters(a)
    for (let i = 0; i < 20; i++) await a.query("INSERT INTO t VALUES ($1, 'direct')", [++id])
    await until(async () => (await has(b, id)) && (await has(c, id)), 60_000, `row ${id} on b and c`)
    const after = await counters(a)
    expect(after.direct - before.direct).toBeGreaterThanOrEqual(1)
    expect(after.gossiped).toBe(before.gossiped)

    // c crashes: still a live member, but nothing of it reaches a after its link went
    // down, so gossip could not reach it either: taken for away, and writes go direct to b.
    await c.kill9()
    procs.splice(procs.indexOf(c), 1)
    await until(async () => {
      const s0 = await counters(a)
      await a.query("INSERT INTO t VALUES ($1, 'c away')", [++id])
      const s1 = await counters(a)
      return s1.direct > s0.direct && s1.gossiped === s0.gossiped
    }, 60_000, 'a write sent directly while c is away')
    await until(() => has(b, id), 60_000, `row ${id} on b`)

    // c comes back on its own data and catches up on what it missed.
    const c2 = await ConcordProcess.start({ dataDir: join(dir, 'c'), nodeId: 'd-c', join: [a.pgAddress], httpPort: true })
    procs.push(c2)
    await until(() => has(c2, id), 60_000, `row ${id} on c after its restart`)
    expect(Number((await c2.query('SELECT count(*) AS n FROM t')).rows[0]!.n)).toBe(id)
  })
})
